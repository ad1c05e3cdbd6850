#if canImport(Glibc)
import Glibc
#endif
import MailMessage

/// Reads a message from a file descriptor the way sendmail does: any mix of line ends made
/// CRLF line by line, stray CRs replaced by spaces, a lone `.` ending the input unless
/// `-i`/`-oi`. The header block is parsed in memory (bounded); the body is handed on in
/// chunks as it arrives, so memory does not grow with the message.
///
/// A header line is never cut: one up to the whole header block's limit is parsed as one
/// line (a 2 MiB field is a field, and what follows it is still header), and a header block
/// over the limit refuses the message (exit 65). Body lines are handed on in pieces of at
/// most `bodyPieceBytes`.
final class MessageInput {
    /// Largest header block kept in memory.
    static let maxHeaderBytes = 16 << 20
    /// Body lines longer than this are passed on in pieces (flagged as long lines).
    static let bodyPieceBytes = 1 << 20

    private let fd: Int32
    private let ignoreDots: Bool
    private var splitter = LineSplitter(maxPendingLine: MessageInput.maxHeaderBytes)
    /// Set when one header line is larger than the whole header block may be.
    private var headerLineTooLong = false
    /// Not zeroed (read fills what is used): zeroing 128 KiB was 30 page faults and 4% of the
    /// instructions of a 2 KB submission.
    private var readBuffer = [UInt8](unsafeUninitializedCapacity: 128 * 1024) { _, count in count = 128 * 1024 }
    private(set) var header = HeaderBlockParser()
    private var inHeader = true
    private var ended = false
    /// Body bytes produced but not yet taken by `nextBodyChunk`.
    private var body: [UInt8] = []
    private(set) var stats = BodyStats()

    struct BodyStats {
        var eightBit = false
        var nul = false
        var longLines = false
        var strayCR = false
    }

    init(fd: Int32, ignoreDots: Bool) {
        self.fd = fd
        self.ignoreDots = ignoreDots
        body.reserveCapacity(256 * 1024)
    }

    /// Reads until the header block is complete. Body bytes that came with the last read stay
    /// buffered for `nextBodyChunk`.
    func readHeader() throws {
        while inHeader && !ended {
            try readChunk()
            if header.byteCount > Self.maxHeaderBytes || headerLineTooLong {
                throw SubmissionError(.data, "the header block is larger than \(Self.maxHeaderBytes >> 20) MiB")
            }
        }
        header.finish()
        splitter.maxPendingLine = Self.bodyPieceBytes
    }

    /// The next piece of the body (CRLF line ends), or nil at the end of the input.
    func nextBodyChunk() throws -> [UInt8]? {
        while body.count < 128 * 1024 && !ended {
            try readChunk()
        }
        if body.isEmpty { return nil }
        let out = body
        body.removeAll(keepingCapacity: true)
        return out
    }

    private func readChunk() throws {
        let n = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { return }
            throw InputError(message: "cannot read the message: \(String(cString: strerror(errno)))", isTemporary: false)
        }
        if n == 0 {
            splitter.finish { self.take($0) }
            ended = true
            return
        }
        let keepGoing = readBuffer.withUnsafeBufferPointer { buf in
            splitter.feed(UnsafeBufferPointer(rebasing: buf[0..<n])) { self.take($0) }
        }
        if !keepGoing { ended = true }
    }

    /// Handles one line; returns false at a lone `.` (end of input without -i).
    private func take(_ line: LineSplitter.Line) -> Bool {
        if !ignoreDots, !line.isPartial, !line.isContinuation, line.bytes.count == 1, line.bytes[0] == 46 {
            return false
        }
        if let base = line.bytes.baseAddress, memchr(base, 13, line.bytes.count) != nil {
            stats.strayCR = true
            let copy = line.bytes.map { $0 == 13 ? 32 : $0 }
            return copy.withUnsafeBufferPointer { handle($0, line) }
        }
        return handle(line.bytes, line)
    }

    private func handle(_ bytes: UnsafeBufferPointer<UInt8>, _ line: LineSplitter.Line) -> Bool {
        if inHeader {
            if line.isPartial {
                // Longer than the whole header block may be: refused by readHeader.
                headerLineTooLong = true
                return false
            }
            switch header.feed(bytes) {
            case .header: return true
            case .endOfHeaders: inHeader = false; return true
            case .bodyLine: inHeader = false; appendBody(bytes, partial: false); return true
            }
        }
        appendBody(bytes, partial: line.isPartial)
        return true
    }

    private func appendBody(_ bytes: UnsafeBufferPointer<UInt8>, partial: Bool) {
        let flags = ByteFlags(UnsafeRawBufferPointer(bytes), previousWasCR: false)
        if flags.highBit { stats.eightBit = true }
        if flags.nul { stats.nul = true }
        if bytes.count > 998 || partial { stats.longLines = true }
        body.append(contentsOf: bytes)
        if !partial { body.append(13); body.append(10) }
    }
}
