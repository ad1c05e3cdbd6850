/// The SMTP client dialogue as a value type (RFC 5321 3, 4): feed it events, do what the
/// returned `SMTPClientAction` says. It performs no IO and owns no clock or randomness.
///
/// Session: greeting (3.1) → EHLO, or HELO when EHLO is refused with 5yz (4.1.1.1, 3.2) →
/// STARTTLS and EHLO again when configured (RFC 3207 4.2) → AUTH (RFC 4954) → ready.
/// Transactions: [RSET] MAIL, RCPT..., DATA or BDAT, pipelined in groups bounded by
/// `SMTPPipeliningWindow` when PIPELINING is offered (RFC 2920 3.1), one result per
/// recipient. QUIT ends the session (4.1.1.10).
public struct SMTPClientStateMachine {
    /// The externally visible phase, for drivers and tests.
    public enum Phase: Hashable, Sendable {
        /// Not yet connected.
        case disconnected
        /// Waiting for the greeting.
        case greeting
        /// Waiting for the EHLO reply.
        case ehlo
        /// Waiting for the HELO reply.
        case helo
        /// Waiting for the STARTTLS reply.
        case startTLS
        /// The TLS handshake is in progress.
        case tlsHandshake
        /// In the AUTH exchange.
        case auth
        /// Established and idle.
        case ready
        /// In a mail transaction.
        case transaction
        /// Waiting for the reply to VRFY/EXPN/NOOP/raw.
        case command
        /// QUIT sent.
        case quitting
        /// Over (closed or failed).
        case closed
    }

    /// The configuration.
    public let configuration: SMTPSessionConfiguration
    /// What the server announced in its last EHLO reply (empty after HELO).
    public private(set) var capabilities = SMTPCapabilities()
    /// The last greeting.
    public private(set) var greeting: SMTPReply?
    /// True when the connection is encrypted (implicit TLS, or after STARTTLS).
    public private(set) var isEncrypted: Bool
    /// The mechanism used to authenticate, when AUTH succeeded.
    public internal(set) var authenticatedMechanism: SASLMechanism?
    /// The current phase.
    public internal(set) var phase: Phase = .disconnected

    let crypto: SMTPCryptoPrimitives?
    let clientNonce: String
    var sasl: SASLClient?
    var saslError: SASLError?
    var transaction: TransactionState?
    var transactionsStarted = 0

    /// Creates the machine. `crypto` is needed for CRAM-MD5 and SCRAM-SHA-256 (without it
    /// those are never chosen); `clientNonce` is SCRAM's client nonce (random, printable, no ',').
    public init(configuration: SMTPSessionConfiguration, crypto: SMTPCryptoPrimitives?, clientNonce: String = "") {
        self.configuration = configuration
        self.crypto = crypto
        self.clientNonce = clientNonce
        self.isEncrypted = configuration.tls == .implicit
    }

    /// The TCP (and, for implicit TLS, TLS) connection is up: wait for the greeting (3.1).
    public mutating func connected() -> SMTPClientAction {
        guard phase == .disconnected else { return invalid("connected() twice") }
        phase = .greeting
        return .read(.greeting)
    }

    /// The STARTTLS handshake succeeded: forget what was learnt in clear and EHLO again
    /// (RFC 3207 4.2).
    public mutating func tlsEstablished() -> SMTPClientAction {
        guard phase == .tlsHandshake else { return invalid("tlsEstablished() outside a handshake") }
        isEncrypted = true
        capabilities = SMTPCapabilities()
        return sendEHLO()
    }

    /// A complete reply arrived.
    public mutating func receive(_ reply: SMTPReply) -> SMTPClientAction {
        switch phase {
        case .greeting: return receiveGreeting(reply)
        case .ehlo: return receiveEHLO(reply)
        case .helo: return receiveHELO(reply)
        case .startTLS: return receiveStartTLS(reply)
        case .auth: return receiveAuth(reply)
        case .transaction: return receiveTransaction(reply)
        case .command:
            if reply.code == 421 { return closing(reply) }
            phase = .ready
            return .commandComplete(reply)
        case .quitting:
            phase = .closed
            return .close
        case .ready:
            if reply.code == 421 { return closing(reply) }
            return fail(.unexpectedReply, reply, "unsolicited reply", transient: true)
        case .disconnected, .tlsHandshake, .closed:
            return fail(.unexpectedReply, reply, "reply in a state that expects none", transient: true)
        }
    }

