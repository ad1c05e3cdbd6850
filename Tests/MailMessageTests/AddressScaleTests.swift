// Large and hostile inputs: parsing is linear by construction (one forward cursor over a token array,
// no backtracking, no recursion on nesting), so these finish quickly and without deep stacks.
// No timing asserts: a quadratic parser would make this suite visibly slow, not flaky.
import XCTest
@testable import MailMessage

final class AddressScaleTests: XCTestCase {
    /// 20,000 addresses of mixed forms in one list.
    func testTwentyThousandAddresses() {
        var parts: [String] = []
        for i in 0..<20_000 {
            switch i % 5 {
            case 0: parts.append("user\(i)@example.com")
            case 1: parts.append("\"User, \(i)\" <user\(i)@example.com>")
            case 2: parts.append("=?utf-8?q?J=C3=B6rg_\(i)?= <j\(i)@example.org> (comment \(i))")
            case 3: parts.append("root\(i) (Cron Daemon)")
            default: parts.append("Team\(i): a\(i)@x.test, b\(i)@y.test;")
            }
        }
        let list = AddressParser.parseList(parts.joined(separator: ", "))
        XCTAssertEqual(list.defects, [])
        XCTAssertEqual(list.addresses.count, 20_000)
        XCTAssertEqual(list.mailboxes.count, 24_000)
        XCTAssertEqual(list.mailboxes.last?.addrSpec, "b19999@y.test")
        XCTAssertEqual(list.mailboxes[2].displayName, "Jörg 2")
    }

    /// Pathological inputs of 100,000 bytes: each is parsed without a crash, a hang or deep recursion.
    func testHostileInputsFinish() {
        let n = 100_000
        let inputs: [String] = [
            String(repeating: "(", count: n),
            String(repeating: "(", count: n) + String(repeating: ")", count: n),
            String(repeating: "<", count: n),
            String(repeating: ">", count: n),
            String(repeating: ",", count: n),
            String(repeating: ";", count: n),
            String(repeating: "@", count: n),
            String(repeating: "\"", count: n),
            String(repeating: "[", count: n),
            String(repeating: "=?", count: n / 2),
            String(repeating: "=?a?q?", count: n / 6),
            String(repeating: "=?utf-8?q?a?= ", count: n / 14) + "<a@b>",
            String(repeating: "a:", count: n / 2),
            String(repeating: "<@a,", count: n / 4),
            String(repeating: "a.", count: n / 2) + "@b",
            "a@" + String(repeating: "b.", count: n / 2),
            String(repeating: "word ", count: n / 5) + "<a@b>",
            "\"" + String(repeating: "\\\"", count: n / 2),
            String(repeating: "\r\n", count: n / 2),
            String(repeating: "\u{0}", count: n),
        ]
        for input in inputs {
            let list = AddressParser.parseList(input)
            XCTAssertLessThanOrEqual(list.mailboxes.count, input.utf8.count)
        }
        // The long display name made of 14,000 adjacent encoded words decodes to one joined run.
        let name = AddressParser.parseList(inputs[11]).mailboxes.first?.displayName
        XCTAssertEqual(name, String(repeating: "a", count: n / 14))
    }
}
