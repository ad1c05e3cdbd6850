/// The proxy protocols a tunnel can be opened with.
public enum ProxyProtocol: Hashable, Sendable {
    /// SOCKS5 (RFC 1928), username/password authentication (RFC 1929) when credentials are set.
    case socks5
    /// SOCKS4 with the 4A extension (a user id, no password).
    case socks4a
    /// HTTP CONNECT (RFC 9110 9.3.6), Basic credentials (RFC 7617) when set.
    case httpConnect
}

/// What the transport does next for a `ProxyHandshake`.
public enum ProxyHandshakeAction: Hashable, Sendable {
    /// Write these bytes, then read and pass what arrives to `receive`. `trace` describes them
    /// (credentials `<redacted>`).
    case send([UInt8], trace: [String])
    /// Read more and pass it to `receive`.
    case read
    /// The tunnel is open: from now on the connection is the relay's. `leftover` came after the
    /// proxy's answer and belongs to the relay (e.g. the start of its greeting).
    case established(leftover: [UInt8])
    /// The handshake failed; close the connection.
    case fail(ProxyHandshakeFailure)
}

/// The client side of a proxy handshake as a value type (house rule 8): `start()` and
/// `receive(_:)` return what to do; no IO. One instance per connection to the proxy.
///
/// SOCKS5: greeting with the methods offered (no authentication, and username/password when
/// credentials are set), then RFC 1929 authentication if the proxy picks it, then CONNECT.
/// SOCKS4a: one request, one reply. HTTP: CONNECT, then the response head; any 2xx opens the
/// tunnel, 407 (or 401) means the credentials are missing or refused.
public struct ProxyHandshake: Sendable {
    /// The states; `failed` and `established` are final.
    public enum State: Hashable, Sendable {
        case idle
        case awaitingMethod
        case awaitingAuthentication
        case awaitingConnectReply
        case established
        case failed
    }

    /// The protocol spoken.
    public let proxyProtocol: ProxyProtocol
    /// Where the proxy should connect.
    public let target: ProxyTarget
    /// The relay's port.
    public let port: UInt16
    private let credentials: ProxyCredentials?
    /// Where the handshake is.
    public private(set) var state = State.idle
    /// Lines describing what the last `receive` parsed, for the trace.
    public private(set) var receivedTrace: [String] = []
    private var buffer: [UInt8] = []
    private var http = HTTPConnect.ResponseParser()

    /// Creates a handshake; nothing is sent until `start()`.
    public init(proxyProtocol: ProxyProtocol, target: ProxyTarget, port: UInt16, credentials: ProxyCredentials?) {
        self.proxyProtocol = proxyProtocol
        self.target = target
        self.port = port
        self.credentials = credentials
    }

    /// The first message to the proxy.
    public mutating func start() -> ProxyHandshakeAction {
        guard state == .idle else { return fail(.malformedReply, "the proxy handshake was started twice") }
        do {
            switch proxyProtocol {
            case .socks5:
                var methods = [SOCKS5.methodNoAuthentication]
                if credentials != nil { methods.append(SOCKS5.methodUsernamePassword) }
                state = .awaitingMethod
                return .send(SOCKS5.greeting(methods: methods),
                             trace: ["SOCKS5 methods: " + methods.map(SOCKS5.methodName).joined(separator: ", ")])
            case .socks4a:
                let request = try SOCKS4a.connectRequest(target: target, port: port, userID: credentials?.username ?? [])
                state = .awaitingConnectReply
                return .send(request, trace: ["SOCKS4a CONNECT \(target.authority(port: port))"
                                              + (credentials == nil ? "" : " (with a user id)")])
            case .httpConnect:
                let request = try HTTPConnect.request(target: target, port: port, credentials: credentials)
                state = .awaitingConnectReply
                return .send(request.bytes, trace: request.trace)
            }
        } catch let failure as ProxyHandshakeFailure {
            state = .failed
            return .fail(failure)
        } catch {
            return fail(.invalidArgument, "\(error)")
        }
    }

    /// Bytes from the proxy, split anywhere.
    public mutating func receive<C: Collection>(_ bytes: C) -> ProxyHandshakeAction where C.Element == UInt8 {
        receivedTrace = []
        switch state {
        case .idle, .established, .failed:
            return fail(.malformedReply, "the proxy sent data out of turn")
        case .awaitingMethod, .awaitingAuthentication, .awaitingConnectReply:
            break
        }
        do {
            switch proxyProtocol {
            case .socks5:
                buffer.append(contentsOf: bytes)
                return try socks5Step()
            case .socks4a:
                buffer.append(contentsOf: bytes)
                return try socks4Step()
            case .httpConnect:
                http.feed(bytes)
                return try httpStep()
            }
        } catch let failure as ProxyHandshakeFailure {
            state = .failed
            return .fail(failure)
        } catch {
            return fail(.malformedReply, "\(error)")
        }
    }

    /// What the proxy closing the connection now means, for the message.
    public var awaiting: String {
        switch (state, proxyProtocol) {
        case (.awaitingMethod, _): return "its choice of authentication method"
        case (.awaitingAuthentication, _): return "its answer to the username/password"
        case (.awaitingConnectReply, .httpConnect): return "its response to CONNECT"
        case (.awaitingConnectReply, _): return "its reply to CONNECT"
        case (.idle, _): return "the start of the handshake"
        case (.established, _), (.failed, _): return "nothing"
        }
    }