    /// Sends VRFY, EXPN, NOOP or a raw command (ready state only).
    public mutating func command(_ request: SMTPCommandRequest) -> SMTPClientAction {
        guard phase == .ready else { return invalid("command outside the ready state") }
        let bytes: [UInt8]
        do {
            switch request {
            case .verify(let s): bytes = try SMTPCommand.vrfy(s)
            case .expand(let s): bytes = try SMTPCommand.expn(s)
            case .noop: bytes = SMTPCommand.noop
            case .raw(let s): bytes = try SMTPCommand.raw(s)
            }
        } catch {
            return .fail(SMTPSessionFailure(kind: .invalidArgument, reply: nil,
                                            message: "\(error)", isTransient: false))
        }
        phase = .command
        return .send(Self.output(bytes), .command)
    }

    /// Sends QUIT (RFC 5321 4.1.1.10) from any connected state; after its reply, `.close`.
    public mutating func quit() -> SMTPClientAction {
        switch phase {
        case .disconnected, .closed, .tlsHandshake:
            phase = .closed
            return .close
        case .greeting, .ehlo, .helo, .startTLS, .auth, .ready, .transaction, .command, .quitting:
            phase = .quitting
            return .send(Self.output(SMTPCommand.quit), .command)
        }
    }

    // MARK: session setup

    private mutating func receiveGreeting(_ reply: SMTPReply) -> SMTPClientAction {
        greeting = reply
        guard reply.code == 220 else {
            return fail(.greetingRejected, reply, "greeting refused", transient: !reply.isPermanent)
        }
        return sendEHLO()
    }

    private mutating func sendEHLO() -> SMTPClientAction {
        do {
            let bytes = try SMTPCommand.ehlo(configuration.heloName)
            phase = .ehlo
            return .send(Self.output(bytes), .command)
        } catch {
            return fail(.invalidArgument, nil, "\(error)", transient: false)
        }
    }

    private mutating func receiveEHLO(_ reply: SMTPReply) -> SMTPClientAction {
        if reply.isPositive {
            capabilities = SMTPCapabilities(ehloReply: reply)
            return afterHello()
        }
        if reply.isPermanent {
            // RFC 5321 3.2: an old server refuses EHLO; fall back to HELO (no extensions).
            do {
                let bytes = try SMTPCommand.helo(configuration.heloName)
                phase = .helo
                return .send(Self.output(bytes), .command)
            } catch {
                return fail(.invalidArgument, nil, "\(error)", transient: false)
            }
        }
        if reply.code == 421 { return closing(reply) }
        return fail(.heloRejected, reply, "EHLO refused", transient: true)
    }

    private mutating func receiveHELO(_ reply: SMTPReply) -> SMTPClientAction {
        guard reply.isPositive else {
            if reply.code == 421 { return closing(reply) }
            return fail(.heloRejected, reply, "EHLO and HELO refused", transient: !reply.isPermanent)
        }
        capabilities = SMTPCapabilities()
        return afterHello()
    }

    private mutating func afterHello() -> SMTPClientAction {
        if configuration.tls == .startTLS, !isEncrypted {
            guard capabilities.startTLS else {
                // Postfix defers in this case too (smtp_tls_security_level=encrypt).
                return fail(.startTLSUnavailable, nil,
                            "TLS is required, but the relay does not offer STARTTLS", transient: true)
            }
            phase = .startTLS
            return .send(Self.output(SMTPCommand.startTLS), .command)
        }
        return startAuth()
    }

    private mutating func receiveStartTLS(_ reply: SMTPReply) -> SMTPClientAction {
        guard reply.code == 220 else {
            if reply.code == 421 { return closing(reply) }
            return fail(.startTLSRejected, reply, "STARTTLS refused", transient: !reply.isPermanent)
        }
        phase = .tlsHandshake
        return .startTLS
    }

    // MARK: helpers

    static func output(_ bytes: [UInt8], trace: String? = nil) -> SMTPOutput {
        var text = trace ?? String(decoding: bytes, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") || text.hasSuffix("\r\n") { text.removeLast() }
        return SMTPOutput(bytes: bytes, trace: [text])
    }

    mutating func closing(_ reply: SMTPReply) -> SMTPClientAction {
        fail(.serviceClosing, reply, "the server is closing the connection", transient: true)
    }

    mutating func fail(_ kind: SMTPSessionFailure.Kind, _ reply: SMTPReply?, _ message: String,
                       transient: Bool) -> SMTPClientAction {
        phase = .closed
        transaction = nil
        sasl = nil
        return .fail(SMTPSessionFailure(kind: kind, reply: reply, message: message, isTransient: transient))
    }

    private mutating func invalid(_ message: String) -> SMTPClientAction {
        .fail(SMTPSessionFailure(kind: .invalidState, reply: nil, message: message, isTransient: false))
    }
}
