/// Address patterns of the policy: `*` matches any run of characters, `?` one; matching is
/// case-insensitive (domains are, and administrators expect local parts to be too).
/// `*@example.com`, `alerts@example.com`, `*@*.example.com`, `*`.
public struct AddressPattern: Equatable, Sendable, CustomStringConvertible {
    public let text: String
    private let lowered: [UInt8]

    /// - Throws: a message when `text` is not a pattern (empty, white space, control
    ///   characters, more than one `@`, or characters that have no place in an address).
    public init(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw PatternError("an empty pattern matches nothing") }
        if let bad = bytes.first(where: { $0 <= 32 || $0 == 127 || $0 == 44 || $0 == 59 || $0 == 60 || $0 == 62 || $0 == 91 || $0 == 93 }) {
            throw PatternError("\"\(text)\" is not a pattern: it contains \(bad == 32 ? "a space" : bad < 32 ? "a control character" : "'\(Character(Unicode.Scalar(bad)))'")")
        }
        if bytes.filter({ $0 == 64 }).count > 1 { throw PatternError("\"\(text)\" is not a pattern: more than one @") }
        self.text = text
        lowered = bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }

    public var description: String { text }

    public func matches(_ address: String) -> Bool {
        let a = address.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        return Self.glob(lowered[...], a[...])
    }

    /// Iterative glob with backtracking to the last `*` (linear in practice).
    static func glob(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>) -> Bool {
        var pi = p.startIndex, si = s.startIndex
        var star: Int? = nil, mark = s.startIndex
        while si < s.endIndex {
            if pi < p.endIndex, p[pi] == 63 || p[pi] == s[si] { pi += 1; si += 1; continue }
            if pi < p.endIndex, p[pi] == 42 { star = pi; mark = si; pi += 1; continue }
            if let st = star { pi = st + 1; mark += 1; si = mark; continue }
            return false
        }
        while pi < p.endIndex, p[pi] == 42 { pi += 1 }
        return pi == p.endIndex
    }
}

public struct PatternError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
