import SMTPProtocol

/// The direction of a trace line.
public enum SMTPTraceDirection: Hashable, Sendable {
    /// From us to the server (`>>>` in msmtp's style).
    case sent
    /// From the server to us.
    case received
}

/// Connection status changes (the component's ConnectionStatus event).
public enum SMTPConnectionStatus: Hashable, Sendable {
    /// Resolving and connecting to host:port.
    case connecting(host: String, port: UInt16)
    /// The proxy opened its tunnel to the relay (`SMTPRelay.proxy`); `connected` follows.
    case proxyTunnelOpened(proxy: String)
    /// TCP is up with this peer (through the proxy, if there is one).
    case connected(RelayResult)
    /// TLS is up (protocol and cipher names).
    case tlsEstablished(protocolName: String, cipher: String)
    /// AUTH succeeded with this mechanism.
    case authenticated(SASLMechanism)
    /// The session is ready for mail.
    case ready
    /// The connection is closed (after QUIT, a failure or interrupt()).
    case disconnected
}

/// Progress of the message data (the component's Transfer event).
public struct SMTPTransferProgress: Hashable, Sendable {
    /// Octets of the message read from the source and sent so far.
    public var bytesSent: Int64
    /// The message's length in the source.
    public var totalBytes: Int64
}

/// Callbacks; each is called on the thread that runs the client operation.
public struct SMTPClientObservers {
    /// Connection status changes.
    public var connectionStatus: ((SMTPConnectionStatus) -> Void)?
    /// Transfer progress during the message data.
    public var transfer: ((SMTPTransferProgress) -> Void)?
    /// Every protocol line in and out (not the message data); AUTH data is `<redacted>`.
    public var trace: ((SMTPTraceDirection, String) -> Void)?

    /// Creates observers.
    public init(connectionStatus: ((SMTPConnectionStatus) -> Void)? = nil,
                transfer: ((SMTPTransferProgress) -> Void)? = nil,
                trace: ((SMTPTraceDirection, String) -> Void)? = nil) {
        self.connectionStatus = connectionStatus
        self.transfer = transfer
        self.trace = trace
    }
}
