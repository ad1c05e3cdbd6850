// RFC 2047 encoded words: decoding for display names and unstructured text, encoding for phrases.
// Charsets are in EncodedWordCharset.swift.
//
// Divergences, as in CPython and Thunderbird: an encoded word is recognised even when it touches
// other text or sits inside a quoted-string (RFC 2047 5 forbids both, but mailers write them), and
// its length is not limited to 75 characters when decoding.

/// RFC 2047 encoded words.
public enum EncodedWord {
    /// Decodes every encoded-word in a display name / unstructured text (B and Q; charsets utf-8, us-ascii, iso-8859-1, iso-8859-15, windows-1252; adjacent encoded words separated only by whitespace are joined, RFC 2047 6.2). Unknown charsets are left encoded (and reported by the caller as a defect if needed).
    public static func decode(_ text: String) -> String {
        decodeReporting(text).text
    }

    /// Like `decode`, and says whether some encoded word was left as is (unknown charset, bad encoding).
    public static func decodeReporting(_ text: String) -> (text: String, leftEncoded: Bool) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 8, bytes.contains(UInt8(ascii: "?")) else { return (text, false) }
        var decoder = Decoder(bytes: bytes)
        decoder.run()
        return (String(decoding: decoder.out, as: UTF8.self), decoder.leftEncoded)
    }

    /// Encodes text for a header phrase (display name) when it is not printable ASCII or needs it: RFC 2047 encoded words (UTF-8, B or Q whichever is shorter), each encoded word at most 75 chars, words separated by a space (folding happens elsewhere). Pure ASCII that only needs quoting returns a quoted-string instead (`"Doe, John"`). Plain atoms returned as is.
    ///
    /// Control characters (CR, LF, NUL, TAB, DEL, C1) become spaces first: a display name can never
    /// break a header line (STYLE.md rule 3). ASCII text holding something that looks like an encoded
    /// word (any charset) is encoded, so that no decoder reads it as one. The empty string gives `""`.
    public static func encodePhrase(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            scalars.append(s.value < 0x20 || (0x7F...0x9F).contains(s.value) ? " " : s)
        }
        let clean = String(scalars)
        if clean.isEmpty { return "\"\"" }
        let bytes = Array(clean.utf8)
        if bytes.allSatisfy({ $0 < 0x80 }) && !containsEncodedWord(bytes) {
            if isAtomPhrase(bytes) { return clean }
            return quoted(bytes)
        }
        return encodedWords(clean)
    }

    // MARK: - Recognising an encoded word

    /// If an encoded word (`=?charset?B|Q?text?=`, RFC 2047 2) starts at `start`, the index just past it.
    static func scan(_ bytes: [UInt8], at start: Int) -> Int? {
        parse(bytes, at: start)?.end
    }

    struct Parsed {
        var charset: [UInt8]
        var encoding: UInt8
        var text: Range<Int>
        var end: Int
    }

    /// encoded-word = "=?" charset "?" encoding "?" encoded-text "?=" (RFC 2047 2; RFC 2231 5 `*language`).
    static func parse(_ bytes: [UInt8], at start: Int) -> Parsed? {
        let n = bytes.count
        guard start + 8 <= n, bytes[start] == UInt8(ascii: "="), bytes[start + 1] == UInt8(ascii: "?") else { return nil }
        var i = start + 2
        let charsetStart = i
        while i < n, isTokenByte(bytes[i]) { i += 1 }
        guard i > charsetStart, i + 3 < n, bytes[i] == UInt8(ascii: "?"),
              bytes[i + 2] == UInt8(ascii: "?") else { return nil }
        let charset = Array(bytes[charsetStart..<i])
        let encoding = bytes[i + 1] | 0x20
        guard encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q") else { return nil }
        i += 3
        let textStart = i
        while i < n, bytes[i] > 0x20, bytes[i] < 0x7F, bytes[i] != UInt8(ascii: "?") { i += 1 }
        guard i + 1 < n, bytes[i] == UInt8(ascii: "?"), bytes[i + 1] == UInt8(ascii: "=") else { return nil }
        return Parsed(charset: charset, encoding: encoding, text: textStart..<i, end: i + 2)
    }

    /// RFC 2047 2 `token`: printable ASCII except SPACE and especials.
    private static func isTokenByte(_ b: UInt8) -> Bool {
        b > 0x20 && b < 0x7F && !especials.contains(b)
    }

    private static let especials: [UInt8] = Array("()<>@,;:\"/[]?.=".utf8)

    /// Whether some decoder could take part of `bytes` for an encoded word, whatever its charset.
    private static func containsEncodedWord(_ bytes: [UInt8]) -> Bool {
        bytes.indices.contains { bytes[$0] == UInt8(ascii: "=") && parse(bytes, at: $0) != nil }
    }

    // MARK: - Decoding

    /// Decodes the encoded text of one word to bytes in its charset; nil if malformed.
    static func decodeText(_ bytes: ArraySlice<UInt8>, encoding: UInt8) -> [UInt8]? {
        encoding == UInt8(ascii: "b") ? base64(bytes) : quotedPrintable(bytes)
    }

    /// The "Q" encoding (RFC 2047 4.2): `_` is space, `=XX` a byte; a lone `=` is kept.
    private static func quotedPrintable(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "_") {
                out.append(0x20)
            } else if b == UInt8(ascii: "="), i + 2 < bytes.endIndex,
                      let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The "B" encoding (RFC 2047 4.1, base64 of RFC 4648 4); missing padding is tolerated.
    private static func base64(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        var padding = false
        for b in bytes {
            if b == UInt8(ascii: "=") { padding = true; continue }
            guard !padding, let v = base64Value(b) else { return nil }
            acc = (acc << 6) | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }

    private static func base64Value(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return b - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return b - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }

    /// Decodes text, joining adjacent encoded words (RFC 2047 6.2) and their bytes, so that a
    /// character split across two words of the same charset is decoded whole.
    private struct Decoder {
        let bytes: [UInt8]
        var out: [UInt8] = []
        var leftEncoded = false
        private var pending: (charset: EncodedWordCharset, bytes: [UInt8])?

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func run() {
            var i = 0
            var literalStart = 0
            var afterEncodedWord = false
            while i < bytes.count {
                guard bytes[i] == UInt8(ascii: "="), let word = EncodedWord.parse(bytes, at: i) else {
                    i += 1
                    continue
                }
                let between = bytes[literalStart..<i]
                let charset = EncodedWordCharset(name: word.charset)
                if let charset, let decoded = EncodedWord.decodeText(bytes[word.text], encoding: word.encoding) {
                    // RFC 2047 6.2: whitespace between two encoded words is not displayed.
                    let joined = afterEncodedWord && between.allSatisfy(Self.isFoldingWhitespace)
                    if !joined {
                        flush()
                        out.append(contentsOf: between)
                    }
                    if pending?.charset == charset {
                        pending?.bytes += decoded
                    } else {
                        flush()
                        pending = (charset, decoded)
                    }
                    afterEncodedWord = true
                } else {
                    flush()
                    out.append(contentsOf: between)
                    out.append(contentsOf: bytes[i..<word.end])
                    leftEncoded = true
                    afterEncodedWord = false
                }
                i = word.end
                literalStart = i
            }
            flush()
            out.append(contentsOf: bytes[literalStart...])
        }

        private static func isFoldingWhitespace(_ b: UInt8) -> Bool {
            b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A
        }

        private mutating func flush() {
            guard let p = pending else { return }
            out.append(contentsOf: p.charset.utf8(p.bytes))
            pending = nil
        }
    }

    // MARK: - Encoding

    /// Words of atext separated by single spaces (RFC 5322 3.2.5 phrase of atoms).
    private static func isAtomPhrase(_ bytes: [UInt8]) -> Bool {
        var previousSpace = true
        for b in bytes {
            if b == 0x20 {
                if previousSpace { return false }
                previousSpace = true
            } else if b < 0x80 && AddressBytes.isAtext(b) {
                previousSpace = false
            } else {
                return false
            }
        }
        return !previousSpace
    }

    /// A quoted-string (RFC 5322 3.2.4) with `"` and `\` escaped.
    private static func quoted(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for b in bytes {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes allowed as themselves in a "Q" encoded word in a phrase (RFC 2047 5(3)).
    private static func isQLiteral(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "!"), UInt8(ascii: "*"),
             UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    private static func qCost(_ b: UInt8) -> Int { isQLiteral(b) || b == 0x20 ? 1 : 3 }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let base64Digits: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encoded words of at most 75 characters (RFC 2047 2), each holding whole characters (RFC 2047 5).
    private static func encodedWords(_ text: String) -> String {
        let utf8 = Array(text.utf8)
        let qLength = utf8.reduce(0) { $0 + qCost($1) }
        let bLength = (utf8.count + 2) / 3 * 4
        let useQ = qLength <= bLength
        let budget = 75 - "=?UTF-8?Q??=".utf8.count
        var words: [String] = []
        var chunk: [UInt8] = []
        var chunkCost = 0
        for scalar in text.unicodeScalars {
            let scalarBytes = Array(String(scalar).utf8)
            let cost = useQ ? scalarBytes.reduce(0) { $0 + qCost($1) } : 0
            let fits = useQ ? chunkCost + cost <= budget : (chunk.count + scalarBytes.count + 2) / 3 * 4 <= budget
            if !fits && !chunk.isEmpty {
                words.append(encodeWord(chunk, q: useQ))
                chunk = []
                chunkCost = 0
            }
            chunk += scalarBytes
            chunkCost += cost
        }
        if !chunk.isEmpty { words.append(encodeWord(chunk, q: useQ)) }
        return words.joined(separator: " ")
    }

    private static func encodeWord(_ bytes: [UInt8], q: Bool) -> String {
        var out: [UInt8] = Array((q ? "=?UTF-8?Q?" : "=?UTF-8?B?").utf8)
        if q {
            for b in bytes {
                if b == 0x20 {
                    out.append(UInt8(ascii: "_"))
                } else if isQLiteral(b) {
                    out.append(b)
                } else {
                    out += [UInt8(ascii: "="), hexDigits[Int(b >> 4)], hexDigits[Int(b & 0x0F)]]
                }
            }
        } else {
            var i = 0
            while i < bytes.count {
                let n = min(3, bytes.count - i)
                var group = UInt32(bytes[i]) << 16
                if n > 1 { group |= UInt32(bytes[i + 1]) << 8 }
                if n > 2 { group |= UInt32(bytes[i + 2]) }
                for k in 0..<4 {
                    if k <= n {
                        out.append(base64Digits[Int((group >> UInt32(18 - 6 * k)) & 0x3F)])
                    } else {
                        out.append(UInt8(ascii: "="))
                    }
                }
                i += 3
            }
        }
        out += Array("?=".utf8)
        return String(decoding: out, as: UTF8.self)
    }
}
