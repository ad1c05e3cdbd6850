import XCTest
@testable import MailPolicy

/// `header_protection` and `secure_tag` (README "S/MIME policy"): the keys as config text,
/// and what they do to the plan, table by table, without IO.
final class SMIMEOptionsTests: XCTestCase {
    func parse(_ text: String) -> Result<SealmailConfig, ConfigErrors> { ConfigParser.parse(text, path: "t") }
    func diagnostics(_ text: String) -> [String] {
        if case .failure(let e) = parse(text) { return e.diagnostics.map(\.description) }
        return []
    }

    // MARK: config

    func testKeysAndDefaults() throws {
        let none = try parse("[smime]\ncertificates = \"/c\"").get()
        XCTAssertFalse(none.smime.headerProtection, "off by default")
        XCTAssertNil(none.smime.secureTag, "no tag by default")

        let c = try parse("""
        [smime]
        certificates = "/c"
        header_protection = true
        secure_tag = "  [secure] "
        [[smime.encrypt]]
        to = ["*@legacy.example"]
        mode = "opportunistic"
        header_protection = false
        [[smime.encrypt]]
        to = ["*"]
        mode = "opportunistic"
        """).get()
        XCTAssertTrue(c.smime.headerProtection)
        XCTAssertEqual(c.smime.secureTag, "[secure]", "white space around the tag is not part of it")
        XCTAssertEqual(c.smime.encrypt.map(\.headerProtection), [false, nil])
        XCTAssertTrue(Policy.isActive(try parse("[smime]\nsecure_tag = \"[secure]\"").get()), "the tag alone activates the policy")
        XCTAssertNil(try parse("[smime]\nsecure_tag = \"\"").get().smime.secureTag, "empty: off")
        XCTAssertEqual(Policy.check(try parse("[smime]\nsecure_tag = \"[secure]\"").get()).map(\.description),
                       ["warning: [smime] secure_tag = \"[secure]\" without certificates: every tagged message will be refused"])
        XCTAssertEqual(Policy.check(c), [])
    }

    func testBadValuesAreErrorsOnTheirLine() {
        XCTAssertEqual(diagnostics("[smime]\nheader_protection = \"yes\""), ["line 2: header_protection must be true or false"])
        XCTAssertEqual(diagnostics("[smime]\nsecure_tag = true"), ["line 2: secure_tag must be a string"])
        XCTAssertEqual(diagnostics("[smime]\n\nsecure_tag = \"   \""),
                       ["line 3: secure_tag = \"   \" is only white space; leave it empty or out to turn the tag off"])
        XCTAssertEqual(diagnostics("[[smime.encrypt]]\nto = \"*\"\nmode = \"required\"\nheader_protection = 1"),
                       ["line 4: header_protection must be true or false"])
        XCTAssertEqual(diagnostics("[smime]\nencrypt_subject = true"), ["line 2: unknown key \"encrypt_subject\" in [smime]"])
        XCTAssertEqual(diagnostics("[[smime.sign]]\nfrom = \"*\"\ncertificate = \"c\"\nkey = \"k\"\nheader_protection = true"),
                       ["line 5: unknown key \"header_protection\" in [smime.sign]"], "a signer has no recipients to protect headers for")
    }

    // MARK: the tag

    func testRemovingTheTag() {
        let cases: [(String, String)] = [
            ("[secure] Offer", "Offer"),
            ("Offer [secure]", "Offer"),
            ("Re: [SECURE] Offer", "Re: Offer"),
            ("Re:  [Secure]   Offer", "Re: Offer"),
            ("[secure]Offer", "Offer"),
            ("[secure] [secure] twice", "twice"),
            ("[secure]", ""),
            ("Offer", "Offer"),
            ("[secured] Offer", "[secured] Offer"),
            ("Grüße [SeCuRe] aus Zürich", "Grüße aus Zürich"),
        ]
        for (subject, expected) in cases {
            XCTAssertEqual(Policy.removingTag("[secure]", from: subject), expected, subject)
        }
        XCTAssertEqual(Policy.removingTag("[vertraulich]", from: "[VERTRAULICH] Lohn"), "Lohn")
    }

