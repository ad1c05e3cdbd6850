import Foundation
import XCTest
import PeerTestSupport
import MailMessage
import SMTPProtocol
@testable import SMTPTransport

/// Interoperability with aiosmtpd (Debian's python3-aiosmtpd, run with /usr/bin/python3), a
/// server no one here wrote: STARTTLS, implicit TLS, AUTH PLAIN/LOGIN, certificate
/// verification against a CA made by the test, a wrong-host certificate, pinning.
/// One server per mode for the whole class; each is stopped by pid in class tearDown.
final class AiosmtpdInteropTests: XCTestCase {
    static let python = "/usr/bin/python3"
    static var pki: TestPKI?
    static var wrongHostServer: PeerProcess?
    static var servers: [String: PeerProcess] = [:]
    static var outputDirectory = ""
    static var setupError: Error?

    static let script = """
import os, ssl, sys, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

mode, port, cert, key, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
cafile = sys.argv[6] if len(sys.argv) > 6 else None

class Handler:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(outdir))
        with open(os.path.join(outdir, "msg%03d.eml" % n), "wb") as f:
            f.write(("FROM %s\\nTO %s\\nAUTH %s\\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos),
                                                    session.authenticated)).encode())
            f.write(envelope.original_content or envelope.content)
        return "250 2.0.0 Message accepted for delivery"

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"user" and auth_data.password == b"secret"
    return AuthResult(success=ok, handled=False)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
if mode == "tlsclient":
    # Implicit TLS that requires a client certificate issued by the test CA.
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile)
    mode = "tls"
# Implicit TLS: aiosmtpd only counts STARTTLS as TLS for auth_require_tls, so it is off there.
kw = dict(authenticator=authenticator, auth_require_tls=(mode == "starttls"))
if mode == "starttls":
    kw.update(tls_context=ctx, require_starttls=True)
elif mode == "tls":
    kw.update(ssl_context=ctx)
controller = Controller(Handler(), hostname="127.0.0.1", port=port, server_hostname="aiosmtpd.test", **kw)
controller.start()
threading.Event().wait()
"""

    override class func setUp() {
        super.setUp()
        do {
            guard FileManager.default.isExecutableFile(atPath: python) else { return }
            let check = Process()
            check.executableURL = URL(fileURLWithPath: python)
            check.arguments = ["-c", "import aiosmtpd"]
            check.standardError = FileHandle.nullDevice
            try check.run()
            check.waitUntilExit()
            guard check.terminationStatus == 0 else { return }
            let pki = try TestPKI()
            self.pki = pki
            outputDirectory = pki.directory + "/out"
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            try script.write(toFile: pki.directory + "/server.py", atomically: true, encoding: .utf8)
            for mode in ["starttls", "tls", "plain", "tlsclient"] {
                servers[mode] = try start(mode: mode, cert: pki.serverCert, key: pki.serverKey)
            }
            wrongHostServer = try start(mode: "tls", cert: pki.wrongCert, key: pki.wrongKey)
        } catch {
            setupError = error
        }
    }

    static func start(mode: String, cert: String, key: String) throws -> PeerProcess {
        let port = PeerProcess.freePort()
        return try PeerProcess(executable: python,
                               arguments: [pki!.directory + "/server.py", mode, String(port), cert, key, outputDirectory,
                                           pki!.caFile],
                               port: port)
    }

    override class func tearDown() {
        for server in servers.values { server.stop() }
        servers = [:]
        wrongHostServer?.stop()
        wrongHostServer = nil
        pki?.remove()
        super.tearDown()
    }

