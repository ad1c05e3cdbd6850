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
    private var splitter = LineSplitter(maxPendingLine: MessageInput.maxHeaderBytes)
    /// Not zeroed (read fills what is used): zeroing 128 KiB was 30 page faults and 4% of the
    /// instructions of a 2 KB submission.
    private var readBuffer = [UInt8](unsafeUninitializedCapacity: 128 * 1024) { _, count in count = 128 * 1024 }
    private var lines: LineConsumer
    private var ended = false

    /// The header block read so far.
    var header: HeaderBlockParser { lines.header }
    /// What the body held, up to what was read.
    var stats: BodyStats { lines.stats }

    struct BodyStats {
        var eightBit = false
        var nul = false
        var longLines = false
        var strayCR = false
        /// Longest body line in octets (without its CRLF; all pieces of a line handed on in
        /// pieces).
        var longestLine = 0
        /// A body line starts with `From ` (which mbox-style relays would mangle).
        var fromLine = false
        /// A body line ends in a space or tab (which relays may strip).
        var trailingSpace = false
    }

    init(fd: Int32, ignoreDots: Bool) {
        self.fd = fd
        lines = LineConsumer(ignoreDots: ignoreDots)
        lines.body.reserveCapacity(256 * 1024)
    }

    /// Reads until the header block is complete. Body bytes that came with the last read stay
    /// buffered for `nextBodyChunk`.
    func readHeader() throws {
        while lines.inHeader && !ended {
            try readChunk()
            if lines.header.byteCount > Self.maxHeaderBytes || lines.headerLineTooLong {
                throw SubmissionError(.data, "the header block is larger than \(Self.maxHeaderBytes >> 20) MiB")
            }
        }
        lines.header.finish()
        splitter.maxPendingLine = Self.bodyPieceBytes
    }

    /// Hands the next piece of the body (CRLF line ends) to `use`; returns false, without
    /// calling it, at the end of the input. The bytes are valid only during the call: one
    /// buffer is reused for every piece (a new one each time cost a page fault per 4 KiB, 7%
    /// of signing a 100 MB message).
    func nextBodyChunk(_ use: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        while lines.body.count < 128 * 1024 && !ended {
            try readChunk()
        }
        if lines.body.isEmpty { return false }
        try lines.body.withUnsafeBytes { chunk in
            // Once per piece, not per line: line ends added here change neither flag.
            let flags = ByteFlags(chunk, previousWasCR: false)
            if flags.highBit { lines.stats.eightBit = true }
            if flags.nul { lines.stats.nul = true }
            try use(chunk)
        }
        lines.body.removeAll(keepingCapacity: true)
        return true
    }

    private func readChunk() throws {
        let n = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { return }
            throw InputError(message: "cannot read the message: \(String(cString: strerror(errno)))", isTemporary: false)
        }
        // The splitter and the line state are moved into locals for the chunk: as stored
        // properties of this class, every line paid for dynamic exclusivity checks (5% of
        // the time of signing a 100 MB message).
        var splitter = LineSplitter(maxPendingLine: 0)
        var state = LineConsumer(ignoreDots: false)
        swap(&splitter, &self.splitter)
        swap(&state, &lines)
        defer {
            swap(&splitter, &self.splitter)
            swap(&state, &lines)
        }
        if n == 0 {
            splitter.finish { state.take($0) }
            ended = true
            return
        }
        let keepGoing = readBuffer.withUnsafeBufferPointer { buf in
            let chunk = UnsafeBufferPointer(rebasing: buf[0..<n])
            // In the body, a chunk without a CR (text with LF line ends, the usual input) is
            // taken whole lines at a time: a search for CR per line and a call per line were a
            // third of the time of reading a large message. The lines at its two edges (the
            // first completes what the splitter holds, the last is unfinished) still go through
            // the splitter, which keeps what spans chunks.
            guard !state.inHeader, let base = chunk.baseAddress, memchr(base, 13, n) == nil,
                  let first = memchr(base, 10, n) else {
                return splitter.feed(chunk) { state.take($0) }
            }
            let firstEnd = base.distance(to: first.assumingMemoryBound(to: UInt8.self)) + 1
            var lastEnd = n  // one past the last LF (the search ends at the first's)
            while chunk[lastEnd - 1] != 10 { lastEnd -= 1 }
            return splitter.feed(UnsafeBufferPointer(rebasing: chunk[..<firstEnd])) { state.take($0) }
                && state.takeWholeLines(UnsafeBufferPointer(rebasing: chunk[firstEnd..<lastEnd]))
                && splitter.feed(UnsafeBufferPointer(rebasing: chunk[lastEnd...])) { state.take($0) }
        }
        if !keepGoing { ended = true }
    }
}

