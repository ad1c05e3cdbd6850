import SMTPProtocol

/// A proxy between the client and the relay (the component's "Firewall" settings): the client
/// connects to the proxy, asks it for a tunnel to the relay, and then speaks SMTP (and
/// STARTTLS or implicit TLS, checked against the relay's name) through it.
///
/// Credentials go to the proxy in clear, as RFC 1929 and HTTP Basic send them: use them only
/// on a network you trust. They are never traced.
public struct SMTPProxy: @unchecked Sendable, CustomStringConvertible {
    /// The protocol, and who resolves the relay's name.
    public enum Kind: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
        /// SOCKS5 (RFC 1928); the relay's name is resolved here and its addresses are tried in
        /// turn, each through a new connection to the proxy (curl's `socks5://`).
        case socks5
        /// SOCKS5; the proxy resolves the relay's name (curl's `socks5h://`), for proxies that
        /// see a DNS this host does not.
        case socks5h
        /// SOCKS4 with the 4A extension: the proxy resolves the name; a user id, no password;
        /// IPv4 relays only.
        case socks4a
        /// An HTTP proxy's CONNECT tunnel (RFC 9110 9.3.6); the proxy resolves the name.
        case http

        /// The URL scheme.
        public var description: String { rawValue }
    }

    /// The protocol.
    public var kind: Kind
    /// The proxy's host name or address.
    public var host: String
    /// The proxy's port.
    public var port: UInt16
    /// The user name (SOCKS5 RFC 1929, HTTP Basic) or the SOCKS4 user id; nil: none sent.
    public var user: String?
    /// Returns the proxy password; called once per connection to the proxy when `user` is set
    /// (SOCKS4a ignores it). Errors become `SMTPError.Code.secretUnavailable`.
    public var passwordProvider: (() throws -> [UInt8])?

    /// A proxy without credentials; the port defaults to 1080 (as curl's).
    public init(kind: Kind, host: String, port: UInt16 = 1080) {
        self.kind = kind
        self.host = host
        self.port = port
    }

    /// "socks5 proxy proxy.example:1080" (no credentials).
    public var description: String {
        let h = host.firstIndex(of: ":") == nil ? host : "[\(host)]"
        return "\(kind) proxy \(h):\(port)"
    }

    var proxyProtocol: ProxyProtocol {
        switch kind {
        case .socks5, .socks5h: return .socks5
        case .socks4a: return .socks4a
        case .http: return .httpConnect
        }
    }

    /// True when the proxy, not this host, resolves the relay's name.
    var proxyResolves: Bool { kind != .socks5 }

    /// The credentials for one connection (reads the password).
    func credentials() throws -> ProxyCredentials? {
        guard let user else { return nil }
        if kind == .socks4a { return ProxyCredentials(username: Array(user.utf8), password: []) }
        var password: [UInt8] = []
        if let passwordProvider {
            do {
                password = try passwordProvider()
            } catch {
                throw SMTPError(.secretUnavailable, "cannot obtain the proxy password: \(error)", transient: true)
            }
        }
        return ProxyCredentials(username: Array(user.utf8), password: password)
    }
}
