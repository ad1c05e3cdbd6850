import Foundation
import XCTest
import PeerTestSupport

/// The `[smime]` options beyond the rules, end to end through `sealmail -odi`, aiosmtpd and
/// `openssl cms` (README "S/MIME policy"): RFC 9788 header protection (`header_protection`),
/// the subject tag that asks for encryption (`secure_tag`), and the signer's certificate
/// judged against the trust anchors before anything is signed.
final class PolicyOptionsTests: PolicyTestCase {
    /// A message with a Subject and a Keywords field (which hcp_baseline keeps inside only).
    func keywordMessage(to: [String], subject: String) -> String {
        "From: Sender <\(Self.sender)>\nTo: \(to.joined(separator: ", "))\nSubject: \(subject)\nKeywords: merger\n\n" + Self.body
    }

    /// The signed entity of a multipart/signed message, after openssl has verified the
    /// signature over exactly these bytes against the throwaway CA.
    func verifiedEntity(_ signed: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> (header: String, text: String) {
        _ = try openssl.verify(signed)
        let entity = try XCTUnwrap(MIMESplit.signed(signed), "not multipart/signed", file: file, line: line).content
        return (MIMESplit.headerAndBody(entity).header, String(decoding: entity, as: UTF8.self))
    }

    // MARK: header protection

    /// `header_protection = true`: a's encrypted copy shows `Subject: [...]` outside, and no
    /// Keywords; decrypted, its signed entity is marked `hp="cipher"` and carries the real
    /// Subject and Keywords and an HP-Outer record of each field left outside. b (no
    /// certificate) gets a signed copy whose outer header is unchanged and whose entity is
    /// marked `hp="clear"` with the fields copied inside and no HP-Outer.
    func testHeaderProtectionHidesTheSubjectOfEncryptedCopies() throws {
        try writePolicy(rules: signRule() + encryptRules([(["*"], "opportunistic")]), smime: "header_protection = true")
        let a = Self.partner("a"), b = Self.partner("b")
        try deliver(keywordMessage(to: [a, b], subject: "Merger terms"))
        let copies = try relay.waitForMessages(2)

        let forA = try copy(for: [a], in: copies)
        XCTAssertEqual(forA.fields("Subject"), ["[...]"], forA.headerText)
        XCTAssertEqual(forA.fields("Keywords"), [], forA.headerText)
        XCTAssertEqual(forA.fields("To"), [a + ", " + b])
        XCTAssertFalse(forA.text.contains("Merger terms"), "the real Subject travels only inside the encryption")
        let decrypted = try openssl.decrypt(forA.data, cert: pki.cert("a"), key: pki.key("a"))
        let inner = try verifiedEntity(decrypted)
        XCTAssertTrue(inner.header.contains("; hp=\"cipher\""), inner.header)
        for field in ["Subject: Merger terms", "Keywords: merger", "From: Sender <\(Self.sender)>",
                      "HP-Outer: Subject: [...]", "HP-Outer: From: Sender <\(Self.sender)>", "HP-Outer: To: \(a), \(b)"] {
            XCTAssertTrue(inner.header.contains(field + "\r\n"), "\(field) inside: \(inner.header)")
        }
        XCTAssertFalse(inner.header.contains("HP-Outer: Keywords"), "Keywords was removed outside, so no HP-Outer: \(inner.header)")
        XCTAssertTrue(inner.text.contains(Self.marker))

        let forB = try copy(for: [b], in: copies)
        XCTAssertEqual(forB.fields("Subject"), ["Merger terms"], "signed only: the outer header is unchanged")
        XCTAssertEqual(forB.fields("Keywords"), ["merger"])
        let signed = try verifiedEntity(forB.data)
        XCTAssertTrue(signed.header.contains("; hp=\"clear\""), signed.header)
        XCTAssertTrue(signed.header.contains("Subject: Merger terms\r\n"), signed.header)
        XCTAssertFalse(signed.header.contains("HP-Outer"), signed.header)
    }

    /// Off in `[smime]`, on for a's rule: a's copy has `[...]`, c's (another rule) the real
    /// Subject; so they cannot share a copy, and each copy has one RecipientInfo.
    func testHeaderProtectionPerRule() throws {
        let a = Self.partner("a"), c = Self.partner("c")
        try writePolicy(rules: signRule() + """

            [[smime.encrypt]]
            to = ["\(a)"]
            mode = "opportunistic"
            header_protection = true
            """ + encryptRules([(["*"], "opportunistic")]), smime: "header_protection = false")
        try deliver(keywordMessage(to: [a, c], subject: "Merger terms"))
        let copies = try relay.waitForMessages(2)
        let forA = try copy(for: [a], in: copies), forC = try copy(for: [c], in: copies)
        XCTAssertEqual(forA.fields("Subject"), ["[...]"])
        XCTAssertEqual(forC.fields("Subject"), ["Merger terms"])
        XCTAssertEqual(try openssl.recipientInfos(forA.data).identified, [try pki.issuerSerial("a")])
        XCTAssertEqual(try openssl.recipientInfos(forC.data).identified, [try pki.issuerSerial("c")])
        let innerC = try verifiedEntity(try openssl.decrypt(forC.data, cert: pki.cert("c"), key: pki.key("c")))
        XCTAssertFalse(innerC.header.contains("hp="), "no header protection for c: \(innerC.header)")
    }

    // MARK: the subject tag

    /// `[SECURE]` in the Subject, with a rule that says `never` for partner.example: every
    /// recipient is encrypted to anyway, in one copy, and the tag is gone from the Subject
    /// outside and (with header protection) inside.
    func testSecureTagEncryptsForEveryoneAndIsRemoved() throws {
        try writePolicy(rules: signRule() + encryptRules([(["*@partner.example"], "never")]),
                        smime: "secure_tag = \"[secure]\"\nheader_protection = true")
        let a = Self.partner("a"), c = Self.partner("c")
        try deliver(keywordMessage(to: [a, c], subject: "Re: [SECURE] salaries"))
        let copies = try relay.waitForMessages(1)
        XCTAssertEqual(copies.count, 1)
        let both = try copy(for: [a, c], in: copies)
        XCTAssertEqual(Set(try openssl.recipientInfos(both.data).identified), [try pki.issuerSerial("a"), try pki.issuerSerial("c")])
        XCTAssertEqual(both.fields("Subject"), ["[...]"])
        XCTAssertNil(both.text.range(of: "secure]", options: .caseInsensitive))
        let inner = try verifiedEntity(try openssl.decrypt(both.data, cert: pki.cert("c"), key: pki.key("c")))
        XCTAssertTrue(inner.header.contains("Subject: Re: salaries\r\n"), inner.header)
        XCTAssertNil(inner.text.range(of: "[secure]", options: .caseInsensitive), inner.header)
    }

    /// The tag without header protection and without any encrypt rule: a's copy is
    /// encrypted, its Subject (the only one) without the tag.
    func testSecureTagAloneEncryptsAndStripsTheOuterSubject() throws {
        try writePolicy(rules: signRule(), smime: "secure_tag = \"[secure]\"")
        let a = Self.partner("a")
        try deliver(keywordMessage(to: [a], subject: "[secure] salaries"))
        let forA = try copy(for: [a], in: try relay.waitForMessages(1))
        XCTAssertTrue(forA.fields("Content-Type").first?.contains("smime-type=enveloped-data") ?? false, forA.headerText)
        XCTAssertEqual(forA.fields("Subject"), ["salaries"])
        let inner = try openssl.decrypt(forA.data, cert: pki.cert("a"), key: pki.key("a"))
        XCTAssertTrue(String(decoding: try openssl.verify(inner).content, as: UTF8.self).contains(Self.marker))
    }

    /// A tagged message to b (no certificate) beside a: refused as a whole, exit 69, one
    /// line for b naming the tag, nothing queued, nothing at the relay. Untagged, the same
    /// message goes (a encrypted, b signed).
    func testSecureTagRefusesRecipientsWithoutCertificate() throws {
        try writePolicy(rules: signRule() + encryptRules([(["*"], "opportunistic")]), smime: "secure_tag = \"[secure]\"")
        let a = Self.partner("a"), b = Self.partner("b")
        let r = try sealmail(["-odi", "-t", "-i", "-f", Self.sender], input: keywordMessage(to: [a, b], subject: "[Secure] salaries"))
        try assertRefusedAndNothingSent(r, status: 69)
        let named = lines(naming: b, in: r)
        XCTAssertEqual(named.count, 1, r.stderrText)
        XCTAssertTrue(named.first?.contains("[secure] tag in the Subject") ?? false, r.stderrText)
        XCTAssertTrue(named.first?.contains("no certificate") ?? false, r.stderrText)
        XCTAssertEqual(lines(naming: a, in: r), [], r.stderrText)

        try deliver(keywordMessage(to: [a, b], subject: "salaries"))
        XCTAssertEqual(try relay.waitForMessages(2).count, 2)
    }

    /// `sealctl policy explain --subject`: the tag's effect, the Subject as it will be sent,
    /// and the refusal for b.
    func testPolicyExplainShowsTheTag() throws {
        try writePolicy(rules: signRule() + encryptRules([(["*"], "opportunistic")]),
                        smime: "secure_tag = \"[secure]\"\nheader_protection = true")
        let a = Self.partner("a"), b = Self.partner("b")
        let ok = try sealctl(["policy", "explain", "--from", Self.sender, "--to", a, "--subject", "Re: [secure] salaries"])
        XCTAssertEqual(ok.status, 0, ok.stderrText)
        XCTAssertTrue(ok.stdoutText.contains("subject tag [secure]: every recipient must be encrypted; the Subject is sent as \"Re: salaries\""), ok.stdoutText)
        XCTAssertTrue(ok.stdoutText.contains("header protection (RFC 9788): header fields inside the encryption, outer Subject \"[...]\""), ok.stdoutText)
        XCTAssertEqual(ExplainedPlan(ok.stdoutText).copies.map(\.encryptedTo), [[pki.cert("a")]], ok.stdoutText)

        let refused = try sealctl(["policy", "explain", "--from", Self.sender, "--to", a, "--to", b, "--subject", "[secure] salaries"])
        XCTAssertEqual(refused.status, 69, refused.stdoutText)
        XCTAssertTrue(refused.stdoutText.contains("REFUSED"), refused.stdoutText)
        XCTAssertTrue(refused.stdoutText.contains("<\(b)>: encryption required by the [secure] tag in the Subject"), refused.stdoutText)

        let untagged = try sealctl(["policy", "explain", "--from", Self.sender, "--to", a, "--to", b, "--subject", "salaries"])
        XCTAssertEqual(untagged.status, 0, untagged.stdoutText)
    }

    // MARK: the signer's certificate

    /// A signer certificate from another CA (valid dates, right purposes): sealmail refuses
    /// to sign with it, exit 78, naming the file and the reason, and sends nothing; giving
    /// that CA as the rule's `chain` changes nothing (the chain must end at an anchor).
    /// `sealctl config check` reports it on the rule's line.
    func testSignerFromAnotherCAIsRefused() throws {
        let outsider = try pki.outsider()
        let a = Self.partner("a"), b = Self.partner("b")
        for chain in [nil, outsider.ca] {
            let rule = signRule(certificate: outsider.cert, key: outsider.key) + (chain.map { "\nchain = \"\($0)\"\n" } ?? "")
            try writePolicy(rules: rule + encryptRules([(["*"], "opportunistic")]))
            let r = try sealmail(["-odi", "-t", "-i", "-f", Self.sender], input: keywordMessage(to: [a, b], subject: "s"))
            try assertRefusedAndNothingSent(r, status: 78)
            XCTAssertTrue(r.stderrText.contains("signing certificate \(outsider.cert)"), r.stderrText)
            XCTAssertTrue(r.stderrText.contains("untrusted chain"), r.stderrText)
            XCTAssertTrue(r.stderrText.contains("checked against trust_anchors \(pki.caCert)"), r.stderrText)

            let check = try sealctl(["config", "check"])
            XCTAssertEqual(check.status, 78, check.stdoutText + check.stderrText)
            let text = try String(contentsOfFile: configPath, encoding: .utf8)
            let ruleLine = (text.components(separatedBy: "\n").firstIndex(of: "[[smime.sign]]") ?? -2) + 1
            XCTAssertTrue(check.stderrText.contains("line \(ruleLine): signing certificate \(outsider.cert) cannot be used: untrusted chain"),
                          "line \(ruleLine): \(check.stderrText)")
        }

        // The right signer passes the same check (certificates expiring within 30 days are a warning).
        try writePolicy(rules: signRule() + encryptRules([(["*"], "opportunistic")]))
        let good = try sealctl(["config", "check"])
        XCTAssertEqual(good.status, 0, good.stderrText)
        XCTAssertFalse(good.stderrText.contains("cannot be used"), good.stderrText)
    }

    /// Without `trust_anchors` the signer is judged against the system's trust store, as
    /// recipients' certificates are: the throwaway CA is not in it, so nothing is signed.
    func testWithoutTrustAnchorsTheSystemStoreJudgesTheSigner() throws {
        try writePolicy(rules: signRule(), anchors: false)
        let r = try sealmail(["-odi", "-t", "-i", "-f", Self.sender], input: keywordMessage(to: [Self.partner("b")], subject: "s"))
        try assertRefusedAndNothingSent(r, status: 78)
        XCTAssertTrue(r.stderrText.contains("signing certificate \(pki.cert("sender"))"), r.stderrText)
        XCTAssertTrue(r.stderrText.contains("the system trust store /etc/ssl/certs/ca-certificates.crt"), r.stderrText)

        let check = try sealctl(["config", "check"])
        XCTAssertEqual(check.status, 78, check.stderrText)
        XCTAssertTrue(check.stderrText.contains("set trust_anchors in [smime]"), check.stderrText)
    }
}
