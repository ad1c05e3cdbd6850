import Foundation
import XCTest
import PeerTestSupport

/// The config keys that select the engine's constructs, end to end through `sealmail -odi`
/// and aiosmtpd, each result opened by openssl and by Bouncy Castle or NSS: `form` and
/// `rsa_scheme` of a sign rule, `key_transport` (including `auto`, from a recipient
/// certificate's SMIMECapabilities); and the warnings `sealctl config check` and `sealctl
/// policy explain` give for what NSS and gpgsm cannot open (`ClientSupport`).
final class PolicyConstructTests: PolicyTestCase {
    /// A certificate issued by the throwaway CA into the certificate folder (once per class):
    /// `o@partner.example`, whose certificate announces RSAES-OAEP in an SMIMECapabilities
    /// extension (RFC 4262), and `e@partner.example` with an EC P-256 key.
    func issueExtra(_ name: String, keyArgs: [String], keyUsage: String, oaep: Bool = false) throws -> String {
        let cert = pki.certificates + "/\(name).crt"
        if FileManager.default.fileExists(atPath: cert) { return cert }
        let key = pki.keys + "/\(name).key", csr = pki.dir + "/\(name).csr", ext = pki.dir + "/\(name).ext"
        try ("""
            basicConstraints=critical,CA:FALSE
            keyUsage=critical,\(keyUsage)
            extendedKeyUsage=emailProtection
            subjectAltName=email:\(name)@partner.example

            """ + (oaep ? Peers.oaepCapabilitiesExtension : "")).write(toFile: ext, atomically: true, encoding: .utf8)
        for args in [["req", "-new"] + keyArgs + ["-nodes", "-keyout", key, "-out", csr, "-subj", "/O=sealmail e2e/CN=\(name)"],
                     ["x509", "-req", "-in", csr, "-CA", pki.caCert, "-CAkey", pki.dir + "/ca.key", "-CAcreateserial",
                      "-days", "30", "-extfile", ext, "-out", cert]] {
            let r = try sh(["openssl"] + args)
            guard r.status == 0 else { throw HarnessError("openssl \(args[0]): \(r.stderr)") }
        }
        return cert
    }

    func oaepCertificate() throws -> String {
        try issueExtra("o", keyArgs: ["-newkey", "rsa:2048"], keyUsage: "digitalSignature,keyEncipherment", oaep: true)
    }

    func ecCertificate() throws -> String {
        try issueExtra("e", keyArgs: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
                       keyUsage: "digitalSignature,keyAgreement")
    }

    func signRule(form: String?, scheme: String?) -> String {
        signRule() + (form.map { "\nform = \"\($0)\"" } ?? "") + (scheme.map { "\nrsa_scheme = \"\($0)\"" } ?? "") + "\n"
    }

    // MARK: form and rsa_scheme

    /// `form = "opaque"`: b (no certificate) gets application/pkcs7-mime signed-data, which
    /// openssl, Bouncy Castle and NSS verify.
    func testOpaqueSignatureFromTheConfig() throws {
        let bc = try bouncyCastle()
        let nss = try self.nss()
        try writePolicy(rules: signRule(form: "opaque", scheme: nil) + encryptRules([(["*"], "opportunistic")]))
        let b = Self.partner("b")
        try deliver(message(to: [b]))
        let arrived = try XCTUnwrap(try relay.waitForMessages(1).first)
        XCTAssertTrue(arrived.fields("Content-Type").first?.hasPrefix("application/pkcs7-mime; smime-type=signed-data") ?? false,
                      arrived.headerText)
        let content = try openssl.verify(arrived.data).content
        XCTAssertTrue(String(decoding: content, as: UTF8.self).contains(Self.marker))
        let v = try bc.verify(arrived.data, ca: pki.caCert)
        XCTAssertEqual(v.run.status, 0, v.run.out + v.run.stderr)
        XCTAssertTrue(String(decoding: v.output, as: UTF8.self).contains(Self.marker))
        let n = try nss.decode(MIMESplit.pkcs7(arrived.data))
        XCTAssertTrue(n.verified, "NSS: \(n.signerStatus) \(n.run.stderr)")
        XCTAssertTrue(String(decoding: n.content, as: UTF8.self).contains(Self.marker))
    }

