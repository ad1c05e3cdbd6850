#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import COpenSSL
import CMailShim

/// Reads files holding keys and passphrases, with errors that name the file and the reason.
enum KeyLoading {
    /// The whole (small) file, or `.unreadableFile` with the system's reason.
    static func readSmallFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SMIMEError(.unreadableFile, String(cString: strerror(errno)), path: path) }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SMIMEError(.unreadableFile, String(cString: strerror(errno)), path: path)
            }
            if n == 0 { break }
            out.append(contentsOf: buffer.prefix(n))
            guard out.count <= limit else { throw SMIMEError(.malformedInput, "file too large", path: path) }
        }
        return out
    }

    /// The passphrase in a file: its first line, without the line end.
    static func passphrase(fromFile path: String) throws -> [UInt8] {
        let bytes = try readSmallFile(path, limit: 4096)
        let line = bytes.prefix { $0 != 0x0A }
        return Array(line.last == 0x0D ? line.dropLast() : line)
    }

    /// A private key from a PEM file (PKCS #8, traditional RSA/EC, encrypted or not) or DER.
    static func privateKey(path: String, passphraseFile: String?) throws -> PrivateKey {
        let bytes = try readSmallFile(path)
        let text = String(decoding: bytes, as: UTF8.self)
        let encrypted = text.contains("BEGIN ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED")
        var pass: [UInt8]? = try passphraseFile.map { try passphrase(fromFile: $0) }
        if encrypted && pass == nil {
            throw SMIMEError(.wrongPassphrase, "the private key is encrypted and no passphrase file was given", path: path)
        }
        let bio = try BIOHandle.memory(bytes)
        SMIMEError.clearOpenSSLErrors()
        let key: OpaquePointer? = withPassphrase(&pass) { ctx in
            PEM_read_bio_PrivateKey(bio.pointer, nil, passphraseCallback, ctx)
        }
        if let key { return PrivateKey(key) }
        if encrypted {
            throw SMIMEError(.wrongPassphrase, "cannot decrypt the private key: wrong passphrase", path: path)
        }
        SMIMEError.clearOpenSSLErrors()
        let der = try BIOHandle.memory(bytes)
        if let key = d2i_PrivateKey_bio(der.pointer, nil) { return PrivateKey(key) }
        throw SMIMEError(.malformedInput, "no private key found (not PEM or DER)", path: path)
    }

    /// Runs `body` with a context pointer for `passphraseCallback` (nil: no passphrase).
    static func withPassphrase<T>(_ pass: inout [UInt8]?, _ body: (UnsafeMutableRawPointer?) -> T) -> T {
        guard pass != nil else { return body(nil) }
        return withUnsafeMutablePointer(to: &pass!) { body(UnsafeMutableRawPointer($0)) }
    }
}

/// pem_password_cb: copies the [UInt8] passphrase behind `ctx`; no passphrase → failure
/// (OpenSSL's default would prompt on the terminal, which a library must never do).
let passphraseCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = { buf, size, _, ctx in
    guard let buf, let ctx else { return -1 }
    let pass = ctx.assumingMemoryBound(to: [UInt8].self).pointee
    guard pass.count <= Int(size) else { return -1 }
    pass.withUnsafeBytes { raw in
        if let base = raw.baseAddress { memcpy(buf, base, raw.count) }
    }
    return Int32(pass.count)
}

extension PrivateKey {
    /// Loads a private key from a PEM or DER file; `passphraseFile` holds the passphrase of an
    /// encrypted key (first line). Errors name the file: `.unreadableFile`, `.wrongPassphrase`,
    /// `.malformedInput`.
    public static func load(path: String, passphraseFile: String? = nil) throws -> PrivateKey {
        try KeyLoading.privateKey(path: path, passphraseFile: passphraseFile)
    }

    /// Whether this key is the private half of `certificate`'s public key.
    public func matches(_ certificate: Certificate) -> Bool {
        let ok = X509_check_private_key(certificate.pointer, pointer) == 1
        SMIMEError.clearOpenSSLErrors()
        return ok
    }
}
