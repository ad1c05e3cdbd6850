/// Byte facts of one chunk, computed with branch-free reductions that the compiler vectorises
/// (a memchr per CR was most of the cost on CRLF text, where every line has one). Used by the
/// submission's input reader and by the S/MIME canonicaliser.
public struct ByteFlags {
    public var highBit = false
    public var nul = false
    /// A CR not followed by LF (a CR at the end of the chunk is judged with the next chunk).
    public var bareCR = false
    public var endsWithCR = false

    public init(_ chunk: UnsafeRawBufferPointer, previousWasCR: Bool) {
        let n = chunk.count
        guard n > 0, let raw = chunk.baseAddress else { return }
        let p = raw.assumingMemoryBound(to: UInt8.self)
        if previousWasCR && p[0] != 0x0A { bareCR = true }
        var or: UInt8 = 0
        var least: UInt8 = 0xFF
        var bare: UInt8 = 0
        for i in 0..<(n - 1) {
            let b = p[i]
            or |= b
            least = min(least, b)
            bare |= (b == 0x0D ? 1 : 0) & (p[i + 1] != 0x0A ? 1 : 0)
        }
        let last = p[n - 1]
        or |= last
        least = min(least, last)
        highBit = or & 0x80 != 0
        nul = least == 0
        bareCR = bareCR || bare != 0
        endsWithCR = last == 0x0D
    }
}
