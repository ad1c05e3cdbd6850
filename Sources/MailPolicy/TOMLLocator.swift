import MailMessage

/// Finds the line of a table header or key in TOML text, so that every config problem can be
/// reported with its line (TOMLKit gives lines for syntax errors only).
///
/// Paths are dotted, with an index for arrays of tables: `relay[1].port`, `smime.sign[0].key`.
struct TOMLLocator {
    private(set) var lines: [String: Int] = [:]

    init(text: String) {
        var arrayCounts: [String: Int] = [:]
        var current = ""
        var lineNumber = 0
        var inMultilineString = false
        // Lines by bytes, so a CRLF config is counted like an LF one (TextLines).
        for raw in TextLines.lines(of: text) {
            lineNumber += 1
            let line = raw.drop(while: { $0 == " " || $0 == "\t" })
            if inMultilineString {
                if line.firstRange(of: "\"\"\"") != nil || line.firstRange(of: "'''") != nil { inMultilineString = false }
                continue
            }
            if line.hasPrefix("[[") {
                let name = Self.tableName(line.dropFirst(2))
                let index = arrayCounts[name, default: 0]
                arrayCounts[name] = index + 1
                // Arrays of tables nested under an array element (smime.sign under smime) keep
                // the parent's path; only the last component gets the index.
                current = "\(name)[\(index)]"
                lines[current] = lineNumber
            } else if line.hasPrefix("[") {
                current = Self.tableName(line.dropFirst())
                lines[current] = lineNumber
            } else if let eq = line.firstIndex(of: "="), !line.hasPrefix("#") {
                var key = line[..<eq].trimmingBlanks()
                if key.hasPrefix("\""), key.hasSuffix("\""), key.count >= 2 { key = String(key.dropFirst().dropLast()) }
                guard !key.isEmpty, !key.contains(Character(" ")) else { continue }
                let path = current.isEmpty ? key : "\(current).\(key)"
                if lines[path] == nil { lines[path] = lineNumber }
                let value = line[line.index(after: eq)...]
                if value.firstRange(of: "\"\"\"") != nil || value.firstRange(of: "'''") != nil {
                    if (Self.count(of: "\"\"\"", in: value) + Self.count(of: "'''", in: value)) % 2 == 1 {
                        inMultilineString = true
                    }
                }
            }
        }
    }

    /// The line of `path`, or of its closest enclosing table.
    func line(of path: String) -> Int? {
        var p = path
        while true {
            if let l = lines[p] { return l }
            guard let dot = p.lastIndex(of: ".") else { return nil }
            p = String(p[..<dot])
        }
    }

    private static func count(of needle: String, in hay: Substring) -> Int {
        var n = 0
        var rest = hay[...]
        while let r = rest.firstRange(of: needle) { n += 1; rest = rest[r.upperBound...] }
        return n
    }

    private static func tableName(_ s: Substring) -> String {
        let end = s.firstIndex(of: "]") ?? s.endIndex
        return s[..<end].trimmingBlanks()
    }
}
