// RFC 2047 encoded words: recognising and decoding them in display names and unstructured text.
// Encoding is in EncodedWordEncoding.swift, charsets in EncodedWordCharset.swift.
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

    // MARK: - Decoding

    /// Decodes the encoded text of one word to bytes in its charset; nil if malformed.
    static func decodeText(_ bytes: ArraySlice<UInt8>, encoding: UInt8) -> [UInt8]? {
        encoding == UInt8(ascii: "b") ? Base64.decode(bytes: Array(bytes), skippingWhiteSpace: false) : quotedPrintable(bytes)
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
                      let hi = Hex.value(bytes[i + 1]), let lo = Hex.value(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
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
}
