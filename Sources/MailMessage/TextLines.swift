/// Lines and trimming on bytes, for text read from files, stdin, pipes and the network.
///
/// Swift's `String` works on grapheme clusters, and `"\r\n"` is ONE `Character`: a String
/// split at `"\n"` does not split a CRLF file at all, and a trim of `" \t\r\n"` leaves a lone
/// `"\n"` (the set's `"\r\n"` is one element, `"\n"` is not in it). So `/etc/mailname` =
/// `vm\n` became the domain `vm\n`. Everything here works on UTF-8 code units instead, where
/// CR and LF are the bytes 13 and 10 and nothing else.
public enum TextLines {
    /// Space, tab, CR and LF.
    public static func isASCIIWhitespace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 || b == 10 }
    /// Space and tab (RFC 5234 WSP).
    public static func isBlank(_ b: UInt8) -> Bool { b == 32 || b == 9 }

    /// The lines of `bytes`, split at LF, each without its line end: CRLF and LF both end a
    /// line (every CR right before the LF belongs to the line end). A last line without a line
    /// end is included; a final line end adds no empty line; a CR elsewhere stays in the line.
    public static func split(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        while let lf = bytes[start...].firstIndex(of: 10) {
            out.append(withoutTrailingCRs(bytes[start..<lf]))
            start = lf + 1
        }
        if start < bytes.endIndex { out.append(withoutTrailingCRs(bytes[start...])) }
        return out
    }

    /// As `split`, for a whole array.
    public static func split(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] { split(bytes[...]) }

    /// The lines of a text, decoded as UTF-8 (invalid sequences become U+FFFD), as `split`.
    public static func lines(of text: String) -> [String] {
        split(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The first line of `bytes` (up to the first LF, CRs before it removed), or all of it.
    public static func firstLine(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        withoutTrailingCRs(bytes[..<(bytes.firstIndex(of: 10) ?? bytes.endIndex)])
    }

    /// `bytes` without the leading and trailing bytes for which `drop` is true (by default
    /// ASCII white space: space, tab, CR, LF).
    public static func trimmed(_ bytes: ArraySlice<UInt8>, _ drop: (UInt8) -> Bool = isASCIIWhitespace) -> ArraySlice<UInt8> {
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, drop(bytes[start]) { start += 1 }
        while end > start, drop(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    static func withoutTrailingCRs(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var end = s.endIndex
        while end > s.startIndex, s[end - 1] == 13 { end -= 1 }
        return s[s.startIndex..<end]
    }
}

extension StringProtocol {
    /// The string without leading and trailing ASCII white space (space, tab, CR, LF), judged
    /// by bytes: a trailing CRLF or lone LF goes, which `trimmingCharacters` over a Character
    /// set does not guarantee (see `TextLines`).
    public func trimmingASCIIWhitespace() -> String {
        String(decoding: TextLines.trimmed(Array(utf8)[...]), as: UTF8.self)
    }

    /// The string without leading and trailing spaces and tabs.
    public func trimmingBlanks() -> String {
        String(decoding: TextLines.trimmed(Array(utf8)[...], TextLines.isBlank), as: UTF8.self)
    }

    // Delimiters as bytes. `hasPrefix`, `firstIndex(of:)`, `split(separator:)` and `==` work
    // on Characters: a delimiter with a combining mark after it (`-\u{0613}`), or a Prepend
    // character before it (`\u{0600}@`), is one Character that equals no ASCII delimiter, and
    // Character comparison is by canonical equivalence and Unicode case mapping (the Kelvin
    // sign lowercases to `k`). Text from files, argv, the environment and the network is
    // examined through these instead.

    /// Whether the UTF-8 bytes start with those of `prefix`.
    @inlinable public func hasBytePrefix(_ prefix: String) -> Bool { utf8.starts(with: prefix.utf8) }

    /// Whether the UTF-8 bytes start with those of the ASCII `prefix`, ignoring ASCII case.
    public func hasASCIICaseInsensitivePrefix(_ prefix: String) -> Bool {
        var mine = utf8.makeIterator()
        for p in prefix.utf8 {
            guard let b = mine.next(), TextLines.asciiLowercased(b) == TextLines.asciiLowercased(p) else { return false }
        }
        return true
    }

    /// Whether the UTF-8 bytes contain `byte` (an ASCII delimiter).
    @inlinable public func containsByte(_ byte: UInt8) -> Bool { utf8.contains(byte) }

    /// The string with ASCII letters lowercased and every other byte kept: the case rule of
    /// domains, field names and keywords (Unicode `lowercased()` maps the Kelvin sign to `k`).
    @inlinable
    public func asciiLowercased() -> String {
        // Most text has no capital to fold (alias targets, domains): no copy then. (A map over
        // the UTF8View for every target was a fifth of an alias expansion's time.)
        guard utf8.contains(where: { $0 >= 65 && $0 <= 90 }) else { return String(self) }
        var bytes = Array(utf8)
        for i in bytes.indices { bytes[i] = TextLines.asciiLowercased(bytes[i]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension TextLines {
    /// `b` with A-Z made a-z.
    @inlinable public static func asciiLowercased(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }
    /// `b` with a-z made A-Z (SMTP verbs and EHLO keywords).
    @inlinable public static func asciiUppercased(_ b: UInt8) -> UInt8 { b >= 97 && b <= 122 ? b - 32 : b }
}
