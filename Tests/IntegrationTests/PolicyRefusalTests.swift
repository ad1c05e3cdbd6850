import Foundation
import XCTest

/// Refusals through the binary (README "S/MIME policy"): a `required` recipient without a
/// usable certificate stops the whole message (exit 69, nothing queued, nothing at the relay,
/// one stderr line per refused recipient saying why), in every delivery mode, before `-odb`
/// detaches; a config the policy cannot read stops it too (exit 78, naming the line).
final class PolicyRefusalTests: PolicyTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try writePolicy(rules: signRule() + encryptRules([(["*@partner.example"], "required")]))
    }

    func submit(_ input: String, mode: String = "-odi") throws -> RunResult {
        try sealmail([mode, "-t", "-i", "-f", Self.sender], input: input)
    }

    /// Each kind of unusable certificate alone, beside a recipient who has a good one.
    func testRequiredRecipientWithoutUsableCertificateRefusesTheMessage() throws {
        let cases: [(name: String, reason: String)] = [
            ("b", "no certificate"), ("expired", "expired"), ("server", "wrong purpose")]
        for (name, reason) in cases {
            let refused = Self.partner(name)
            let r = try submit(message(to: [Self.partner("a"), refused]))
            try assertRefusedAndNothingSent(r, status: 69)
            let named = lines(naming: refused, in: r)
            XCTAssertEqual(named.count, 1, "one line for <\(refused)>: \(r.stderrText)")
            XCTAssertTrue(named.first?.contains(reason) ?? false, "the line says \(reason): \(r.stderrText)")
            XCTAssertEqual(lines(naming: Self.partner("a"), in: r), [], "a is not refused: \(r.stderrText)")
        }
    }

    /// Three refused recipients: three lines, each with its own reason; the good one unnamed.
    func testEveryRefusedRecipientHasOneLineWithItsReason() throws {
        let names = ["b", "expired", "server", "a"].map(Self.partner)
        let r = try submit(message(to: names))
        try assertRefusedAndNothingSent(r, status: 69)
        let stderrLines = r.stderrText.split(separator: "\n")
        XCTAssertEqual(stderrLines.count, 3, r.stderrText)
        XCTAssertTrue(lines(naming: Self.partner("b"), in: r).first?.contains("no certificate") ?? false, r.stderrText)
        XCTAssertTrue(lines(naming: Self.partner("expired"), in: r).first?.contains("expired") ?? false, r.stderrText)
        XCTAssertTrue(lines(naming: Self.partner("server"), in: r).first?.contains("wrong purpose") ?? false, r.stderrText)
    }

    /// A hidden (Bcc) recipient is required too: refusing it refuses every copy.
    func testRefusedBccRecipientStopsTheVisibleCopiesToo() throws {
        let r = try submit(message(to: [Self.partner("a")], bcc: [Self.partner("expired")]))
        try assertRefusedAndNothingSent(r, status: 69)
        XCTAssertEqual(lines(naming: Self.partner("expired"), in: r).count, 1, r.stderrText)
    }

    /// `-odb` (and `-odq`): the refusal is decided before anything is queued, so the caller
    /// gets it, not a detached child.
    func testBackgroundAndQueueModesReportTheRefusalBeforeDetaching() throws {
        for mode in ["-odb", "-odq"] {
            let r = try submit(message(to: [Self.partner("b")]), mode: mode)
            XCTAssertEqual(r.status, 69, "\(mode): \(r.stderrText)")
            XCTAssertTrue(lines(naming: Self.partner("b"), in: r).first?.contains("no certificate") ?? false, "\(mode): \(r.stderrText)")
            assertNothingQueued(mode)
        }
        usleep(500_000)  // time for a detached deliverer, had there been one
        XCTAssertEqual(try relay.messages().count, 0)
    }

    /// Malformed TOML, an unknown mode, a pattern that is not a pattern: exit 78, the line
    /// named, nothing queued.
    func testBadPolicyConfigExits78NamingTheLine() throws {
        let sign = signRule()
        let cases: [(what: String, rules: String, bad: String)] = [
            ("malformed TOML", sign + "\n[[smime.encrypt]\nto = [\"*\"]\nmode = \"required\"\n", "[[smime.encrypt]"),
            ("unknown mode", sign + encryptRules([(["*"], "sometimes")]), "mode = \"sometimes\""),
            ("bad pattern in to", sign + encryptRules([(["a b@partner.example"], "required")]), "to = [\"a b@partner.example\"]"),
            ("bad pattern in from", sign.replacingOccurrences(of: "\"*@example.com\"", with: "\"<x>@example.com\"")
                + encryptRules([(["*"], "opportunistic")]), "from = [\"<x>@example.com\"]"),
        ]
        for (what, rules, bad) in cases {
            try writePolicy(rules: rules)
            let text = try String(contentsOfFile: configPath, encoding: .utf8)
            guard let index = text.components(separatedBy: "\n").firstIndex(where: { $0.contains(bad) }) else {
                return XCTFail("\(what): the bad line is not in the config")
            }
            let r = try submit(message(to: [Self.partner("a")]))
            XCTAssertEqual(r.status, 78, "\(what): \(r.stderrText)")
            XCTAssertTrue(r.stderrText.contains("line \(index + 1)"), "\(what): stderr names line \(index + 1): \(r.stderrText)")
            assertNothingQueued(what)
        }
        XCTAssertEqual(try relay.messages().count, 0)
    }
}
