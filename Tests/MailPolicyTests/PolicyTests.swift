import XCTest
@testable import MailPolicy

/// Table-driven: config text and envelopes to plans, no IO.
final class PolicyTests: XCTestCase {
    let base = """
    [smime]
    certificates = "/certs"
    [[smime.sign]]
    from = ["*@example.com"]
    certificate = "/k/example.crt"
    key = "/k/example.key"
    users = ["alice", "@ops"]
    [[smime.sign]]
    from = ["noreply@other.example"]
    certificate = "/k/other.crt"
    key = "/k/other.key"
    users = ["*"]
    unauthorised = "unsigned"
    [[smime.encrypt]]
    to = ["*@partner.example"]
    mode = "required"
    [[smime.encrypt]]
    to = ["*@friends.example"]
    mode = "opportunistic"
    cipher = "aes-128-cbc"
    [[smime.encrypt]]
    to = ["*@public.example"]
    mode = "never"
    """

    /// `extra` goes before the base when it starts with top-level keys, after it otherwise.
    func config(_ extra: String = "") throws -> SealmailConfig {
        let text = extra.hasPrefix("[") ? base + "\n" + extra : extra + "\n" + base
        return try ConfigParser.parse(text, path: "t").get()
    }

    /// Certificates: partner.example has one for bob, an expired one for eve; friends.example for ann.
    func lookup(_ a: String) -> CertificateAnswer {
        switch a {
        case "bob@partner.example": return .usable(id: "/certs/bob.pem", description: "bob")
        case "ann@friends.example": return .usable(id: "/certs/ann.pem", description: "ann")
        case "eve@partner.example": return .unusable(reasons: ["/certs/eve.pem: expired"])
        default: return .none
        }
    }

    func decide(from: String? = "alice@example.com", sender: String = "alice@example.com", to: [String], hidden: [String] = [],
                user: String = "alice", groups: [String] = [], extra: String = "") throws -> PolicyDecision {
        let input = PolicyInput(from: from, sender: sender,
                                recipients: to.map { PolicyRecipient($0) } + hidden.map { PolicyRecipient($0, hidden: true) },
                                user: user, groups: groups)
        return Policy.decide(try config(extra), input, lookup: lookup)
    }

    func copies(_ d: PolicyDecision) -> [PlannedCopy] {
        if case .send(let c) = d { return c }
        XCTFail("refused: \(d)"); return []
    }

    func refusals(_ d: PolicyDecision) -> [PolicyRefusal] {
        if case .refuse(let r) = d { return r }
        XCTFail("not refused: \(d)"); return []
    }

    func testSignedOnlyOneCopy() throws {
        let c = copies(try decide(to: ["x@public.example", "y@elsewhere.example"]))
        XCTAssertEqual(c, [PlannedCopy(recipients: ["x@public.example", "y@elsewhere.example"], signRule: 0, encryptTo: [], cipher: nil)])
    }

    func testFirstMatchingSignRuleWinsAndNoMatchMeansUnsigned() throws {
        XCTAssertEqual(copies(try decide(from: "noreply@other.example", to: ["x@y.example"], user: "www-data"))[0].signRule, 1)
        XCTAssertNil(copies(try decide(from: "someone@unlisted.example", to: ["x@y.example"], user: "alice"))[0].signRule)
    }

    func testEnvelopeSenderUsedWhenNoFrom() throws {
        XCTAssertEqual(copies(try decide(from: nil, sender: "alice@example.com", to: ["x@y.example"]))[0].signRule, 0)
    }

    func testGroupsAuthoriseSigning() throws {
        XCTAssertEqual(copies(try decide(to: ["x@y.example"], user: "carl", groups: ["ops"]))[0].signRule, 0)
    }

    func testUnauthorisedUserRefusedOrUnsigned() throws {
        let r = refusals(try decide(to: ["x@y.example"], user: "mallory"))
        XCTAssertEqual(r.map(\.kind), [.notAuthorised])
        XCTAssertTrue(r[0].reason.contains("mallory"))
        // unauthorised = "unsigned": sent, not signed.
        let input = PolicyInput(from: "noreply@other.example", sender: "noreply@other.example",
                                recipients: [PolicyRecipient("x@y.example")], user: "mallory")
        var cfg = try config()
        cfg.smime.sign[1].users = ["root"]
        XCTAssertEqual(copies(Policy.decide(cfg, input, lookup: lookup))[0].signRule, nil)
    }

    func testMixedRecipientsSplitByTreatment() throws {
        let c = copies(try decide(to: ["bob@partner.example", "x@public.example", "ann@friends.example", "z@friends.example"]))
        XCTAssertEqual(c.count, 2)
        XCTAssertEqual(c[0], PlannedCopy(recipients: ["x@public.example", "z@friends.example"], signRule: 0, encryptTo: [], cipher: nil))
        XCTAssertEqual(c[1].recipients, ["bob@partner.example", "ann@friends.example"])
        XCTAssertEqual(c[1].encryptTo, ["/certs/bob.pem", "/certs/ann.pem"], "one RecipientInfo per recipient of this copy")
    }

