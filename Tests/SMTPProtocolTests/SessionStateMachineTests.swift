import XCTest
import MailMessage
@testable import SMTPProtocol

/// Transcript tests for the session part of the state machine (greeting, EHLO/HELO,
/// STARTTLS, AUTH, commands, QUIT): one test per reachable transition.
final class SessionStateMachineTests: XCTestCase {
    func testGreetingThenEHLOThenReady() {
        var t = Transcript(plainConfig())
        XCTAssertEqual(t.machine.phase, .disconnected)
        let end = t.establish()
        XCTAssertEqual(end, .ready)
        XCTAssertEqual(t.sent, "EHLO client.test\r\n")
        XCTAssertEqual(t.machine.phase, .ready)
        XCTAssertTrue(t.machine.capabilities.pipelining)
        XCTAssertEqual(t.waits.first, .greeting)
    }

    func testGreetingRefused() {
        var t = Transcript(plainConfig())
        let permanent = failure(t.run(t.machine.connected(), ["554 5.7.1 go away"]))
        XCTAssertEqual(permanent?.kind, .greetingRejected)
        XCTAssertEqual(permanent?.isTransient, false)
        XCTAssertEqual(permanent?.reply?.code, 554)
        XCTAssertEqual(t.machine.phase, .closed)
        XCTAssertEqual(t.sent, "")
        var u = Transcript(plainConfig())
        XCTAssertEqual(failure(u.run(u.machine.connected(), ["421 busy"]))?.isTransient, true)
    }

    func testEHLORefusedFallsBackToHELO() {
        var t = Transcript(plainConfig())
        let end = t.run(t.machine.connected(), ["220 old", "502 what", "250 old.example"])
        XCTAssertEqual(end, .ready)
        XCTAssertEqual(t.sent, "EHLO client.test\r\nHELO client.test\r\n")
        XCTAssertFalse(t.machine.capabilities.isExtended)
    }

    func testHELORefused() {
        var t = Transcript(plainConfig())
        let f = failure(t.run(t.machine.connected(), ["220 old", "500 no", "550 no either"]))
        XCTAssertEqual(f?.kind, .heloRejected)
        XCTAssertEqual(f?.isTransient, false)
        var u = Transcript(plainConfig())
        XCTAssertEqual(failure(u.run(u.machine.connected(), ["220 old", "500 no", "421 bye"]))?.kind, .serviceClosing)
    }

    func testEHLOTransientFailures() {
        var t = Transcript(plainConfig())
        XCTAssertEqual(failure(t.run(t.machine.connected(), ["220 x", "421 4.3.2 shutting down"]))?.kind, .serviceClosing)
        var u = Transcript(plainConfig())
        let f = failure(u.run(u.machine.connected(), ["220 x", "451 later"]))
        XCTAssertEqual(f?.kind, .heloRejected)
        XCTAssertEqual(f?.isTransient, true)
    }

    func testSTARTTLSThenEHLOAgain() {
        var t = Transcript(plainConfig(tls: .startTLS))
        let end = t.run(t.machine.connected(), ["220 x", "250-x\n250 STARTTLS", "220 go ahead", "250-x\n250 AUTH PLAIN"])
        XCTAssertEqual(end, .ready)
        XCTAssertEqual(t.sent, "EHLO client.test\r\nSTARTTLS\r\n<TLS>EHLO client.test\r\n")
        XCTAssertTrue(t.machine.isEncrypted)
        XCTAssertFalse(t.machine.capabilities.startTLS, "capabilities from before TLS are forgotten")
        XCTAssertEqual(t.machine.capabilities.authMechanisms, ["PLAIN"])
    }

    func testSTARTTLSRequiredButNotOfferedNeverDowngrades() {
        var t = Transcript(plainConfig(tls: .startTLS))
        let f = failure(t.run(t.machine.connected(), ["220 x", "250-x\n250 PIPELINING"]))
        XCTAssertEqual(f?.kind, .startTLSUnavailable)
        XCTAssertEqual(t.sent, "EHLO client.test\r\n")
        var u = Transcript(plainConfig(tls: .startTLS))
        XCTAssertEqual(failure(u.run(u.machine.connected(), ["220 x", "500 no", "250 old"]))?.kind, .startTLSUnavailable)
    }

