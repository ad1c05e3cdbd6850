#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import CMailShim

/// Buffers writes into large blocks before they reach a BIO (each BIO_write through OpenSSL's
/// digest and cipher BIOs costs a call chain), and counts what it is given.
final class BIOWriter {
    private(set) var target: OpaquePointer
    /// Bytes given to `write` so far, whatever the target.
    private(set) var bytesWritten = 0
    private let buffer: UnsafeMutableRawBufferPointer
    private var count = 0

    init(target: OpaquePointer, capacity: Int = 1 << 16) {
        self.target = target
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        bytesWritten += bytes.count
        if count + bytes.count > buffer.count { try flush() }
        if bytes.count >= buffer.count {
            try put(bytes)
            return
        }
        UnsafeMutableRawBufferPointer(rebasing: buffer[count..<(count + bytes.count)]).copyMemory(from: bytes)
        count += bytes.count
    }

    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
    func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Passes buffered bytes to the target BIO (does not BIO_flush it).
    func flush() throws {
        guard count > 0 else { return }
        try put(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        count = 0
    }

    /// Flushes, then writes to `bio` from now on.
    func retarget(_ bio: OpaquePointer) throws {
        try flush()
        target = bio
    }

    private func put(_ bytes: UnsafeRawBufferPointer) throws {
        guard sm_cms_bio_write_all(target, bytes.baseAddress, bytes.count) == 1 else {
            throw SMIMEError(.outputFailed, "writing the output failed")
        }
    }
}
