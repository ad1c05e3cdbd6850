import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
import MailPolicy
import MailQueue
@testable import SMIME
@testable import SendmailKit

/// A submission whose one copy is only signed is signed as the message arrives
/// (`Submission.writeSignedOnArrival`): one pass into the queue file. When the body turns out
/// to need a transfer encoding part way through, the part already written starts a canonical
/// copy and the copy is signed from it as before. Each queued message is checked by openssl:
/// the signature verifies and the signed entity holds the whole body.
final class SignOnArrivalTests: XCTestCase {
    var dir = ""
    let lab = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/reference/smime-vectors/lab/pki").standardized.path

    override func setUpWithError() throws {
        var template = Array("/tmp/sealmail-arrival-XXXXXX".utf8CString)
        dir = String(cString: try XCTUnwrap(mkdtemp(&template)))
        guard FileManager.default.fileExists(atPath: lab + "/bob.crt") else { throw XCTSkip("no lab PKI at \(lab)") }
        let key = try Data(contentsOf: URL(fileURLWithPath: lab + "/bob.key"))
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/bob.key", contents: key, attributes: [.posixPermissions: 0o600]))
        try FileManager.default.createDirectory(atPath: dir + "/certs", withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: lab + "/alice.crt", toPath: dir + "/certs/alice.crt")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// `encrypt`: also encrypted, for alice@example.test (the lab's certificate).
    func runtime(encrypt: Bool = false) throws -> Runtime {
        var text = """
        queue_dir = "\(dir)/q"
        aliases = "\(dir)/no-aliases"
        [smime]
        trust_anchors = "\(lab)/ca.crt"
        certificates = "\(dir)/certs"
        [[smime.sign]]
        from = ["*@example.test"]
        certificate = "\(lab)/bob.crt"
        key = "\(dir)/bob.key"
        users = ["*"]

        """
        if encrypt { text += "[[smime.encrypt]]\nto = [\"alice@example.test\"]\nmode = \"required\"\n" }
        var config = try ConfigParser.parse(text, path: "arrival.toml").get()
        config.localDelivery = LocalDelivery.none
        return Runtime(config: config, identity: SystemIdentity(uid: getuid(), user: "root", gecosName: "", nodeName: "host"),
                       hostname: "host.example.test", domain: "example.test")
    }

    /// Submits `message` (from a file, as `sealmail < file` reads it) and returns the queued
    /// message (after the envelope record).
    func submit(_ message: [UInt8], to recipient: String = "someone@partner.test", encrypt: Bool = false) throws -> [UInt8] {
        let input = dir + "/input"
        XCTAssertTrue(FileManager.default.createFile(atPath: input, contents: Data(message)))
        let fd = open(input, O_RDONLY)
        defer { close(fd) }
        let request = SubmissionRequest(sender: "bob@example.test", recipients: [recipient], ignoreDots: true)
        let outcome = try Submission.submit(request, runtime: try runtime(encrypt: encrypt), inputFD: fd)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/q/tmp"), [], "nothing left in tmp/")
        let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/q/messages/" + outcome.envelope.id)))
        let marker = Array("\nmessage\n".utf8)
        let at = try XCTUnwrap((0...(file.count - marker.count)).first { file[$0..<($0 + marker.count)].elementsEqual(marker) })
        return Array(file[(at + marker.count)...])
    }

    /// openssl's verification of a queued message (decrypted first with alice's key when
    /// `decrypt`): the signed entity it prints.
    func verify(_ message: [UInt8], decrypt: Bool = false) throws -> [UInt8] {
        var path = dir + "/queued.eml"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(message)))
        if decrypt {
            try openssl(["cms", "-decrypt", "-in", path, "-recip", lab + "/alice.crt", "-inkey", lab + "/alice.key",
                         "-out", dir + "/decrypted.eml"])
            path = dir + "/decrypted.eml"
        }
        try openssl(["cms", "-verify", "-in", path, "-CAfile", lab + "/ca.crt", "-purpose", "smimesign", "-out", dir + "/verified"])
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/verified")))
    }

    func openssl(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = arguments
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, "openssl \(arguments[0...1].joined(separator: " ")): \(text)")
    }

    static let header = "From: Bob <bob@example.test>\nTo: someone@partner.test\nSubject: arriving\n\n"

    /// About 3 MB of short lines (LF line ends, as programs write them).
    func body(_ special: (Int) -> String? = { _ in nil }) -> String {
        var text = ""
        for i in 0..<60_000 { text += (special(i) ?? "line \(i) of a message signed as it arrives") + "\n" }
        return text
    }

    func testPlainTextIsSignedAsItArrives() throws {
        let (signed, abandoned) = (ArrivalSigner.signedCount, ArrivalSigner.abandonedCount)
        let text = body()
        let queued = try submit(Array((Self.header + text).utf8))
        XCTAssertEqual(ArrivalSigner.signedCount, signed + 1, "signed in one pass")
        XCTAssertEqual(ArrivalSigner.abandonedCount, abandoned)
        let entity = try verify(queued)
        XCTAssertEqual(entity, Array(("Content-Type: text/plain; charset=us-ascii\r\n\r\n" + text.replacingOccurrences(of: "\n", with: "\r\n")).utf8))
        let head = String(decoding: queued.prefix(1500), as: UTF8.self)
        XCTAssertTrue(head.contains("\r\nMIME-Version: 1.0\r\n"
                                    + "Content-Type: multipart/signed;"), head)
    }

    /// An 8-bit line at 2.5 MB: the guess fails after the second thread started; the copy is
    /// signed again from a canonical copy, quoted-printable, and nothing is lost or doubled.
    func testABodyThatNeedsAnEncodingLateIsSignedFromACanonicalCopy() throws {
        let (signed, abandoned) = (ArrivalSigner.signedCount, ArrivalSigner.abandonedCount)
        let text = body { $0 == 50_000 ? "caf\u{e9} at line 50000" : nil }
        let queued = try submit(Array((Self.header + text).utf8))
        XCTAssertEqual(ArrivalSigner.abandonedCount, abandoned + 1, "the guess failed")
        XCTAssertEqual(ArrivalSigner.signedCount, signed)
        let entity = String(decoding: try verify(queued), as: UTF8.self)
        XCTAssertTrue(entity.hasPrefix("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                                       + "line 0 of a message"), String(entity.prefix(200)))
        XCTAssertTrue(entity.contains("\r\ncaf=C3=A9 at line 50000\r\nline 50001 of"))
        XCTAssertTrue(entity.hasSuffix("\r\nline 59999 of a message signed as it arrives\r\n"))
        XCTAssertEqual(entity.components(separatedBy: "\r\n").filter { $0.hasPrefix("line ") }.count, 59_999)
    }

    /// A multipart body is planned part by part from a file: the usual path, never the guess.
    func testMultipartIsNotSignedAsItArrives() throws {
        let (signed, abandoned) = (ArrivalSigner.signedCount, ArrivalSigner.abandonedCount)
        let message = "From: bob@example.test\nTo: someone@partner.test\nSubject: parts\nMIME-Version: 1.0\n"
            + "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nhello\n--b--\n"
        let entity = String(decoding: try verify(try submit(Array(message.utf8))), as: UTF8.self)
        XCTAssertTrue(entity.contains("\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"), entity)
        XCTAssertEqual(ArrivalSigner.signedCount, signed)
        XCTAssertEqual(ArrivalSigner.abandonedCount, abandoned)
    }

    /// Signed and encrypted: signed while the canonical copy is written, then encrypted
    /// around that signature; with an 8-bit line late in the body, signed in the protector's
    /// own pass instead. Both open in openssl with the whole body.
    func testSignedWhileTheCopyIsWrittenThenEncrypted() throws {
        for late8Bit in [false, true] {
            let (presigned, signed, abandoned) = (MessageProtector.presignedCount, ArrivalSigner.signedCount,
                                                  ArrivalSigner.abandonedCount)
            let text = body { late8Bit && $0 == 50_000 ? "caf\u{e9} at line 50000" : nil }
            let message = "From: Bob <bob@example.test>\nTo: alice@example.test\nSubject: both\n\n" + text
            let queued = try submit(Array(message.utf8), to: "alice@example.test", encrypt: true)
            XCTAssertTrue(String(decoding: queued.prefix(2000), as: UTF8.self).contains("smime-type=enveloped-data"))
            XCTAssertEqual(MessageProtector.presignedCount, presigned + (late8Bit ? 0 : 1), "8-bit: \(late8Bit)")
            XCTAssertEqual(ArrivalSigner.signedCount, signed + (late8Bit ? 0 : 1))
            XCTAssertEqual(ArrivalSigner.abandonedCount, abandoned + (late8Bit ? 1 : 0))
            let entity = String(decoding: try verify(queued, decrypt: true), as: UTF8.self)
            XCTAssertTrue(entity.hasSuffix("\r\nline 59999 of a message signed as it arrives\r\n"), String(entity.suffix(100)))
            XCTAssertEqual(entity.components(separatedBy: "\r\n").filter { $0.hasPrefix("line ") }.count, late8Bit ? 59_999 : 60_000)
            try FileManager.default.removeItem(atPath: dir + "/q")
        }
    }
}
