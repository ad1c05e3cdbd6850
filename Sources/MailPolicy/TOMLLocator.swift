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
                if Self.count(of: "\"\"\"", in: line) + Self.count(of: "'''", in: line) > 0 { inMultilineString = false }
                continue
            }
            // Bytes: a delimiter next to a combining mark is one Character with it.
            if line.hasBytePrefix("[[") {
                let name = Self.tableName(line.dropFirst(2))
                let index = arrayCounts[name, default: 0]
                arrayCounts[name] = index + 1
                // Arrays of tables nested under an array element (smime.sign under smime) keep
                // the parent's path; only the last component gets the index.
                current = "\(name)[\(index)]"
                lines[current] = lineNumber
            } else if line.hasBytePrefix("[") {
                current = Self.tableName(line.dropFirst())
                lines[current] = lineNumber
            } else if let eq = line.utf8.firstIndex(of: UInt8(ascii: "=")), !line.hasBytePrefix("#") {
                var key = line[..<eq].trimmingBlanks()
                if key.utf8.count >= 2, key.utf8.first == 34, key.utf8.last == 34 {
                    key = String(decoding: key.utf8.dropFirst().dropLast(), as: UTF8.self)
                }
                guard !key.isEmpty, !key.containsByte(32) else { continue }
                let path = current.isEmpty ? key : "\(current).\(key)"
                if lines[path] == nil { lines[path] = lineNumber }
                let value = line[line.utf8.index(after: eq)...]
                if (Self.count(of: "\"\"\"", in: value) + Self.count(of: "'''", in: value)) % 2 == 1 {
                    inMultilineString = true
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

    /// Non-overlapping occurrences of `needle`, as bytes.
    private static func count(of needle: String, in hay: Substring) -> Int {
        var n = 0
        var rest = hay.utf8[...]
        while let r = rest.firstRange(of: needle.utf8) { n += 1; rest = rest[r.upperBound...] }
        return n
    }

    private static func tableName(_ s: Substring) -> String {
        let end = s.utf8.firstIndex(of: UInt8(ascii: "]")) ?? s.endIndex
        return s[..<end].trimmingBlanks()
    }
}
