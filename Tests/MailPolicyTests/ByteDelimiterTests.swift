import XCTest
import MailMessage
@testable import MailPolicy

/// Delimiters are found as bytes. A Swift Character is a grapheme cluster: an ASCII delimiter
/// with a combining mark after it (U+0301, U+0613, a ZWJ) or a Prepend character before it
/// (U+0600) is one Character that equals no delimiter, and Character comparison applies
/// Unicode case mapping (the Kelvin sign U+212A lowercases to `k`). Each case here was read
/// wrongly by the Character-based code (a review of every such site, 2026-12-06).
final class ByteDelimiterTests: XCTestCase {
    func include(_ path: String) -> String? {
        path == "/etc/list" ? "#\u{0301} old@x.example\nnew@x.example,\u{0301}also@y.example\n" : nil
    }

    func testAliasesSplitAndClassifyByBytes() {
        let t = AliasTable.parse("""
            #\u{0301} not an alias: a comment
            team: a@x.example,\u{0301}b@y.example
            pipe: |\u{0301}/usr/bin/prog
            file: /\u{0301}var/log/x
            list: :INCLUDE:/etc/list
            \u{212A}root: k@x.example
            """)
        // The comment is a comment; the Kelvin-sign name is no ASCII name (it lowercased to "kroot").
        XCTAssertEqual(t.problems.map(\.line), [6], "\(t.problems)")
        XCTAssertNil(t.entries["kroot"])
        XCTAssertEqual(t.entries["team"], ["a@x.example", "\u{0301}b@y.example"], "the comma splits")
        XCTAssertEqual(t.expand("pipe", include: include).unsupported, ["|\u{0301}/usr/bin/prog"])
        XCTAssertEqual(t.expand("file", include: include).unsupported, ["/\u{0301}var/log/x"])
        let list = t.expand("list", include: include)
        XCTAssertNil(list.error)
        XCTAssertEqual(list.addresses, ["new@x.example", "\u{0301}also@y.example"], "the include's comment is skipped, its comma splits")
    }

    func testSecureTagIsFoundWhateverCombinesWithIt() {
        var c = SealmailConfig()
        c.smime.secureTag = "[secure]"
        for subject in ["[secure]\u{0301} Q3", "\u{0600}[secure] Q3", "Re:[secure]\u{200D}", "Re: [SECURE] Q3", "Grüße [SeCuRe]"] {
            XCTAssertTrue(Policy.secureTagged(c, subject: subject), subject)
        }
        for subject in ["[secured] Q3", "[secure Q3", "Q3"] {
            XCTAssertFalse(Policy.secureTagged(c, subject: subject), subject)
        }
        XCTAssertEqual(Policy.removingTag("[secure]", from: "\u{0600}[secure] Q3"), "\u{0600} Q3")
        // A tag that is not ASCII is matched with Unicode case folding, and in another normal
        // form (the accents as combining marks) too.
        c.smime.secureTag = "[S\u{e9}curis\u{e9}]"
        XCTAssertTrue(Policy.secureTagged(c, subject: "[S\u{c9}CURIS\u{c9}] Paie"))
        XCTAssertTrue(Policy.secureTagged(c, subject: "Re: [se\u{301}curise\u{301}] Paie"))
        XCTAssertEqual(Policy.removingTag("[S\u{e9}curis\u{e9}]", from: "Re: [se\u{301}curise\u{301}]  Paie"), "Re: Paie")
    }

    func testSenderCheckComparesBytes() {
        var c = SealmailConfig()
        c.senders = ["alice": ["alice@bank.example"]]
        // A From that equals the envelope sender only by Unicode lowercasing is checked on its own.
        let input = PolicyInput(from: "alice@ban\u{212A}.example", sender: "alice@bank.example", recipients: [], user: "alice")
        XCTAssertEqual(Policy.senderRefusals(c, input).map(\.address), ["alice@ban\u{212A}.example"])
        let same = PolicyInput(from: "Alice@BANK.example", sender: "alice@bank.example", recipients: [], user: "alice")
        XCTAssertEqual(Policy.senderRefusals(c, same).map(\.address), [])
    }

