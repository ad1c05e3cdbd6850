#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import CMailShim

// Owners of OpenSSL pointers (house rule 4): each frees exactly what it owns in deinit.

/// Owns one BIO (not its chain). Popped from whatever chain it is in before it is freed.
final class BIOHandle {
    let pointer: OpaquePointer
    private let freesChain: Bool

    init(_ pointer: OpaquePointer, freesChain: Bool = false) {
        self.pointer = pointer
        self.freesChain = freesChain
    }

    deinit {
        if freesChain {
            BIO_free_all(pointer)
        } else {
            BIO_pop(pointer)
            BIO_free(pointer)
        }
    }

    /// A buffered output chain over `fd` (the descriptor stays open); writeback to disk is
    /// started every `writebackStep` bytes when it is > 0.
    static func output(fd: Int32, bufferSize: Int32 = 1 << 16, writebackStep: Int = 0) throws -> BIOHandle {
        guard let bio = sm_cms_bio_fd_out(fd, bufferSize, Int64(writebackStep)) else {
            throw SMIMEError(.outputFailed, "cannot set up output on descriptor \(fd)")
        }
        return BIOHandle(bio, freesChain: true)
    }

    /// The error of the first write to the descriptor of an `output` chain that failed (a
    /// full disk, say), whatever BIO above it reported the failure; nil while none failed.
    var writeFailure: SMIMEError? {
        let e = sm_bio_fd_sink_error(pointer)
        return e == 0 ? nil : SMIMEError.writeFailed(errno: e)
    }

    /// A BIO that takes everything and keeps nothing (a pass that only digests or measures).
    static func null() throws -> BIOHandle {
        guard let bio = BIO_new(BIO_s_null()) else { throw SMIMEError(.cryptoFailure, "BIO_new failed") }
        return BIOHandle(bio, freesChain: true)
    }

    /// A readable file BIO.
    static func readFile(_ path: String) throws -> BIOHandle {
        guard let bio = BIO_new_file(path, "rb") else {
            throw SMIMEError(.unreadableFile, String(cString: strerror(errno)), path: path)
        }
        return BIOHandle(bio, freesChain: true)
    }

    /// A memory BIO over a copy of `bytes`.
    static func memory(_ bytes: [UInt8]) throws -> BIOHandle {
        guard let bio = BIO_new(BIO_s_mem()) else { throw SMIMEError(.cryptoFailure, "BIO_new failed") }
        let handle = BIOHandle(bio, freesChain: true)
        if !bytes.isEmpty {
            guard bytes.withUnsafeBytes({ sm_cms_bio_write_all(bio, $0.baseAddress, $0.count) }) == 1 else {
                throw SMIMEError(.cryptoFailure, "memory BIO write failed")
            }
        }
        return handle
    }

    /// An empty memory BIO.
    static func emptyMemory() throws -> BIOHandle { try memory([]) }

    /// The bytes of a memory BIO.
    func memoryBytes() -> [UInt8] {
        var data: UnsafePointer<UInt8>?
        let count = sm_cms_bio_mem_data(pointer, &data)
        guard count > 0, let data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: count))
    }
}

/// Owns one CMS_ContentInfo.
final class CMSHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { CMS_ContentInfo_free(pointer) }

    /// DER encoding (RFC 5652 3).
    func derBytes() throws -> [UInt8] {
        let bio = try BIOHandle.emptyMemory()
        guard i2d_CMS_bio(bio.pointer, pointer) == 1 else {
            throw SMIMEError(.cryptoFailure, "cannot encode the CMS structure")
        }
        return bio.memoryBytes()
    }
}

/// Owns a STACK_OF(X509) and one reference on each certificate in it.
final class X509Stack {
    let pointer: OpaquePointer

    init(_ certificates: [Certificate] = []) throws {
        guard let sk = sm_cms_x509_stack_new() else { throw SMIMEError(.cryptoFailure, "out of memory") }
        pointer = sk
        for cert in certificates where sm_cms_x509_stack_push(sk, cert.pointer) != 1 {
            throw SMIMEError(.cryptoFailure, "out of memory")
        }
    }

    deinit { sm_cms_x509_stack_free(pointer) }

    /// Borrowed stacks (e.g. from CMS_get0_signers) converted to owned certificates.
    static func certificates(borrowing sk: OpaquePointer?) -> [Certificate] {
        guard let sk else { return [] }
        return (0..<sm_cms_x509_stack_count(sk)).compactMap { i in
            sm_cms_x509_stack_get(sk, i).flatMap { Certificate(retaining: $0) }
        }
    }
}

/// Owns one X509_STORE.
final class X509StoreHandle {
    let pointer: OpaquePointer
    init() throws {
        guard let store = X509_STORE_new() else { throw SMIMEError(.cryptoFailure, "out of memory") }
        pointer = store
    }
    deinit { X509_STORE_free(pointer) }

    func add(_ cert: Certificate) { _ = X509_STORE_add_cert(pointer, cert.pointer) }
    func add(_ crl: RevocationList) { _ = X509_STORE_add_crl(pointer, crl.pointer) }
}

/// A private key (EVP_PKEY), RSA or EC.
public final class PrivateKey {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    /// Whether this is an EC key.
    var isEC: Bool { EVP_PKEY_get_base_id(pointer) == EVP_PKEY_EC }
    /// Whether this is an RSA (or RSA-PSS) key.
    var isRSA: Bool {
        let id = EVP_PKEY_get_base_id(pointer)
        return id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS
    }
}

/// A certificate revocation list (RFC 5280 5).
public final class RevocationList {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { X509_CRL_free(pointer) }

    /// The issuer's distinguished name, one line (RFC 2253 style).
    public var issuer: String { Certificate.nameString(X509_CRL_get_issuer(pointer)) }
}
