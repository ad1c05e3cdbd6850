import Foundation
import XCTest
import PeerTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `[[relay]] proxy` end to end with the built binary: `sealmail -odi` delivers through
/// microsocks (SOCKS5 with a password) to aiosmtpd; a wrong proxy password leaves the message
/// queued with a reason that says so; a malformed proxy URL is a config error on its line.
final class ProxyDeliveryTests: SealmailTestCase {
    private var relay: CaptureRelay?
    private var socks: PeerProcess?

    override func setUpWithError() throws {
        try super.setUpWithError()
        do {
            relay = try CaptureRelay()
            socks = try ProxyPeers.startMicrosocks(user: "mailer", password: "proxy-pass-1")
        } catch let missing as PeerUnavailable {
            throw XCTSkip(missing.description)
        }
    }

    override func tearDownWithError() throws {
        socks?.stop()
        relay?.stop()
        try super.tearDownWithError()
    }

    /// A config whose only relay is the capture relay, through the SOCKS5 proxy, with
    /// `password` in the proxy password file.
    private func configure(password: String) throws {
        let secret = dir + "/proxy.secret"
        try writeText(secret, password + "\n")
        chmod(secret, 0o600)  // a secret readable by others is refused (FileTrust)
        try writeConfig(extra: """
        [[relay]]
        host = "127.0.0.1"
        port = \(try XCTUnwrap(relay?.port))
        tls = "none"
        proxy = "socks5://127.0.0.1:\(try XCTUnwrap(socks?.port))"
        proxy_user = "mailer"
        proxy_password_file = "\(secret)"
        connect_timeout = 10
        command_timeout = 10
        """)
    }

    func testDeliveryThroughSOCKS5AndAWrongPasswordKeepsTheMessage() throws {
        try configure(password: "proxy-pass-1")
        let ok = try sealmail(["-odi", "-v", "-f", "sender@example.com", "-t"],
                              input: "To: rcpt@example.org\nSubject: via socks\n\nthrough the proxy\n")
        XCTAssertEqual(ok.status, 0, ok.stderrText)
        let got = try XCTUnwrap(relay).waitForMessages(1)
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got.first?.mailFrom, "sender@example.com")
        XCTAssertEqual(got.first?.rcptTos, ["rcpt@example.org"])
        XCTAssertTrue(got.first?.text.contains("through the proxy") ?? false)
        XCTAssertTrue(ok.stderrText.contains(">>> SOCKS5 username/password: <redacted>"), ok.stderrText)
        XCTAssertFalse(ok.stderrText.contains("proxy-pass-1"), "the password is never shown")
        XCTAssertEqual(queuedIDs, [])

        try configure(password: "proxy-pass-WRONG")
        let deferred = try sealmail(["-odi", "-v", "-f", "sender@example.com", "-t"],
                                    input: "To: rcpt@example.org\nSubject: wrong password\n\nstays queued\n")
        XCTAssertEqual(deferred.status, 0, "a deferral after queueing is a success: \(deferred.stderrText)")
        XCTAssertTrue(deferred.stderrText.contains("refused the username/password"), deferred.stderrText)
        XCTAssertFalse(deferred.stderrText.contains("proxy-pass-WRONG"), "the password is never shown")
        XCTAssertEqual(queuedIDs.count, 1, "the message stays queued")
        let json = try sealctl(["queue", "list", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.split(separator: 10).first ?? [])) as? [String: Any]
        XCTAssertEqual(object?["queue_name"] as? String, "deferred")
        let reason = ((object?["recipients"] as? [[String: Any]])?.first?["delay_reason"] as? String) ?? ""
        XCTAssertTrue(reason.contains("socks5 proxy 127.0.0.1:\(try XCTUnwrap(socks?.port)): the proxy refused the username/password"),
                      reason)
        XCTAssertEqual(try XCTUnwrap(relay).waitForMessages(2, timeout: 0.5).count, 1, "nothing more arrived")
    }

    func testMalformedProxyIsAConfigError() throws {
        try writeConfig(extra: """
        [[relay]]
        host = "smtp.example.org"
        proxy = "socks5://user:pw@proxy.example.org:1080"
        """)
        let r = try sealmail(["-odq", "-t"], input: "To: a@example.org\n\nx\n")
        XCTAssertEqual(r.status, 78, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("line 10: proxy = \"socks5://<redacted>@proxy.example.org:1080\": credentials do not go in the URL"),
                      r.stderrText)
        XCTAssertFalse(r.stderrText.contains("user:pw"), "no password in messages")
        XCTAssertEqual(queuedIDs, [])
    }
}