    let tagged = """
    [smime]
    certificates = "/certs"
    secure_tag = "[secure]"
    [[smime.encrypt]]
    to = ["*@friends.example"]
    mode = "opportunistic"
    cipher = "aes-128-cbc"
    [[smime.encrypt]]
    to = ["*@public.example"]
    mode = "never"
    """

    func lookup(_ a: String) -> CertificateAnswer {
        switch a {
        case "ann@friends.example": return .usable(id: "/certs/ann.pem", description: "ann")
        case "pat@public.example": return .usable(id: "/certs/pat.pem", description: "pat")
        case "x@nowhere.example": return .usable(id: "/certs/x.pem", description: "x")
        case "eve@friends.example": return .unusable(reasons: ["/certs/eve.pem: expired"])
        default: return .none
        }
    }

    func decide(_ config: String, subject: String?, to: [String], hidden: [String] = []) throws -> PolicyDecision {
        let input = PolicyInput(from: "alice@example.com", sender: "alice@example.com",
                                recipients: to.map { PolicyRecipient($0) } + hidden.map { PolicyRecipient($0, hidden: true) },
                                user: "alice", subject: subject)
        return Policy.decide(try parse(config).get(), input, lookup: lookup)
    }

    /// With the tag every recipient is `required`: those with a certificate are encrypted to
    /// (a `never` rule and no rule at all included), whatever their rule's mode.
    func testTaggedSubjectEncryptsForEveryone() throws {
        let to = ["ann@friends.example", "pat@public.example", "x@nowhere.example"]
        guard case .send(let copies) = try decide(tagged, subject: "Re: [SECURE] the offer", to: to) else {
            return XCTFail("refused")
        }
        XCTAssertEqual(copies.count, 1, "\(copies)")
        XCTAssertEqual(copies[0].recipients, to)
        XCTAssertEqual(copies[0].encryptTo, ["/certs/ann.pem", "/certs/pat.pem", "/certs/x.pem"])
        XCTAssertEqual(copies[0].cipher, "aes-128-cbc", "a matching rule still gives its cipher")

        // Without the tag the same message follows the rules: pat (never) and x (no rule) go plain.
        guard case .send(let plain) = try decide(tagged, subject: "Re: the offer", to: to) else { return XCTFail("refused") }
        XCTAssertEqual(plain.map(\.recipients), [["pat@public.example", "x@nowhere.example"], ["ann@friends.example"]])
    }

    /// A tagged message with a recipient without a usable certificate is refused as a whole,
    /// one refusal per such recipient, each naming the tag; no subject, or no tag configured,
    /// changes nothing.
    func testTaggedSubjectRefusesRecipientsWithoutCertificates() throws {
        let to = ["ann@friends.example", "eve@friends.example", "bob@public.example", "y@nowhere.example"]
        guard case .refuse(let r) = try decide(tagged, subject: "[secure] salaries", to: to, hidden: ["h@nowhere.example"]) else {
            return XCTFail("not refused")
        }
        XCTAssertEqual(r.map(\.address), ["eve@friends.example", "bob@public.example", "y@nowhere.example", "h@nowhere.example"])
        XCTAssertTrue(r.allSatisfy { $0.kind == .noCertificate })
        XCTAssertTrue(r.allSatisfy { $0.reason.contains("[secure] tag in the Subject") }, "\(r)")
        XCTAssertTrue(r[0].reason.contains("expired"), r[0].reason)
        XCTAssertTrue(r[1].reason.contains("no certificate for this address"), r[1].reason)

        for subject in [nil, "salaries", "[securely] salaries"] {
            if case .refuse(let r) = try decide(tagged, subject: subject, to: to) { XCTFail("\(subject ?? "nil"): \(r)") }
        }
        let untaggedConfig = tagged.replacingOccurrences(of: "secure_tag = \"[secure]\"\n", with: "")
        if case .refuse(let r) = try decide(untaggedConfig, subject: "[secure] salaries", to: to) { XCTFail("no tag configured: \(r)") }
    }

