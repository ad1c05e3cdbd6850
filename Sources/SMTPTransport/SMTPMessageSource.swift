import Glibc

/// The message bytes to send, as they are queued (headers and body, any line ends): in memory,
/// or a byte range of an open file read with pread(2) so it is streamed, never loaded whole.
public enum SMTPMessageSource: Sendable {
    /// Bytes in memory.
    case bytes([UInt8])
    /// `length` bytes of `descriptor` from `offset`; the descriptor stays the caller's.
    case file(descriptor: Int32, offset: Int64, length: Int64)

    /// The length in octets.
    public var length: Int64 {
        switch self {
        case .bytes(let b): return Int64(b.count)
        case .file(_, _, let length): return length
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
        case .file(let fd, let offset, let length):
            var buffer = [UInt8](repeating: 0, count: blockSize)
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

    /// The whole message in memory (for the 8BITMIME downgrade).
    func readAll() throws -> [UInt8] {
        if case .bytes(let b) = self { return b }
        var out: [UInt8] = []
        out.reserveCapacity(Int(length))
        try forEachBlock { out.append(contentsOf: $0) }
        return out
    }
}
