import XCTest
import MailMessage
@testable import MailPolicy

/// Text files written on another system end lines with CRLF, and a last line may have no line
/// end at all (issue 11, item 1): they are split and trimmed by bytes, never by Swift
/// Characters, in which "\r\n" is one Character that neither "\r" nor "\n" matches.
final class CRLFTextTests: XCTestCase {
    func testAliasesWithCRLFLines() {
        let t = AliasTable.parse("postmaster: root\r\nops: alice,\r\n  bob@example.org\r\n")
        XCTAssertEqual(t.problems.map(\.description), [])
        XCTAssertEqual(t.expand("postmaster", include: { _ in nil }).localUsers, ["root"])
        let ops = t.expand("ops", include: { _ in nil })
        XCTAssertEqual(ops.localUsers, ["alice"])
        XCTAssertEqual(ops.addresses, ["bob@example.org"], "no CR kept on the continuation line")
    }

    func testIncludedFileWithCRLFLines() {
        let t = AliasTable.parse("team: :include:/etc/team\n")
        let e = t.expand("team", include: { _ in "carol@z.example\r\ndave\r\n" })
        XCTAssertEqual(e.addresses, ["carol@z.example"])
        XCTAssertEqual(e.localUsers, ["dave"])
    }

    func testCRLFConfigReportsTheRightLine() {
        let text = "hostname = \"h.example.com\"\r\ndomain = \"example.com\"\r\nbogus = 1\r\n"
        guard case .failure(let e) = ConfigParser.parse(text, path: "t.toml") else { return XCTFail("bogus accepted") }
        XCTAssertEqual(e.diagnostics.map(\.line), [3], e.diagnostics.map(\.description).joined())
    }

    func testTextLinesSplitsEveryLineEnd() {
        XCTAssertEqual(TextLines.lines(of: "a\r\nb\nc\r\n\r\nd"), ["a", "b", "c", "", "d"])
        XCTAssertEqual(TextLines.lines(of: "vm\n"), ["vm"])
        XCTAssertEqual(Array(TextLines.firstLine(Array("secret\r\n".utf8))), Array("secret".utf8))
        XCTAssertEqual("  vm\r\n".trimmingASCIIWhitespace(), "vm")
        XCTAssertEqual("\tvm \n".trimmingBlanks(), "vm \n", "blanks only")
        XCTAssertEqual(" \t ".trimmingBlanks(), "")
        XCTAssertEqual("a b".trimmingBlanks(), "a b")
        // By bytes, as every delimiter (MailPolicy had a Character-based trimmingBlanks that
        // shadowed this one for Strings): the space goes, the mark after it stays.
        XCTAssertEqual(" \u{301}x \u{301}".trimmingBlanks(), "\u{301}x \u{301}")
    }
}
