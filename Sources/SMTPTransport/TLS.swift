import CMailShim
import Glibc
import MailMessage
import SMTPProtocol

/// An OpenSSL client context (SSL_CTX), freed in deinit (house rule 4). TLS 1.2 minimum
/// (RFC 8996 retired 1.0/1.1); trust from the system store or a CA file.
final class TLSContext {
    let pointer: OpaquePointer

    init(settings: SMTPTLSSettings) throws {
        guard let ctx = sm_tls_ctx_new(settings.verifyCertificate ? 1 : 0) else {
            throw SMTPError(.configuration, "cannot create a TLS context: \(TLSContext.opensslErrors())", transient: true)
        }
        pointer = ctx
        let loaded: Int32
        if let caFile = settings.caFile {
            loaded = sm_tls_ctx_load_trust(ctx, caFile)
        } else {
            loaded = sm_tls_ctx_load_trust(ctx, nil)
        }
        guard loaded == 1 else {
            throw SMTPError(.configuration, "cannot load trusted CAs (\(settings.caFile ?? "system store")): \(TLSContext.opensslErrors())",
                            transient: true)
        }
        if let cert = settings.clientCertificateFile {
            guard let key = settings.clientKeyFile ?? Optional(cert),
                  sm_tls_ctx_use_client_cert(ctx, cert, key) == 1 else {
                throw SMTPError(.configuration, "cannot load the client certificate \(cert): \(TLSContext.opensslErrors())",
                                transient: true)
            }
        }
    }

    deinit { sm_tls_ctx_free(pointer) }

    /// Drains OpenSSL's error queue into one line.
    static func opensslErrors() -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        let length = sm_tls_error_text(&buffer, buffer.count)
        return length == 0 ? "unknown OpenSSL error" : String(cString: buffer)
    }
}

/// One TLS session over a `TCPSocket` (SSL), freed in deinit; the context is kept alive.
final class TLSConnection {
    private let pointer: OpaquePointer
    private let context: TLSContext
    private let socket: TCPSocket

    /// Runs the client handshake (RFC 8446/5246), then checks verification and the pins.
    init(context: TLSContext, socket: TCPSocket, settings: SMTPTLSSettings, serverName: String,
         deadline: Deadline) throws {
        let verifyName = settings.verifyCertificate ? (settings.verifyName ?? serverName) : nil
        guard let ssl = sm_tls_conn_new(context.pointer, socket.fd, serverName, verifyName) else {
            throw SMTPError(.tlsHandshake, "cannot create a TLS session: \(TLSContext.opensslErrors())", transient: true)
        }
        self.pointer = ssl
        self.context = context
        self.socket = socket
        while true {
            let rc = sm_tls_handshake(ssl)
            switch rc {
            case Int32(SM_TLS_OK):
                try checkPeer(settings: settings)
                return
            case Int32(SM_TLS_WANT_READ):
                try socket.wait(for: Int16(POLLIN), until: deadline, what: "TLS handshake")
            case Int32(SM_TLS_WANT_WRITE):
                try socket.wait(for: Int16(POLLOUT), until: deadline, what: "TLS handshake")
            default:
                let verify = sm_tls_verify_result(ssl)
                if verify != 0 {
                    throw SMTPError(.tlsVerification,
                                    "certificate verification failed: \(String(cString: sm_tls_verify_text(verify)))",
                                    transient: true)
                }
                throw SMTPError(.tlsHandshake, "TLS handshake failed: \(TLSContext.opensslErrors())", transient: true)
            }
        }
    }

    deinit { sm_tls_conn_free(pointer) }

    private func checkPeer(settings: SMTPTLSSettings) throws {
        if settings.verifyCertificate {
            let verify = sm_tls_verify_result(pointer)
            guard verify == 0 else {
                throw SMTPError(.tlsVerification,
                                "certificate verification failed: \(String(cString: sm_tls_verify_text(verify)))",
                                transient: true)
            }
        }
        guard !settings.pinnedSHA256.isEmpty else { return }
        var digest = [UInt8](repeating: 0, count: 32)
        guard sm_tls_peer_sha256(pointer, &digest) == 1 else {
            throw SMTPError(.tlsPinMismatch, "the server sent no certificate to check the pin against", transient: true)
        }
        guard settings.pinnedSHA256.contains(digest) else {
            throw SMTPError(.tlsPinMismatch,
                            "the server certificate's SHA-256 fingerprint \(TLSConnection.hex(digest)) matches no pin",
                            transient: true)
        }
    }

    /// "TLSv1.3".
    var protocolName: String { String(cString: sm_tls_protocol(pointer)) }
    /// "TLS_AES_256_GCM_SHA384".
    var cipherName: String { String(cString: sm_tls_cipher(pointer)) }

    /// Reads decrypted bytes (waiting until the deadline); 0 means the peer closed.
    func read(into buffer: inout [UInt8], until deadline: Deadline, what: String) throws -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { sm_tls_read(pointer, $0.baseAddress, $0.count) }
            if n > 0 { return n }
            switch Int32(n) {
            case Int32(SM_TLS_CLOSED): return 0
            case Int32(SM_TLS_WANT_READ): try socket.wait(for: Int16(POLLIN), until: deadline, what: what)
            case Int32(SM_TLS_WANT_WRITE): try socket.wait(for: Int16(POLLOUT), until: deadline, what: what)
            default: throw SMTPError(.io, "TLS read failed: \(TLSContext.opensslErrors())", transient: true)
            }
        }
    }

    /// Encrypts and writes all bytes.
    func write(_ bytes: UnsafeRawBufferPointer, until deadline: Deadline, what: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = sm_tls_write(pointer, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 { offset += n; continue }
            switch Int32(n) {
            case Int32(SM_TLS_WANT_READ): try socket.wait(for: Int16(POLLIN), until: deadline, what: what)
            case Int32(SM_TLS_WANT_WRITE): try socket.wait(for: Int16(POLLOUT), until: deadline, what: what)
            default: throw SMTPError(.connectionClosed, "TLS write failed: \(TLSContext.opensslErrors())", transient: true)
            }
        }
    }

    /// Sends close_notify, once, without waiting.
    func shutdown() { sm_tls_shutdown(pointer) }

    static func hex(_ bytes: [UInt8]) -> String { Hex.string(bytes, uppercase: true, separator: ":") }
}
