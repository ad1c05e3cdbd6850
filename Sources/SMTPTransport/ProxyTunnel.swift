import Glibc
import SMTPProtocol

/// The IO of a proxy handshake: connects to the proxy and runs `ProxyHandshake` over the
/// socket, every wait bounded by the connect deadline and woken by the client's interrupter.
enum ProxyTunnel {
    /// A socket whose far end is now the relay, the bytes the proxy sent after its answer
    /// (the relay's, e.g. the start of its greeting), and the relay as the proxy was asked for it.
    struct Opened {
        let socket: TCPSocket
        let leftover: [UInt8]
        let target: ProxyTarget
    }

    /// Opens a tunnel to `relayHost`:`relayPort` through `proxy`. With `socks5` the relay's
    /// addresses are tried in turn (RFC 5321 5.1), each through a new connection to the proxy,
    /// while the proxy reports an address-specific failure (network or host unreachable,
    /// connection refused, TTL expired).
    static func open(_ proxy: SMTPProxy, relayHost: String, relayPort: UInt16, deadline: Deadline,
                     interrupter: Interrupter, trace: ((SMTPTraceDirection, String) -> Void)?) throws -> Opened {
        let targets = try Self.targets(for: relayHost, proxy: proxy)
        var lastError: SMTPError?
        for (index, target) in targets.enumerated() {
            let socket = try connect(to: proxy, deadline: deadline, interrupter: interrupter)
            do {
                let leftover = try handshake(on: socket, proxy: proxy, target: target, port: relayPort,
                                             deadline: deadline, trace: trace)
                return Opened(socket: socket, leftover: leftover, target: target)
            } catch let error as SMTPError {
                guard error.code == .proxyRefused, let code = error.socksReplyCode, SOCKS5.isAddressSpecific(code),
                      index + 1 < targets.count else { throw error }
                lastError = error
            }
        }
        throw lastError ?? SMTPError(.resolve, "no address for \(relayHost)", transient: true)
    }

    /// What to ask the proxy for: an address literal as such; a name as a name when the proxy
    /// resolves it, else its addresses as resolved here.
    static func targets(for host: String, proxy: SMTPProxy) throws -> [ProxyTarget] {
        if let literal = literal(host) { return [literal] }
        if proxy.proxyResolves { return [.domain(host)] }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        // No AI_ADDRCONFIG: the proxy, not this host, needs the route to the address.
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0, list != nil else {
            let why = rc == 0 ? "no addresses" : String(cString: gai_strerror(rc))
            throw SMTPError(.resolve, "cannot resolve \(host) (to connect through the \(proxy)): \(why)", transient: true)
        }
        defer { freeaddrinfo(list) }
        var out: [ProxyTarget] = []
        var entry = list
        while let ai = entry {
            entry = ai.pointee.ai_next
            guard let addr = ai.pointee.ai_addr else { continue }
            var target: ProxyTarget?
            if ai.pointee.ai_family == AF_INET {
                target = addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    withUnsafeBytes(of: sin.pointee.sin_addr) { ProxyTarget.ipv4(Array($0)) }
                }
            } else if ai.pointee.ai_family == AF_INET6 {
                target = addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    withUnsafeBytes(of: sin6.pointee.sin6_addr) { ProxyTarget.ipv6(Array($0)) }
                }
            }
            if let target, !out.contains(target) { out.append(target) }
        }
        guard !out.isEmpty else { throw SMTPError(.resolve, "cannot resolve \(host): no addresses", transient: true) }
        return out
    }

    /// An IPv4 or IPv6 literal (without brackets), else nil.
    static func literal(_ host: String) -> ProxyTarget? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return .ipv4(withUnsafeBytes(of: v4) { Array($0) }) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return .ipv6(withUnsafeBytes(of: v6) { Array($0) }) }
        return nil
    }

    private static func connect(to proxy: SMTPProxy, deadline: Deadline, interrupter: Interrupter) throws -> TCPSocket {
        do {
            return try TCPSocket.connect(host: proxy.host, port: proxy.port, deadline: deadline, interrupter: interrupter)
        } catch let error as SMTPError where error.code == .resolve || error.code == .connect {
            throw SMTPError(.proxyUnreachable, "cannot reach the \(proxy): \(error.message)", transient: true)
        } catch let error as SMTPError {
            throw SMTPError(error.code, "\(proxy): \(error.message)", transient: true)
        }
    }

    private static func handshake(on socket: TCPSocket, proxy: SMTPProxy, target: ProxyTarget, port: UInt16,
                                  deadline: Deadline, trace: ((SMTPTraceDirection, String) -> Void)?) throws -> [UInt8] {
        var machine = ProxyHandshake(proxyProtocol: proxy.proxyProtocol, target: target, port: port,
                                     credentials: try proxy.credentials())
        let what = "the handshake with the \(proxy)"
        var buffer = [UInt8](repeating: 0, count: 4096)
        var action = machine.start()
        while true {
            switch action {
            case .send(let bytes, let lines):
                if let trace { for line in lines { trace(.sent, line) } }
                try bytes.withUnsafeBytes { try socket.write($0, until: deadline, what: what) }
                action = .read
            case .read:
                let n = try socket.read(into: &buffer, until: deadline, what: what)
                guard n > 0 else {
                    throw SMTPError(.proxyProtocol, "the \(proxy) closed the connection while we waited for \(machine.awaiting)",
                                    transient: true)
                }
                action = machine.receive(buffer[0..<n])
                if let trace { for line in machine.receivedTrace { trace(.received, line) } }
            case .established(let leftover):
                return leftover
            case .fail(let failure):
                throw SMTPError(failure, proxy: proxy)
            }
        }
    }
}

extension SMTPError {
    /// Maps a handshake failure: every one is transient (a proxy outage or a changed password
    /// is fixed without touching the message), and the wording says which it is.
    init(_ failure: ProxyHandshakeFailure, proxy: SMTPProxy) {
        let code: Code
        switch failure.kind {
        case .invalidArgument: code = .configuration
        case .authenticationRequired, .authenticationRejected: code = .proxyAuthFailed
        case .connectRefused: code = .proxyRefused
        case .malformedReply: code = .proxyProtocol
        }
        self.init(code, "\(proxy): \(failure.message)", transient: true)
        socksReplyCode = failure.socksReplyCode
        httpStatusLine = failure.httpStatusLine
    }
}
