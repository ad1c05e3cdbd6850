#if canImport(Glibc)
import Glibc
#endif
import MailMessage

/// One line of a file range, as seen by `InputFile.scanLines`.
struct ScannedLine {
    /// Offset of the first byte of the line.
    var start = 0
    /// Length without the line terminator.
    var length = 0
    /// Length of the terminator: 2 (CRLF), 1 (LF) or 0 (last line without one).
    var terminator = 0
    /// The first bytes of the line (at most the scanner's `prefixLimit`).
    var prefix: [UInt8] = []
    /// The last byte before the terminator, if the line is not empty.
    var last: UInt8? = nil
}

/// What a leaf's body contains, for the choice of a transfer encoding (RFC 8551 3.1).
public struct BodyStats: Sendable, Equatable {
    public var has8Bit = false
    public var hasNUL = false
    public var hasBareCR = false
    /// A line ends in LF alone (not CRLF): copied with CRLF line ends, the body grows.
    public var hasBareLF = false
    /// Longest line in octets, without its line end.
    public var longestLine = 0
    /// A line begins with `From `.
    public var hasFromLine = false
    /// A line ends in a space or tab.
    public var hasTrailingSpace = false

    public init(has8Bit: Bool = false, hasNUL: Bool = false, hasBareCR: Bool = false, hasBareLF: Bool = false,
                longestLine: Int = 0, hasFromLine: Bool = false, hasTrailingSpace: Bool = false) {
        self.has8Bit = has8Bit
        self.hasNUL = hasNUL
        self.hasBareCR = hasBareCR
        self.hasBareLF = hasBareLF
        self.longestLine = longestLine
        self.hasFromLine = hasFromLine
        self.hasTrailingSpace = hasTrailingSpace
    }

    /// Whether a 7-bit, relay-proof form is needed before signing (RFC 8551 3.1.3, 3.1.4):
    /// 8-bit or NUL bytes, bare CR, lines over 76 octets, `From ` lines, trailing white space.
    public var needsEncoding: Bool {
        has8Bit || hasNUL || hasBareCR || longestLine > 76 || hasFromLine || hasTrailingSpace
    }
}

extension InputFile {
    /// Calls `body` for each line of `range` (stop by returning false), and `eachChunk` (when
    /// given) with every chunk read, so that a caller can compute byte statistics in the same
    /// pass. The prefix buffer is reused from line to line (it is a value: a line kept by
    /// `body` keeps its own copy), so a scan allocates once, not once per line.
    func scanLines(_ range: Range<Int>, prefixLimit: Int,
                   eachChunk: ((UnsafeRawBufferPointer) -> Void)? = nil,
                   _ body: (ScannedLine) throws -> Bool) throws {
        var line = ScannedLine(start: range.lowerBound)
        line.prefix.reserveCapacity(prefixLimit)
        var pendingCR = false   // the previous chunk ended in CR: maybe the first half of CRLF
        var stop = false
        var offset = range.lowerBound
        try forEachChunk(range) { chunk in
            if stop { return }
            eachChunk?(chunk)
            let base = chunk.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var i = 0
            while i < chunk.count && !stop {
                let rest = chunk.count - i
                let nlPtr = memchr(base + i, 0x0A, rest)
                let end = nlPtr.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? chunk.count
                // Bytes base[i..<end] belong to the current line's content (maybe minus a CR).
                if end > i {
                    if pendingCR { line.length += 1; line.last = 0x0D; pendingCR = false }
                    var contentEnd = end
                    if nlPtr != nil && base[end - 1] == 0x0D { contentEnd -= 1 }
                    else if nlPtr == nil && base[end - 1] == 0x0D { contentEnd -= 1; pendingCR = true }
                    if line.prefix.count < prefixLimit && contentEnd > i {
                        let take = min(prefixLimit - line.prefix.count, contentEnd - i)
                        line.prefix.append(contentsOf: UnsafeBufferPointer(start: base + i, count: take))
                    }
                    if contentEnd > i { line.last = base[contentEnd - 1] }
                    line.length += contentEnd - i
                }
                if nlPtr != nil {
                    line.terminator = (pendingCR || (end > i && base[end - 1] == 0x0D)) ? 2 : 1
                    pendingCR = false
                    stop = try !body(line)
                    line.start = offset + end + 1
                    line.length = 0
                    line.terminator = 0
                    line.prefix.removeAll(keepingCapacity: true)
                    line.last = nil
                }
                i = end + 1
            }
            offset += chunk.count
        }
        if !stop && (line.length > 0 || pendingCR) {
            if pendingCR { line.length += 1; line.last = 0x0D }
            _ = try body(line)
        }
    }

    /// Statistics of `range` for `BodyStats.needsEncoding`, in one read of the range (none
    /// when the caller gave them for exactly this range: `knownBody`).
    func bodyStats(_ range: Range<Int>) throws -> BodyStats {
        if let known = knownBody, range == known.start..<size { return known.stats }
        var stats = BodyStats()
        var previousWasCR = false
        try scanLines(range, prefixLimit: 5, eachChunk: { chunk in
            let flags = ByteFlags(chunk, previousWasCR: previousWasCR)
            previousWasCR = flags.endsWithCR
            stats.has8Bit = stats.has8Bit || flags.highBit
            stats.hasNUL = stats.hasNUL || flags.nul
            stats.hasBareCR = stats.hasBareCR || flags.bareCR
        }) { line in
            stats.longestLine = max(stats.longestLine, line.length)
            if line.terminator == 1 { stats.hasBareLF = true }
            if line.prefix.count == 5 && line.prefix.elementsEqual("From ".utf8) { stats.hasFromLine = true }
            if line.last == 0x20 || line.last == 0x09 { stats.hasTrailingSpace = true }
            return true
        }
        return stats
    }
}
