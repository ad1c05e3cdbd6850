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
    private var lineNumber = 0
    private var current: (name: String, value: [UInt8])?

    public init() {}

    /// Feeds one line of the header block, without its line end.
    public mutating func feed(_ line: UnsafeBufferPointer<UInt8>) -> Disposition {
        lineNumber += 1
        byteCount += line.count + 2
        if line.isEmpty {
            flush()
            return .endOfHeaders
        }
        let first = line[0]
        if lineNumber == 1, line.count >= 5, line.starts(with: "From ".utf8) {
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

extension HeaderBlock {
    /// Parses a complete header block from bytes (any line ends); stops at the blank line.
    /// Returns the block, its defects and the offset where the body starts.
    public static func parse(_ bytes: [UInt8]) -> (block: HeaderBlock, defects: [MessageDefect], bodyOffset: Int) {
        var parser = HeaderBlockParser()
        var offset = 0
        var bodyOffset = bytes.count
        var done = false
        bytes.withUnsafeBufferPointer { buf in
            while offset < buf.count, !done {
                var end = offset
                while end < buf.count, buf[end] != 10 { end += 1 }
                let next = min(end + 1, buf.count)
                var lineEnd = end
                while lineEnd > offset, buf[lineEnd - 1] == 13 { lineEnd -= 1 }
                switch parser.feed(UnsafeBufferPointer(rebasing: buf[offset..<lineEnd])) {
                case .header: offset = next
                case .endOfHeaders: bodyOffset = next; done = true
                case .bodyLine: bodyOffset = offset; done = true
                }
            }
        }
        parser.finish()
        return (parser.block, parser.defects, done ? bodyOffset : bytes.count)
    }
}
