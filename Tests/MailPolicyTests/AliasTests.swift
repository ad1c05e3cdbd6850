import XCTest
@testable import MailPolicy

final class AliasTests: XCTestCase {
    let text = """
    # Debian's default plus ours
    postmaster:    root
    root: root, admin@example.com
    Ops: alice@x.example,
      "bob smith"@y.example,
    \t:include:/etc/ops.list
    loopa: loopb
    loopb: loopa
    self: \\self, other
    pipe: "|/usr/bin/procmail"
    file: /var/log/mail.archive
    """

    func include(_ path: String) -> String? { path == "/etc/ops.list" ? "# team\ncarol@z.example, dave\n\nroot\n" : nil }

    func testParse() {
        let t = AliasTable.parse(text)
        XCTAssertEqual(t.problems, [])
        XCTAssertEqual(t.entries["ops"], ["alice@x.example", "\"bob smith\"@y.example", ":include:/etc/ops.list"])
        XCTAssertEqual(t.lines["loopa"], 7)
        XCTAssertEqual(t.entries.count, 8)
    }

    func testExpansion() {
        let t = AliasTable.parse(text)
        XCTAssertEqual(t.expand("postmaster", include: include).localUsers, ["root"])
        XCTAssertEqual(t.expand("postmaster", include: include).addresses, ["admin@example.com"])
        let ops = t.expand("OPS", include: include)
        XCTAssertEqual(ops.addresses, ["alice@x.example", "\"bob smith\"@y.example", "carol@z.example", "admin@example.com"])
        XCTAssertEqual(ops.localUsers, ["dave", "root"])
        XCTAssertNil(ops.error)
        XCTAssertEqual(t.expand("self", include: include).localUsers, ["self", "other"])
        XCTAssertEqual(t.expand("nobody-here", include: include).localUsers, ["nobody-here"])
    }

    func testLoopsAndUnsupportedTargets() {
        let t = AliasTable.parse(text)
        XCTAssertEqual(t.expand("loopa", include: include).error, "alias loop: loopa -> loopb -> loopa")
        XCTAssertEqual(t.expand("pipe", include: include).unsupported, ["|/usr/bin/procmail"])
        XCTAssertEqual(t.expand("file", include: include).unsupported, ["/var/log/mail.archive"])
        let broken = AliasTable.parse("x: :include:/missing\n")
        XCTAssertEqual(broken.expand("x", include: include).error, "cannot read :include:/missing")
    }

    func testCheckReportsProblemsWithLines() {
        let t = AliasTable.parse("ok: root\nthis line has no colon\n  \nroot: a@b\nroot: c@d\n  stray\nempty:\n")
        let p = t.check(include: include).map(\.description)
        XCTAssertTrue(p.contains { $0.hasPrefix("line 2:") && $0.contains("no colon") }, "\(p)")
        XCTAssertTrue(p.contains { $0.hasPrefix("line 5:") && $0.contains("defined twice") }, "\(p)")
        XCTAssertTrue(p.contains { $0.hasPrefix("line 7:") && $0.contains("no targets") }, "\(p)")
        let loops = AliasTable.parse(text).check(include: include).map(\.description)
        XCTAssertEqual(loops, ["line 7: alias loop: loopa -> loopb -> loopa", "line 8: alias loop: loopb -> loopa -> loopb"])
    }

    func testDeepExpansionIsBounded() {
        var lines: [String] = []
        for i in 0..<40 { lines.append("a\(i): a\(i + 1)") }
        XCTAssertNotNil(AliasTable.parse(lines.joined(separator: "\n")).expand("a0", include: { _ in nil }).error)
    }
}
