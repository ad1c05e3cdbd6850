import XCTest
@testable import SMTPProtocol

/// Deterministic stand-in crypto for flow tests (real vectors are tested with OpenSSL in
/// SMTPTransportTests).
struct FakeCrypto: SMTPCryptoPrimitives {
    func hmacMD5(key: [UInt8], data: [UInt8]) -> [UInt8] { Array(repeating: 0xAB, count: 16) }
    func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] { Array(repeating: 0x11, count: 32) }
    func sha256(_ data: [UInt8]) -> [UInt8] { Array(repeating: 0x22, count: 32) }
    func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] { Array(repeating: 0x33, count: 32) }
}

/// Runs a state machine against scripted replies, without IO, and records what it sends.
struct Transcript {
    var machine: SMTPClientStateMachine
    /// Everything sent, as text; TLS handshakes as "<TLS>", message data as "<BODY>".
    var sent = ""
    /// Trace lines of sends.
    var trace: [String] = []
    /// Each `.send` as one write (to check pipelining groups).
    var writes: [String] = []
    var waits: [SMTPWait] = []

    init(_ configuration: SMTPSessionConfiguration, crypto: SMTPCryptoPrimitives? = nil, nonce: String = "cnonce") {
        machine = SMTPClientStateMachine(configuration: configuration, crypto: crypto, clientNonce: nonce)
    }

    static func reply(_ text: String) -> SMTPReply {
        var parser = ReplyParser()
        parser.feed(Array((text.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n").utf8))
        guard let reply = try? parser.next() else { fatalError("bad test reply \(text)") }
        return reply
    }

    /// Feeds replies while the machine asks for them; returns the first action that needs
    /// something else (ready, completion, failure) or the pending read when replies run out.
    mutating func run(_ first: SMTPClientAction, _ replies: [String]) -> SMTPClientAction {
        var queue = replies
        var action = first
        while true {
            switch action {
            case .send(let output, let wait):
                sent += String(decoding: output.bytes, as: UTF8.self)
                writes.append(String(decoding: output.bytes, as: UTF8.self))
                trace += output.trace
                waits.append(wait)
                guard !queue.isEmpty else { return action }
                action = machine.receive(Self.reply(queue.removeFirst()))
            case .read(let wait):
                waits.append(wait)
                guard !queue.isEmpty else { return action }
                action = machine.receive(Self.reply(queue.removeFirst()))
            case .startTLS:
                sent += "<TLS>"
                action = machine.tlsEstablished()
            case .sendBody(let framing):
                sent += framing == .dotStuffed ? "<BODY>" : "<CHUNKS>"
                guard !queue.isEmpty else { return action }
                action = machine.receive(Self.reply(queue.removeFirst()))
            case .ready, .transactionComplete, .commandComplete, .close, .fail:
                return action
            }
        }
    }

    /// Connects and establishes a session with the given EHLO reply.
    mutating func establish(ehlo: String = "250-mx\n250-PIPELINING\n250-8BITMIME\n250 SIZE 1000") -> SMTPClientAction {
        run(machine.connected(), ["220 mx ESMTP", ehlo])
    }
}

func failure(_ action: SMTPClientAction) -> SMTPSessionFailure? {
    if case .fail(let f) = action { return f }
    return nil
}

func transactionResult(_ action: SMTPClientAction) -> SMTPTransactionResult? {
    if case .transactionComplete(let r) = action { return r }
    return nil
}

func plainConfig(tls: SMTPTLSMode = .none, auth: SMTPAuthMode = .none, allowPlaintext: Bool = false,
                 pipelining: Bool = true, chunking: Bool = true, secret: String = "pass") -> SMTPSessionConfiguration {
    SMTPSessionConfiguration(heloName: "client.test", tls: tls, auth: auth,
                             credentials: auth == .none ? nil : SASLCredentials(username: "user", secret: Array(secret.utf8)),
                             allowPlaintextAuth: allowPlaintext, usePipelining: pipelining, useChunking: chunking)
}
