/// The header block of a message (RFC 5322 2.2): fields in order, duplicates allowed.
public struct HeaderBlock: Equatable, Sendable {
    public var fields: [HeaderField]

    public init(_ fields: [HeaderField] = []) { self.fields = fields }

    /// The first field with this name (case-insensitive).
    public func first(_ name: String) -> HeaderField? { fields.first { $0.is(name) } }
    /// Every field with this name, in order.
    public func all(_ name: String) -> [HeaderField] { fields.filter { $0.is(name) } }
    /// Whether a field with this name is present.
    public func contains(_ name: String) -> Bool { fields.contains { $0.is(name) } }
    /// Whether any field name starts with `prefix` (case-insensitive), e.g. `Resent-`.
    public func containsPrefix(_ prefix: String) -> Bool {
        let p = asciiLowercased(prefix)
        return fields.contains { $0.lowercasedName.hasPrefix(p) }
    }
    /// Removes every field with one of these names; returns how many were removed.
    @discardableResult
    public mutating func remove(_ names: Set<String>) -> Int {
        let lower = Set(names.map(asciiLowercased))
        let before = fields.count
        fields.removeAll { lower.contains($0.lowercasedName) }
        return before - fields.count
    }

    /// The block as it goes on the wire (each field ending in CRLF), without the blank line.
    public var wireBytes: [UInt8] {
        var out: [UInt8] = []
        for f in fields { out.append(contentsOf: f.wireBytes) }
        return out
    }
}

/// Builds a `HeaderBlock` from lines (without line ends), one at a time, as they arrive.
///
/// It tells the caller where the header block ends: at a blank line (consumed), or at a line
/// that is not a header field, which then belongs to the body (Postfix's rule). It never
/// throws; oddities become `MessageDefect`s.
public struct HeaderBlockParser {
    /// What became of a line fed to the parser.
    public enum Disposition: Equatable {
        /// Part of the header block (or a dropped mbox `From ` line).
        case header
        /// The blank line that ends the header block; it is not part of the body.
        case endOfHeaders
        /// Not a header field: the header block has ended and this line is the body's first.
        case bodyLine
    }

    public private(set) var block = HeaderBlock()
    public private(set) var defects: [MessageDefect] = []
    /// Bytes of header text taken in so far (to bound memory).
    public private(set) var byteCount = 0
    /// Whether the line fed last began a field (the rest of a field is its continuation lines).
    public private(set) var lastLineStartedField = false
    private let dropsMboxFromLine: Bool
    private var lineNumber = 0
    private var current: (name: String, value: [UInt8])?

    /// - Parameter dropsMboxFromLine: whether a first line `From ...` is an mbox separator to
    ///   drop (a message's start, as Postfix's sendmail does) or, in a MIME part, a line like
    ///   any other (not a field: the part's body starts there).
    public init(dropsMboxFromLine: Bool = true) { self.dropsMboxFromLine = dropsMboxFromLine }

    /// Feeds one line of the header block, without its line end.
    public mutating func feed(_ line: UnsafeBufferPointer<UInt8>) -> Disposition {
        lineNumber += 1
        byteCount += line.count + 2
        lastLineStartedField = false
        if line.isEmpty {
            flush()
            return .endOfHeaders
        }
        let first = line[0]
        if dropsMboxFromLine, lineNumber == 1, line.count >= 5, line.starts(with: "From ".utf8) {
            defects.append(.mboxFromLineDropped)
            lineNumber = 0
            return .header
        }
        if first == 32 || first == 9 {
            if current != nil {
                current!.value.append(13); current!.value.append(10)
                current!.value.append(contentsOf: line)
                noteBytes(line)
                return .header
            }
            return endByBody()
        }
        // name ":" — printable ASCII except colon; obsolete white space before the colon.
        var i = 0
        while i < line.count, line[i] >= 33, line[i] <= 126, line[i] != 58 { i += 1 }
        let nameEnd = i
        while i < line.count, line[i] == 32 || line[i] == 9 { i += 1 }
        guard nameEnd > 0, i < line.count, line[i] == 58 else { return endByBody() }
        flush()
        let name = String(decoding: UnsafeBufferPointer(rebasing: line[0..<nameEnd]), as: UTF8.self)
        if i != nameEnd { defects.append(.obsoleteFieldName(name: name)) }
        current = (name, Array(line[(i + 1)...]))
        lastLineStartedField = true
        noteBytes(line)
        return .header
    }

    /// Ends the input (no blank line came): the last field is completed.
    public mutating func finish() { flush() }

    private mutating func endByBody() -> Disposition {
        flush()
        defects.append(lineNumber == 1 ? .noHeaderBlock : .headerBlockEndedByNonHeader(line: lineNumber))
        return .bodyLine
    }

    private mutating func noteBytes(_ line: UnsafeBufferPointer<UInt8>) {
        if line.count > 998 { defects.append(.lineTooLong(inHeaders: true, length: line.count)) }
        if line.contains(0) { defects.append(.nulByte(inHeaders: true)) }
    }

