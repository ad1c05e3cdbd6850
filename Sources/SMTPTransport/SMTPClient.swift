import MailMessage
import SMTPProtocol

/// An SMTP client for one relay (RFC 5321), usable as a library: connect, send any number of
/// messages over the connection (RSET between them), VRFY/EXPN/raw commands, QUIT. It drives
/// `SMTPClientStateMachine`; this class only does the IO.
///
/// Not thread-safe, except `interrupt()`, which any thread may call to make the blocked
/// operation fail promptly with `SMTPError.Code.interrupted` (the connection is then closed).
public final class SMTPClient: @unchecked Sendable {
    /// The relay this client talks to.
    public let relay: SMTPRelay
    /// Observers (status, transfer progress, protocol trace).
    public var observers: SMTPClientObservers
    /// Which relay answered (`host[ip]:port`), once connected.
    public private(set) var relayResult: RelayResult?
    /// The negotiated TLS protocol and cipher, when TLS is up.
    public private(set) var tlsDescription: (protocolName: String, cipher: String)?
    /// The last reply the server sent (the component's LastReply).
    public private(set) var lastReply: SMTPReply?

    var machine: SMTPClientStateMachine
    var connection: SMTPConnection?
    let interrupter = Interrupter()
    /// The caller's limit (`setDeadline`) and what to call it when it ends a wait.
    private(set) var deadline: Deadline?
    private var deadlineReason = ""
    /// The limit of the operation in progress (`SMTPTimeouts.delivery` from its start).
    var operationDeadline: Deadline?
    private var tlsContext: TLSContext?
    private let crypto = OpenSSLCrypto()

    /// Creates a client; nothing happens on the network until `connect()`.
    public init(relay: SMTPRelay, observers: SMTPClientObservers = SMTPClientObservers()) {
        self.relay = relay
        self.observers = observers
        self.machine = SMTPClientStateMachine(configuration: SMTPSessionConfiguration(heloName: relay.heloName),
                                              crypto: nil)
    }

    deinit { connection?.shutdown() }

    /// True while a session is established.
    public var isConnected: Bool { connection != nil }

    /// What the relay announced in its (last) EHLO reply.
    public var capabilities: SMTPCapabilities { machine.capabilities }

    /// The mechanism AUTH succeeded with, if any.
    public var authenticatedMechanism: SASLMechanism? { machine.authenticatedMechanism }

    /// Connects, reads the greeting, EHLO (HELO fallback), STARTTLS or implicit TLS and AUTH
    /// as configured (RFC 5321 3.1-3.2, RFC 3207, RFC 8314, RFC 4954), all of it within
    /// `relay.timeouts.delivery` (and the caller's deadline, `setDeadline`). On failure the
    /// connection is closed and the error says whether a retry may succeed.
    public func connect() throws {
        guard connection == nil else { throw SMTPError(.invalidState, "already connected", transient: false) }
        interrupter.drain()
        operationDeadline = .after(relay.timeouts.delivery)
        relayResult = nil
        do {
            try openSession()
        } catch {
            throw abort(error)
        }
    }

    /// Sets a limit for everything this client does from now on (every wait ends by then at
    /// the latest, whatever the per-step timeouts), e.g. for one delivery attempt or for a
    /// caller that will not wait longer (sealmail -odi); nil removes it. A wait ended by it
    /// fails with `SMTPError.Code.timeout` and a message that starts with `reason`.
    public func setDeadline(_ deadline: Deadline?, reason: String) {
        self.deadline = deadline
        deadlineReason = reason
    }

    /// The deadline of a wait of `seconds`: no later than the operation's and the caller's.
    func limit(_ seconds: Double) -> Deadline {
        Deadline.earliest(.after(seconds), operationDeadline, deadline)
    }