    /// Recipients that differ in their bytes are told apart by the policy too: with String
    /// keys, `\u{212A}ate@x` (a Kelvin sign) and `Kate@x` were one, and the visible copy
    /// was encrypted to the Bcc recipient's certificate.
    func testPolicyKeepsRecipientsApartByBytes() {
        var c = SealmailConfig()
        c.smime.certificates = "/certs"
        c.smime.encrypt = [EncryptRule(to: ["*@x.example"], mode: .opportunistic)]
        let input = PolicyInput(from: "a@y.example", sender: "a@y.example",
                                recipients: [PolicyRecipient("\u{212A}ate@x.example", hidden: false), PolicyRecipient("Kate@x.example", hidden: true)],
                                user: "root")
        // (The certificate store compares bytes: CertificateStore.matches.)
        let decision = Policy.decide(c, input) {
            Array($0.utf8) == Array("Kate@x.example".utf8) ? .usable(id: "kate.crt", description: "Kate") : .none
        }
        guard case .send(let copies) = decision else { return XCTFail("\(decision)") }
        // (Compared as bytes here too: String == takes the two addresses as one.)
        func named(_ a: String) -> PlannedCopy? { copies.first { $0.recipients.map { Array($0.utf8) } == [Array(a.utf8)] } }
        XCTAssertEqual(copies.count, 2, "\(copies)")
        let visible = named("\u{212A}ate@x.example")
        let hidden = named("Kate@x.example")
        XCTAssertEqual(visible?.encryptTo, [], "\(copies)")
        XCTAssertEqual(hidden?.encryptTo, ["kate.crt"], "\(copies)")
    }

    func testProxyURLIsReadAsBytesAndItsPasswordNeverShown() {
        let url = "socks5://relayuser:S3cret@\u{0301}proxy.example:1080"
        guard case .failure(let e) = ConfigParser.parse("[[relay]]\nhost = \"smtp.example.com\"\nproxy = \"\(url)\"\n", path: "t.toml") else {
            return XCTFail("accepted \(url)")
        }
        let text = e.diagnostics.map(\.description).joined(separator: "\n")
        XCTAssertFalse(text.contains("S3cret"), text)
        XCTAssertTrue(text.contains("credentials do not go in the URL"), text)
        XCTAssertEqual(RelayProxy.redacted("http://u:pa\u{0600}@proxy:1"), "http://<redacted>@proxy:1")
        // A fullwidth digit is no hex digit of an IPv6 address.
        guard case .failure = RelayProxy.parse("socks5://[\u{FF41}::1]:1080") else { return XCTFail("fullwidth hex accepted") }
    }

    func testTLSFingerprintThatCannotBeReadIsAnError() throws {
        let good = String(repeating: "AB:", count: 31) + "AB"
        let config = { (pin: String) in
            ConfigParser.parse("[[relay]]\nhost = \"smtp.example.com\"\ntls_verify = false\ntls_fingerprint = [\"\(pin)\"]\n", path: "t.toml")
        }
        guard case .success(let c) = config(good) else { return XCTFail("a good pin refused") }
        XCTAssertEqual(c.relays.first?.tlsFingerprints, [good])
        XCTAssertEqual(Hex.fingerprint(good), Array(repeating: 0xAB, count: 32))
        for bad in [String(good.dropLast()), good + "A", String(repeating: "\u{FF10}", count: 64), String(repeating: "0", count: 63) + "g"] {
            guard case .failure(let e) = config(bad) else { XCTFail("pin \(bad) accepted (and would have been dropped)"); continue }
            XCTAssertEqual(e.diagnostics.first?.line, 4, "\(e.diagnostics)")
            XCTAssertTrue(e.diagnostics.first?.message.contains("is not a SHA-256 fingerprint") ?? false, "\(e.diagnostics)")
        }
    }
}
