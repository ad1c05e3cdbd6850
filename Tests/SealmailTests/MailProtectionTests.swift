import Foundation
import XCTest
import PeerTestSupport
import Sealmail

/// Signed and encrypted `Mail` (issue 12): Bcc recipients get copies of their own, each
/// encrypted only to its certificate; a recipient without a usable certificate stops the
/// send, naming each one; what arrives is opened by `openssl cms` and verified by gpgsm.
final class MailProtectionTests: XCTestCase {
    static var relay: CaptureRelay?
    static var pki: TestPKI?
    static var unavailable: String?

    override class func setUp() {
        do { pki = try TestPKI(); relay = try CaptureRelay() } catch { unavailable = "\(error)" }
    }

    override class func tearDown() { relay?.stop(); pki?.remove() }

    var relay: CaptureRelay { Self.relay! }
    var pki: TestPKI { Self.pki! }
    var dir = ""

    override func setUpWithError() throws {
        if let u = Self.unavailable { throw XCTSkip(u) }
        relay.clear()
        var template = Array("/tmp/sealmail-libsm-XXXXXX".utf8CString)
        dir = String(cString: mkdtemp(&template)!)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    var mailer: Mailer {
        var r = SMTPRelay(host: "127.0.0.1", port: relay.port, tls: .none, heloName: "client.example.com")
        r.timeouts = .all(30)
        return Mailer(relay: r)
    }

    func protectedMail() throws -> Mail {
        var mail = Mail(from: "Alice <alice@example.com>", subject: "Signed and sealed – Grüße")
        mail.to = ["Bob <bob@partner.example>"]
        mail.cc = ["carol@partner.example"]
        mail.bcc = ["audit@example.com"]
        mail.text = "Hello Bob,\nFrom here: the figures.\n"
        mail.attach(Array("a,b\n1,2\n".utf8), filename: "data.csv", contentType: "text/csv")
        mail.signer = try SigningIdentity.loadPEM(certificate: pki.cert("alice"), key: pki.key("alice"))
        mail.encryptionCertificates = try Certificate.load(contentsOf: pki.cert("bob"))
            + Certificate.load(contentsOf: pki.cert("carol")) + Certificate.load(contentsOf: pki.cert("audit"))
        return mail
    }

    /// The subject serials of the RecipientInfos of an enveloped message.
    func recipientSerials(_ data: [UInt8]) throws -> Set<String> {
        let p7m = dir + "/m.eml"
        FileManager.default.createFile(atPath: p7m, contents: Data(data))
        let text = String(decoding: try pki.openssl(["cms", "-cmsout", "-print", "-in", p7m]), as: UTF8.self)
        return Set(text.components(separatedBy: "\n").filter { $0.contains("serialNumber:") }
            .map { $0.components(separatedBy: "serialNumber:")[1].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "0x", with: "") })
    }

    func serial(_ name: String) throws -> String {
        let text = String(decoding: try pki.openssl(["x509", "-noout", "-serial", "-in", pki.cert(name)]), as: UTF8.self)
        return String(text.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("serial=".count))
    }

    /// Decrypts with a recipient's key and verifies the inner signature against the CA;
    /// returns the signed content.
    func open(_ data: [UInt8], as name: String) throws -> [UInt8] {
        let p7m = dir + "/in.eml"
        FileManager.default.createFile(atPath: p7m, contents: Data(data))
        let inner = try pki.openssl(["cms", "-decrypt", "-in", p7m, "-recip", pki.cert(name), "-inkey", pki.key(name)])
        let signed = dir + "/signed.eml"
        FileManager.default.createFile(atPath: signed, contents: Data(inner))
        return try pki.openssl(["cms", "-verify", "-in", signed, "-CAfile", pki.caCert, "-purpose", "smimesign"])
    }

