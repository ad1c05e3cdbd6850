#if canImport(Glibc)
import Glibc
#endif
import MailMessage

/// A message on disk, read with pread so two passes (scan, then transform) need no buffering of
/// the whole message. The descriptor must be a regular (seekable) file; it is not closed.
final class InputFile {
    let fd: Int32
    let size: Int
    let name: String?
    private let ownsFD: Bool
    /// Statistics of the body from `start` to the end of the file, measured by the caller as
    /// it wrote the file (`MessageProtector.protect(messageFD:to:writebackStep:knownBody:)`).
    var knownBody: (start: Int, stats: BodyStats)?

    /// Wraps an open descriptor of a regular file.
    init(fd: Int32, name: String? = nil) throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw SMIMEError(.unreadableFile, String(cString: strerror(errno)), path: name, openSSLErrors: [])
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw SMIMEError(.badMessage, "the message must be a regular file (it is read twice)", path: name,
                             openSSLErrors: [])
        }
        self.fd = fd
        self.size = Int(st.st_size)
        self.name = name
        self.ownsFD = false
    }

    /// Opens a file by path.
    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SMIMEError(.unreadableFile, String(cString: strerror(errno)), path: path, openSSLErrors: [])
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SMIMEError(.badMessage, "not a regular file", path: path, openSSLErrors: [])
        }
        self.fd = fd
        self.size = Int(st.st_size)
        self.name = path
        self.ownsFD = true
    }

    deinit { if ownsFD { close(fd) } }

    /// Whether `range` is known to hold no bare LF, so that copying it with CRLF line ends
    /// leaves it as it is: a part of the body the caller measured (`knownBody`) without one.
    /// Ranges are line-aligned (they start at a line's first octet), so none starts at the LF
    /// of a CRLF cut in two.
    func isKnownCRLF(_ range: Range<Int>) -> Bool {
        guard let known = knownBody, !known.stats.hasBareLF else { return false }
        return range.lowerBound >= known.start && range.upperBound <= size
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns the count (0 at the end).
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SMIMEError(.unreadableFile, String(cString: strerror(errno)), path: name, openSSLErrors: [])
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Calls `body` with consecutive chunks of `range` (at most `chunkSize` bytes each).
    func forEachChunk(_ range: Range<Int>, chunkSize: Int = 1 << 16,
                      _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var offset = range.lowerBound
        while offset < range.upperBound {
            let want = min(chunkSize, range.upperBound - offset)
            let got = try read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            guard got > 0 else {
                throw SMIMEError(.badMessage, "the file shrank while it was read", path: name, openSSLErrors: [])
            }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            offset += got
        }
    }

    /// The bytes of a (small) range.
    func bytes(_ range: Range<Int>) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: range.count)
        let got = try out.withUnsafeMutableBytes { try read(at: range.lowerBound, into: $0) }
        return Array(out.prefix(got))
    }

    /// Reads the header block at `offset` (up to `limit`) with MailMessage's header parser:
    /// the fields, and where the body starts (after the empty line; at the first line that is
    /// not a field; at `limit` when the header runs to it). `isPart`: a multipart's part, whose
    /// first line `From ...` is body, not an mbox separator. `maxSize` bounds the block.
    func headerBlock(at offset: Int, limit: Int, isPart: Bool = false,
                     maxSize: Int = 1 << 20) throws -> (fields: [HeaderField], bodyStart: Int) {
        var parser = HeaderBlockParser(dropsMboxFromLine: !isPart)
        var block: [UInt8] = []
        var fed = 0
        var bodyStart: Int?
        var at = offset
        while bodyStart == nil {
            let chunk = at < limit ? try bytes(at..<min(limit, at + 8192)) : []
            block += chunk
            at += chunk.count
            fed = block.withUnsafeBufferPointer { b in
                parser.feedLines(b, fed..<b.count, final: chunk.isEmpty) { line in
                    switch line.disposition {
                    case .header: return true
                    case .endOfHeaders: bodyStart = offset + line.range.upperBound
                    case .bodyLine: bodyStart = offset + line.range.lowerBound
                    }
                    return false
                }
            }
            if chunk.isEmpty { break }
            guard bodyStart != nil || block.count <= maxSize else {
                throw SMIMEError(.badMessage, "header block larger than \(maxSize) bytes", path: name, openSSLErrors: [])
            }
        }
        parser.finish()
        // No empty line: everything up to the limit is header (a message without a body).
        return (parser.block.fields, bodyStart ?? limit)
    }
}
