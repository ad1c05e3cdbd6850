import Foundation
import XCTest

/// `sealctl cert list|show|check` and `sealctl smime verify` take the config as sealmail does
/// (DESIGN.md: `-C FILE` or `SEALMAIL_CONFIG`): without `--store` and `--ca` they judge
/// certificates by the config's `[smime] certificates` and `trust_anchors`, so that what
/// they say is what sealmail would do for the address.
final class SealctlConfigTests: PolicyTestCase {
    func testCertCommandsUseTheConfigsFolderAndAnchors() throws {
        try writePolicy(rules: "")
        let check = try sealctl(["cert", "check", Self.partner("a")])
        XCTAssertEqual(check.status, 0, check.stderrText)
        XCTAssertTrue(check.stdoutText.hasPrefix("use: \(pki.cert("a")) "), check.stdoutText)
        let expired = try sealctl(["cert", "check", Self.partner("expired")])
        XCTAssertEqual(expired.status, 67, "no usable certificate: \(expired.stdoutText) \(expired.stderrText)")
        XCTAssertTrue(expired.stdoutText.contains("not used: \(pki.cert("expired")): "), expired.stdoutText)

        // SEALMAIL_CONFIG instead of -C.
        let child = try Child(Binaries.sealctl, ["cert", "list"],
                              environment: childEnvironment(["SEALMAIL_CONFIG": configPath]), outputDir: dir)
        let list = child.wait()
        XCTAssertEqual(list.status, 0, list.stderrText)
        let lines = list.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix(pki.cert("a") + "\t") && $0.hasSuffix("\tusable") }, list.stdoutText)
        XCTAssertTrue(lines.contains { $0.hasPrefix(pki.cert("expired") + "\t") && !$0.hasSuffix("usable") }, list.stdoutText)
        XCTAssertFalse(list.stdoutText.contains("chain not checked"), "the config's anchors are used")

        let show = try sealctl(["cert", "show", Self.partner("c")])
        XCTAssertEqual(show.status, 0, show.stderrText)
        XCTAssertTrue(show.stdoutText.contains("file: \(pki.cert("c"))"), show.stdoutText)
    }

    /// Anchors that did not issue the certificates: the chain check fails, as it would for
    /// sealmail with that config.
    func testCertCheckJudgesTheChainByTheConfigsAnchors() throws {
        let other = try pki.outsider()
        try writePolicy(rules: "", smime: "trust_anchors = \"\(other.ca)\"", anchors: false)
        let check = try sealctl(["cert", "check", Self.partner("a")])
        XCTAssertEqual(check.status, 67, check.stdoutText + check.stderrText)
    }

    func testCertCommandsWithoutAFolderInTheConfigAreAConfigError() throws {
        try writeConfig()
        let r = try sealctl(["cert", "check", Self.partner("a")])
        XCTAssertEqual(r.status, 78, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("no [smime] certificates"), r.stderrText)
        // Named explicitly, the folder needs anchors too (no chain is judged without them).
        let explicit = try sealctl(["cert", "check", Self.partner("a"), "--store", pki.certificates])
        XCTAssertEqual(explicit.status, 64, explicit.stderrText)
        let withCA = try sealctl(["cert", "check", Self.partner("a"), "--store", pki.certificates, "--ca", pki.caCert])
        XCTAssertEqual(withCA.status, 0, withCA.stderrText)
    }

    /// `smime verify` without `--ca`: the config's trust_anchors; a config without them means
    /// the system's trust store, where the throwaway CA is not.
    func testVerifyUsesTheConfigsAnchors() throws {
        let content = dir + "/content.txt", signed = dir + "/signed.eml"
        try writeText(content, "Content-Type: text/plain\n\nsigned for sealctl\n")
        let sign = try Child("/usr/bin/openssl", ["cms", "-sign", "-in", content, "-out", signed, "-signer", pki.cert("sender"),
                                                  "-inkey", pki.key("sender"), "-md", "sha256"],
                             environment: childEnvironment(), outputDir: dir).wait()
        XCTAssertEqual(sign.status, 0, sign.stderrText)
        try writePolicy(rules: "")
        let verified = try sealctl(["smime", "verify", signed])
        XCTAssertEqual(verified.status, 0, verified.stderrText)
        XCTAssertTrue(verified.stdoutText.contains("Verification successful: 1 signer(s)"), verified.stdoutText)
        try writePolicy(rules: "", anchors: false)
        let system = try sealctl(["smime", "verify", signed])
        XCTAssertEqual(system.status, 65, "not a system CA: \(system.stdoutText) \(system.stderrText)")
    }
}
