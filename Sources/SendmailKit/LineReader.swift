#if canImport(Glibc)
import Glibc
#endif

/// Lines from a file descriptor, bounded, each with how it ended: `-bs` must tell CRLF from
/// a bare LF (only CRLF "." CRLF ends DATA), so the line end is reported, not swallowed.
struct LineReader {
    /// How a line handed out ended.
    enum Ending: Equatable {
        /// CR LF (one CR right before the LF is part of the line end; earlier CRs are content).
        case crlf
        /// A bare LF.
        case lf
        /// Not yet: the line is longer than the limit and continues in the next piece.
        case partial
        /// The input ended without a line end.
        case eof
    }

    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    init(fd: Int32) { self.fd = fd }

    /// The next line (without its line end) or piece of a line longer than `limit`; nil at
    /// the end of the input.
    mutating func next(limit: Int) -> (bytes: [UInt8], ending: Ending)? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 10), nl - start <= limit + 1 {
                var end = nl
                let crlf = end > start && buffer[end - 1] == 13
                if crlf { end -= 1 }
                let line = Array(buffer[start..<end])
                start = nl + 1
                compact()
                return (line, crlf ? .crlf : .lf)
            }
            if buffer.count - start > limit {
                // Hand out `limit` bytes; a CR at the cut may belong to the CRLF that follows.
                var cut = start + limit
                if buffer[cut - 1] == 13 { cut -= 1 }
                let piece = Array(buffer[start..<cut])
                start = cut
                compact()
                return (piece, .partial)
            }
            if eof {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                buffer.removeAll(); start = 0
                return (line, .eof)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { eof = true; continue }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    private mutating func compact() {
        if start > 65536 { buffer.removeSubrange(0..<start); start = 0 }
    }
}

/// Where SMTP DATA ends (RFC 5321 4.1.1.4, 4.5.2), fed line by line: only a line holding a
/// single "." that follows a CRLF (or the DATA command itself) and ends with CRLF. A leading
/// "." of any other line that starts with one and has more in it is removed (dot-unstuffing).
/// No IO: `LineReader` supplies the lines.
struct DataTerminator {
    /// What to do with a line.
    enum Verdict: Equatable {
        /// The data ended at this line (it is not content).
        case end
        /// Content: drop this many leading bytes (1 for a stuffed dot, else 0).
        case content(drop: Int)
    }

    /// Whether the previous line ended with CRLF (the DATA command line did).
    private var afterCRLF = true
    /// Whether the next piece starts a line (false after a `.partial` piece).
    private var atLineStart = true

    mutating func take(_ line: [UInt8], ending: LineReader.Ending) -> Verdict {
        defer {
            atLineStart = ending != .partial
            if ending != .partial { afterCRLF = ending == .crlf }
        }
        guard atLineStart, line.first == 46 else { return .content(drop: 0) }
        if line.count == 1 {
            return afterCRLF && ending == .crlf ? .end : .content(drop: 0)
        }
        return .content(drop: 1)
    }
}