    private mutating func flush() {
        guard let c = current else { return }
        current = nil
        if c.value.contains(where: { $0 >= 128 }) { defects.append(.eightBitHeader(name: c.name)) }
        block.fields.append(HeaderField(name: c.name, rawValue: c.value))
    }
}

extension HeaderBlockParser {
    /// A line fed by `feedLines`.
    public struct FedLine {
        /// Where the line is, its line end included.
        public var range: Range<Int>
        /// What became of it.
        public var disposition: Disposition
        /// Whether it began a field.
        public var startedField: Bool
    }

    /// Feeds the lines of `b[range]` one by one: a line ends at LF, and the CRs before the LF
    /// are not part of it. `body` is told of each line and returns false to stop. A last line
    /// without LF is fed only when `final` (more bytes may complete it). Returns the offset
    /// after the last line fed.
    @discardableResult
    public mutating func feedLines(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, final: Bool = true,
                                   _ body: (FedLine) -> Bool) -> Int {
        var offset = range.lowerBound
        while offset < range.upperBound {
            var end = offset
            while end < range.upperBound, b[end] != 10 { end += 1 }
            if end == range.upperBound, !final { break }
            let next = min(end + 1, range.upperBound)
            var lineEnd = end
            while lineEnd > offset, b[lineEnd - 1] == 13 { lineEnd -= 1 }
            let disposition = feed(UnsafeBufferPointer(rebasing: b[offset..<lineEnd]))
            let line = FedLine(range: offset..<next, disposition: disposition, startedField: lastLineStartedField)
            offset = next
            if !body(line) { break }
        }
        return offset
    }
}

extension HeaderBlock {
    /// Parses a complete header block from bytes (any line ends); stops at the blank line.
    /// Returns the block, its defects and the offset where the body starts.
    public static func parse(_ bytes: [UInt8]) -> (block: HeaderBlock, defects: [MessageDefect], bodyOffset: Int) {
        let parsed = bytes.withUnsafeBufferPointer { parse($0, 0..<bytes.count) }
        return (parsed.block, parsed.defects, parsed.bodyStart)
    }

    /// Parses the header block at the start of `b[range]`: the block, its defects, where the
    /// header ends (at the blank line, or at the first line that is not a field) and where the
    /// body starts (after the blank line; at that first line when no blank line came; at the
    /// end when the header runs to it).
    public static func parse(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                             parser: HeaderBlockParser = HeaderBlockParser())
        -> (block: HeaderBlock, defects: [MessageDefect], headerEnd: Int, bodyStart: Int) {
        var parser = parser
        var headerEnd = range.upperBound, bodyStart = range.upperBound
        parser.feedLines(b, range) { line in
            switch line.disposition {
            case .header: return true
            case .endOfHeaders: headerEnd = line.range.lowerBound; bodyStart = line.range.upperBound
            case .bodyLine: headerEnd = line.range.lowerBound; bodyStart = line.range.lowerBound
            }
            return false
        }
        parser.finish()
        return (parser.block, parser.defects, headerEnd, bodyStart)
    }

    /// Every line of `bytes[range]` read as the parser reads header lines, grouped into
    /// fields (a field's first line and its continuation lines) and lines that are not part
    /// of one (an mbox `From ` line, a line that is not a field, a blank line). Unlike `parse`
    /// it goes on after a line that would end the header block, so that a rewriter (the 7-bit
    /// header downgrade, the 8BITMIME downgrade) sees every line it is given and can copy
    /// what it leaves byte for byte.
    public static func spans(_ bytes: [UInt8], range: Range<Int>? = nil) -> [HeaderSpan] {
        var parser = HeaderBlockParser()
        var spans: [HeaderSpan] = []
        var fieldSpans: [Int] = []
        bytes.withUnsafeBufferPointer { b in
            _ = parser.feedLines(b, range ?? 0..<bytes.count) { line in
                if line.startedField {
                    fieldSpans.append(spans.count)
                    spans.append(HeaderSpan(range: line.range, field: nil))
                } else if line.disposition == .header, let last = fieldSpans.last, last == spans.count - 1 {
                    spans[last].range = spans[last].range.lowerBound..<line.range.upperBound  // a continuation line
                } else {
                    spans.append(HeaderSpan(range: line.range, field: nil))
                }
                return true
            }
        }
        parser.finish()
        for (k, field) in parser.block.fields.enumerated() { spans[fieldSpans[k]].field = field }
        return spans
    }
}

/// Some lines of a header block's bytes (`HeaderBlock.spans`): one field, or one line that is
/// not part of a field.
public struct HeaderSpan: Equatable, Sendable {
    /// Where the lines are, line ends included.
    public var range: Range<Int>
    /// The field the lines hold; nil for a line that is not part of a field.
    public var field: HeaderField?

    public init(range: Range<Int>, field: HeaderField?) {
        self.range = range
        self.field = field
    }
}