    func testSTARTTLSRefused() {
        var t = Transcript(plainConfig(tls: .startTLS))
        let f = failure(t.run(t.machine.connected(), ["220 x", "250-x\n250 STARTTLS", "454 4.7.0 TLS not available"]))
        XCTAssertEqual(f?.kind, .startTLSRejected)
        XCTAssertEqual(f?.isTransient, true)
        var u = Transcript(plainConfig(tls: .startTLS))
        XCTAssertEqual(failure(u.run(u.machine.connected(), ["220 x", "250-x\n250 STARTTLS", "421 bye"]))?.kind, .serviceClosing)
    }

    func testImplicitTLSIsEncryptedFromTheStart() {
        var t = Transcript(plainConfig(tls: .implicit, auth: .auto))
        let end = t.run(t.machine.connected(), ["220 x", "250-x\n250 AUTH PLAIN", "235 ok"])
        XCTAssertEqual(end, .ready)
        XCTAssertTrue(t.machine.isEncrypted)
        XCTAssertEqual(t.machine.authenticatedMechanism, .plain)
    }

    func testCredentialsNeverCrossAClearConnection() {
        var t = Transcript(plainConfig(auth: .auto))
        let f = failure(t.establish(ehlo: "250-x\n250 AUTH PLAIN LOGIN"))
        XCTAssertEqual(f?.kind, .plaintextAuthRefused)
        XCTAssertEqual(t.sent, "EHLO client.test\r\n", "nothing after EHLO")
    }

    func testAuthPlainRedactedInTrace() {
        var t = Transcript(plainConfig(auth: .mechanism(.plain), allowPlaintext: true))
        let end = t.establish(ehlo: "250-x\n250 AUTH LOGIN PLAIN")
        XCTAssertEqual(end, .send(SMTPOutput(bytes: Array("AUTH PLAIN AHVzZXIAcGFzcw==\r\n".utf8), trace: ["AUTH PLAIN <redacted>"]), .command))
        XCTAssertEqual(t.run(end, ["235 2.7.0 ok"]), .ready)
        XCTAssertFalse(t.trace.joined().contains("AHVzZXIAcGFzcw"))
        XCTAssertEqual(t.machine.authenticatedMechanism, .plain)
    }

    func testAuthLogin() {
        var t = Transcript(plainConfig(auth: .auto, allowPlaintext: true))
        let end = t.run(t.machine.connected(), ["220 x", "250-x\n250 AUTH=LOGIN", "334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 ok"])
        XCTAssertEqual(end, .ready)
        XCTAssertEqual(t.sent, "EHLO client.test\r\nAUTH LOGIN\r\ndXNlcg==\r\ncGFzcw==\r\n")
        XCTAssertEqual(t.trace, ["EHLO client.test", "AUTH LOGIN", "<redacted>", "<redacted>"])
    }

    func testAuthRejectedIsSoft() {
        var t = Transcript(plainConfig(auth: .auto, allowPlaintext: true))
        let f = failure(t.run(t.machine.connected(), ["220 x", "250-x\n250 AUTH PLAIN", "535 5.7.8 bad credentials"]))
        XCTAssertEqual(f?.kind, .authRejected)
        XCTAssertEqual(f?.reply?.code, 535)
        XCTAssertEqual(f?.isTransient, true)
        var u = Transcript(plainConfig(auth: .auto, allowPlaintext: true))
        XCTAssertEqual(failure(u.run(u.machine.connected(), ["220 x", "250-x\n250 AUTH PLAIN", "421 bye"]))?.kind, .serviceClosing)
    }

