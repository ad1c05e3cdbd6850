// Lexical analysis of structured header field bodies (RFC 5322 3.2) for the address parser.
//
// One pass over the bytes, no backtracking: atoms, quoted-strings, domain literals and single-byte
// specials become tokens; whitespace and comments are not tokens but are recorded on the token that
// follows them (`spaceBefore`, `comments`), so the parser sees a flat array and can still find the
// comment after an addr-spec. CR, LF, NUL and other controls are never part of a token.

/// A lexical token of a structured header field body (RFC 5322 3.2).
struct AddressToken {
    enum Kind: Equatable {
        /// A run of atext (RFC 5322 3.2.3) or 8-bit bytes (RFC 6532 3.2); may be an encoded word.
        case atom
        /// A quoted-string (RFC 5322 3.2.4); `content` is unescaped.
        case quotedString
        /// A domain literal (RFC 5322 3.4.1); `content` is the text between the brackets, FWS removed.
        case domainLiteral
        /// One of the specials `< > @ , ; : . \ ) ]` (RFC 5322 3.2.3).
        case special(UInt8)
        /// The end of the input (always the last token; carries the trailing comments).
        case end
    }

    var kind: Kind
    /// Offsets of the whole token in the input, quotes and brackets included.
    var range: Range<Int>
    /// The token's text: atom bytes, unescaped quoted-string content, domain literal content; empty for specials.
    var content: [UInt8]
    /// Whitespace, a comment or a removed control character separates it from the previous token.
    var spaceBefore: Bool
    /// Indices, in `AddressTokens.comments`, of the comments directly before this token.
    var comments: Range<Int>
    /// Unterminated, or contains a forbidden control: must never become part of an addr-spec.
    var broken: Bool

    func isSpecial(_ byte: UInt8) -> Bool { kind == .special(byte) }

    /// A word of a phrase or local part (RFC 5322 3.2.5 `word`), or `.` of obs-phrase.
    var isPhrasePart: Bool {
        switch kind {
        case .atom, .quotedString, .domainLiteral: return true
        case .special(let byte): return byte == UInt8(ascii: ".")
        case .end: return false
        }
    }
}

/// A comment (RFC 5322 3.2.2) with its unescaped text (nested parentheses kept literally).
struct AddressComment {
    var range: Range<Int>
    var text: [UInt8]
}

/// The tokens of one input, and the defects found while making them.
struct AddressTokens {
    var tokens: [AddressToken] = []
    var comments: [AddressComment] = []
    var defects: [AddressDefect] = []
}

/// Byte classes of RFC 5322 3.2.3 and RFC 6532 3.2.
enum AddressBytes {
    /// `atext`, plus every byte over 127 (RFC 6532 `UTF8-non-ascii`).
    static func isAtext(_ b: UInt8) -> Bool { atextTable[Int(b)] }

    private static let atextTable: [Bool] = (0...255).map { (b: Int) -> Bool in
        switch b {
        case 0x61...0x7A, 0x41...0x5A, 0x30...0x39, 0x80...0xFF: return true
        default: return "!#$%&'*+-/=?^_`{|}~".utf8.contains(UInt8(b))
        }
    }

    static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// C0 controls other than HTAB, and DEL: never part of an address.
    static func isControl(_ b: UInt8) -> Bool { (b < 0x20 && b != 0x09) || b == 0x7F }

    /// Whether `bytes` is a dot-atom-text (RFC 5322 3.2.3), 8-bit atext allowed.
    static func isDotAtom(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, let last = bytes.last,
              first != UInt8(ascii: "."), last != UInt8(ascii: ".") else { return false }
        var previousDot = false
        for b in bytes {
            if b == UInt8(ascii: ".") {
                if previousDot { return false }
                previousDot = true
            } else if isAtext(b) {
                previousDot = false
            } else {
                return false
            }
        }
        return true
    }
}

/// Splits a structured header field body into `AddressToken`s in one linear pass.
struct AddressTokenizer {
    private let bytes: [UInt8]
    private var i = 0
    private var out = AddressTokens()
    private var spaceBefore = false
    private var commentStart = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Tokenizes `bytes`. The last token is always `.end`.
    static func tokenize(_ bytes: [UInt8]) -> AddressTokens {
        var tokenizer = AddressTokenizer(bytes)
        tokenizer.run()
        return tokenizer.out
    }

