#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming transformation of a body on its way out (RFC 2045 6): chunks of any size in,
/// the result appended to a buffer; `finish` ends the input. Memory stays at about one line,
/// whatever the size of the body. The generator, the 8BITMIME downgrade and the S/MIME
/// canonicaliser (which writes the buffer to OpenSSL) all encode through these.
public protocol BodyEncoder {
    /// Encodes `chunk`, appending what is ready to `out`.
    mutating func encode(_ chunk: UnsafeRawBufferPointer, into out: inout [UInt8])
    /// Ends the input, appending what was held back.
    mutating func finish(into out: inout [UInt8])
}

extension BodyEncoder {
    /// Encodes `chunk` (an array), as `encode(_:into:)`.
    public mutating func encode(_ chunk: [UInt8], into out: inout [UInt8]) {
        chunk.withUnsafeBytes { encode($0, into: &out) }
    }
}

/// Line ends made CRLF, for 7bit, 8bit and binary bodies written as they are (RFC 5322 2.3,
/// RFC 2045 2.10): a bare LF becomes CRLF; CRLF, a bare CR and every other octet pass
/// unchanged. Runs without a bare LF are passed on whole, found with memchr, so copying a large
/// CRLF body costs little more than the copy.
public struct CRLFLineEnds: BodyEncoder {
    private var lastWasCR = false

    public init() {}

    /// Passes `chunk` on to `emit` in pieces, each bare LF as CRLF.
    public mutating func convert(_ chunk: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard let raw = chunk.baseAddress, chunk.count > 0 else { return }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        var from = 0
        var search = 0
        while search < chunk.count, let nl = memchr(base + search, 10, chunk.count - search) {
            let at = UnsafeRawPointer(nl) - raw
            let precededByCR = at > 0 ? base[at - 1] == 13 : lastWasCR
            if !precededByCR {
                try emit(UnsafeRawBufferPointer(rebasing: chunk[from..<at]))
                try Self.crlf.withUnsafeBytes { try emit($0) }
                from = at + 1
            }
            search = at + 1
        }
        if from < chunk.count { try emit(UnsafeRawBufferPointer(rebasing: chunk[from...])) }
        lastWasCR = base[chunk.count - 1] == 13
    }

    public mutating func encode(_ chunk: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        convert(chunk) { out.append(contentsOf: $0) }
    }

    public mutating func finish(into out: inout [UInt8]) {}

    private static let crlf: [UInt8] = [13, 10]
}
