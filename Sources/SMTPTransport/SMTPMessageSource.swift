import Glibc

/// The message bytes to send, as they are queued (headers and body, any line ends): in memory,
/// or a byte range of an open file read with pread(2) so it is streamed, never loaded whole.
public enum SMTPMessageSource: Sendable {
    /// Bytes in memory.
    case bytes([UInt8])
    /// `length` bytes of `descriptor` from `offset`; the descriptor stays the caller's.
    case file(descriptor: Int32, offset: Int64, length: Int64)
    /// `head` in memory, then `length` bytes of `descriptor` from `offset` (a header rewritten
    /// before sending, the body still streamed from the file).
    case prefixed(head: [UInt8], descriptor: Int32, offset: Int64, length: Int64)

    /// The length in octets.
    public var length: Int64 {
        switch self {
        case .bytes(let b): return Int64(b.count)
        case .file(_, _, let length): return length
        case .prefixed(let head, _, _, let length): return Int64(head.count) + length
        }
    }

    /// Calls `body` with consecutive blocks of at most `blockSize` octets.
    func forEachBlock(blockSize: Int = 64 * 1024, _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        switch self {
        case .bytes(let bytes):
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + blockSize)
                try body(bytes[start..<end])
                start = end
            }
        case .prefixed(let head, let fd, let offset, let length):
            try SMTPMessageSource.bytes(head).forEachBlock(blockSize: blockSize, body)
            try SMTPMessageSource.file(descriptor: fd, offset: offset, length: length).forEachBlock(blockSize: blockSize, body)
        case .file(let fd, let offset, let length):
            // No bigger than the message: zeroing 64 KiB for each 2 KB message showed in queue runs.
            var buffer = [UInt8](repeating: 0, count: Int(max(1, min(Int64(blockSize), length))))
            var done: Int64 = 0
            while done < length {
                let want = Int(min(Int64(blockSize), length - done))
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset + done)) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else {
                    let why = n == 0 ? "unexpected end of file" : String(cString: strerror(errno))
                    throw SMTPError(.messageSource, "reading the message: \(why)", transient: true)
                }
                try body(buffer[0..<n])
                done += Int64(n)
            }
        }
    }

    /// The source with its header block (through the empty line, or the whole message when
    /// it has none) replaced by `transform`'s result; for a file only the header is read.
    /// Unchanged when the message starts with the empty line (no header); nil when no empty
    /// line comes within `limit` octets and the message goes on (a header that large is not
    /// rewritten, and the caller must not send it as if it had been).
    func replacingHeader(limit: Int = 16 << 20, _ transform: ([UInt8]) -> [UInt8]) throws -> SMTPMessageSource? {
        struct Found: Error {}
        var head: [UInt8] = []
        var end: Int?
        do {
            try forEachBlock { block in
                let from = max(0, head.count - 2)
                head += block
                end = Self.headerEnd(head, from: from)
                if end != nil || head.count >= limit { throw Found() }
            }
        } catch is Found {}
        let noHeader = head.first == 10 || head.starts(with: [13, 10])
        if noHeader { return self }
        if end == nil {
            // No empty line: all of it is header, unless the limit stopped the reading.
            guard Int64(head.count) == length else { return nil }
            end = head.count
        }
        let headerEnd = end!
        let header = transform(Array(head[..<headerEnd]))
        if case .file(let fd, let offset, let length) = self {
            return .prefixed(head: header, descriptor: fd, offset: offset + Int64(headerEnd), length: length - Int64(headerEnd))
        }
        return .bytes(header + (try readAll())[headerEnd...])
    }

    /// The offset just after the first empty line (LF, optional CR, LF), looking from `from`.
    static func headerEnd(_ bytes: [UInt8], from: Int) -> Int? {
        var i = from
        while i + 1 < bytes.count {
            if bytes[i] == 10 {
                if bytes[i + 1] == 10 { return i + 2 }
                if i + 2 < bytes.count, bytes[i + 1] == 13, bytes[i + 2] == 10 { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// The whole message in memory (for the 8BITMIME downgrade and long lines).
    func readAll() throws -> [UInt8] {
        if case .bytes(let b) = self { return b }
        var out: [UInt8] = []
        out.reserveCapacity(Int(length))
        try forEachBlock { out.append(contentsOf: $0) }
        return out
    }
}