    private mutating func run() {
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case 0x20, 0x09:
                spaceBefore = true
                i += 1
            case UInt8(ascii: "("):
                lexComment()
            case UInt8(ascii: "\""):
                lexQuotedString()
            case UInt8(ascii: "["):
                lexDomainLiteral()
            case UInt8(ascii: "="):
                lexAtom()
            case _ where AddressBytes.isControl(b):
                out.defects.append(.invalidCharacter(at: i))
                spaceBefore = true
                i += 1
            case _ where AddressBytes.isAtext(b):
                lexAtom()
            default:
                emit(.special(b), i..<(i + 1), [])
                i += 1
            }
        }
        emit(.end, bytes.count..<bytes.count, [])
    }

    private mutating func emit(_ kind: AddressToken.Kind, _ range: Range<Int>, _ content: [UInt8], broken: Bool = false) {
        out.tokens.append(AddressToken(kind: kind, range: range, content: content, spaceBefore: spaceBefore,
                                       comments: commentStart..<out.comments.count, broken: broken))
        spaceBefore = false
        commentStart = out.comments.count
    }

    /// Records one eightBitInAddress defect for the first byte over 127 in `range`, if any.
    private mutating func noteEightBit(_ range: Range<Int>) {
        if let k = range.first(where: { bytes[$0] >= 0x80 }) {
            out.defects.append(.eightBitInAddress(at: k))
        }
    }

    /// atom = 1*atext (RFC 5322 3.2.3). An RFC 2047 encoded word is taken whole even if its encoded
    /// text holds specials (`=?utf-8?q?Doe,_John?=`, which real mailers write): as CPython does.
    private mutating func lexAtom() {
        let start = i
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "="), let end = EncodedWord.scan(bytes, at: i) {
                i = end
            } else if AddressBytes.isAtext(bytes[i]) {
                i += 1
            } else {
                break
            }
        }
        noteEightBit(start..<i)
        emit(.atom, start..<i, Array(bytes[start..<i]))
    }

    /// quoted-string (RFC 5322 3.2.4): quoted-pairs unescaped, FWS kept. A control byte is dropped,
    /// recorded, and makes the token unusable as a local part.
    private mutating func lexQuotedString() {
        let start = i
        var content: [UInt8] = []
        var broken = false
        i += 1
        var closed = false
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                closed = true
                break
            }
            if b == UInt8(ascii: "\\"), i + 1 < bytes.count {
                i += 1
            }
            let c = bytes[i]
            if AddressBytes.isControl(c) {
                out.defects.append(.invalidCharacter(at: i))
                broken = true
                content.append(0x20)
            } else {
                content.append(c)
            }
            i += 1
        }
        if !closed {
            out.defects.append(.unterminatedQuotedString(at: start))
            broken = true
        }
        noteEightBit(start..<i)
        emit(.quotedString, start..<i, content, broken: broken)
    }

    /// comment (RFC 5322 3.2.2), nested; the text keeps inner parentheses, controls become spaces.
    private mutating func lexComment() {
        let start = i
        var text: [UInt8] = []
        var depth = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "(") {
                if depth > 0 { text.append(b) }
                depth += 1
            } else if b == UInt8(ascii: ")") {
                depth -= 1
                if depth == 0 {
                    i += 1
                    break
                }
                text.append(b)
            } else {
                if b == UInt8(ascii: "\\"), i + 1 < bytes.count {
                    i += 1
                }
                let c = bytes[i]
                if AddressBytes.isControl(c) {
                    out.defects.append(.invalidCharacter(at: i))
                    text.append(0x20)
                } else {
                    text.append(c)
                }
            }
            i += 1
        }
        if depth > 0 {
            out.defects.append(.unterminatedComment(at: start))
        }
        noteEightBit(start..<i)
        out.comments.append(AddressComment(range: start..<i, text: text))
        spaceBefore = true
    }

    /// domain-literal (RFC 5322 3.4.1): FWS removed; quoted-pairs (obs-dtext, 4.4) unescaped and recorded.
    private mutating func lexDomainLiteral() {
        let start = i
        var content: [UInt8] = []
        var broken = false
        var closed = false
        i += 1
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "]") {
                i += 1
                closed = true
                break
            }
            if b == UInt8(ascii: "[") {
                out.defects.append(.invalidCharacter(at: i))
                broken = true
            } else if b == UInt8(ascii: "\\"), i + 1 < bytes.count {
                out.defects.append(.obsoleteSyntax(at: i))
                i += 1
                if AddressBytes.isControl(bytes[i]) {
                    out.defects.append(.invalidCharacter(at: i))
                    broken = true
                } else {
                    content.append(bytes[i])
                }
            } else if AddressBytes.isControl(b) {
                out.defects.append(.invalidCharacter(at: i))
                broken = true
            } else if !AddressBytes.isWhitespace(b) {
                content.append(b)
            }
            i += 1
        }
        if !closed {
            out.defects.append(.unterminatedDomainLiteral(at: start))
            broken = true
        }
        noteEightBit(start..<i)
        emit(.domainLiteral, start..<i, content, broken: broken)
    }
}