    /// `rsa_scheme = "pss"`: an RSASSA-PSS multipart/signed, verified by openssl, Bouncy
    /// Castle and NSS; with `form = "opaque"` too (config check has nothing to say), verified
    /// by openssl.
    func testPSSSignatureFromTheConfig() throws {
        let bc = try bouncyCastle()
        let nss = try self.nss()
        try writePolicy(rules: signRule(form: nil, scheme: "pss") + encryptRules([(["*"], "opportunistic")]))
        let b = Self.partner("b")
        try deliver(message(to: [b]))
        let arrived = try XCTUnwrap(try relay.waitForMessages(1).first)
        _ = try openssl.verify(arrived.data)
        let split = try XCTUnwrap(MIMESplit.signed(arrived.data))
        let printed = try sh(["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", openssl.file(split.signature, "sig")]).out
        XCTAssertTrue(printed.contains("rsassaPss"), "RSASSA-PSS selected by rsa_scheme")
        let v = try bc.verify(arrived.data, ca: pki.caCert)
        XCTAssertTrue(v.run.out.contains("GOODSIG") && v.run.out.hasSuffix("1.2.840.113549.1.1.10\n"), v.run.out + v.run.stderr)
        let n = try nss.decode(split.signature, detachedContent: split.content)
        XCTAssertTrue(n.verified, "NSS: \(n.signerStatus) \(n.run.stderr)")

        // Opaque with PSS: the content is encapsulated after signing (DER), so OpenSSL's
        // streaming limit on encapsulated PSS does not apply; openssl verifies it.
        relay.clear()
        try writePolicy(rules: signRule(form: "opaque", scheme: "pss") + encryptRules([(["*"], "opportunistic")]))
        let check = try sealctl(["config", "check"])
        XCTAssertFalse(check.stderrText.contains("cannot be signed"), check.stderrText)
        try deliver(message(to: [b]))
        let opaque = try XCTUnwrap(try relay.waitForMessages(1).first)
        XCTAssertTrue(opaque.fields("Content-Type").first?.contains("signed-data") ?? false, opaque.headerText)
        XCTAssertTrue(String(decoding: try openssl.verify(opaque.data).content, as: UTF8.self).contains(Self.marker))
    }

    /// A signature inside an encryption is multipart/signed whatever `form` says (the form
    /// clients expect after decrypting, RFC 8551 3.7), and there RSASSA-PSS works.
    func testSignatureInsideEncryptionStaysDetached() throws {
        let bc = try bouncyCastle()
        try writePolicy(rules: signRule(form: "opaque", scheme: "pss") + encryptRules([(["*"], "opportunistic")]))
        let a = Self.partner("a")
        try deliver(message(to: [a]))
        let arrived = try XCTUnwrap(try relay.waitForMessages(1).first)
        let inner = try openssl.decrypt(arrived.data, cert: pki.cert("a"), key: pki.key("a"))
        XCTAssertTrue(String(decoding: inner, as: UTF8.self).contains("multipart/signed"), "a signature inside is detached")
        let v = try bc.verify(inner, ca: pki.caCert)
        XCTAssertTrue(v.run.out.contains("GOODSIG") && v.run.out.hasSuffix("1.2.840.113549.1.1.10\n"), v.run.out + v.run.stderr)
    }

    // MARK: key_transport