    func testAuthUnavailable() {
        var t = Transcript(plainConfig(auth: .auto, allowPlaintext: true))
        XCTAssertEqual(failure(t.establish(ehlo: "250-x\n250 PIPELINING"))?.kind, .authUnavailable)
        var u = Transcript(plainConfig(auth: .mechanism(.cramMD5), allowPlaintext: true))
        XCTAssertEqual(failure(u.establish(ehlo: "250-x\n250 AUTH CRAM-MD5"))?.kind, .authUnavailable, "no crypto injected")
        var v = Transcript(SMTPSessionConfiguration(heloName: "c", tls: .none, auth: .auto, credentials: nil, allowPlaintextAuth: true))
        XCTAssertEqual(failure(v.establish(ehlo: "250-x\n250 AUTH PLAIN"))?.kind, .authUnavailable)
    }

    func testAutoWithoutCryptoSkipsDigestMechanisms() {
        var t = Transcript(plainConfig(auth: .auto, allowPlaintext: true))
        _ = t.establish(ehlo: "250-x\n250 AUTH SCRAM-SHA-256 CRAM-MD5 PLAIN")
        XCTAssertTrue(t.sent.hasSuffix("AUTH PLAIN AHVzZXIAcGFzcw==\r\n"))
    }

    func testCramMD5Flow() {
        var t = Transcript(plainConfig(auth: .auto, allowPlaintext: true), crypto: FakeCrypto())
        let end = t.run(t.machine.connected(), ["220 x", "250-x\n250 AUTH CRAM-MD5 PLAIN", "334 PDEyMzQ1QGhvc3Q+", "235 ok"])
        XCTAssertEqual(end, .ready)
        let expected = "user " + String(repeating: "ab", count: 16)
        XCTAssertTrue(t.sent.hasSuffix("AUTH CRAM-MD5\r\n" + Base64.encode(Array(expected.utf8)) + "\r\n"), t.sent)
    }

    func testBadChallengeCancels() {
        var t = Transcript(plainConfig(auth: .mechanism(.login), allowPlaintext: true))
        let f = failure(t.run(t.machine.connected(), ["220 x", "250-x\n250 AUTH LOGIN", "334 !!notbase64", "501 cancelled"]))
        XCTAssertEqual(f?.kind, .saslFailed)
        XCTAssertTrue(t.sent.hasSuffix("AUTH LOGIN\r\n*\r\n"))
    }

    func testXOAUTH2ErrorFlow() {
        let config = SMTPSessionConfiguration(heloName: "c", tls: .implicit, auth: .auto,
                                              credentials: SASLCredentials(username: "u@x", secret: Array("tok".utf8), secretIsOAuthToken: true))
        var t = Transcript(config)
        let f = failure(t.run(t.machine.connected(), ["220 x", "250-x\n250 AUTH PLAIN XOAUTH2", "334 eyJzdGF0dXMiOiI0MDEifQ==", "535 5.7.8 no"]))
        XCTAssertEqual(f?.kind, .authRejected)
        let initial = Base64.encode(Array("user=u@x\u{1}auth=Bearer tok\u{1}\u{1}".utf8))
        XCTAssertEqual(t.sent, "EHLO c\r\nAUTH XOAUTH2 \(initial)\r\n\r\n")
    }

    func testSCRAMRequiresServerProof() {
        var t = Transcript(plainConfig(tls: .implicit, auth: .auto), crypto: FakeCrypto(), nonce: "abc")
        let serverFirst = Base64.encode(Array("r=abcdef,s=c2FsdA==,i=4096".utf8))
        let f = failure(t.run(t.machine.connected(), ["220 x", "250-x\n250 AUTH SCRAM-SHA-256", "334 \(serverFirst)", "235 ok"]))
        XCTAssertEqual(f?.kind, .saslFailed, "235 without a verified server signature")
        XCTAssertTrue(t.sent.contains("AUTH SCRAM-SHA-256 \(Base64.encode(Array("n,,n=user,r=abc".utf8)))\r\n"))
    }

