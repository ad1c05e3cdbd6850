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
///   (parse_value's precondition);
/// - an unquoted value that is not a TOML value, in shapes that send toml++'s look-ahead
///   for dates and numbers past its own preconditions: `a =1--a-ap-ir 1,` (ten characters
///   with `-` where a date has them, a space and a digit: the look-ahead for a date-time with
///   a space instead of `T`). Every unquoted value is therefore checked against TOML 1.0's
///   grammar here (booleans, integers, floats, dates and times), which also names the usual
///   mistake plainly: `host = mail.example.com` needs quotes.
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
                case 61:  // '=': a key's value follows (on the same line)
                    i += 1
                    while i < b.count, b[i] == 32 || b[i] == 9 { i += 1 }
                    if let p = bareValue() { return p }
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
                    // Lines and comments before it are counted by the main loop; the value
                    // itself is checked where it stands.
                    var value = Scan(b)
                    value.i = j
                    value.line = n
                    return value.bareValue()
                }
            }
            return nil
        }

        /// At the first character of a value: when it is not a string, array or inline table,
        /// the unquoted token must be a TOML 1.0 boolean, number, date or time.
        func bareValue() -> ConfigDiagnostic? {
            guard i < b.count, ![34, 39, 91, 123, 10, 13, 35, 44, 93, 125].contains(b[i]) else { return nil }
            var end = i
            while end < b.count, !Self.isValueTerminator(b[end]) { end += 1 }
            // A date-time may have a space instead of `T` (RFC 3339 5.6 note, TOML 1.0).
            if end + 1 < b.count, b[end] == 32, b[end + 1] >= 48, b[end + 1] <= 57, TOMLValueGrammar.isFullDate(b[i..<end]) {
                end += 1
                while end < b.count, !Self.isValueTerminator(b[end]) { end += 1 }
            }
            let token = b[i..<end]
            if TOMLValueGrammar.isValue(token) { return nil }
            let shown = String(decoding: token.prefix(40), as: UTF8.self) + (token.count > 40 ? "..." : "")
            return ConfigDiagnostic(line: line, message: "TOML syntax: \(shown) is not a TOML value (a string needs quotes)")
        }

        static func isValueTerminator(_ c: UInt8) -> Bool {
            c == 32 || c == 9 || c == 13 || c == 10 || c == 44 || c == 93 || c == 125 || c == 35
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

/// TOML 1.0's unquoted values (its ABNF, toml.abnf): booleans, integers, floats, and the four
/// date and time forms. Only the shapes: the ranges of a date's fields are toml++'s to check.
enum TOMLValueGrammar {
    static func isValue(_ t: ArraySlice<UInt8>) -> Bool {
        let s = Array(t)
        return s == Array("true".utf8) || s == Array("false".utf8) || isInteger(s) || isFloat(s) || isDateTime(s)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private static func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) }

    /// Digits with single underscores between them: `1_000`.
    private static func isDigits(_ s: ArraySlice<UInt8>, _ digit: (UInt8) -> Bool) -> Bool {
        guard let first = s.first, let last = s.last, digit(first), digit(last) else { return false }
        var previousUnderscore = false
        for c in s {
            if c == 95 {
                if previousUnderscore { return false }
                previousUnderscore = true
            } else if digit(c) {
                previousUnderscore = false
            } else {
                return false
            }
        }
        return true
    }

    /// dec-int: an optional sign, then 0 or digits not starting with 0.
    private static func isDecimal(_ s: ArraySlice<UInt8>) -> Bool {
        var d = s
        if let f = d.first, f == 43 || f == 45 { d = d.dropFirst() }
        guard let first = d.first else { return false }
        if first == 48 { return d.count == 1 }
        return isDigits(d, isDigit)
    }

    static func isInteger(_ s: [UInt8]) -> Bool {
        if s.count > 2, s[0] == 48 {
            let rest = s[2...]
            switch s[1] {
            case 120: return isDigits(rest, isHex)                      // 0x
            case 111: return isDigits(rest) { $0 >= 48 && $0 <= 55 }   // 0o
            case 98: return isDigits(rest) { $0 == 48 || $0 == 49 }     // 0b
            default: break
            }
        }
        return isDecimal(s[...])
    }

    static func isFloat(_ s: [UInt8]) -> Bool {
        var body = s[...]
        if let f = body.first, f == 43 || f == 45 { body = body.dropFirst() }
        if Array(body) == Array("inf".utf8) || Array(body) == Array("nan".utf8) { return true }
        // dec-int, then a fraction, an exponent, or both.
        let exp = s.firstIndex { $0 == 101 || $0 == 69 }
        let mantissa = s[..<(exp ?? s.endIndex)]
        if let exp {
            var e = s[(exp + 1)...]
            if let f = e.first, f == 43 || f == 45 { e = e.dropFirst() }
            guard isDigits(e, isDigit) else { return false }
        }
        if let dot = mantissa.firstIndex(of: 46) {
            return isDecimal(mantissa[..<dot]) && isDigits(mantissa[(dot + 1)...], isDigit)
        }
        return exp != nil && isDecimal(mantissa)
    }

    /// YYYY-MM-DD
    static func isFullDate(_ s: ArraySlice<UInt8>) -> Bool {
        let a = Array(s)
        return a.count == 10 && a[4] == 45 && a[7] == 45 && a.enumerated().allSatisfy { $0.offset == 4 || $0.offset == 7 || isDigit($0.element) }
    }

    /// HH:MM:SS with an optional fraction.
    private static func isPartialTime(_ s: ArraySlice<UInt8>) -> Bool {
        let a = Array(s)
        guard a.count >= 8, a[2] == 58, a[5] == 58,
              [0, 1, 3, 4, 6, 7].allSatisfy({ isDigit(a[$0]) }) else { return false }
        if a.count == 8 { return true }
        return a[8] == 46 && a.count > 9 && a[9...].allSatisfy(isDigit)
    }

    static func isDateTime(_ s: [UInt8]) -> Bool {
        if isFullDate(s[...]) { return true }                    // local date
        if isPartialTime(s[...]) { return true }                 // local time
        guard s.count > 11, isFullDate(s[0..<10]), [84, 116, 32].contains(s[10]) else { return false }
        var time = s[11...]
        // An offset: Z, or +HH:MM / -HH:MM.
        if let last = time.last, last == 90 || last == 122 {
            time = time.dropLast()
        } else if time.count > 6 {
            let offset = Array(time.suffix(6))
            if (offset[0] == 43 || offset[0] == 45), offset[3] == 58, [1, 2, 4, 5].allSatisfy({ isDigit(offset[$0]) }) {
                time = time.dropLast(6)
            }
        }
        return isPartialTime(time)
    }
}