    private func server(_ mode: String) throws -> PeerProcess {
        if let error = Self.setupError { throw error }
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw XCTSkip("\(Self.python) is missing")
        }
        guard let server = Self.servers[mode] else { throw XCTSkip("python3-aiosmtpd is not installed for \(Self.python)") }
        return server
    }

    private func relay(_ mode: String, tls: SMTPTLSMode) throws -> SMTPRelay {
        var relay = localRelay(port: try server(mode).port, tls: tls, timeout: 10)
        relay.tlsSettings.caFile = Self.pki?.caFile
        return relay
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

    private func message(_ marker: String) -> [UInt8] {
        Array("From: a@client.test\nTo: b@example.test\nSubject: \(marker)\n\nbody \(marker)\n.dot line\n".utf8)
    }

    func testSTARTTLSWithVerificationAndAuth() throws {
        var relay = try relay("starttls", tls: .startTLS)
        relay.auth = .auto
        relay.user = "user"
        relay.secretProvider = { Array("secret".utf8) }
        let log = ObserverLog()
        let client = SMTPClient(relay: relay, observers: log.observers)
        try client.connect()
        XCTAssertNotNil(client.tlsDescription)
        XCTAssertEqual(client.authenticatedMechanism, .plain, "auto picks PLAIN over LOGIN")
        let marker = "starttls-\(UUID().uuidString)"
        let result = try client.send(envelope: envelope("b@example.test"), message: .bytes(message(marker)))
        client.quit()
        XCTAssertEqual(result.message.kind, .accepted)
        XCTAssertEqual(result.message.reply?.text, "2.0.0 Message accepted for delivery")
        let got = try XCTUnwrap(received(containing: marker))
        XCTAssertTrue(got.contains("AUTH True"), got)
        XCTAssertTrue(got.contains("\r\n.dot line\r\n"), "aiosmtpd removed the stuffing: \(got)")
        XCTAssertTrue(log.trace.contains(">>> STARTTLS"))
        XCTAssertTrue(log.trace.contains(">>> AUTH PLAIN <redacted>"))
        XCTAssertFalse(log.trace.joined().contains(Base64.encode(Array("\u{0}user\u{0}secret".utf8))))
    }

    func testAuthLoginAndWrongPassword() throws {
        var relay = try relay("starttls", tls: .startTLS)
        relay.auth = .mechanism(.login)
        relay.user = "user"
        relay.secretProvider = { Array("secret".utf8) }
        let client = SMTPClient(relay: relay)
        try client.connect()
        XCTAssertEqual(client.authenticatedMechanism, .login)
        client.quit()
        relay.secretProvider = { Array("wrong".utf8) }
        let bad = SMTPClient(relay: relay)
        let error = assertSMTPError(.authFailed) { try bad.connect() }
        XCTAssertEqual(error?.reply?.code, 535)
        XCTAssertEqual(error?.isTransient, true)
    }

    func testImplicitTLS() throws {
        var relay = try relay("tls", tls: .implicit)
        relay.auth = .auto
        relay.user = "user"
        relay.secretProvider = { Array("secret".utf8) }
        let client = SMTPClient(relay: relay)
        try client.connect()
        XCTAssertTrue(client.tlsDescription?.protocolName.hasPrefix("TLSv1.") ?? false)
        let marker = "implicit-\(UUID().uuidString)"
        let result = try client.send(envelope: envelope("b@example.test", "c@example.test"), message: .bytes(message(marker)))
        client.quit()
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.accepted, .accepted])
        XCTAssertTrue(received(containing: marker)?.contains("TO b@example.test,c@example.test") ?? false)
    }

    func testHostnameVerification() throws {
        var relay = try relay("tls", tls: .implicit)
        relay.host = "localhost"
        let client = SMTPClient(relay: relay)
        try client.connect()
        XCTAssertEqual(try client.noop().code, 250)
        client.quit()
        var wrong = relay
        wrong.tlsSettings.verifyName = "mail.example.org"
        assertSMTPError(.tlsVerification) { try SMTPClient(relay: wrong).connect() }
    }

    func testWrongHostCertificateFails() throws {
        _ = try server("tls")
        let port = try XCTUnwrap(Self.wrongHostServer?.port)
        var relay = localRelay(port: port, tls: .implicit, timeout: 10)
        relay.tlsSettings.caFile = Self.pki?.caFile
        let error = assertSMTPError(.tlsVerification) { try SMTPClient(relay: relay).connect() }
        XCTAssertEqual(error?.isTransient, true)
    }

    func testSystemStoreDoesNotTrustTheTestCA() throws {
        var relay = try relay("starttls", tls: .startTLS)
        relay.tlsSettings.caFile = nil
        assertSMTPError(.tlsVerification) { try SMTPClient(relay: relay).connect() }
    }

    func testPinning() throws {
        let pki = try XCTUnwrap(Self.pki)
        var relay = try relay("tls", tls: .implicit)
        relay.tlsSettings.verifyCertificate = false
        relay.tlsSettings.pinnedSHA256 = [try XCTUnwrap(SMTPTLSSettings.fingerprint(hex: try pki.fingerprint(pki.serverCert)))]
        let client = SMTPClient(relay: relay)
        try client.connect()
        client.quit()
        relay.tlsSettings.pinnedSHA256 = [try XCTUnwrap(SMTPTLSSettings.fingerprint(hex: try pki.fingerprint(pki.wrongCert)))]
        assertSMTPError(.tlsPinMismatch) { try SMTPClient(relay: relay).connect() }
    }

    func testClientCertificate() throws {
        let pki = try XCTUnwrap(Self.pki)
        var relay = try relay("tlsclient", tls: .implicit)
        relay.tlsSettings.clientCertificateFile = pki.clientCert
        relay.tlsSettings.clientKeyFile = pki.clientKey
        let client = SMTPClient(relay: relay)
        try client.connect()
        XCTAssertEqual(try client.noop().code, 250)
        client.quit()
        relay.tlsSettings.clientCertificateFile = nil
        relay.tlsSettings.clientKeyFile = nil
        // Without a certificate the server aborts the handshake (TLS 1.3 reports it on the
        // first read, so the error is the handshake's or the greeting's).
        XCTAssertThrowsError(try SMTPClient(relay: relay).connect()) { error in
            let code = (error as? SMTPError)?.code
            XCTAssertTrue([.tlsHandshake, .io, .connectionClosed].contains(code), "\(error)")
        }
        relay.tlsSettings.clientCertificateFile = pki.directory + "/missing.pem"
        assertSMTPError(.configuration) { try SMTPClient(relay: relay).connect() }
    }

    func testPlaintextAuthOnlyWhenAllowed() throws {
        var relay = try relay("plain", tls: .none)
        relay.auth = .auto
        relay.user = "user"
        relay.secretProvider = { Array("secret".utf8) }
        assertSMTPError(.plaintextAuthRefused) { try SMTPClient(relay: relay).connect() }
        relay.allowPlaintextAuth = true
        let client = SMTPClient(relay: relay)
        try client.connect()
        XCTAssertNil(client.tlsDescription)
        XCTAssertNotNil(client.authenticatedMechanism)
        client.quit()
    }

    func testSTARTTLSRequiredAgainstAServerWithoutIt() throws {
        let relay = try relay("tls", tls: .startTLS)
        // Talking STARTTLS to an implicit-TLS port: the greeting never comes in clear.
        var quick = relay
        quick.timeouts = .all(1)
        XCTAssertThrowsError(try SMTPClient(relay: quick).connect())
    }

    func testSMTPUTF8AndDSNAgainstAiosmtpd() throws {
        let relay = try relay("starttls", tls: .startTLS)
        let client = SMTPClient(relay: relay)
        try client.connect()
        XCTAssertTrue(client.capabilities.smtpUTF8)
        let marker = "utf8-\(UUID().uuidString)"
        var env = envelope("jörg@bücher.example")
        env.body = .eightBitMIME
        let result = try client.send(envelope: env, message: .bytes(message(marker)))
        client.quit()
        XCTAssertEqual(result.message.kind, .accepted)
        XCTAssertTrue(received(containing: marker)?.contains("TO jörg@bücher.example") ?? false)
    }
}
