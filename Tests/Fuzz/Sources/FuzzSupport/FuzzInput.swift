#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What every harness needs from libFuzzer's input: the bytes, a few leading bytes read as
/// choices (which protocol, which bounds, where streamed input is split), and a property check
/// that crashes with a message, so a broken invariant is a finding like a memory error.
public struct FuzzInput {
    /// The whole input.
    public let bytes: [UInt8]
    private var cursor = 0

    /// Copies libFuzzer's buffer (it may be a null pointer when `count` is 0).
    public init(_ data: UnsafePointer<UInt8>?, _ count: Int) {
        bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    }

    /// The next byte as a choice (0 when the input is used up), consumed from the front.
    public mutating func choice() -> UInt8 {
        guard cursor < bytes.count else { return 0 }
        defer { cursor += 1 }
        return bytes[cursor]
    }

    /// What is left after the choices.
    public var rest: [UInt8] { Array(bytes[min(cursor, bytes.count)...]) }

    /// `bytes` cut into pieces of 1 to `maxPiece` octets, sizes drawn from `seed` (a small
    /// xorshift, so one choice byte gives many different splits): streamed parsers must give
    /// the same result whatever the split. `seed` 0 means one piece.
    public static func pieces(_ bytes: [UInt8], seed: UInt8, maxPiece: Int = 17) -> [ArraySlice<UInt8>] {
        guard seed != 0, !bytes.isEmpty else { return [bytes[...]] }
        var state = UInt32(seed) &* 2654435761 | 1
        var out: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            let size = 1 + Int(state % UInt32(maxPiece))
            let end = min(bytes.count, start + size)
            out.append(bytes[start..<end])
            start = end
        }
        return out
    }
}

/// A property every input must keep; when it does not, the harness stops with `message`, and
/// libFuzzer saves the input as a crash artifact.
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        fputs("fuzz property broken at \(file):\(line): \(message())\n", stderr)
        abort()
    }
}

/// `bytes` shown for a property message: printable ASCII as is, other bytes as `\xNN`, cut at 300.
public func show<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var out = ""
    for b in bytes.prefix(300) {
        if b >= 32 && b < 127 && b != 92 { out.unicodeScalars.append(Unicode.Scalar(b)) } else {
            let hex = Array("0123456789abcdef".utf8)
            out += "\\x" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
        }
    }
    return bytes.count > 300 ? out + "..." : out
}

/// True when every LF in `bytes` is preceded by CR and every CR is followed by LF.
public func hasOnlyCRLF<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8, C.Index == Int {
    var i = bytes.startIndex
    while i < bytes.endIndex {
        if bytes[i] == 13 { if i + 1 >= bytes.endIndex || bytes[i + 1] != 10 { return false }; i += 2; continue }
        if bytes[i] == 10 { return false }
        i += 1
    }
    return true
}