    /// `key_transport = "oaep"` on a's rule, the default `auto` for the rest: one copy to a
    /// and c with an OAEP RecipientInfo for a and PKCS #1 v1.5 for c; each opens its own
    /// with openssl and Bouncy Castle.
    func testKeyTransportPerRule() throws {
        let bc = try bouncyCastle()
        let a = Self.partner("a"), c = Self.partner("c")
        try writePolicy(rules: signRule() + """

            [[smime.encrypt]]
            to = ["\(a)"]
            mode = "required"
            key_transport = "oaep"
            """ + encryptRules([(["*"], "required")]))
        try deliver(message(to: [a, c]))
        let arrived = try XCTUnwrap(try relay.waitForMessages(1).first)
        let printed = try openssl.recipientInfos(arrived.data).print
        XCTAssertEqual(printed.components(separatedBy: "rsaesOaep").count - 1, 1, printed)
        XCTAssertEqual(printed.components(separatedBy: "algorithm: rsaEncryption").count - 1, 1, printed)
        for (name, oid) in [("a", "1.2.840.113549.1.1.7"), ("c", "1.2.840.113549.1.1.1")] {
            _ = try openssl.decrypt(arrived.data, cert: pki.cert(name), key: pki.key(name))
            let d = try bc.decrypt(arrived.data, cert: pki.cert(name), key: pki.key(name))
            XCTAssertEqual(d.run.status, 0, d.run.stderr)
            XCTAssertTrue(d.run.out.hasSuffix(oid + "\n"), "\(name): \(d.run.out)")
            XCTAssertTrue(String(decoding: d.output, as: UTF8.self).contains(Self.marker))
        }
    }

    /// `auto` (the default): OAEP only for o, whose certificate asks for it; `pkcs1` overrides
    /// the certificate. Bouncy Castle opens o's copy.
    func testKeyTransportAutoFollowsTheCertificate() throws {
        let bc = try bouncyCastle()
        _ = try oaepCertificate()
        let o = Self.partner("o"), a = Self.partner("a")
        try writePolicy(rules: signRule() + encryptRules([(["*"], "required")]))
        try deliver(message(to: [o, a]))
        let arrived = try XCTUnwrap(try relay.waitForMessages(1).first)
        let printed = try openssl.recipientInfos(arrived.data).print
        XCTAssertEqual(printed.components(separatedBy: "rsaesOaep").count - 1, 1, "OAEP for o only: \(printed)")
        let d = try bc.decrypt(arrived.data, cert: pki.cert("o"), key: pki.key("o"))
        XCTAssertTrue(d.run.out.hasSuffix("1.2.840.113549.1.1.7\n"), d.run.out + d.run.stderr)
        XCTAssertTrue(String(decoding: d.output, as: UTF8.self).contains(Self.marker))

        relay.clear()
        try writePolicy(rules: signRule() + encryptRules([(["*"], "required")]), smime: "key_transport = \"pkcs1\"")
        try deliver(message(to: [o]))
        let plain = try XCTUnwrap(try relay.waitForMessages(1).first)
        XCTAssertFalse(try openssl.recipientInfos(plain.data).print.contains("rsaesOaep"), "pkcs1 overrides the certificate")
    }

    // MARK: warnings

