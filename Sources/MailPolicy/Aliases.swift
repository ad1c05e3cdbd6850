import MailMessage

/// The aliases file (`/etc/aliases`, aliases(5)): `name: target, target`, continuation
/// lines starting with white space, `#` comments. Targets are addresses, local names (expanded
/// again), or `:include:/path` (a file of addresses). Commands (`|cmd`) and files (`/path`)
/// are recognised and refused at delivery: sealmail runs no programs for aliases.
///
/// No IO: the text comes in, `:include:` files are read through a closure.
public struct AliasTable: Sendable {
    /// Lowercased name to its targets, as written.
    public private(set) var entries: [String: [String]] = [:]
    /// Line of each name, for messages.
    public private(set) var lines: [String: Int] = [:]
    /// Problems found while parsing (the good lines are still used).
    public private(set) var problems: [ConfigDiagnostic] = []
    /// Bytes of all targets, for newaliases' summary.
    public private(set) var totalBytes = 0
    public private(set) var longest = 0

    public init() {}

    public static func parse(_ text: String) -> AliasTable {
        var table = AliasTable()
        // `control`: the first line of the entry with a control character, if any.
        var logical: [(line: Int, text: String, control: Int?)] = []
        var n = 0
        // Lines by bytes: a CRLF file is split like an LF one (TextLines).
        for line in TextLines.lines(of: text) {
            n += 1
            // Bytes throughout (TextLines' extension): `#` or a blank followed by a combining
            // mark is one Character, and would not start a comment or a continuation.
            let trimmed = line.trimmingBlanks()
            if trimmed.isEmpty || trimmed.hasBytePrefix("#") { continue }
            let control = hasControlCharacter(line) ? n : nil
            if let first = line.utf8.first, TextLines.isBlank(first) {
                if logical.isEmpty {
                    table.problems.append(ConfigDiagnostic(line: n, message: "continuation line with no alias before it"))
                } else {
                    logical[logical.count - 1].text += " " + trimmed
                    if logical[logical.count - 1].control == nil { logical[logical.count - 1].control = control }
                }
                continue
            }
            logical.append((n, line, control))
        }
        for (line, text, control) in logical {
            // A CR inside a line, a NUL or another control would end up in an address or a
            // user name; refuse the entry where the file is read, with its line.
            if let control {
                table.problems.append(ConfigDiagnostic(line: control, message: "control character in \"\(Self.printable(text.prefix(60)))\"; the entry is ignored"))
                continue
            }
            guard let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")) else {
                table.problems.append(ConfigDiagnostic(line: line, message: "no colon: \"\(text.prefix(60))\" is not \"name: targets\""))
                continue
            }
            let name = text[..<colon].trimmingBlanks().asciiLowercased()
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 32 && $0 != 64 && $0 != 44 && $0 < 127 }) else {
                table.problems.append(ConfigDiagnostic(line: line, message: "\"\(text[..<colon])\" is not an alias name"))
                continue
            }
            let targets = splitTargets(String(text[text.utf8.index(after: colon)...]))
            if targets.isEmpty {
                table.problems.append(ConfigDiagnostic(line: line, message: "alias \(name) has no targets"))
                continue
            }
            if let empty = targets.first(where: isEmptyTarget) {
                table.problems.append(ConfigDiagnostic(line: line, message: "alias \(name): \(empty) names no one; the entry is ignored"))
                continue
            }
            if table.entries[name] != nil {
                table.problems.append(ConfigDiagnostic(line: line, message: "alias \(name) is defined twice (first on line \(table.lines[name]!)); the first wins"))
                continue
            }
            table.entries[name] = targets
            table.lines[name] = line
            let bytes = targets.reduce(targets.count - 1) { $0 + $1.utf8.count }  // joined by ","
            table.totalBytes += bytes
            table.longest = max(table.longest, bytes)
        }
        return table
    }

    /// Whether `s` holds a control character other than tab (C0 or DEL).
    static func hasControlCharacter<S: StringProtocol>(_ s: S) -> Bool {
        s.utf8.contains { ($0 < 32 && $0 != 9) || $0 == 127 }
    }

    /// `s` for a message: control characters as `?`.
    static func printable<S: StringProtocol>(_ s: S) -> String {
        String(decoding: s.utf8.map { ($0 < 32 && $0 != 9) || $0 == 127 ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }

    /// A target that is nothing once unquoted and unescaped (`""`, `\\`): it would name the
    /// local user "" (found by Tests/Fuzz, fuzz-aliases).
    static func isEmptyTarget(_ t: String) -> Bool {
        let unquoted = Self.unquoted(t)
        return unquoted.isEmpty || unquoted == "\\"
    }

    /// `t` without the double quotes around it, if it has them (bytes: a quote next to a
    /// combining mark is still a quote).
    static func unquoted(_ t: String) -> String {
        let b = t.utf8
        guard b.count >= 2, b.first == 34, b.last == 34 else { return t }
        return String(decoding: b.dropFirst().dropLast(), as: UTF8.self)
    }

    /// Splits a target list at commas outside quotes, by bytes: `a@x,\u{0301}b@y` is two
    /// targets (as Characters the comma and the mark are one, and `b@y` was lost).
    static func splitTargets(_ s: String) -> [String] {
        var out: [String] = []
        var start = 0
        var quoted = false
        let bytes = Array(s.utf8)
        func cut(_ end: Int) {
            let t = TextLines.trimmed(bytes[start..<end], TextLines.isBlank)
            if !t.isEmpty { out.append(String(decoding: t, as: UTF8.self)) }
        }
        for (i, b) in bytes.enumerated() {
            if b == 34 { quoted.toggle() } else if b == 44 && !quoted { cut(i); start = i + 1 }
        }
        cut(bytes.count)
        return out
    }

    /// The result of expanding one local name.
    public struct Expansion: Equatable, Sendable {
        /// Local users to deliver to (lowercased names that are no alias, or an alias's self-reference).
        public var localUsers: [String] = []
        /// Addresses with a domain (to relay).
        public var addresses: [String] = []
        /// Targets sealmail refuses (`|command`, `/file`), with the alias that named them.
        public var unsupported: [String] = []
        /// A loop or a broken include, in words; nil when the expansion is sound.
        public var error: String?
        public init() {}
    }

    /// Expands `name` (a local part) recursively. A name that reaches itself through other
    /// aliases is a loop (an error); an alias listing its own name means its own mailbox
    /// (sendmail's `root: root, admin@x`).
    public func expand(_ name: String, include: (String) -> String?) -> Expansion {
        var files: [String: IncludeFile] = [:]
        return expand(name, files: &files, include: include)
    }

    /// `expand`, with the :include: files read so far (`check` reads each once for all).
    private func expand(_ name: String, files: inout [String: IncludeFile], include: (String) -> String?) -> Expansion {
        var e = Expansion()
        var emitted = Set<String>()
        var done = Set<String>()
        expand(name.asciiLowercased(), chain: [], into: &e, emitted: &emitted, done: &done, files: &files, include: include,
               depth: 0)
        return e
    }

    /// `done`: aliases already expanded in full by this expansion. One reached again by another
    /// path gives nothing new (what it names is emitted already), so it is expanded once: the
    /// work stays linear in the size of the table. Without this, aliases naming the next
    /// level's two aliases, twenty levels deep, made a million expansions (found by profiling
    /// fuzz-aliases; an :include: file its owner writes could do that to every delivery).
    private func expand(_ name: String, chain: [String], into e: inout Expansion, emitted: inout Set<String>,
                        done: inout Set<String>, files: inout [String: IncludeFile], include: (String) -> String?,
                        depth: Int) {
        guard e.error == nil else { return }
        guard let targets = entries[name] else {
            if emitted.insert("local:" + name).inserted { e.localUsers.append(name) }
            return
        }
        if chain.contains(name) {
            e.error = "alias loop: " + (chain + [name]).joined(separator: " -> ")
            return
        }
        if done.contains(name) { return }
        defer { done.insert(name) }
        if depth > 20 || emitted.count > 1000 {
            e.error = "alias expansion of \(chain.first ?? name) is too deep or too large"
            return
        }
        for target in resolve(targets, files: &files, include: include, error: &e.error) {
            let unquoted = Self.unquoted(target)
            if unquoted.hasBytePrefix("|") || unquoted.hasBytePrefix("/") {
                e.unsupported.append(unquoted)
                continue
            }
            if unquoted.containsByte(UInt8(ascii: "@")) {
                if emitted.insert("addr:" + unquoted).inserted { e.addresses.append(unquoted) }
                continue
            }
            let escaped = unquoted.hasBytePrefix("\\")
            let local = (escaped ? String(decoding: unquoted.utf8.dropFirst(), as: UTF8.self) : unquoted).asciiLowercased()
            if local == name || escaped {
                if emitted.insert("local:" + local).inserted { e.localUsers.append(local) }
                continue
            }
            expand(local, chain: chain + [name], into: &e, emitted: &emitted, done: &done, files: &files,
                   include: include, depth: depth + 1)
        }
    }

    /// Replaces `:include:/path` targets by the addresses in the file. Each file is read and
    /// split once per expansion (`files`), however many aliases name it.
    private func resolve(_ targets: [String], files: inout [String: IncludeFile], include: (String) -> String?,
                         error: inout String?) -> [String] {
        var out: [String] = []
        for t in targets {
            guard t.hasASCIICaseInsensitivePrefix(":include:") else { out.append(t); continue }
            let path = String(decoding: t.utf8.dropFirst(9), as: UTF8.self).trimmingBlanks()
            let file: IncludeFile
            if let known = files[path] {
                file = known
            } else {
                file = Self.readInclude(t, path: path, include: include)
                files[path] = file
            }
            out.append(contentsOf: file.targets)
            if let problem = file.error {
                error = problem
                return out
            }
        }
        return out
    }

    /// An :include: file's targets, up to its first problem (`error`).
    struct IncludeFile {
        var targets: [String] = []
        var error: String?
    }

    private static func readInclude(_ t: String, path: String, include: (String) -> String?) -> IncludeFile {
        var file = IncludeFile()
        guard let text = include(path) else {
            file.error = "cannot read \(t)"
            return file
        }
        for (n, line) in TextLines.lines(of: text).enumerated() {
            let l = line.trimmingASCIIWhitespace()
            if l.isEmpty || l.hasBytePrefix("#") { continue }
            if hasControlCharacter(l) {
                file.error = "control character on line \(n + 1) of \(t)"
                return file
            }
            let targets = splitTargets(l)
            if let empty = targets.first(where: isEmptyTarget) {
                file.error = "\(empty) on line \(n + 1) of \(t) names no one"
                return file
            }
            file.targets.append(contentsOf: targets)
        }
        return file
    }

    /// Checks every alias (for newaliases): loops and unreadable includes, with lines.
    public func check(include: (String) -> String?) -> [ConfigDiagnostic] {
        var out = problems
        var files: [String: IncludeFile] = [:]
        for name in entries.keys.sorted() {
            let e = expand(name, files: &files, include: include)
            if let err = e.error { out.append(ConfigDiagnostic(line: lines[name], message: err)) }
        }
        return out.sorted { ($0.line ?? 0) < ($1.line ?? 0) }
    }
}
