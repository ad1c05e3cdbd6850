import MailMessage

/// Checks config text for what TOMLKit must never be given, before it is given to it.
///
/// TOMLKit 0.6.0 bundles toml++ 3.4.0, compiled with its assertions on (SwiftPM defines no
/// NDEBUG), and two of those assertions are reachable from malformed TOML: sealmail and
/// sealctl then abort instead of naming the problem (found by Tests/Fuzz, fuzz-config):
/// - a table header whose name does not start with a key character: `[[[relay]]]`, `[{`,
///   `[` at the end of a line (toml++'s parse_key precondition; fixed upstream in
///   marzer/tomlplusplus#301, not in the copy TOMLKit ships);
/// - an array element that starts with `}` or a non-ASCII character: `a = [}`
///   (parse_value's precondition).
/// And TOMLKit hands the text to toml++ as a C string, so a NUL byte silently ended the
/// config there. TOML 1.0 allows none of these, so refusing them refuses no valid config.
///
/// The scan knows just enough TOML to tell a table header from an array (a `[` that starts
/// a line outside any array or inline table) and to skip strings and comments. Where it
/// meets anything else that is malformed it stops: toml++ reports that error itself.
enum TOMLPrecheck {
    /// The first problem, with its line (1-based), or nil.
    static func problem(in text: String) -> ConfigDiagnostic? {
        var scan = Scan(Array(text.utf8))
        return scan.run()
    }

    private struct Scan {
        let b: [UInt8]
        var i = 0
        var line = 1
        /// Open arrays (`[`) and inline tables (`{`), innermost last.
        var open: [UInt8] = []

        init(_ bytes: [UInt8]) { b = bytes }

        mutating func run() -> ConfigDiagnostic? {
            // Control characters first: TOML allows tab, LF and CR only (1.0, "Spec").
            var n = 1
            for c in b {
                if c == 10 { n += 1; continue }
                if (c < 32 && c != 9 && c != 13) || c == 127 {
                    return ConfigDiagnostic(line: n, message: "TOML syntax: control character 0x\(Hex.string(CollectionOfOne(c))) (in a string, write it as an escape)")
                }
            }
            if b.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }  // UTF-8 byte order mark
            var lineStart = true
            while i < b.count {
                let c = b[i]
                if c == 32 || c == 9 || c == 13 { i += 1; continue }
                if c == 10 { line += 1; i += 1; lineStart = true; continue }
                let startsLine = lineStart
                lineStart = false
                switch c {
                case 35:  // '#': a comment to the end of the line
                    while i < b.count, b[i] != 10 { i += 1 }
                case 34, 39:  // a string
                    guard skipString() else { return nil }
                case 91 where startsLine && open.isEmpty:  // '[' starting a line: a table header
                    if let p = header() { return p }
                case 91, 123:  // '[' an array, '{' an inline table
                    open.append(c)
                    i += 1
                    if c == 91, let p = arrayElement() { return p }
                case 93, 125:  // ']' or '}' closes the innermost
                    guard let last = open.popLast(), last == (c == 93 ? 91 : 123) else { return nil }
                    i += 1
                case 44:  // ','
                    i += 1
                    if open.last == 91, let p = arrayElement() { return p }
                default:
                    i += 1
                }
            }
            return nil
        }

        /// At a header's `[`: the name must start with a key character or a quote.
        mutating func header() -> ConfigDiagnostic? {
            i += 1
            if i < b.count, b[i] == 91 { i += 1 }
            while i < b.count, b[i] == 32 || b[i] == 9 { i += 1 }
            guard i < b.count, Self.isBareKey(b[i]) || b[i] == 34 || b[i] == 39 else {
                return ConfigDiagnostic(line: line, message: "TOML syntax: a table header must start with a name ([table] or [[array.of.tables]])")
            }
            // The rest of the header: a dotted key, quoted parts, then `]` or `]]`.
            while i < b.count, b[i] != 10 {
                if b[i] == 34 || b[i] == 39 {
                    guard skipString() else { return nil }
                    continue
                }
                if b[i] == 93 {
                    i += 1
                    if i < b.count, b[i] == 93 { i += 1 }
                    return nil
                }
                i += 1
            }
            return nil
        }

        /// After `[` or `,` in an array: what starts the next element (or closes the array).
        mutating func arrayElement() -> ConfigDiagnostic? {
            var j = i
            var n = line
            while j < b.count {
                switch b[j] {
                case 32, 9, 13: j += 1
                case 10: n += 1; j += 1
                case 35: while j < b.count, b[j] != 10 { j += 1 }
                default:
                    if b[j] == 125 || b[j] >= 128 {
                        return ConfigDiagnostic(line: n, message: "TOML syntax: an array element cannot start with \(Self.shown(b[j]))")
                    }
                    return nil
                }
            }
            return nil
        }

        /// Skips a basic or literal string, single- or multi-line; false when it is not closed
        /// where TOML requires (toml++ reports that).
        mutating func skipString() -> Bool {
            let q = b[i]
            let multi = i + 2 < b.count && b[i + 1] == q && b[i + 2] == q
            i += multi ? 3 : 1
            while i < b.count {
                let c = b[i]
                if c == 92, q == 34 {  // an escape in a basic string (a line ending one included)
                    if i + 1 < b.count, b[i + 1] == 10 { line += 1 }
                    i += 2
                    continue
                }
                if c == 10 {
                    guard multi else { return false }
                    line += 1
                }
                if c == q {
                    if !multi { i += 1; return true }
                    if i + 2 < b.count, b[i + 1] == q, b[i + 2] == q {
                        i += 3
                        // Up to two more quotes belong to the content (TOML 1.0).
                        var extra = 0
                        while extra < 2, i < b.count, b[i] == q { i += 1; extra += 1 }
                        return true
                    }
                }
                i += 1
            }
            return false
        }

        static func isBareKey(_ c: UInt8) -> Bool {
            (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 || c == 45
        }

        static func shown(_ c: UInt8) -> String {
            c < 128 ? "'\(UnicodeScalar(c))'" : "a non-ASCII character"
        }
    }
}