    /// config check: a GCM cipher, OAEP and an EC certificate each get a warning naming NSS
    /// and gpgsm; the config is still OK (exit 0).
    func testConfigCheckWarnsAboutWhatClientsCannotOpen() throws {
        _ = try ecCertificate()
        let a = Self.partner("a")
        try writePolicy(rules: signRule() + """

            [[smime.encrypt]]
            to = ["\(a)"]
            mode = "required"
            cipher = "aes-256-gcm"
            key_transport = "oaep"
            """ + encryptRules([(["*"], "opportunistic")]))
        let r = try sealctl(["config", "check"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let warnings = r.stderrText.split(separator: "\n").filter { $0.contains("warning:") }
        for expected in ["[[smime.encrypt]] cipher = \"aes-256-gcm\": authEnveloped-data (AES-GCM) cannot be opened by NSS 3.87 (Thunderbird) or gpgsm 2.2",
                         "[[smime.encrypt]] key_transport = \"oaep\": RSAES-OAEP key transport cannot be opened by NSS 3.87",
                         "/e.crt (e@partner.example) has an EC key: ECDH key agreement"] {
            XCTAssertEqual(warnings.filter { $0.contains(expected) }.count, 1, "\(expected) in:\n\(r.stderrText)")
        }
        XCTAssertTrue(warnings.contains { $0.contains("line ") && $0.contains("cipher") }, "the rule's line is named: \(warnings)")
    }

    /// policy explain: each copy says how it is signed and each certificate's key transport,
    /// with a warning for a GCM cipher and an EC recipient (ECDH).
    func testPolicyExplainWarnsPerCopy() throws {
        _ = try ecCertificate()
        let a = Self.partner("a"), e = Self.partner("e")
        try writePolicy(rules: signRule(form: nil, scheme: "pss") + encryptRules([(["*"], "required")]), cipher: "aes-128-gcm")
        let r = try sealctl(["policy", "explain", "--from", Self.sender, "--to", a, "--to", e])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let text = r.stdoutText
        XCTAssertTrue(text.contains("multipart/signed, RSASSA-PSS for an RSA key)"), text)
        XCTAssertTrue(text.contains("/a.crt (RSA-2048: RSA PKCS #1 v1.5 key transport)"), text)
        XCTAssertTrue(text.contains("/e.crt (EC P-256: ECDH key agreement)"), text)
        XCTAssertTrue(text.contains("  warning: authEnveloped-data (AES-GCM) cannot be opened by NSS 3.87 (Thunderbird) or gpgsm 2.2"), text)
        XCTAssertTrue(text.contains("  warning: ECDH key agreement (a recipient certificate with an EC key) cannot be opened by NSS 3.87"), text)
        XCTAssertFalse(text.contains("OAEP"), text)
    }

    // MARK: legacy_display

    /// The first text part of `entity` as Python's email package decodes it, and its
    /// hp-legacy-display parameter.
    func firstText(_ entity: [UInt8]) throws -> (text: String, display: String?) {
        let script = """
        import email, sys
        m = email.message_from_bytes(sys.stdin.buffer.read())
        part = next(p for p in m.walk() if p.get_content_maintype() == 'text')
        sys.stdout.write((part.get_param('hp-legacy-display') or '-') + '\\n')
        sys.stdout.write(part.get_payload(decode=True).decode(part.get_content_charset() or 'ascii'))
        """
        let r = try sh([Peers.python, "-c", script], stdin: Data(entity))
        XCTAssertEqual(r.status, 0, r.stderr)
        let (first, rest) = (r.out.prefix { $0 != "\n" }, r.out.drop { $0 != "\n" }.dropFirst())
        return (String(rest), first == "-" ? nil : String(first))
    }

    /// `header_protection = true` (legacy_display on by default): a's encrypted copy shows
    /// `[...]` outside and its text begins with the real Subject, as Python's email package
    /// and Bouncy Castle (a reader without header protection) see it; c's rule says
    /// `legacy_display = false`: no display. policy explain says which.
    func testLegacyDisplayFromTheConfig() throws {
        let bc = try bouncyCastle()
        let a = Self.partner("a"), c = Self.partner("c")
        try writePolicy(rules: signRule() + """

            [[smime.encrypt]]
            to = ["\(c)"]
            mode = "required"
            legacy_display = false
            """ + encryptRules([(["*"], "required")]), smime: "header_protection = true")
        let explained = try sealctl(["policy", "explain", "--from", Self.sender, "--to", a, "--to", c])
        XCTAssertEqual(explained.stdoutText.components(separatedBy: "(legacy display)").count - 1, 1, explained.stdoutText)
        try deliver(message(to: [a, c], subject: "Salary review"))
        let copies = try relay.waitForMessages(2)
        let forA = try copy(for: [a], in: copies), forC = try copy(for: [c], in: copies)
        XCTAssertEqual(forA.fields("Subject"), ["[...]"])
        let innerA = try openssl.verify(try openssl.decrypt(forA.data, cert: pki.cert("a"), key: pki.key("a"))).content
        let shown = try firstText(innerA)
        XCTAssertEqual(shown.display, "1")
        XCTAssertTrue(shown.text.hasPrefix("Subject: Salary review\r\n\r\n" + Self.marker), shown.text)
        let d = try bc.decrypt(forA.data, cert: pki.cert("a"), key: pki.key("a"))
        let v = try bc.verify(d.output, ca: pki.caCert)
        XCTAssertEqual(v.run.status, 0, v.run.out + v.run.stderr)
        XCTAssertTrue(try firstText(v.output).text.hasPrefix("Subject: Salary review\r\n\r\n"))

        let innerC = try openssl.verify(try openssl.decrypt(forC.data, cert: pki.cert("c"), key: pki.key("c"))).content
        let plain = try firstText(innerC)
        XCTAssertNil(plain.display)
        XCTAssertTrue(plain.text.hasPrefix(Self.marker), plain.text)
    }
}
