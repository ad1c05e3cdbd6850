#if canImport(Glibc)
import Glibc
#endif

/// Sends `Mail` through one relay over pooled connections (the seed component's Send,
/// Connect/Disconnect and events), from async code, without blocking Swift's cooperative
/// threads: each connection has a thread of its own for its socket IO and the rendering and
/// signing of what it sends. At most `maxConnections` are open; concurrent sends share them,
/// a connection is reused for the next message (RSET first) and closed by `close()`.
public final class Mailer: Sendable {
    public let relay: SMTPRelay
    public let maxConnections: Int
    /// Where rendered and protected copies are kept while they are sent (anonymous files).
    public let temporaryDirectory: String
    let observer: (@Sendable (MailerEvent) -> Void)?
    let pool: ConnectionPool

    /// - Parameters:
    ///   - relay: where to send (host, port, TLS, AUTH, timeouts, HELO name).
    ///   - maxConnections: connections open at most at once (at least 1).
    ///   - observer: receives every `MailerEvent`, on the mailer's threads.
    public init(relay: SMTPRelay, maxConnections: Int = 4, temporaryDirectory: String? = nil,
                observer: (@Sendable (MailerEvent) -> Void)? = nil) {
        self.relay = relay
        self.maxConnections = max(1, maxConnections)
        self.temporaryDirectory = temporaryDirectory ?? TempFile.defaultDirectory
        self.observer = observer
        let observers = Self.observers(observer)
        pool = ConnectionPool(limit: max(1, maxConnections)) { PooledConnection(relay: relay, observers: observers) }
    }

    /// Sends `mail`: checks it (throwing before anything is sent), then sends each planned
    /// copy (see `Mail.bcc` and `Mail.encryptionCertificates`) over one pooled connection.
    /// - Returns: every recipient's result. A relay that refuses some recipients is a result,
    ///   not an error.
    /// - Throws: `MailError`: the message is unusable (permanent), or the relay could not be
    ///   reached or the session failed before any copy was accepted (usually transient).
    public func send(_ mail: Mail) async throws -> DeliveryReport {
        let prepared: PreparedMail
        do {
            prepared = try PreparedMail(mail, hostname: relay.heloName)
        } catch let e as MailError {
            observer?(.error(e))
            throw e
        }
        let connection = await pool.acquire()
        let tmpDir = temporaryDirectory
        let observer = self.observer
        do {
            let report = try await connection.thread.run { try Self.deliver(prepared, on: connection, tmpDir: tmpDir, observer: observer) }
            if connection.client == nil { await pool.discard(connection) } else { await pool.release(connection) }
            return report
        } catch {
            await pool.discard(connection)
            let e = error as? MailError ?? MailError(.delivery, "\(error)", transient: true)
            observer?(.error(e))
            throw e
        }
    }

    /// QUITs the idle connections (busy ones close when their send ends).
    public func close() async {
        await pool.closeIdle()
    }

    /// Connections open now.
    public var openConnections: Int { get async { await pool.openCount } }

    // MARK: on a connection's thread

    static func deliver(_ prepared: PreparedMail, on connection: PooledConnection, tmpDir: String,
                        observer: (@Sendable (MailerEvent) -> Void)?) throws -> DeliveryReport {
        var results: [String: RecipientResult] = [:]
        var anyAccepted = false
        for copy in prepared.copies {
            let (source, close) = try prepared.source(for: copy, tmpDir: tmpDir)
            defer { close() }
            let envelope = prepared.envelope(for: copy, size: source.length)
            observer?(.startTransfer(messageID: prepared.composed.messageID, recipients: copy.recipients))
            do {
                let result = try send(envelope, source, on: connection)
                observer?(.endTransfer(messageID: prepared.composed.messageID))
                for r in result.recipients {
                    let status: RecipientStatus
                    switch r.outcome.kind {
                    case .accepted: status = .accepted; anyAccepted = true
                    case .transient: status = .deferred
                    case .permanent: status = .refused
                    }
                    results[r.recipient.address] = RecipientResult(address: r.recipient.address, status: status,
                                                                   reply: r.outcome.reply?.verbatim ?? r.outcome.diagnostic,
                                                                   enhancedStatus: r.outcome.enhancedStatus.description)
                }
            } catch let e as SMTPError {
                let failure = MailError(.delivery, e.description, transient: e.isTransient, underlying: e)
                // Nothing of this send reached anyone: the caller gets the error.
                guard anyAccepted else { throw failure }
                observer?(.error(failure))
                for address in copy.recipients {
                    results[address] = RecipientResult(address: address, status: e.isTransient ? .deferred : .refused,
                                                       reply: e.description, enhancedStatus: e.reply?.effectiveStatus.description ?? "4.4.1")
                }
            }
        }
        let order = prepared.composed.recipients
        return DeliveryReport(messageID: prepared.composed.messageID, recipients: order.compactMap { results[$0] })
    }

    /// One transaction: on the pooled session when it is still good (reconnecting once when
    /// it broke before any data went out), else on a new session.
    static func send(_ envelope: SMTPEnvelope, _ source: SMTPMessageSource, on connection: PooledConnection) throws -> SMTPDeliveryResult {
        if let c = connection.client {
            var started = false
            var observers = connection.observers
            let transfer = observers.transfer
            observers.transfer = { p in if p.bytesSent > 0 { started = true }; transfer?(p) }
            c.observers = observers
            do {
                defer { c.observers = connection.observers }
                return try c.send(envelope: envelope, message: source)
            } catch {
                c.close()
                connection.client = nil
                if started { throw error }
            }
        }
        let c = SMTPClient(relay: connection.relay, observers: connection.observers)
        do {
            try c.connect()
        } catch {
            c.close()
            throw error
        }
        connection.client = c
        do {
            return try c.send(envelope: envelope, message: source)
        } catch {
            c.close()
            connection.client = nil
            throw error
        }
    }

    static func observers(_ observer: (@Sendable (MailerEvent) -> Void)?) -> SMTPClientObservers {
        guard let observer else { return SMTPClientObservers() }
        return SMTPClientObservers(
            connectionStatus: { observer(.connectionStatus($0)) },
            transfer: { observer(.transfer(bytes: $0.bytesSent, total: $0.totalBytes)) },
            trace: { observer(.trace($0, $1)) })
    }
}