    // MARK: header protection

    let protected = """
    [smime]
    certificates = "/certs"
    header_protection = true
    [[smime.sign]]
    from = ["*@example.com"]
    certificate = "/k/example.crt"
    key = "/k/example.key"
    users = ["*"]
    [[smime.encrypt]]
    to = ["*@public.example"]
    mode = "opportunistic"
    header_protection = false
    [[smime.encrypt]]
    to = ["*"]
    mode = "opportunistic"
    """

    /// Each recipient's setting is its rule's, else `[smime]`'s; signed or encrypted
    /// recipients with different settings get different copies; an unsigned, unencrypted
    /// copy has nothing to protect with.
    func testHeaderProtectionPerRuleSplitsCopies() throws {
        let to = ["ann@friends.example", "pat@public.example", "b@friends.example", "q@public.example"]
        guard case .send(let c) = try decide(protected, subject: "s", to: to, hidden: ["x@nowhere.example", "bob@public.example"]) else {
            return XCTFail("refused")
        }
        let summary = c.map { "\($0.recipients.joined(separator: ",")) enc=\(!$0.encryptTo.isEmpty) hp=\($0.headerProtection)" }
        XCTAssertEqual(summary, [
            "b@friends.example enc=false hp=true",
            "q@public.example enc=false hp=false",
            "ann@friends.example enc=true hp=true",
            "pat@public.example enc=true hp=false",
            "x@nowhere.example enc=true hp=true",
            "bob@public.example enc=false hp=false",
        ])

        let unsigned = protected.replacingOccurrences(of: "from = [\"*@example.com\"]", with: "from = [\"*@elsewhere.example\"]")
        guard case .send(let u) = try decide(unsigned, subject: "s", to: ["b@friends.example", "q@public.example"]) else {
            return XCTFail("refused")
        }
        XCTAssertEqual(u.map(\.recipients), [["b@friends.example", "q@public.example"]], "plain copies are not split")
        XCTAssertEqual(u.map(\.headerProtection), [false])
    }

    // MARK: form, rsa_scheme, key_transport, legacy_display

    /// The keys that select the engine's constructs, their defaults, and each bad value an
    /// error on its line.
    func testConstructKeysAndDefaults() throws {
        let none = try parse("""
        [smime]
        [[smime.sign]]
        from = "*"
        certificate = "c"
        key = "k"
        [[smime.encrypt]]
        to = "*"
        mode = "required"
        """).get()
        XCTAssertEqual(none.smime.sign[0].form, .detached)
        XCTAssertEqual(none.smime.sign[0].rsaScheme, .pkcs1)
        XCTAssertEqual(none.smime.keyTransport, .auto, "OAEP only where a certificate asks for it")
        XCTAssertNil(none.smime.encrypt[0].keyTransport)
        XCTAssertTrue(none.smime.legacyDisplay, "on by default (it only acts where the Subject is hidden)")
        XCTAssertNil(none.smime.encrypt[0].legacyDisplay)

        let c = try parse("""
        [smime]
        key_transport = "pkcs1"
        legacy_display = false
        [[smime.sign]]
        from = "*"
        certificate = "c"
        key = "k"
        form = "opaque"
        rsa_scheme = "pss"
        [[smime.encrypt]]
        to = "*@oaep.example"
        mode = "required"
        key_transport = "oaep"
        legacy_display = true
        """).get()
        XCTAssertEqual(c.smime.sign[0].form, .opaque)
        XCTAssertEqual(c.smime.sign[0].rsaScheme, .pss)
        XCTAssertEqual(c.smime.keyTransport, .pkcs1)
        XCTAssertFalse(c.smime.legacyDisplay)
        XCTAssertEqual(c.smime.encrypt[0].keyTransport, .oaep)
        XCTAssertEqual(c.smime.encrypt[0].legacyDisplay, true)

        let rule = "[[smime.sign]]\nfrom = \"*\"\ncertificate = \"c\"\nkey = \"k\"\n"
        XCTAssertEqual(diagnostics(rule + "form = \"clear\""), ["line 5: form = \"clear\" is not one of detached | opaque"])
        XCTAssertEqual(diagnostics(rule + "\nrsa_scheme = \"PSS\""), ["line 6: rsa_scheme = \"PSS\" is not one of pkcs1 | pss"])
        XCTAssertEqual(diagnostics(rule + "key_transport = \"oaep\""), ["line 5: unknown key \"key_transport\" in [smime.sign]"])
        XCTAssertEqual(diagnostics("[smime]\nkey_transport = \"rsa\""), ["line 2: key_transport = \"rsa\" is not one of pkcs1 | oaep | auto"])
        XCTAssertEqual(diagnostics("[smime]\nlegacy_display = 1"), ["line 2: legacy_display must be true or false"])
        XCTAssertEqual(diagnostics("[[smime.encrypt]]\nto = \"*\"\nmode = \"required\"\nform = \"opaque\""),
                       ["line 4: unknown key \"form\" in [smime.encrypt]"])
        XCTAssertEqual(diagnostics("[[smime.encrypt]]\nto = \"*\"\nmode = \"required\"\nkey_transport = true"),
                       ["line 4: key_transport must be a string"])
    }

