import MailMessage

/// The client side of SCRAM-SHA-256 (RFC 5802 3 and 5, RFC 7677), without channel binding
/// (gs2 header `n,,`). Divergence: SASLprep (RFC 4013) is not applied; names and passwords are
/// used as their UTF-8 bytes, which is exact for ASCII.
struct SCRAMClient {
    private let username: String
    private let password: [UInt8]
    private let clientNonce: String
    private let crypto: SMTPCryptoPrimitives
    private var clientFirstBare: [UInt8] = []
    private var expectedServerSignature: [UInt8]?
    private(set) var serverVerified = false
    private var step = 0

    /// Highest iteration count accepted from a server (bounds the work a server can demand).
    static let maxIterations = 10_000_000

    init(username: String, password: [UInt8], clientNonce: String, crypto: SMTPCryptoPrimitives) {
        self.username = username
        self.password = password
        self.clientNonce = clientNonce
        self.crypto = crypto
    }

    /// client-first-message (RFC 5802 7): `n,,n=<saslname>,r=<nonce>`.
    mutating func clientFirst() -> [UInt8] {
        // RFC 5802 5.1 saslname, escaped byte by byte ("=" or "," with a combining mark after
        // it is one Character, and was not escaped).
        var bytes: [UInt8] = []
        for b in username.utf8 {
            switch b {
            case UInt8(ascii: "="): bytes += Array("=3D".utf8)
            case UInt8(ascii: ","): bytes += Array("=2C".utf8)
            default: bytes.append(b)
            }
        }
        let name = String(decoding: bytes, as: UTF8.self)
        clientFirstBare = Array("n=\(name),r=\(clientNonce)".utf8)
        return Array("n,,".utf8) + clientFirstBare
    }

    mutating func respond(to challenge: [UInt8]) throws -> [UInt8] {
        step += 1
        switch step {
        case 1: return try clientFinal(serverFirst: challenge)
        case 2:
            try verify(serverFinal: challenge)
            return []
        default:
            throw SASLError(reason: "unexpected SCRAM challenge after the server's final message")
        }
    }

    /// Parses server-first-message and computes client-final-message (RFC 5802 3).
    private mutating func clientFinal(serverFirst: [UInt8]) throws -> [UInt8] {
        let attributes = Self.attributes(serverFirst)
        guard let nonce = attributes["r"], nonce.hasPrefix(clientNonce), nonce.utf8.count > clientNonce.utf8.count else {
            throw SASLError(reason: "SCRAM server nonce does not extend the client nonce")
        }
        guard let saltText = attributes["s"], let salt = Base64.decode(saltText), !salt.isEmpty else {
            throw SASLError(reason: "SCRAM server sent no valid salt")
        }
        guard let iterText = attributes["i"], let iterations = Int(iterText),
              iterations >= 1, iterations <= Self.maxIterations else {
            throw SASLError(reason: "SCRAM server sent an invalid iteration count")
        }
        let salted = crypto.pbkdf2SHA256(password: password, salt: salt, iterations: iterations)
        let clientKey = crypto.hmacSHA256(key: salted, data: Array("Client Key".utf8))
        let storedKey = crypto.sha256(clientKey)
        let withoutProof = Array("c=biws,r=\(nonce)".utf8)
        let authMessage = clientFirstBare + [0x2C] + serverFirst + [0x2C] + withoutProof
        let clientSignature = crypto.hmacSHA256(key: storedKey, data: authMessage)
        guard clientKey.count == clientSignature.count else {
            throw SASLError(reason: "SCRAM digest length mismatch")
        }
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = crypto.hmacSHA256(key: salted, data: Array("Server Key".utf8))
        expectedServerSignature = crypto.hmacSHA256(key: serverKey, data: authMessage)
        return withoutProof + Array(",p=".utf8) + Base64.encodeBytes(proof)
    }

    /// Checks server-final-message `v=<signature>` (RFC 5802 3, 9: mutual authentication).
    private mutating func verify(serverFinal: [UInt8]) throws {
        let attributes = Self.attributes(serverFinal)
        if let error = attributes["e"] {
            throw SASLError(reason: "SCRAM server error: \(error)")
        }
        guard let v = attributes["v"], let signature = Base64.decode(v),
              let expected = expectedServerSignature, signature == expected else {
            throw SASLError(reason: "SCRAM server signature does not verify (server does not know the password)")
        }
        serverVerified = true
    }

    private static func attributes(_ message: [UInt8]) -> [String: String] {
        var result: [String: String] = [:]
        for part in message.split(separator: 0x2C) {
            guard part.count >= 2, part[part.startIndex + 1] == 0x3D else { continue }
            let key = String(decoding: part.prefix(1), as: UTF8.self)
            if result[key] == nil {
                result[key] = String(decoding: part.dropFirst(2), as: UTF8.self)
            }
        }
        return result
    }
}