    /// Connection, greeting, TLS, EHLO, AUTH (`connect`).
    private func openSession() throws {
        notify(.connecting(host: relay.host, port: relay.port))
        let deadline = limit(relay.timeouts.connect)
        let socket: TCPSocket
        var received: [UInt8] = []
        let result: RelayResult
        if let proxy = relay.proxy {
            // The proxy's handshake is part of connecting: the same deadline bounds it.
            let tunnel = try ProxyTunnel.open(proxy, relayHost: relay.host, relayPort: relay.port, deadline: deadline,
                                              interrupter: interrupter, trace: observers.trace)
            socket = tunnel.socket
            received = tunnel.leftover
            let proxyAddress = socket.peerAddress.firstIndex(of: ":") == nil ? socket.peerAddress : "[\(socket.peerAddress)]"
            result = RelayResult(host: relay.host, address: "via \(proxy.kind) \(proxyAddress):\(socket.peerPort)",
                                 port: relay.port)
            notify(.proxyTunnelOpened(proxy: proxy.description))
        } else {
            socket = try TCPSocket.connect(host: relay.host, port: relay.port, deadline: deadline, interrupter: interrupter)
            result = RelayResult(host: relay.host, address: socket.peerAddress, port: relay.port)
        }
        relayResult = result
        let conn = SMTPConnection(socket: socket, received: received, trace: observers.trace)
        connection = conn
        tlsDescription = nil
        notify(.connected(result))
        if relay.tls == .implicit {
            guard received.isEmpty else {
                // The server speaks only after the client's TLS hello: bytes before it are not its.
                throw SMTPError(.proxyProtocol, "the proxy sent data after opening the tunnel, before TLS started",
                                transient: true)
            }
            try startTLS(on: conn)
        }
        let configuration = try sessionConfiguration()
        // The nonce is only for SCRAM: drawing it starts OpenSSL (config file, providers),
        // a millisecond or more that a session without credentials need not pay.
        machine = SMTPClientStateMachine(configuration: configuration, crypto: crypto,
                                         clientNonce: configuration.credentials == nil ? "" : try nonce())
        let end = try drive(machine.connected(), body: nil)
        guard case .ready = end else {
            throw SMTPError(.unexpectedReply, "session did not become ready", transient: true)
        }
        if let mechanism = machine.authenticatedMechanism { notify(.authenticated(mechanism)) }
        notify(.ready)
    }

    /// VRFY (RFC 5321 4.1.1.6): the server's reply, whatever its code.
    public func verify(_ address: String) throws -> SMTPReply { try command(.verify(address)) }

    /// EXPN (RFC 5321 4.1.1.7): the server's reply; each line of a 250 reply is a member.
    public func expand(_ list: String) throws -> SMTPReply { try command(.expand(list)) }

    /// NOOP (RFC 5321 4.1.1.9), e.g. to check that a reused connection is alive.
    public func noop() throws -> SMTPReply { try command(.noop) }

    /// Sends one command line (no CR/LF/NUL; checked) and returns its reply, whatever its code
    /// (RFC 5321 2.4). Commands that start a dialogue (DATA, AUTH, STARTTLS, BDAT) are not for
    /// this method: the session would lose track of its state.
    public func rawCommand(_ line: String) throws -> SMTPReply { try command(.raw(line)) }

    /// QUIT (RFC 5321 4.1.1.10) and close. Never fails: a relay that does not answer QUIT
    /// is closed anyway.
    public func quit() {
        guard connection != nil else { return }
        interrupter.drain()
        operationDeadline = .after(relay.timeouts.delivery)
        _ = try? drive(machine.quit(), body: nil)
        close()
    }

    /// Closes the connection at once, without QUIT.
    public func close() {
        guard let conn = connection else { return }
        conn.shutdown()
        connection = nil
        machine = SMTPClientStateMachine(configuration: machine.configuration, crypto: nil)
        notify(.disconnected)
    }

    /// Thread-safe: makes the operation in progress (or the next wait) fail promptly with
    /// `SMTPError.Code.interrupted`; the connection is closed.
    public func interrupt() { interrupter.trigger() }

    // MARK: internals

    private func command(_ request: SMTPCommandRequest) throws -> SMTPReply {
        guard connection != nil, machine.phase == .ready else {
            throw SMTPError(.invalidState, "not connected", transient: false)
        }
        interrupter.drain()
        operationDeadline = .after(relay.timeouts.delivery)
        do {
            let end = try drive(machine.command(request), body: nil)
            guard case .commandComplete(let reply) = end else {
                throw SMTPError(.unexpectedReply, "command did not complete", transient: true)
            }
            return reply
        } catch {
            throw abort(error)
        }
    }