    /// Each certificate of a copy carries its own rule's key transport (else `[smime]`'s):
    /// recipients of different rules share a copy, each RecipientInfo with its own algorithm.
    func testKeyTransportPerCertificate() throws {
        let config = """
        [smime]
        certificates = "/certs"
        key_transport = "pkcs1"
        [[smime.encrypt]]
        to = ["*@friends.example"]
        mode = "opportunistic"
        key_transport = "oaep"
        [[smime.encrypt]]
        to = ["*"]
        mode = "opportunistic"
        """
        guard case .send(let c) = try decide(config, subject: "s", to: ["ann@friends.example", "pat@public.example"],
                                             hidden: ["x@nowhere.example"]) else { return XCTFail("refused") }
        XCTAssertEqual(c.map(\.recipients), [["ann@friends.example", "pat@public.example"], ["x@nowhere.example"]])
        XCTAssertEqual(c[0].keyTransport, ["/certs/ann.pem": .oaep, "/certs/pat.pem": .pkcs1])
        XCTAssertEqual(c[1].keyTransport, ["/certs/x.pem": .pkcs1])
    }

    /// The legacy display goes with header protection on encrypted copies only; recipients
    /// whose `legacy_display` differs get different copies.
    func testLegacyDisplayFollowsHeaderProtectionAndSplitsCopies() throws {
        let config = protected + "\nlegacy_display = false\n[[smime.encrypt]]\nto = [\"*@nowhere.example\"]\nmode = \"opportunistic\"\n"
        // Rules in order: public (hp off), * (hp on, legacy display off), nowhere (never reached: * matches first).
        let reordered = config.replacingOccurrences(of: "to = [\"*\"]\nmode = \"opportunistic\"\nlegacy_display = false",
                                                    with: "to = [\"*@friends.example\"]\nmode = \"opportunistic\"\nlegacy_display = false")
        let to = ["ann@friends.example", "x@nowhere.example", "pat@public.example", "b@friends.example"]
        guard case .send(let c) = try decide(reordered, subject: "s", to: to) else { return XCTFail("refused") }
        let summary = c.map { "\($0.recipients.joined(separator: ",")) enc=\(!$0.encryptTo.isEmpty) hp=\($0.headerProtection) ld=\($0.legacyDisplay)" }
        XCTAssertEqual(summary, [
            "b@friends.example enc=false hp=true ld=false",
            "ann@friends.example enc=true hp=true ld=false",
            "x@nowhere.example enc=true hp=true ld=true",
            "pat@public.example enc=true hp=false ld=false",
        ])
    }
}
