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

    /// Aliases that each name both aliases of the next level, 18 levels deep: reached by 2^18
    /// paths, each expanded once (counted by the reads of the :include: file of its own that
    /// every alias has). Expanded once per path, this table made 262,144 expansions.
    func testEachAliasIsExpandedOnceWhateverThePathsToIt() {
        var lines: [String] = []
        for level in 0..<18 {
            for side in ["a", "b"] {
                lines.append("\(side)\(level): a\(level + 1), b\(level + 1), :include:/count/\(side)\(level)")
            }
        }
        lines.append("a18: last@example.com")
        lines.append("b18: last@example.com")
        let t = AliasTable.parse(lines.joined(separator: "\n"))
        XCTAssertEqual(t.problems, [])
        var reads = 0
        let e = t.expand("a0") { path in
            reads += 1
            return path.hasPrefix("/count/") ? "# nobody\n" : nil
        }
        XCTAssertNil(e.error)
        XCTAssertEqual(e.addresses, ["last@example.com"])
        XCTAssertEqual(reads, 1 + 2 * 17, "each alias with the include expanded once (a0, then both of levels 1 to 17)")
    }

    /// An :include: file named by several aliases is read once per expansion.
    func testAnIncludedFileIsReadOncePerExpansion() {
        let t = AliasTable.parse("team: a, b\na: :include:/etc/list\nb: :include:/etc/list, extra@example.com\n")
        var reads = 0
        let e = t.expand("team") { path in
            reads += 1
            return path == "/etc/list" ? "x@example.com, y@example.com\n" : nil
        }
        XCTAssertNil(e.error)
        XCTAssertEqual(e.addresses, ["x@example.com", "y@example.com", "extra@example.com"])
        XCTAssertEqual(reads, 1)
        let missing = t.expand("team") { _ in nil }
        XCTAssertEqual(missing.error, "cannot read :include:/etc/list")
        // newaliases' check of every alias reads it once too.
        reads = 0
        XCTAssertEqual(t.check { path in reads += 1; return path == "/etc/list" ? "x@example.com\n" : nil }, [])
        XCTAssertEqual(reads, 1)
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

    /// Found by Tests/Fuzz (fuzz-aliases): a CR inside a line, a NUL or another control byte
    /// became part of a target, i.e. of an address or a local user name.
    func testControlCharactersAreRefusedWithTheirLine() {
        let t = AliasTable.parse("ok: root\nbad: a\rb@example.org, root\nnul: x\u{0}y\ncont: root,\n  c\u{7}d\n")
        XCTAssertEqual(t.entries.keys.sorted(), ["ok"])
        XCTAssertEqual(t.problems.map(\.line), [2, 3, 5])
        XCTAssertTrue(t.problems.allSatisfy { $0.message.hasPrefix("control character in") }, "\(t.problems)")
        let team = AliasTable.parse("team: :include:/l\n").expand("team", include: { _ in "a@x.example\nb\rc@y.example\n" })
        XCTAssertEqual(team.error, "control character on line 2 of :include:/l")
        XCTAssertEqual(AliasTable.parse("crlf: root\r\n").entries["crlf"], ["root"])
    }

    /// Found by Tests/Fuzz (fuzz-aliases): `\` or `""` alone expanded to the local user "".
    func testEmptyTargetsAreRefused() {
        let t = AliasTable.parse("a: root, \\\nb: \"\"\nc: \\root\n")
        XCTAssertEqual(t.entries.keys.sorted(), ["c"])
        XCTAssertEqual(t.problems.map(\.line), [1, 2])
        XCTAssertTrue(t.problems.allSatisfy { $0.message.contains("names no one") }, "\(t.problems)")
        let team = AliasTable.parse("team: :include:/l\n").expand("team", include: { _ in "a@x.example, \\\n" })
        XCTAssertEqual(team.error, "\\ on line 1 of :include:/l names no one")
        XCTAssertEqual(t.expand("c", include: { _ in nil }).localUsers, ["root"])
    }

    func testDeepExpansionIsBounded() {
        var lines: [String] = []
        for i in 0..<40 { lines.append("a\(i): a\(i + 1)") }
        XCTAssertNotNil(AliasTable.parse(lines.joined(separator: "\n")).expand("a0", include: { _ in nil }).error)
    }
}