    func testSCRAMBadNonceCancels() {
        var t = Transcript(plainConfig(tls: .implicit, auth: .auto), crypto: FakeCrypto(), nonce: "abc")
        let serverFirst = Base64.encode(Array("r=XYZdef,s=c2FsdA==,i=4096".utf8))
        let f = failure(t.run(t.machine.connected(), ["220 x", "250-x\n250 AUTH SCRAM-SHA-256", "334 \(serverFirst)", "501 cancelled"]))
        XCTAssertEqual(f?.kind, .saslFailed)
        XCTAssertTrue(t.sent.hasSuffix("*\r\n"))
    }

    func testCommandsInReadyState() {
        var t = Transcript(plainConfig())
        _ = t.establish()
        XCTAssertEqual(t.run(t.machine.command(.verify("postmaster")), ["252 maybe"]), .commandComplete(Transcript.reply("252 maybe")))
        XCTAssertEqual(t.run(t.machine.command(.expand("staff")), ["250-a@x\n250 b@x"]), .commandComplete(Transcript.reply("250-a@x\n250 b@x")))
        XCTAssertEqual(t.run(t.machine.command(.noop), ["250 ok"]), .commandComplete(Transcript.reply("250 ok")))
        XCTAssertEqual(t.run(t.machine.command(.raw("XYZZY")), ["502 no"]), .commandComplete(Transcript.reply("502 no")))
        XCTAssertTrue(t.sent.hasSuffix("VRFY postmaster\r\nEXPN staff\r\nNOOP\r\nXYZZY\r\n"))
        XCTAssertEqual(t.machine.phase, .ready)
        XCTAssertEqual(failure(t.machine.command(.raw("X\r\nQUIT")))?.kind, .invalidArgument)
        XCTAssertEqual(failure(t.run(t.machine.command(.noop), ["421 closing"]))?.kind, .serviceClosing)
    }

    func testQuit() {
        var t = Transcript(plainConfig())
        _ = t.establish()
        XCTAssertEqual(t.run(t.machine.quit(), ["221 bye"]), .close)
        XCTAssertEqual(t.machine.phase, .closed)
        XCTAssertTrue(t.sent.hasSuffix("QUIT\r\n"))
        XCTAssertEqual(t.machine.quit(), .close)
        var u = Transcript(plainConfig())
        XCTAssertEqual(u.machine.quit(), .close, "QUIT before connecting just closes")
    }

    func testMisuseIsReported() {
        var t = Transcript(plainConfig())
        XCTAssertEqual(failure(t.machine.tlsEstablished())?.kind, .invalidState)
        XCTAssertEqual(failure(t.machine.command(.noop))?.kind, .invalidState)
        XCTAssertEqual(failure(t.machine.beginTransaction(SMTPEnvelope(sender: nil, recipients: [SMTPRecipient("a@b")])))?.kind, .invalidState)
        XCTAssertEqual(failure(t.machine.receive(Transcript.reply("250 what")))?.kind, .unexpectedReply)
        var u = Transcript(plainConfig())
        _ = u.machine.connected()
        XCTAssertEqual(failure(u.machine.connected())?.kind, .invalidState)
        var v = Transcript(plainConfig())
        _ = v.establish()
        XCTAssertEqual(failure(v.machine.receive(Transcript.reply("250 unsolicited")))?.kind, .unexpectedReply)
        XCTAssertEqual(v.machine.phase, .closed)
        var w = Transcript(plainConfig())
        _ = w.establish()
        XCTAssertEqual(failure(w.machine.receive(Transcript.reply("421 4.4.2 idle timeout")))?.kind, .serviceClosing)
        var x = Transcript(plainConfig(tls: .startTLS))
        _ = x.run(x.machine.connected(), ["220 x", "250-x\n250 STARTTLS"])
        XCTAssertEqual(x.machine.receive(Transcript.reply("220 go")), .startTLS)
        XCTAssertEqual(x.machine.phase, .tlsHandshake)
        XCTAssertEqual(failure(x.machine.receive(Transcript.reply("250 during handshake")))?.kind, .unexpectedReply)
    }
}
