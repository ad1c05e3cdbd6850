import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The scripted server. Steps are keyed by event: "GREETING", the command verb ("EHLO",
/// "HELO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "VRFY", "EXPN", "AUTH",
/// "STARTTLS", any other verb), "AUTHDATA" (a line sent after a 334), and "." (the end of
/// the DATA). The nth occurrence of an event on this server (over all its connections) takes
/// the nth step of its list; when the list is used up, the default behaviour applies.
public final class ScriptedSMTPServer: @unchecked Sendable {
    /// The script.
    public struct Script: Sendable {
        /// Steps per event (see the class documentation).
        public var steps: [String: [ScriptStep]]
        /// The EHLO reply used by default.
        public var ehloReply: String
        /// When above 0, every reply is sent one octet at a time, this many seconds apart: a
        /// server that trickles its replies so that each read brings one byte (the timeouts
        /// of a client must bound a whole reply and a whole session, not each read).
        public var secondsPerReplyOctet: Double

        /// A script with defaults: PIPELINING, 8BITMIME, SIZE 10000000, ENHANCEDSTATUSCODES,
        /// DSN, SMTPUTF8 announced; every command accepted.
        public init(steps: [String: [ScriptStep]] = [:],
                    ehloReply: String = "250-scripted.test\n250-PIPELINING\n250-8BITMIME\n250-SIZE 10000000\n250-ENHANCEDSTATUSCODES\n250-DSN\n250 SMTPUTF8",
                    secondsPerReplyOctet: Double = 0) {
            self.steps = steps
            self.ehloReply = ehloReply
            self.secondsPerReplyOctet = secondsPerReplyOctet
        }
    }

    /// The port it listens on (127.0.0.1, or ::1).
    public let port: UInt16
    private let listenFD: Int32
    private let lock = NSLock()
    private var script: Script
    private var counters: [String: Int] = [:]
    private var transcripts: [[UInt8]] = []
    private var receivedMessages: [[UInt8]] = []
    private var openFDs: Set<Int32> = []
    private var stopped = false
    private let group = DispatchGroup()

    /// Binds 127.0.0.1 (or ::1 with `ipv6`) on an ephemeral port and starts accepting.
    public init(script: Script = Script(), ipv6: Bool = false) throws {
        self.script = script
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ScriptedServerError("socket failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var port: UInt16 = 0
        if ipv6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_addr = in6addr_loopback
            let size = socklen_t(MemoryLayout<sockaddr_in6>.size)
            var len = size
            let ok = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, size) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &len) == 0
                }
            }
            guard ok else { close(fd); throw ScriptedServerError("bind/listen on ::1 failed") }
            port = UInt16(bigEndian: addr.sin6_port)
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let size = socklen_t(MemoryLayout<sockaddr_in>.size)
            var len = size
            let ok = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, size) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &len) == 0
                }
            }
            guard ok else { close(fd); throw ScriptedServerError("bind/listen on 127.0.0.1 failed") }
            port = UInt16(bigEndian: addr.sin_port)
        }
        self.port = port
        self.listenFD = fd
        let thread = Thread { [self] in acceptLoop() }
        group.enter()
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting, closes every connection and waits for the server threads.
    public func stop() {
        lock.lock()
        if stopped { lock.unlock(); return }
        stopped = true
        for fd in openFDs { shutdown(fd, Int32(SHUT_RDWR)) }
        lock.unlock()
        shutdown(listenFD, Int32(SHUT_RDWR))
        _ = group.wait(timeout: .now() + 5)
        close(listenFD)
    }

    /// Every byte received, one array per connection, in order.
    public var connections: [[UInt8]] { lock.lock(); defer { lock.unlock() }; return transcripts }

    /// The message data received: for DATA, the bytes between 354 and the final "." line
    /// (still dot-stuffed, CRLF included); for BDAT, the chunks joined.
    public var messages: [[UInt8]] { lock.lock(); defer { lock.unlock() }; return receivedMessages }

    /// Everything received on connection `index` as text (lossy UTF-8).
    public func transcript(_ index: Int = 0) -> String {
        let all = connections
        return index < all.count ? String(decoding: all[index], as: UTF8.self) : ""
    }

    /// How many times `event` occurred.
    public func count(_ event: String) -> Int { lock.lock(); defer { lock.unlock() }; return counters[event] ?? 0 }

    // MARK: internals

    private func acceptLoop() {
        defer { group.leave() }
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            lock.lock()
            if stopped { lock.unlock(); close(client); return }
            openFDs.insert(client)
            transcripts.append([])
            let index = transcripts.count - 1
            lock.unlock()
            group.enter()
            Thread { [self] in
                defer { group.leave() }
                var session = ScriptedSession(fd: client, index: index, server: self)
                session.run()
                lock.lock()
                openFDs.remove(client)
                lock.unlock()
                close(client)
            }.start()
        }
    }

    func record(_ bytes: ArraySlice<UInt8>, connection index: Int) {
        lock.lock()
        transcripts[index].append(contentsOf: bytes)
        lock.unlock()
    }

    func recordMessage(_ bytes: [UInt8]) {
        lock.lock()
        receivedMessages.append(bytes)
        lock.unlock()
    }

    /// The scripted step for the next occurrence of `event`, or nil for the default.
    func nextStep(_ event: String) -> ScriptStep? {
        lock.lock()
        defer { lock.unlock() }
        let n = counters[event] ?? 0
        counters[event] = n + 1
        guard let list = script.steps[event], n < list.count else { return nil }
        return list[n]
    }

    var ehloReply: String { lock.lock(); defer { lock.unlock() }; return script.ehloReply }

    var secondsPerReplyOctet: Double { lock.lock(); defer { lock.unlock() }; return script.secondsPerReplyOctet }

    var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
}

/// An error setting up the scripted server.
public struct ScriptedServerError: Error, CustomStringConvertible {
    /// What failed.
    public var description: String
    init(_ description: String) { self.description = description }
}
