import Foundation
import XCTest
import PeerTestSupport

/// `sealctl smime verify` and `sealctl smime decrypt` on what other implementations send:
/// NSS (Thunderbird's engine, through cmsutil, framed as Thunderbird frames it), Bouncy Castle
/// (bcmail's SMIME generators and javax.mail) and gpgsm. Keys and certificates from the
/// throwaway PKI: `a@partner.example` signs, `c@partner.example` receives.
final class PeerMessageTests: PolicyTestCase {
    static let entity = "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + marker + "\r\nFrom the peer.\r\n"
    static let headers = ["From: a@partner.example", "To: c@partner.example", "Subject: from a peer"]

    func write(_ bytes: [UInt8], _ name: String) -> String {
        let path = dir + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    /// sealctl verifies `message` against the throwaway CA; returns the signed content.
    @discardableResult
    func assertVerifies(_ message: [UInt8], _ what: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let content = dir + "/content-\(UUID().uuidString)"
        let r = try sealctl(["smime", "verify", write(message, "signed-\(UUID().uuidString).eml"), "--ca", pki.caCert,
                             "--content", content], withConfig: false)
        XCTAssertEqual(r.status, 0, "\(what): \(r.stderrText)", file: file, line: line)
        XCTAssertTrue(r.stdoutText.contains("Verification successful: 1 signer(s)"), "\(what): \(r.stdoutText)", file: file, line: line)
        XCTAssertTrue(r.stdoutText.contains("a@partner.example"), "\(what): \(r.stdoutText)", file: file, line: line)
        let text = String(decoding: FileManager.default.contents(atPath: content) ?? Data(), as: UTF8.self)
        XCTAssertTrue(text.contains(Self.marker), "\(what): signed content \(text)", file: file, line: line)
        return text
    }

    /// sealctl decrypts `message` with c's key; returns the inner entity.
    func decrypted(_ message: [UInt8], _ what: String, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        let out = dir + "/inner-\(UUID().uuidString)"
        let r = try sealctl(["smime", "decrypt", write(message, "enc-\(UUID().uuidString).eml"), "--cert", pki.cert("c"),
                             "--key", pki.key("c"), "--out", out], withConfig: false)
        XCTAssertEqual(r.status, 0, "\(what): \(r.stderrText)", file: file, line: line)
        return Array(FileManager.default.contents(atPath: out) ?? Data())
    }

    func assertDecrypts(_ message: [UInt8], _ what: String, signed: Bool = false,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let inner = try decrypted(message, what, file: file, line: line)
        if signed {
            try assertVerifies(inner, what + ", the signature inside", file: file, line: line)
        } else {
            XCTAssertTrue(String(decoding: inner, as: UTF8.self).contains(Self.marker), "\(what): \(inner.count) bytes",
                          file: file, line: line)
        }
    }

    func testSealctlReadsWhatNSSSends() throws {
        let nss = try self.nss(keys: ["a"])
        try nss.importCertificate(pki.cert("c"), nickname: "c")
        let content = Array(Self.entity.utf8)
        let detached = try nss.sign(content, nickname: "a", detached: true)
        let signed = MIMEWrap.multipartSigned(content: content, signature: detached, headers: Self.headers)
        try assertVerifies(signed, "NSS multipart/signed")
        let opaque = try nss.sign(content, nickname: "a", detached: false)
        try assertVerifies(MIMEWrap.pkcs7Mime(opaque, smimeType: "signed-data", headers: Self.headers), "NSS signed-data")
        let enveloped = try nss.encrypt(content, recipients: ["c"])
        try assertDecrypts(MIMEWrap.pkcs7Mime(enveloped, smimeType: "enveloped-data", headers: Self.headers), "NSS enveloped-data")
        // Thunderbird's signed and encrypted mail: enveloped-data around multipart/signed.
        let signedEntity = MIMEWrap.multipartSigned(content: content, signature: detached, headers: [])
        let both = try nss.encrypt(signedEntity, recipients: ["c"])
        try assertDecrypts(MIMEWrap.pkcs7Mime(both, smimeType: "enveloped-data", headers: Self.headers),
                           "NSS signed then encrypted", signed: true)
    }

    func testSealctlReadsWhatBouncyCastleSends() throws {
        let bc = try bouncyCastle()
        let content = Array(Self.entity.utf8)
        for (opaque, pss) in [(false, false), (true, false), (false, true)] {
            let signed = try bc.sign(content, cert: pki.cert("a"), key: pki.key("a"), opaque: opaque, pss: pss, headers: Self.headers)
            try assertVerifies(signed, "Bouncy Castle \(opaque ? "signed-data" : "multipart/signed")\(pss ? ", PSS" : "")")
        }
        for (cipher, oaep) in [("aes-256-cbc", false), ("aes-128-cbc", false), ("aes-256-cbc", true), ("aes-256-gcm", false)] {
            let enveloped = try bc.encrypt(content, certs: [pki.cert("c")], oaep: oaep, cipher: cipher, headers: Self.headers)
            try assertDecrypts(enveloped, "Bouncy Castle \(cipher)\(oaep ? ", OAEP" : "")")
        }
        let signed = try bc.sign(content, cert: pki.cert("a"), key: pki.key("a"), headers: [])
        let both = try bc.encrypt(signed, certs: [pki.cert("c")], headers: Self.headers)
        try assertDecrypts(both, "Bouncy Castle signed then encrypted", signed: true)
    }

    func testSealctlReadsWhatGpgsmSends() throws {
        let gpg = try gpgsm()
        try gpg.importKey(cert: pki.cert("a"), key: pki.key("a"))
        try gpg.importCertificate(pki.cert("c"))
        let content = Array(Self.entity.utf8)
        let detached = try gpg.sign(content, signer: "a@partner.example", detached: true)
        try assertVerifies(MIMEWrap.multipartSigned(content: content, signature: detached, headers: Self.headers),
                           "gpgsm multipart/signed")
        let opaque = try gpg.sign(content, signer: "a@partner.example", detached: false)
        try assertVerifies(MIMEWrap.pkcs7Mime(opaque, smimeType: "signed-data", headers: Self.headers), "gpgsm signed-data")
        let enveloped = try gpg.encrypt(content, to: ["c@partner.example"])
        try assertDecrypts(MIMEWrap.pkcs7Mime(enveloped, smimeType: "enveloped-data", headers: Self.headers),
                           "gpgsm enveloped-data")
    }
}