/// What MessageInput does with each line: the header parser until the header ends, then the
/// body buffer, with CRLF line ends and the body's statistics.
private struct LineConsumer {
    let ignoreDots: Bool
    var header = HeaderBlockParser()
    var inHeader = true
    /// Set when one header line is larger than the whole header block may be.
    var headerLineTooLong = false
    /// Body bytes produced but not yet taken by `nextBodyChunk`.
    var body: [UInt8] = []
    var stats = MessageInput.BodyStats()
    /// The last octet of the body piece handed on before, and the octets of the current line
    /// so far (`appendBody`).
    private var lastOfPiece: UInt8? = nil
    private var lineSoFar = 0

    init(ignoreDots: Bool) { self.ignoreDots = ignoreDots }

    /// Handles one line; returns false at a lone `.` (end of input without -i).
    mutating func take(_ line: LineSplitter.Line) -> Bool {
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

    /// Whole body lines, each ending in LF, none holding a CR: what `take` does with each, in
    /// one loop. Returns false at a lone `.` (end of input without -i).
    mutating func takeWholeLines(_ lines: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = lines.baseAddress, !lines.isEmpty else { return true }
        // Room for every line end made CRLF, so the appends below never reallocate.
        body.reserveCapacity(body.count + 2 * lines.count)
        var start = 0
        while start < lines.count {
            // There is a next LF: the range ends with one.
            let lf = base.distance(to: memchr(base + start, 10, lines.count - start)!.assumingMemoryBound(to: UInt8.self))
            let line = UnsafeBufferPointer(start: base + start, count: lf - start)
            if !ignoreDots, line.count == 1, line[0] == 46 { return false }
            appendBody(line, partial: false, continuation: false)
            start = lf + 1
        }
        return true
    }

    private mutating func handle(_ bytes: UnsafeBufferPointer<UInt8>, _ line: LineSplitter.Line) -> Bool {
        if inHeader {
            if line.isPartial {
                // Longer than the whole header block may be: refused by readHeader.
                headerLineTooLong = true
                return false
            }
            switch header.feed(bytes) {
            case .header: return true
            case .endOfHeaders: inHeader = false; return true
            case .bodyLine: inHeader = false; appendBody(bytes, partial: false, continuation: false); return true
            }
        }
        appendBody(bytes, partial: line.isPartial, continuation: line.isContinuation)
        return true
    }

    /// One body line, or a piece of one (`partial`: more of the line follows;
    /// `continuation`: this piece continues a line begun earlier).
    private mutating func appendBody(_ bytes: UnsafeBufferPointer<UInt8>, partial: Bool, continuation: Bool) {
        let n = bytes.count
        if n > 998 || partial { stats.longLines = true }
        lineSoFar = continuation ? lineSoFar + n : n
        if lineSoFar > stats.longestLine { stats.longestLine = lineSoFar }
        if !continuation, n >= 5, bytes[0] == 0x46, bytes[1] == 0x72, bytes[2] == 0x6F, bytes[3] == 0x6D, bytes[4] == 0x20 {
            stats.fromLine = true
        }
        // The line's last octet: in this piece, or (the line end came right after a piece) the
        // last of the piece before.
        let last: UInt8? = n > 0 ? bytes[n - 1] : (continuation ? lastOfPiece : nil)
        if partial {
            if let last { lastOfPiece = last }
        } else if last == 0x20 || last == 0x09 {
            stats.trailingSpace = true
        }
        body.append(contentsOf: bytes)
        if !partial { body.append(13); body.append(10) }
    }
}