    /// Runs actions until the machine is idle or closed; IO errors propagate.
    func drive(_ first: SMTPClientAction, body: SMTPMessageSource?) throws -> SMTPClientAction {
        var action = first
        while true {
            guard let conn = connection else {
                throw SMTPError(.invalidState, "not connected", transient: true)
            }
            switch action {
            case .send(let output, let wait):
                try conn.write(output.bytes, traceLines: output.trace, deadline: limit(relay.timeouts.command),
                               what: output.trace.first ?? "a command")
                action = machine.receive(try readReply(conn, wait))
            case .read(let wait):
                action = machine.receive(try readReply(conn, wait))
            case .startTLS:
                try startTLS(on: conn)
                action = machine.tlsEstablished()
            case .sendBody(let framing):
                guard let body else { throw SMTPError(.invalidState, "message data requested without a message", transient: false) }
                action = machine.receive(try sendBody(body, framing: framing, on: conn))
            case .ready, .transactionComplete, .commandComplete:
                return action
            case .close:
                close()
                return action
            case .fail(let failure):
                throw SMTPError(failure, relay: relayResult)
            }
        }
    }

    /// One reply, however many reads it takes, within one deadline for the whole of it.
    func readReply(_ conn: SMTPConnection, _ wait: SMTPWait) throws -> SMTPReply {
        let reply = try conn.readReply(deadline: limit(relay.timeouts.seconds(for: wait)), what: "\(wait)")
        lastReply = reply
        return reply
    }

    private func startTLS(on conn: SMTPConnection) throws {
        let context = try tlsContext ?? TLSContext(settings: relay.tlsSettings)
        tlsContext = context
        try conn.startTLS(context: context, settings: relay.tlsSettings, serverName: relay.host,
                          deadline: limit(relay.timeouts.tlsHandshake))
        if let tls = conn.tls {
            tlsDescription = (tls.protocolName, tls.cipherName)
            notify(.tlsEstablished(protocolName: tls.protocolName, cipher: tls.cipherName))
        }
    }

    private func sessionConfiguration() throws -> SMTPSessionConfiguration {
        var credentials: SASLCredentials?
        if relay.auth != .none {
            guard let user = relay.user, let provider = relay.secretProvider else {
                throw SMTPError(.configuration, "AUTH is configured without a user or a secret", transient: true)
            }
            let secret: [UInt8]
            do {
                secret = try provider()
            } catch {
                throw SMTPError(.secretUnavailable, "cannot obtain the relay secret: \(error)", transient: true)
            }
            credentials = SASLCredentials(username: user, secret: secret, secretIsOAuthToken: relay.secretIsOAuthToken)
        }
        return SMTPSessionConfiguration(heloName: relay.heloName, tls: relay.tls, auth: relay.auth,
                                        credentials: credentials, allowPlaintextAuth: relay.allowPlaintextAuth,
                                        usePipelining: relay.usePipelining, useChunking: relay.useChunking,
                                        pipeliningWindow: relay.pipeliningWindow)
    }

    private func nonce() throws -> String {
        guard let bytes = crypto.randomBytes(18) else {
            throw SMTPError(.io, "the random number generator failed", transient: true)
        }
        return Base64.encode(bytes)
    }

    /// Closes the connection after a failure and returns the error with the relay attached;
    /// a timeout that an overall limit caused says which.
    func abort(_ error: Error) -> SMTPError {
        close()
        var smtpError = (error as? SMTPError)
            ?? SMTPError(.io, "\(error)", transient: true)
        if smtpError.relay == nil { smtpError.relay = relayResult }
        if smtpError.code == .timeout {
            if let deadline, deadline.hasPassed {
                smtpError.message = "\(deadlineReason) (\(smtpError.message))"
            } else if let operationDeadline, operationDeadline.hasPassed {
                let seconds = relay.timeouts.delivery
                let limit = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
                smtpError.message = "the operation took longer than its overall limit of \(limit) s (\(smtpError.message))"
            }
        }
        return smtpError
    }

    func notify(_ status: SMTPConnectionStatus) {
        observers.connectionStatus?(status)
    }
}
