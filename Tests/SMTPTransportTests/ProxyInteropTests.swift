import Foundation
import XCTest
import PeerTestSupport
import MailMessage
import SMTPProtocol
@testable import SMTPTransport

/// SMTP through proxies no one here wrote: Debian's microsocks (SOCKS5, RFC 1929) and
/// tinyproxy (HTTP CONNECT), to aiosmtpd, all on this machine and stopped by pid. TLS runs
/// through the tunnel and is checked against the relay's name. Also the failures: proxy
/// unreachable, credentials refused, CONNECT refused, a silent proxy (timeout, interrupt).
final class ProxyInteropTests: XCTestCase {
    static var pki: TestPKI?
    static var servers: [String: PeerProcess] = [:]
    static var outputDirectory = ""
    static var setupError: Error?

    /// aiosmtpd bound to every address of "localhost" (the proxy may pick either family).
    static let script = """
import os, ssl, sys, threading
from aiosmtpd.controller import Controller

mode, port, cert, key, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

class Handler:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(outdir))
        with open(os.path.join(outdir, "msg%03d.eml" % n), "wb") as f:
            f.write(("FROM %s\\nTO %s\\nTLS %s\\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos),
                                                   session.ssl is not None)).encode())
            f.write(envelope.original_content or envelope.content)
        return "250 2.0.0 Message accepted for delivery"

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
kw = {}
if mode == "starttls":
    kw.update(tls_context=ctx, require_starttls=True)
elif mode == "tls":
    kw.update(ssl_context=ctx)
controller = Controller(Handler(), hostname="localhost", port=port, server_hostname="aiosmtpd.test", **kw)
controller.start()
threading.Event().wait()
"""

