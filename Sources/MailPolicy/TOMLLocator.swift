import MailMessage

/// Finds the line of a table header or key in TOML text, so that every config problem can be
/// reported with its line (TOMLKit gives lines for syntax errors only).
///
/// Paths are dotted, with an index for arrays of tables: `relay[1].port`, `smime.sign[0].key`.
///
/// Built only when a line is asked for (`Reader` holds it lazily), by bytes, and searched in
/// order while small: a config names a few dozen paths, and the first Dictionary of a new key
/// type costs a scan of every protocol conformance in the binary (with the generic substring
/// search it was a fifth of the instructions of a whole `-odq` submission). Past
/// `indexFrom` paths, a Dictionary finds them, so a huge config is not quadratic.
struct TOMLLocator {
    /// The paths (bytes) and their lines, in the order first seen.
    private var paths: [[UInt8]] = []
    private var lines: [Int] = []
    /// Position in `paths`, once there are `indexFrom` of them.
    private var index: [[UInt8]: Int]?
    static let indexFrom = 64

    init(text: String) {
        var arrayCounts: [(name: [UInt8], count: Int)] = []
        var current: [UInt8] = []
        var lineNumber = 0
        var inMultilineString = false
        // Lines by bytes, so a CRLF config is counted like an LF one (TextLines).
        for raw in TextLines.split(Array(text.utf8)) {
            lineNumber += 1
            let line = raw.drop(while: TextLines.isBlank)
            if inMultilineString {
                if Self.count(of: Self.basicQuotes, in: line) + Self.count(of: Self.literalQuotes, in: line) > 0 {
                    inMultilineString = false
                }
                continue
            }
            if line.starts(with: [91, 91]) {  // "[["
                let name = Self.tableName(line.dropFirst(2))
                let index: Int
                if let i = arrayCounts.firstIndex(where: { $0.name == name }) {
                    index = arrayCounts[i].count
                    arrayCounts[i].count += 1
                } else {
                    index = 0
                    arrayCounts.append((name, 1))
                }
                // Arrays of tables nested under an array element (smime.sign under smime) keep
                // the parent's path; only the last component gets the index.
                current = name + Array("[\(index)]".utf8)
                record(current, lineNumber, replacing: true)
            } else if line.first == 91 {  // "["
                current = Self.tableName(line.dropFirst())
                record(current, lineNumber, replacing: true)
            } else if line.first != 35, let eq = line.firstIndex(of: 61) {  // not "#"; "="
                var key = TextLines.trimmed(line[..<eq], TextLines.isBlank)
                if key.count >= 2, key.first == 34, key.last == 34 { key = key.dropFirst().dropLast() }
                guard !key.isEmpty, !key.contains(32) else { continue }
                let path = current.isEmpty ? Array(key) : current + [46] + key
                record(path, lineNumber, replacing: false)
                let value = line[(eq + 1)...]
                if (Self.count(of: Self.basicQuotes, in: value) + Self.count(of: Self.literalQuotes, in: value)) % 2 == 1 {
                    inMultilineString = true
                }
            }
        }
    }

    /// A table header's line replaces what its path had (the latest header wins); a key's is
    /// kept only if its path had none (the first key wins).
    private mutating func record(_ path: [UInt8], _ line: Int, replacing: Bool) {
        if let i = position(of: path[...]) {
            if replacing { lines[i] = line }
            return
        }
        paths.append(path)
        lines.append(line)
        if index != nil {
            index?[path] = paths.count - 1
        } else if paths.count >= Self.indexFrom {
            var built: [[UInt8]: Int] = [:]
            for (i, p) in paths.enumerated() where built[p] == nil { built[p] = i }
            index = built
        }
    }

    private func position(of path: ArraySlice<UInt8>) -> Int? {
        if let index { return index[Array(path)] }
        return paths.firstIndex { $0[...] == path }
    }

    /// The line of `path`, or of its closest enclosing table.
    func line(of path: String) -> Int? {
        var p = Array(path.utf8)[...]
        while true {
            if let i = position(of: p) { return lines[i] }
            guard let dot = p.lastIndex(of: 46) else { return nil }  // "."
            p = p[..<dot]
        }
    }

    private static let basicQuotes: [UInt8] = [34, 34, 34]    // """
    private static let literalQuotes: [UInt8] = [39, 39, 39]  // '''

    /// Non-overlapping occurrences of `needle` in `hay`.
    private static func count(of needle: [UInt8], in hay: ArraySlice<UInt8>) -> Int {
        var n = 0
        var i = hay.startIndex
        while i + needle.count <= hay.endIndex {
            if hay[i..<(i + needle.count)].elementsEqual(needle) { n += 1; i += needle.count } else { i += 1 }
        }
        return n
    }

    private static func tableName(_ s: ArraySlice<UInt8>) -> [UInt8] {
        Array(TextLines.trimmed(s[..<(s.firstIndex(of: 93) ?? s.endIndex)], TextLines.isBlank))  // "]"
    }
}
