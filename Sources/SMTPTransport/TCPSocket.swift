import Glibc

/// A connected TCP socket: non-blocking, TCP_NODELAY, close-on-exec; every wait bounded by a
/// deadline and woken by the client's `Interrupter`.
final class TCPSocket {
    let fd: Int32
    /// The numeric address of the peer ("192.0.2.1" or "2001:db8::1").
    let peerAddress: String
    /// The peer's port.
    let peerPort: UInt16
    private let interrupter: Interrupter

    private init(fd: Int32, peerAddress: String, peerPort: UInt16, interrupter: Interrupter) {
        self.fd = fd
        self.peerAddress = peerAddress
        self.peerPort = peerPort
        self.interrupter = interrupter
    }

    deinit { close(fd) }

    /// Resolves `host` and connects to each address in turn until one answers or the deadline
    /// passes (RFC 5321 5.1: try the addresses in order).
    static func connect(host: String, port: UInt16, deadline: Deadline, interrupter: Interrupter) throws -> TCPSocket {
        ignoreSIGPIPEOnce
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            let why = rc == 0 ? "no addresses" : String(cString: gai_strerror(rc))
            throw SMTPError(.resolve, "cannot resolve \(host): \(why)", transient: true)
        }
        defer { freeaddrinfo(list) }
        var lastError = SMTPError(.connect, "no usable address for \(host)", transient: true)
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let ai = entry {
            entry = ai.pointee.ai_next
            do {
                return try connectOne(ai.pointee, port: port, deadline: deadline, interrupter: interrupter)
            } catch let error as SMTPError {
                if error.code == .interrupted || error.code == .timeout { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    private static func connectOne(_ ai: addrinfo, port: UInt16, deadline: Deadline,
                                   interrupter: Interrupter) throws -> TCPSocket {
        let address = numericHost(ai.ai_addr, ai.ai_addrlen)
        let fd = socket(ai.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SMTPError(.connect, "socket: \(errnoText())", transient: true) }
        let sock = TCPSocket(fd: fd, peerAddress: address, peerPort: port, interrupter: interrupter)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if Glibc.connect(fd, ai.ai_addr, ai.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else {
                throw SMTPError(.connect, "connect to [\(address)]:\(port): \(errnoText())", transient: true)
            }
            try sock.wait(for: Int16(POLLOUT), until: deadline, what: "connect to [\(address)]:\(port)")
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
            if soError != 0 {
                throw SMTPError(.connect, "connect to [\(address)]:\(port): \(String(cString: strerror(soError)))",
                                transient: true)
            }
        }
        return sock
    }

    /// Waits until the socket is readable (POLLIN) or writable (POLLOUT).
    func wait(for events: Int16, until deadline: Deadline, what: String) throws {
        while true {
            var fds = [pollfd(fd: fd, events: events, revents: 0),
                       pollfd(fd: interrupter.readFD, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, 2, deadline.remainingMilliseconds)
            if n < 0 {
                if errno == EINTR { continue }
                throw SMTPError(.io, "poll: \(TCPSocket.errnoText())", transient: true)
            }
            if fds[1].revents != 0 {
                interrupter.drain()
                throw SMTPError(.interrupted, "interrupted during \(what)", transient: true)
            }
            if fds[0].revents != 0 { return }
            if n == 0 || deadline.hasPassed {
                throw SMTPError(.timeout, "timed out during \(what)", transient: true)
            }
        }
    }

    /// Reads what is available (waiting until the deadline); 0 bytes means end of stream.
    func read(into buffer: inout [UInt8], until deadline: Deadline, what: String) throws -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n >= 0 { return n }
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EWOULDBLOCK else {
                throw SMTPError(.io, "read: \(TCPSocket.errnoText())", transient: true)
            }
            try wait(for: Int16(POLLIN), until: deadline, what: what)
        }
    }

    /// Writes all bytes (waiting for room until the deadline).
    func write(_ bytes: UnsafeRawBufferPointer, until deadline: Deadline, what: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n > 0 { offset += n; continue }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                try wait(for: Int16(POLLOUT), until: deadline, what: what)
                continue
            }
            throw SMTPError(.connectionClosed, "write: \(TCPSocket.errnoText())", transient: true)
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    private static func numericHost(_ addr: UnsafeMutablePointer<sockaddr>?, _ len: socklen_t) -> String {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard let addr, getnameinfo(addr, len, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return "?"
        }
        return String(cString: host)
    }
}

/// SIGPIPE is ignored once per process if it is at its default (see the module notes).
private let ignoreSIGPIPEOnce: Void = {
    var current = sigaction()
    if sigaction(SIGPIPE, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil {
        signal(SIGPIPE, SIG_IGN)
    }
}()
