#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream into lines at LF, whatever mix of line ends arrives (LF, CRLF, CRCRLF),
/// handing each line to a closure without its line end (trailing CRs before the LF removed).
///
/// It is streaming: bytes come in chunks of any size, and only an unfinished line is kept
/// between chunks, so memory does not grow with the message (issue 2: 64 MiB in < 32 MiB RSS).
/// A single line longer than `maxPendingLine` is passed on in pieces marked as continued.
public struct LineSplitter {
    private var pending: [UInt8] = []
    /// Lines longer than this are handed over in pieces (`isPartial == true` for all but the last).
    /// May be changed between calls to `feed` (a reader allows longer header lines than body
    /// lines); it takes effect for the bytes fed next.
    public var maxPendingLine: Int
    private var partialOpen = false

    public init(maxPendingLine: Int = 1 << 20) { self.maxPendingLine = maxPendingLine }

    /// A line handed to the consumer.
    public struct Line {
        /// The line's bytes without the line end.
        public let bytes: UnsafeBufferPointer<UInt8>
        /// True when the line continues in the next callback (it exceeded `maxPendingLine`).
        public let isPartial: Bool
        /// True when this piece continues a line whose earlier part was handed over already.
        public let isContinuation: Bool
    }

    /// Feeds a chunk. `consume` returns false to stop (e.g. at a lone `.`); then `feed` returns
    /// false and the rest of the input is to be ignored.
    public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ consume: (Line) -> Bool) -> Bool {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return true }
        var start = 0
        let n = chunk.count
        while start < n {
            // memchr is vectorised; a byte loop here was a tenth of the time of a large submission.
            guard let hit = memchr(base + start, 10, n - start) else { break }
            let i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            do {
                if pending.isEmpty {
                    var end = i
                    while end > start, base[end - 1] == 13 { end -= 1 }
                    let line = Line(bytes: UnsafeBufferPointer(start: base + start, count: end - start),
                                    isPartial: false, isContinuation: partialOpen)
                    partialOpen = false
                    if !consume(line) { return false }
                } else {
                    pending.append(contentsOf: UnsafeBufferPointer(start: base + start, count: i - start))
                    if !emitPending(final: true, consume) { return false }
                }
                start = i + 1
            }
        }
        if start < n {
            pending.append(contentsOf: UnsafeBufferPointer(start: base + start, count: n - start))
            if pending.count > maxPendingLine {
                // Keep trailing CRs back: they may be the start of a CRLF in the next chunk.
                var keep = 0
                while keep < pending.count, pending[pending.count - 1 - keep] == 13 { keep += 1 }
                let tail = Array(pending.suffix(keep))
                pending.removeLast(keep)
                if !emitPending(final: false, consume) { return false }
                pending = tail
            }
        }
        return true
    }

    /// Ends the input: a last line without a line end is handed over (as if it had one).
    public mutating func finish(_ consume: (Line) -> Bool) {
        if !pending.isEmpty || partialOpen {
            _ = emitPending(final: true, consume)
        }
    }

    private mutating func emitPending(final: Bool, _ consume: (Line) -> Bool) -> Bool {
        var count = pending.count
        if final { while count > 0, pending[count - 1] == 13 { count -= 1 } }
        let cont = partialOpen
        partialOpen = !final
        let ok = pending.withUnsafeBufferPointer { buf in
            consume(Line(bytes: UnsafeBufferPointer(rebasing: buf[0..<count]), isPartial: !final, isContinuation: cont))
        }
        pending.removeAll(keepingCapacity: true)
        return ok
    }
}
