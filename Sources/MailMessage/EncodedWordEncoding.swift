// RFC 2047 encoded words: encoding a display name (RFC 2047 5(3), phrase) for a header field.

extension EncodedWord {
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

    /// Encodes unstructured text (a Subject, RFC 2047 5(1)): printable ASCII without anything
    /// a decoder could take for an encoded word is returned as is; anything else becomes UTF-8
    /// encoded words (B or Q, whichever is shorter, at most 75 characters each, separated by
    /// spaces; folding happens elsewhere). Control characters become spaces first.
    public static func encodeUnstructured(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            scalars.append(s.value < 0x20 || (0x7F...0x9F).contains(s.value) ? " " : s)
        }
        let clean = String(scalars)
        let bytes = Array(clean.utf8)
        if bytes.allSatisfy({ $0 < 0x80 }) && !containsEncodedWord(bytes) { return clean }
        return encodedWords(clean)
    }

    /// Encodes unstructured text (RFC 2047 5(1): Subject, Comments, X- fields) as UTF-8 encoded
    /// words, for a relay that cannot take raw UTF-8 header fields (no SMTPUTF8, RFC 6531).
    /// Returns nil when nothing needs or allows it: the text is ASCII, or it already holds
    /// something a decoder takes for an encoded word (encoding it again would show that word
    /// undecoded). Control characters become spaces, as in `encodePhrase`.
    public static func encodeUnstructuredIfNeeded(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.contains(where: { $0 >= 0x80 }), !containsEncodedWord(bytes) else { return nil }
        return encodeUnstructured(text)
    }

    /// Whether some decoder could take part of `bytes` for an encoded word, whatever its charset.
    private static func containsEncodedWord(_ bytes: [UInt8]) -> Bool {
        bytes.indices.contains { bytes[$0] == UInt8(ascii: "=") && parse(bytes, at: $0) != nil }
    }

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


    /// Encoded words of at most 75 characters (RFC 2047 2), each holding whole characters (RFC 2047 5).
    private static func encodedWords(_ text: String) -> String {
        encodedWords(units: text.unicodeScalars.map { Array(String($0).utf8) }, charset: "UTF-8")
    }

    /// Encodes raw header octets as encoded words, for a relay that takes no 8-bit header
    /// (RFC 6531 3.5 without SMTPUTF8): UTF-8 when they are UTF-8, else `unknown-8bit`
    /// (RFC 1428; the label CPython's email package gives octets of an unknown charset), so
    /// that a decoder gets the very octets back. Every octet is encoded as it is, control
    /// characters included (they are not replaced: this is a lossless re-encoding of what
    /// arrived); callers pass text without CR, LF or NUL. Words are separated by a space.
    public static func encodeOctets(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) {
            return encodedWords(text)
        }
        return encodedWords(units: bytes.map { [$0] }, charset: "unknown-8bit")
    }

    /// Encoded words of at most 75 characters in `charset`, a unit (the octets of one
    /// character) never split between two words; Q or B, whichever is shorter for the whole.
    private static func encodedWords(units: [[UInt8]], charset: String) -> String {
        let all = units.flatMap { $0 }
        let qLength = all.reduce(0) { $0 + qCost($1) }
        let bLength = (all.count + 2) / 3 * 4
        let useQ = qLength <= bLength
        let budget = 75 - "=?\(charset)?Q??=".utf8.count
        var words: [String] = []
        var chunk: [UInt8] = []
        var chunkCost = 0
        for unit in units {
            let cost = useQ ? unit.reduce(0) { $0 + qCost($1) } : 0
            let fits = useQ ? chunkCost + cost <= budget : (chunk.count + unit.count + 2) / 3 * 4 <= budget
            if !fits && !chunk.isEmpty {
                words.append(encodeWord(chunk, q: useQ, charset: charset))
                chunk = []
                chunkCost = 0
            }
            chunk += unit
            chunkCost += cost
        }
        if !chunk.isEmpty { words.append(encodeWord(chunk, q: useQ, charset: charset)) }
        return words.joined(separator: " ")
    }

    private static func encodeWord(_ bytes: [UInt8], q: Bool, charset: String) -> String {
        var out: [UInt8] = Array("=?\(charset)?\(q ? "Q" : "B")?".utf8)
        if q {
            for b in bytes {
                if b == 0x20 {
                    out.append(UInt8(ascii: "_"))
                } else if isQLiteral(b) {
                    out.append(b)
                } else {
                    out += [UInt8(ascii: "="), Hex.upperDigits[Int(b >> 4)], Hex.upperDigits[Int(b & 0x0F)]]
                }
            }
        } else {
            out += Base64.encodeBytes(bytes)
        }
        out += Array("?=".utf8)
        return String(decoding: out, as: UTF8.self)
    }
}
