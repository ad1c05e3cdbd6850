import CMailShim
import Glibc
import SMTPProtocol

/// `SMTPCryptoPrimitives` over the system OpenSSL (HMAC RFC 2104, SHA-256 FIPS 180-4,
/// PBKDF2 RFC 8018), and the random bytes for SCRAM nonces.
public struct OpenSSLCrypto: SMTPCryptoPrimitives {
    /// Creates the primitives (stateless).
    public init() {}

    /// HMAC-MD5 (RFC 2104) for CRAM-MD5.
    public func hmacMD5(key: [UInt8], data: [UInt8]) -> [UInt8] { hmac("MD5", key, data) }
    /// HMAC-SHA-256 (RFC 2104).
    public func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] { hmac("SHA256", key, data) }

    /// SHA-256 (FIPS 180-4).
    public func sha256(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let ok = data.withUnsafeBytes { sm_tls_sha256($0.baseAddress, $0.count, &out) }
        return ok == 1 ? out : []
    }

    /// PBKDF2-HMAC-SHA-256 with 32 output bytes (RFC 5802 Hi()).
    public func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let ok = password.withUnsafeBytes { p in
            salt.withUnsafeBytes { s in
                sm_tls_pbkdf2_sha256(p.baseAddress, p.count, s.baseAddress, s.count, Int32(clamping: iterations), &out, 32)
            }
        }
        return ok == 1 ? out : []
    }

    /// `count` cryptographically random bytes (RAND_bytes); nil if the generator fails.
    public func randomBytes(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        return sm_tls_random(&out, count) == 1 ? out : nil
    }

    private func hmac(_ name: String, _ key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        let ok = key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                sm_tls_hmac(name, k.baseAddress, k.count, d.baseAddress, d.count, &out, &length)
            }
        }
        return ok == 1 ? Array(out.prefix(Int(length))) : []
    }
}