    func testBccGetsItsOwnCopyEncryptedOnlyToItsCertificate() async throws {
        let report = try await mailer.send(try protectedMail())
        XCTAssertEqual(report.recipients.map(\.status), [.accepted, .accepted, .accepted])
        let copies = try relay.waitForMessages(2)
        XCTAssertEqual(copies.count, 2)
        let visible = try XCTUnwrap(copies.first { Set($0.rcptTos) == ["bob@partner.example", "carol@partner.example"] })
        let hidden = try XCTUnwrap(copies.first { $0.rcptTos == ["audit@example.com"] })
        XCTAssertEqual(try recipientSerials(visible.data), [try serial("bob"), try serial("carol")])
        XCTAssertEqual(try recipientSerials(hidden.data), [try serial("audit")], "the Bcc copy names no one else")
        for copy in [visible, hidden] {
            XCTAssertFalse(copy.text.lowercased().contains("audit@example.com"), "no header names the Bcc recipient")
            XCTAssertTrue(copy.fields("Content-Type").first?.contains("enveloped-data") ?? false, copy.headerText)
            XCTAssertFalse(copy.data.contains { $0 >= 0x80 })
        }
        XCTAssertThrowsError(try open(hidden.data, as: "bob"), "bob cannot open audit's copy")
        let content = String(decoding: try open(visible.data, as: "carol"), as: UTF8.self)
        XCTAssertTrue(content.contains("data.csv"), content)
        XCTAssertTrue(String(decoding: try open(hidden.data, as: "audit"), as: UTF8.self).contains("From here") ||
                      content.contains("=46rom here"), "the text is inside")
    }

    /// gpgsm, an implementation that shares no code with OpenSSL, verifies a signed copy.
    func testSignedOnlyVerifiesWithGpgsm() async throws {
        var mail = try protectedMail()
        mail.encryptionCertificates = []
        _ = try await mailer.send(mail)
        let m = try relay.waitForMessages(1)[0]
        XCTAssertEqual(Set(m.rcptTos), ["bob@partner.example", "carol@partner.example", "audit@example.com"], "signed only: one copy")
        XCTAssertTrue(m.fields("Content-Type").first?.hasPrefix("multipart/signed") ?? false, m.headerText)
        let gpgsm: GpgSM
        do { gpgsm = try GpgSM(trusting: pki.caCert) } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
        let (content, signature) = try XCTUnwrap(MIMESplit.signed(m.data))
        let run = try gpgsm.verify(signature: signature, content: content)
        XCTAssertEqual(run.status, 0, run.out + run.stderr)
        for status in ["GOODSIG", "VALIDSIG", "TRUST_FULLY"] {
            XCTAssertTrue(run.out.contains("[GNUPG:] \(status)"), "\(status) missing: \(run.out)")
        }
    }

    func testRecipientWithoutCertificateStopsEverything() async throws {
        var mail = try protectedMail()
        mail.bcc = ["audit@example.com", "nobody@partner.example"]
        mail.to += ["dave@partner.example"]
        do {
            _ = try await mailer.send(mail)
            XCTFail("sent without a certificate for every recipient")
        } catch let e as MailError {
            XCTAssertEqual(e.code, .missingCertificates)
            XCTAssertTrue(e.message.contains("<nobody@partner.example>"), e.message)
            XCTAssertTrue(e.message.contains("<dave@partner.example>"), e.message)
            XCTAssertFalse(e.message.contains("<bob@partner.example>"), e.message)
            XCTAssertTrue(e.isPermanent)
        }
        XCTAssertEqual(try relay.messages().count, 0, "nothing was sent to anyone")
    }

    /// A certificate that matches no recipient is added to every copy (encrypt-to-self).
    func testCertificateMatchingNoRecipientIsAddedToEveryCopy() async throws {
        var mail = try protectedMail()
        mail.encryptionCertificates += try Certificate.load(contentsOf: pki.cert("alice"))
        _ = try await mailer.send(mail)
        let copies = try relay.waitForMessages(2)
        for c in copies {
            XCTAssertTrue(try recipientSerials(c.data).contains(try serial("alice")), "\(c.rcptTos)")
        }
    }
}