    // MARK: SOCKS5

    private mutating func socks5Step() throws -> ProxyHandshakeAction {
        switch state {
        case .awaitingMethod:
            guard let (method, used) = try SOCKS5.parseMethodSelection(buffer[...]) else { return .read }
            buffer.removeFirst(used)
            receivedTrace.append("SOCKS5 method: \(SOCKS5.methodName(method))")
            switch method {
            case SOCKS5.methodNoAuthentication:
                return try sendConnect()
            case SOCKS5.methodUsernamePassword where credentials != nil:
                state = .awaitingAuthentication
                return .send(try SOCKS5.usernamePasswordRequest(credentials!), trace: ["SOCKS5 username/password: <redacted>"])
            case SOCKS5.methodNoAcceptable:
                if credentials == nil {
                    return fail(.authenticationRequired,
                                "the proxy wants authentication (no method without credentials is acceptable to it)")
                }
                return fail(.authenticationRejected, "the proxy accepts neither no authentication nor username/password")
            default:
                return fail(.malformedReply, "the proxy chose \(SOCKS5.methodName(method)), which was not offered")
            }
        case .awaitingAuthentication:
            guard let (status, used) = try SOCKS5.parseAuthenticationReply(buffer[...]) else { return .read }
            buffer.removeFirst(used)
            guard status == 0 else {
                receivedTrace.append("SOCKS5 authentication: refused (status \(hexByte(status)))")
                return fail(.authenticationRejected, "the proxy refused the username/password (RFC 1929 status \(hexByte(status)))",
                            socksReplyCode: status)
            }
            receivedTrace.append("SOCKS5 authentication: accepted")
            return try sendConnect()
        case .awaitingConnectReply:
            guard let (reply, used) = try SOCKS5.parseReply(buffer[...]) else { return .read }
            buffer.removeFirst(used)
            let text = "\(hexByte(reply.code)) \(SOCKS5.replyText(reply.code))"
            guard reply.code == 0 else {
                receivedTrace.append("SOCKS5 reply: \(text)")
                return fail(.connectRefused, "the proxy refused the CONNECT to \(target.authority(port: port)): SOCKS5 reply \(text)",
                            socksReplyCode: reply.code)
            }
            receivedTrace.append("SOCKS5 reply: \(text) (bound \(reply.boundAddress.authority(port: reply.boundPort)))")
            return established()
        case .idle, .established, .failed:
            return fail(.malformedReply, "the proxy sent data out of turn")
        }
    }

    private mutating func sendConnect() throws -> ProxyHandshakeAction {
        let request = try SOCKS5.connectRequest(target: target, port: port)
        state = .awaitingConnectReply
        return .send(request, trace: ["SOCKS5 CONNECT \(target.authority(port: port))"])
    }

    // MARK: SOCKS4a

    private mutating func socks4Step() throws -> ProxyHandshakeAction {
        guard let (code, used) = try SOCKS4a.parseReply(buffer[...]) else { return .read }
        buffer.removeFirst(used)
        let text = "\(code) \(SOCKS4a.replyText(code))"
        receivedTrace.append("SOCKS4a reply: \(text)")
        guard code == 90 else {
            return fail(.connectRefused, "the proxy refused the CONNECT to \(target.authority(port: port)): SOCKS4 reply \(text)",
                        socksReplyCode: code)
        }
        return established()
    }

    // MARK: HTTP CONNECT

    private mutating func httpStep() throws -> ProxyHandshakeAction {
        guard let response = try http.next() else { return .read }
        receivedTrace.append(response.statusLine)
        receivedTrace += response.fields.map { "\($0.name): \($0.value)" }
        switch response.status {
        case 200...299:
            buffer = http.remaining
            return established()
        case 401, 407:
            // 407 is the proxy's (RFC 9110 15.5.8); a 401 to CONNECT can only be the proxy's
            // too (the relay speaks SMTP), and tinyproxy sends it.
            let challenge = response.value(of: "Proxy-Authenticate") ?? response.value(of: "WWW-Authenticate")
            let scheme = challenge.map { " (it asks for \($0))" } ?? ""
            if credentials == nil {
                return fail(.authenticationRequired, "the proxy wants authentication\(scheme): \(response.statusLine)",
                            httpStatusLine: response.statusLine)
            }
            return fail(.authenticationRejected, "the proxy refused the credentials\(scheme): \(response.statusLine)",
                        httpStatusLine: response.statusLine)
        default:
            return fail(.connectRefused, "the proxy refused the CONNECT to \(target.authority(port: port)): \(response.statusLine)",
                        httpStatusLine: response.statusLine)
        }
    }

    // MARK: ends

    private mutating func established() -> ProxyHandshakeAction {
        state = .established
        let leftover = buffer
        buffer = []
        return .established(leftover: leftover)
    }

    private mutating func fail(_ kind: ProxyHandshakeFailure.Kind, _ message: String, socksReplyCode: UInt8? = nil,
                               httpStatusLine: String? = nil) -> ProxyHandshakeAction {
        state = .failed
        return .fail(ProxyHandshakeFailure(kind, message, socksReplyCode: socksReplyCode, httpStatusLine: httpStatusLine))
    }
}
