#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// The one error type of the SMIME module: a code that callers switch on (extensible: new codes
/// can be added without breaking callers), a human-readable reason, the file concerned if any,
/// and OpenSSL's own error strings, outermost last.
public struct SMIMEError: Error, CustomStringConvertible, Equatable {
    /// What went wrong, as a stable machine-readable code.
    public struct Code: RawRepresentable, Hashable, CustomStringConvertible, Sendable {
        /// The code's stable name.
        public let rawValue: String
        /// A code by name (for codes added later).
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// A file could not be opened or read (permissions, missing).
        public static let unreadableFile = Code(rawValue: "unreadable-file")
        /// The private key is encrypted and the passphrase is wrong or missing.
        public static let wrongPassphrase = Code(rawValue: "wrong-passphrase")
        /// The private key does not belong to the certificate.
        public static let keyMismatch = Code(rawValue: "key-mismatch")
        /// A PEM file or PKCS #12 bundle is truncated, garbage or lacks the expected object.
        public static let malformedInput = Code(rawValue: "malformed-input")
        /// A certificate cannot be used: expired, not yet valid, revoked, wrong purpose,
        /// untrusted chain (RFC 8550 4.4, 6).
        public static let unusableCertificate = Code(rawValue: "unusable-certificate")
        /// An algorithm that is refused (SHA-1, MD5) or not supported by the OpenSSL in use.
        public static let unsupportedAlgorithm = Code(rawValue: "unsupported-algorithm")
        /// The message to protect cannot be processed (header block too large, not seekable).
        public static let badMessage = Code(rawValue: "bad-message")
        /// A signature did not verify or its signer is not trusted.
        public static let verificationFailed = Code(rawValue: "verification-failed")
        /// The message cannot be decrypted with the given key.
        public static let decryptionFailed = Code(rawValue: "decryption-failed")
        /// No recipient certificates were given for encryption.
        public static let noRecipients = Code(rawValue: "no-recipients")
        /// Writing the output failed (an IO error, a closed descriptor); a full disk is
        /// `noSpace`.
        public static let outputFailed = Code(rawValue: "output-failed")
        /// Writing the output failed for want of space (ENOSPC, EDQUOT): trying again later,
        /// once there is room, may succeed.
        public static let noSpace = Code(rawValue: "no-space")
        /// OpenSSL failed in a way that is none of the above.
        public static let cryptoFailure = Code(rawValue: "crypto-failure")
    }

    /// The machine-readable code.
    public let code: Code
    /// The reason, in words, without the file name.
    public let reason: String
    /// The file concerned, when there is one.
    public let path: String?
    /// OpenSSL's error queue at the time of the failure (may be empty).
    public let openSSLErrors: [String]

    /// Creates an error; `openSSLErrors` defaults to draining OpenSSL's error queue now.
    public init(_ code: Code, _ reason: String, path: String? = nil, openSSLErrors: [String]? = nil) {
        self.code = code
        self.reason = reason
        self.path = path
        self.openSSLErrors = openSSLErrors ?? SMIMEError.drainOpenSSLErrors()
    }

    /// `path: reason (openssl: …)`.
    public var description: String {
        var text = path.map { "\($0): \(reason)" } ?? reason
        if !openSSLErrors.isEmpty { text += " (openssl: \(openSSLErrors.joined(separator: "; ")))" }
        return text
    }

    /// A failed write of the output, by its errno: `noSpace` for a full disk or quota,
    /// `outputFailed` otherwise; the reason names the system's error.
    public static func writeFailed(errno e: Int32, path: String? = nil) -> SMIMEError {
        let code: Code = (e == ENOSPC || e == EDQUOT) ? .noSpace : .outputFailed
        return SMIMEError(code, "writing the output failed: \(String(cString: strerror(e)))", path: path, openSSLErrors: [])
    }

    /// Empties OpenSSL's thread-local error queue, returning its entries oldest first.
    static func drainOpenSSLErrors() -> [String] {
        var out: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            var data: UnsafePointer<CChar>?
            var flags: Int32 = 0
            let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            var text = String(cString: buffer)
            if let data, flags & ERR_TXT_STRING != 0, data.pointee != 0 { text += " (\(String(cString: data)))" }
            out.append(text)
        }
        return out
    }

    /// Clears OpenSSL's error queue (before an operation whose errors we want to report).
    static func clearOpenSSLErrors() { ERR_clear_error() }
}

extension SMIMEError.Code: CaseIterable {
    /// Every code declared above (a test checks that none is missing), so that callers can
    /// prove they give each one a meaning.
    public static let allCases: [SMIMEError.Code] = [
        .unreadableFile, .wrongPassphrase, .keyMismatch, .malformedInput, .unusableCertificate,
        .unsupportedAlgorithm, .badMessage, .verificationFailed, .decryptionFailed, .noRecipients,
        .outputFailed, .noSpace, .cryptoFailure,
    ]
}