    func testRequiredWithoutCertificateRefusesEverything() throws {
        let r = refusals(try decide(to: ["bob@partner.example", "eve@partner.example", "nobody@partner.example", "x@public.example"]))
        XCTAssertEqual(r.map(\.address), ["eve@partner.example", "nobody@partner.example"])
        XCTAssertEqual(Set(r.map(\.kind)), [.noCertificate])
        XCTAssertTrue(r[0].reason.contains("expired"))
        XCTAssertTrue(r[1].reason.contains("no certificate"))
    }

    func testHiddenRecipientsGetTheirOwnCopies() throws {
        let c = copies(try decide(to: ["bob@partner.example"], hidden: ["ann@friends.example", "h@public.example"]))
        XCTAssertEqual(c.count, 3)
        XCTAssertEqual(c[0].recipients, ["bob@partner.example"])
        XCTAssertEqual(c[0].encryptTo, ["/certs/bob.pem"], "a visible copy never carries a hidden recipient's RecipientInfo")
        var ann = PlannedCopy(recipients: ["ann@friends.example"], signRule: 0, encryptTo: ["/certs/ann.pem"], cipher: "aes-128-cbc")
        ann.keyTransport = ["/certs/ann.pem": .auto]
        XCTAssertEqual(c[1], ann)
        XCTAssertEqual(c[2], PlannedCopy(recipients: ["h@public.example"], signRule: 0, encryptTo: [], cipher: nil))
    }

    func testWithoutSMIMEHiddenRecipientsShareTheCopy() throws {
        let input = PolicyInput(from: "a@b.example", sender: "a@b.example",
                                recipients: [PolicyRecipient("x@y.example"), PolicyRecipient("h@y.example", hidden: true)], user: "u")
        var cfg = SealmailConfig()
        cfg.senders = ["u": ["*@b.example"]]
        XCTAssertEqual(Policy.decide(cfg, input, lookup: { _ in .none }),
                       .send([PlannedCopy(recipients: ["x@y.example", "h@y.example"], signRule: nil, encryptTo: [], cipher: nil)]))
    }

    func testSenderAuthorisation() throws {
        let extra = """
        trusted = ["backup"]
        [senders]
        alice = ["alice@example.com", "alice+*@example.com"]
        "@web" = ["noreply@example.com"]
        """
        XCTAssertNoThrow(copies(try decide(to: ["x@y.example"], extra: extra)))
        XCTAssertNoThrow(copies(try decide(from: "alice+news@example.com", sender: "alice+news@example.com", to: ["x@y.example"], extra: extra)))
        let r = refusals(try decide(from: "ceo@example.com", sender: "alice@example.com", to: ["x@y.example"], extra: extra))
        XCTAssertEqual(r.map(\.address), ["ceo@example.com"])
        XCTAssertTrue(r[0].reason.contains("From address"))
        // group member, trusted user, root
        XCTAssertNoThrow(copies(try decide(from: "noreply@example.com", sender: "noreply@example.com", to: ["x@y.example"],
                                           user: "alice", groups: ["web"], extra: extra)))
        // nobody may neither use the address nor the example.com key: both problems are told.
        let both = refusals(try decide(from: "ceo@example.com", sender: "ceo@example.com", to: ["x@y.example"],
                                       user: "nobody", extra: extra))
        XCTAssertEqual(both.count, 2)
        XCTAssertTrue(both.allSatisfy { $0.kind == .notAuthorised })
        // root may use any sender (but signs only with keys whose users list root).
        XCTAssertNoThrow(copies(try decide(from: "ceo@elsewhere.example", sender: "ceo@elsewhere.example", to: ["x@y.example"],
                                           user: "root", extra: extra)))
        let trusted = try decide(from: "ceo@other.example", sender: "ceo@other.example", to: ["x@y.example"], user: "backup", extra: extra)
        XCTAssertNoThrow(copies(trusted))
    }

    func testPatterns() throws {
        let p = try AddressPattern("*@Example.COM")
        XCTAssertTrue(p.matches("alice@example.com"))
        XCTAssertTrue(p.matches("ALICE@EXAMPLE.com"))
        XCTAssertFalse(p.matches("alice@example.com.evil"))
        XCTAssertFalse(p.matches("alice@sub.example.com"))
        XCTAssertTrue(try AddressPattern("*@*.example.com").matches("a@sub.example.com"))
        XCTAssertTrue(try AddressPattern("a?c@x").matches("abc@x"))
        XCTAssertTrue(try AddressPattern("*").matches("anything@x"))
        for bad in ["", "a b@x", "a@b@c", "<a@b>", "a,b@x"] {
            XCTAssertThrowsError(try AddressPattern(bad), bad)
        }
    }

    func testConfigCheckFindsContradictionsAndDeadRules() throws {
        let cfg = try config("""
        [[smime.sign]]
        from = ["*@example.com"]
        certificate = "/k/another.crt"
        key = "/k/another.key"
        users = ["*"]
        [[smime.encrypt]]
        to = ["*@partner.example"]
        mode = "opportunistic"
        """)
        let problems = Policy.check(cfg).map(\.description)
        XCTAssertTrue(problems.contains { $0.contains("contradict") && $0.contains("*@example.com") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("can never match") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("mode opportunistic here but required") }, "\(problems)")
        XCTAssertTrue(problems.allSatisfy { $0.hasPrefix("line ") }, "every problem has its line: \(problems)")
    }
}
