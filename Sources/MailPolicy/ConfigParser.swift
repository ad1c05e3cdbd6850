import TOMLKit

/// One problem in the config, with the line it is on when known.
public struct ConfigDiagnostic: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int?
    public var message: String
    public init(line: Int?, message: String) { self.line = line; self.message = message }
    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

/// Every problem found in a config file (they are all collected, not only the first).
public struct ConfigErrors: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var diagnostics: [ConfigDiagnostic]
    public var description: String {
        diagnostics.map { "\(path): \($0)" }.joined(separator: "\n")
    }
}

/// Turns config text into `SealmailConfig`, or every problem in it (unknown keys, wrong
/// types, unknown enum values), each with its line.
public enum ConfigParser {
    public static func parse(_ text: String, path: String) -> Result<SealmailConfig, ConfigErrors> {
        // What toml++ would abort on, or TOMLKit would cut at (a NUL), never reaches them.
        if let problem = TOMLPrecheck.problem(in: text) {
            return .failure(ConfigErrors(path: path, diagnostics: [problem]))
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            return .failure(ConfigErrors(path: path, diagnostics: [
                ConfigDiagnostic(line: e.source.begin.line, message: "TOML syntax: \(e.description)")]))
        } catch {
            return .failure(ConfigErrors(path: path, diagnostics: [ConfigDiagnostic(line: nil, message: "\(error)")]))
        }
        var r = Reader(text: text)
        let config = r.readConfig(table)
        if r.diagnostics.isEmpty { return .success(config) }
        return .failure(ConfigErrors(path: path, diagnostics: r.diagnostics.sorted { ($0.line ?? 0) < ($1.line ?? 0) }))
    }
}

/// Reads typed values out of TOMLKit tables, recording a diagnostic for each problem.
struct Reader {
    let text: String
    /// Made when a line is first asked for: a config without a problem, a relay or an S/MIME
    /// rule never pays for it; one with a relay pays a byte pass (0.09M instructions of a
    /// 2.08M `-odq` submission, callgrind).
    lazy var locator = TOMLLocator(text: text)
    var diagnostics: [ConfigDiagnostic] = []

    init(text: String) { self.text = text }

    mutating func problem(_ path: String, _ message: String) {
        diagnostics.append(ConfigDiagnostic(line: locator.line(of: path), message: message))
    }

    /// Records every key of `table` that is not in `known`.
    mutating func checkKeys(_ table: TOMLTable, at path: String, known: Set<String>) {
        for key in table.keys where !known.contains(key) {
            let where_ = path.isEmpty ? "at top level" : "in [\(Self.tableLabel(path))]"
            problem(join(path, key), "unknown key \"\(key)\" \(where_)")
        }
    }

    static func tableLabel(_ path: String) -> String {
        // relay[1] -> relay; smime.sign[0] -> smime.sign
        var out = ""
        var skipping = false
        for c in path {
            if c == "[" { skipping = true } else if c == "]" { skipping = false } else if !skipping { out.append(c) }
        }
        return out
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func string(_ t: TOMLTable, _ key: String, _ path: String) -> String? {
        guard let v = t[key] else { return nil }
        if let s = v.string {
            if s.utf8.contains(where: { $0 < 32 && $0 != 9 }) {
                problem(join(path, key), "\(key) must not contain control characters")
                return nil
            }
            return s
        }
        problem(join(path, key), "\(key) must be a string")
        return nil
    }

    mutating func int(_ t: TOMLTable, _ key: String, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard let v = t[key] else { return nil }
        guard let i = v.int else { problem(join(path, key), "\(key) must be an integer"); return nil }
        guard range.contains(i) else {
            problem(join(path, key), "\(key) = \(i) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return i
    }

    mutating func bool(_ t: TOMLTable, _ key: String, _ path: String) -> Bool? {
        guard let v = t[key] else { return nil }
        guard let b = v.bool else { problem(join(path, key), "\(key) must be true or false"); return nil }
        return b
    }

    /// A string or an array of strings.
    mutating func strings(_ t: TOMLTable, _ key: String, _ path: String) -> [String]? {
        guard let v = t[key] else { return nil }
        if let s = v.string { return [s] }
        guard let a = v.array else { problem(join(path, key), "\(key) must be a string or an array of strings"); return nil }
        var out: [String] = []
        for item in a {
            guard let s = item.string else {
                problem(join(path, key), "\(key) must hold only strings")
                return nil
            }
            out.append(s)
        }
        return out
    }

    mutating func enumValue<E: RawRepresentable & CaseIterable>(_ t: TOMLTable, _ key: String, _ path: String, _ type: E.Type) -> E?
        where E.RawValue == String {
        guard let s = string(t, key, path) else { return nil }
        guard let e = E(rawValue: s) else {
            let allowed = E.allCases.map { $0.rawValue }.joined(separator: " | ")
            problem(join(path, key), "\(key) = \"\(s)\" is not one of \(allowed)")
            return nil
        }
        return e
    }

    /// A duration: an integer number of seconds or a string such as `30m`, `5d`, `1h30m`.
    mutating func duration(_ t: TOMLTable, _ key: String, _ path: String) -> Int? {
        guard let v = t[key] else { return nil }
        if let i = v.int, i > 0 { return i }
        if let s = v.string, let d = Duration.parse(s) { return d }
        problem(join(path, key), "\(key) must be a duration such as 3600, \"30m\" or \"5d\"")
        return nil
    }

    /// A duration of at most `max` seconds.
    mutating func duration(_ t: TOMLTable, _ key: String, _ path: String, max: Int) -> Int? {
        guard let d = duration(t, key, path) else { return nil }
        guard d <= max else {
            problem(join(path, key), "\(key) = \(d) seconds is more than the maximum of \(max)")
            return nil
        }
        return d
    }

    mutating func tables(_ t: TOMLTable, _ key: String, _ path: String) -> [TOMLTable] {
        guard let v = t[key] else { return [] }
        if let a = v.array {
            var out: [TOMLTable] = []
            for item in a {
                if let tt = item.table { out.append(tt) } else { problem(join(path, key), "[[\(key)]] must be tables") }
            }
            return out
        }
        problem(join(path, key), "\(key) must be written as [[\(Self.tableLabel(join(path, key)))]] tables")
        return []
    }
}

/// Durations in sendmail's style: `90`, `30s`, `30m`, `2h`, `5d`, `1w`, `1h30m`.
public enum Duration {
    public static func parse(_ text: String) -> Int? {
        guard !text.isEmpty else { return nil }
        var total = 0
        var number = 0
        var haveDigits = false
        for c in text.utf8 {
            if c >= 48 && c <= 57 {
                number = number &* 10 &+ Int(c - 48)
                if number > 100_000_000 { return nil }
                haveDigits = true
                continue
            }
            guard haveDigits else { return nil }
            switch c {
            case UInt8(ascii: "s"): total += number
            case UInt8(ascii: "m"): total += number * 60
            case UInt8(ascii: "h"): total += number * 3600
            case UInt8(ascii: "d"): total += number * 86400
            case UInt8(ascii: "w"): total += number * 604800
            default: return nil
            }
            number = 0
            haveDigits = false
        }
        if haveDigits { total += number }  // a bare number is seconds... except for sendmail's -q, see SendmailOptions
        return total > 0 ? total : nil
    }
}