    override class func setUp() {
        super.setUp()
        do {
            try Peers.requirePythonModule("aiosmtpd", package: "python3-aiosmtpd")
            let pki = try TestPKI()
            self.pki = pki
            outputDirectory = pki.directory + "/out"
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            try script.write(toFile: pki.directory + "/server.py", atomically: true, encoding: .utf8)
            // A certificate for the name "localhost" only (not 127.0.0.1), from the same CA.
            let openssl = "/usr/bin/openssl"
            try "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                .write(toFile: pki.directory + "/nameonly.ext", atomically: true, encoding: .utf8)
            try runTool(openssl, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                  "-keyout", "nameonly.key", "-out", "nameonly.csr", "-subj", "/CN=nameonly"], in: pki.directory)
            try runTool(openssl, ["x509", "-req", "-in", "nameonly.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                                  "-out", "nameonly.pem", "-days", "2", "-extfile", "nameonly.ext"], in: pki.directory)
            for (name, mode, cert, key) in [("plain", "plain", pki.serverCert, pki.serverKey),
                                            ("starttls", "starttls", pki.serverCert, pki.serverKey),
                                            ("tls", "tls", pki.serverCert, pki.serverKey),
                                            ("nameonly", "starttls", pki.directory + "/nameonly.pem", pki.directory + "/nameonly.key")] {
                let port = PeerProcess.freePort()
                servers[name] = try PeerProcess(executable: Peers.python,
                                                arguments: [pki.directory + "/server.py", mode, String(port), cert, key, outputDirectory],
                                                port: port)
            }
        } catch {
            setupError = error
        }
    }

    override class func tearDown() {
        for server in servers.values { server.stop() }
        servers = [:]
        pki?.remove()
        pki = nil
        super.tearDown()
    }

    private var proxies: [PeerProcess] = []

    override func tearDown() {
        for proxy in proxies { proxy.stop() }
        proxies = []
        super.tearDown()
    }

    // MARK: helpers

    /// The aiosmtpd of `mode`; skips when aiosmtpd is missing.
    private func server(_ mode: String) throws -> PeerProcess {
        if let error = Self.setupError {
            if let missing = error as? PeerUnavailable { throw XCTSkip(missing.description) }
            throw error
        }
        return try XCTUnwrap(Self.servers[mode])
    }

    /// Runs `start`, turning a missing proxy program into XCTSkip; the proxy stops in tearDown.
    private func startProxy(_ start: () throws -> PeerProcess) throws -> PeerProcess {
        do {
            let proxy = try start()
            proxies.append(proxy)
            return proxy
        } catch let missing as PeerUnavailable {
            throw XCTSkip(missing.description)
        }
    }

    private func microsocks(user: String? = nil, password: String? = nil) throws -> PeerProcess {
        try startProxy { try ProxyPeers.startMicrosocks(user: user, password: password) }
    }

    private func tinyproxy(allowing ports: [UInt16], basicAuth: (user: String, password: String)? = nil) throws -> PeerProcess {
        let directory = try XCTUnwrap(Self.pki?.directory)
        return try startProxy { try ProxyPeers.startTinyproxy(directory: directory, connectPorts: ports, basicAuth: basicAuth) }
    }

    private func relay(_ mode: String, host: String = "127.0.0.1", tls: SMTPTLSMode = .none,
                       proxy: SMTPProxy) throws -> SMTPRelay {
        var relay = localRelay(port: try server(mode).port, tls: tls, timeout: 10)
        relay.host = host
        relay.tlsSettings.caFile = Self.pki?.caFile
        relay.proxy = proxy
        return relay
    }

    private func proxy(_ kind: SMTPProxy.Kind, _ process: PeerProcess, user: String? = nil,
                       password: String? = nil) -> SMTPProxy {
        var p = SMTPProxy(kind: kind, host: "127.0.0.1", port: process.port)
        p.user = user
        if let password { p.passwordProvider = { Array(password.utf8) } }
        return p
    }

    private func received(containing marker: String) -> String? {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: Self.outputDirectory)) ?? []
        for file in files {
            if let text = try? String(contentsOfFile: Self.outputDirectory + "/" + file, encoding: .utf8), text.contains(marker) {
                return text
            }
        }
        return nil
    }

    /// Sends one message with a fresh marker; returns what aiosmtpd stored.
    @discardableResult
    private func deliver(_ relay: SMTPRelay, log: ObserverLog = ObserverLog(),
                         file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let client = SMTPClient(relay: relay, observers: log.observers)
        try client.connect()
        XCTAssertEqual(client.tlsDescription != nil, relay.tls != .none, "TLS up as configured", file: file, line: line)
        let marker = "proxy-\(UUID().uuidString)"
        let body = Array("From: a@client.test\nTo: b@example.test\nSubject: \(marker)\n\nbody \(marker)\n.dot line\n".utf8)
        let result = try client.send(envelope: envelope("b@example.test", "c@example.test"), message: .bytes(body))
        client.quit()
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.accepted, .accepted], file: file, line: line)
        let got = try XCTUnwrap(received(containing: marker), "the message did not arrive", file: file, line: line)
        XCTAssertTrue(got.hasPrefix("FROM sender@client.test\nTO b@example.test,c@example.test\n"), got, file: file, line: line)
        XCTAssertTrue(got.contains("\r\n.dot line\r\n"), got, file: file, line: line)
        return got
    }

    // MARK: SOCKS5

    func testSOCKS5WithUsernamePasswordDelivers() throws {
        let socks = try microsocks(user: "alice", password: "s3cret-pw")
        let relay = try relay("plain", proxy: proxy(.socks5, socks, user: "alice", password: "s3cret-pw"))
        let log = ObserverLog()
        try deliver(relay, log: log)
        let trace = log.trace
        XCTAssertEqual(Array(trace.prefix(5)), [
            ">>> SOCKS5 methods: no authentication, username/password", "<<< SOCKS5 method: username/password",
            ">>> SOCKS5 username/password: <redacted>", "<<< SOCKS5 authentication: accepted",
            ">>> SOCKS5 CONNECT 127.0.0.1:\(relay.port)",
        ])
        guard trace.count > 6 else { return XCTFail("\(trace)") }
        XCTAssertTrue(trace[5].hasPrefix("<<< SOCKS5 reply: 00 succeeded"), trace[5])
        XCTAssertTrue(trace[6].hasPrefix("<<< 220 "), "the greeting comes through the tunnel: \(trace)")
        XCTAssertFalse(trace.joined().contains("s3cret"))
        XCTAssertTrue(log.statuses.contains(.proxyTunnelOpened(proxy: "socks5 proxy 127.0.0.1:\(socks.port)")))
        let connected = log.statuses.compactMap { status -> RelayResult? in
            if case .connected(let r) = status { return r }
            return nil
        }
        XCTAssertEqual(connected.map(\.description), ["127.0.0.1[via socks5 127.0.0.1:\(socks.port)]:\(relay.port)"])
    }

    /// socks5: the name is resolved here, each address tried through the proxy; socks5h: the
    /// proxy gets the name.
    func testSOCKS5ResolvesHereAndSOCKS5hAtTheProxy() throws {
        let socks = try microsocks()
        let local = ObserverLog()
        try deliver(try relay("plain", host: "localhost", proxy: proxy(.socks5, socks)), log: local)
        XCTAssertTrue(local.trace.contains { $0.hasPrefix(">>> SOCKS5 CONNECT 127.0.0.1:") || $0.hasPrefix(">>> SOCKS5 CONNECT [::1]:") },
                      "\(local.trace)")
        let remote = ObserverLog()
        let relay = try relay("plain", host: "localhost", proxy: proxy(.socks5h, socks))
        try deliver(relay, log: remote)
        XCTAssertTrue(remote.trace.contains(">>> SOCKS5 CONNECT localhost:\(relay.port)"), "\(remote.trace)")
    }

    /// STARTTLS through the tunnel: SNI and verification against the relay's name. The
    /// "nameonly" server's certificate names localhost but not 127.0.0.1: a relay called
    /// 127.0.0.1 behind a proxy called localhost must fail (the proxy's name is not checked).
    func testSTARTTLSThroughSOCKS5IsVerifiedAgainstTheRelaysName() throws {
        let socks = try microsocks(user: "alice", password: "pw")
        let got = try deliver(try relay("starttls", host: "localhost", tls: .startTLS,
                                        proxy: proxy(.socks5h, socks, user: "alice", password: "pw")))
        XCTAssertTrue(got.contains("\nTLS True\n"), got)

        let client = SMTPClient(relay: try relay("nameonly", host: "localhost", tls: .startTLS,
                                                 proxy: proxy(.socks5, socks, user: "alice", password: "pw")))
        try client.connect()
        XCTAssertNotNil(client.tlsDescription)
        client.quit()

        var byAddress = proxy(.socks5, socks, user: "alice", password: "pw")
        byAddress.host = "localhost"
        let relay = try relay("nameonly", host: "127.0.0.1", tls: .startTLS, proxy: byAddress)
        let error = assertSMTPError(.tlsVerification) { try SMTPClient(relay: relay).connect() }
        XCTAssertEqual(error?.isTransient, true)
    }

    func testWrongSOCKS5PasswordIsAClearTransientError() throws {
        let socks = try microsocks(user: "alice", password: "right")
        let log = ObserverLog()
        let relay = try relay("plain", proxy: proxy(.socks5, socks, user: "alice", password: "wrong-pw"))
        let error = assertSMTPError(.proxyAuthFailed) { try SMTPClient(relay: relay, observers: log.observers).connect() }
        XCTAssertEqual(error?.isTransient, true)
        // RFC 1929: any status but 00 is a refusal (microsocks sends 02).
        XCTAssertTrue(error?.message.hasPrefix(
            "socks5 proxy 127.0.0.1:\(socks.port): the proxy refused the username/password (RFC 1929 status ") ?? false,
                      "\(String(describing: error))")
        XCTAssertNotEqual(error?.socksReplyCode, 0)
        XCTAssertFalse(log.trace.joined().contains("wrong-pw"))

        let anonymous = try self.relay("plain", proxy: proxy(.socks5, socks))
        let required = assertSMTPError(.proxyAuthFailed) { try SMTPClient(relay: anonymous).connect() }
        XCTAssertTrue(required?.message.contains("wants authentication") ?? false, "\(String(describing: required))")
    }

    func testSOCKS5ProxyThatCannotReachTheRelay() throws {
        let socks = try microsocks()
        var relay = try relay("plain", proxy: proxy(.socks5, socks))
        relay.port = PeerProcess.freePort()  // nothing listens there
        let error = assertSMTPError(.proxyRefused) { try SMTPClient(relay: relay).connect() }
        XCTAssertEqual(error?.isTransient, true)
        XCTAssertNotNil(error?.socksReplyCode)
        XCTAssertTrue(error?.message.contains("refused the CONNECT to 127.0.0.1:\(relay.port): SOCKS5 reply ") ?? false,
                      "\(String(describing: error))")
    }

    // MARK: HTTP CONNECT

    func testHTTPConnectThroughTinyproxy() throws {
        let plainPort = try server("plain").port, tlsPort = try server("tls").port
        let http = try tinyproxy(allowing: [plainPort, tlsPort])
        let log = ObserverLog()
        let relay = try relay("plain", host: "localhost", proxy: proxy(.http, http))
        try deliver(relay, log: log)
        XCTAssertEqual(Array(log.trace.prefix(3)), [">>> CONNECT localhost:\(plainPort) HTTP/1.1", ">>> Host: localhost:\(plainPort)",
                                                   "<<< HTTP/1.0 200 Connection established"])
        // Implicit TLS through the tunnel, verified against the relay's name (aiosmtpd marks
        // only STARTTLS sessions; deliver() checks the client's side).
        try deliver(try self.relay("tls", host: "localhost", tls: .implicit, proxy: proxy(.http, http)))
    }

    func testTinyproxyBasicAuthAndItsRefusals() throws {
        let plainPort = try server("plain").port
        let http = try tinyproxy(allowing: [plainPort], basicAuth: ("alice", "open-sesame"))
        let log = ObserverLog()
        try deliver(try relay("plain", proxy: proxy(.http, http, user: "alice", password: "open-sesame")), log: log)
        XCTAssertTrue(log.trace.contains(">>> Proxy-Authorization: Basic <redacted>"), "\(log.trace)")
        XCTAssertFalse(log.trace.joined().contains(Base64.encode(Array("alice:open-sesame".utf8))))

        let wrong = try relay("plain", proxy: proxy(.http, http, user: "alice", password: "guess"))
        let refused = assertSMTPError(.proxyAuthFailed) { try SMTPClient(relay: wrong).connect() }
        XCTAssertEqual(refused?.isTransient, true)
        // tinyproxy answers 401 where RFC 9110 says 407: either is the proxy's refusal.
        let status = refused?.httpStatusLine ?? ""
        XCTAssertTrue(status.contains(" 401 ") || status.contains(" 407 "), "\(String(describing: refused))")
        XCTAssertTrue(refused?.message.contains("the proxy refused the credentials") ?? false, "\(String(describing: refused))")
        let anonymous = try relay("plain", proxy: proxy(.http, http))
        let required = assertSMTPError(.proxyAuthFailed) { try SMTPClient(relay: anonymous).connect() }
        XCTAssertTrue(required?.message.contains("the proxy wants authentication") ?? false, "\(String(describing: required))")

        // A port that tinyproxy's ConnectPort does not allow: the CONNECT is refused.
        var other = try relay("plain", proxy: proxy(.http, http, user: "alice", password: "open-sesame"))
        other.port = try server("starttls").port
        let forbidden = assertSMTPError(.proxyRefused) { try SMTPClient(relay: other).connect() }
        XCTAssertTrue(forbidden?.httpStatusLine?.contains(" 403 ") ?? false, "\(String(describing: forbidden))")
    }

    // MARK: no proxy there, a silent proxy

    func testProxyUnreachable() throws {
        let port = PeerProcess.freePort()
        var relay = localRelay(port: 25, timeout: 5)
        relay.proxy = SMTPProxy(kind: .http, host: "127.0.0.1", port: port)
        let error = assertSMTPError(.proxyUnreachable) { try SMTPClient(relay: relay).connect() }
        XCTAssertEqual(error?.isTransient, true)
        XCTAssertTrue(error?.message.hasPrefix("cannot reach the http proxy 127.0.0.1:\(port): connect to [127.0.0.1]:\(port): ") ?? false,
                      "\(String(describing: error))")
    }

    /// A proxy that accepts the connection and never answers: the connect timeout bounds the
    /// handshake, and interrupt() ends it at once.
    func testSilentProxyTimesOutAndIsInterruptible() throws {
        let listener = try SilentListener()
        defer { listener.close() }
        var relay = localRelay(port: 25, timeout: 30)
        relay.timeouts.connect = 1
        relay.proxy = SMTPProxy(kind: .socks5h, host: "127.0.0.1", port: listener.port)
        var start = Date()
        let timeout = assertSMTPError(.timeout) { try SMTPClient(relay: relay).connect() }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(timeout?.message, "timed out during the handshake with the socks5h proxy 127.0.0.1:\(listener.port)")

        relay.timeouts.connect = 30
        let client = SMTPClient(relay: relay)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { client.interrupt() }
        start = Date()
        assertSMTPError(.interrupted) { try client.connect() }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }
}

/// A listening socket on 127.0.0.1 that never accepts: the kernel completes connections to it,
/// and nothing is ever said.
private final class SilentListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound, listen(fd, 8) == 0 else { throw PeerError("cannot listen on 127.0.0.1") }
        port = UInt16(bigEndian: addr.sin_port)
    }

    func close() { Glibc.close(fd) }
}
