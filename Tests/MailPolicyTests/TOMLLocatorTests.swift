import XCTest
@testable import MailPolicy

/// The line finder behind every config diagnostic: built lazily, by bytes, searched in order
/// while small and through an index past `TOMLLocator.indexFrom` paths. Both must give the
/// same lines.
final class TOMLLocatorTests: XCTestCase {
    /// A table header's latest line wins, a key's first; a path not named falls back to the
    /// closest enclosing table; arrays of tables are indexed.
    func testLinesOfTablesKeysAndArrays() {
        let text = """
        hostname = "a"
        hostname = "b"
        [[relay]]
        host = "one"
        [[relay]]
          host = "two"
        [smime]
        [[smime.sign]]
        "from" = ["x"]
        [smime]
        """
        let l = TOMLLocator(text: text)
        XCTAssertEqual(l.line(of: "hostname"), 1)
        XCTAssertEqual(l.line(of: "relay[0]"), 3)
        XCTAssertEqual(l.line(of: "relay[0].host"), 4)
        XCTAssertEqual(l.line(of: "relay[1].host"), 6)
        XCTAssertEqual(l.line(of: "relay[1].port"), 5, "an unnamed key: its table's line")
        XCTAssertEqual(l.line(of: "smime.sign[0].from"), 9, "a quoted key")
        XCTAssertEqual(l.line(of: "smime"), 10, "the latest header of a table")
        XCTAssertNil(l.line(of: "nowhere"))
    }

    /// Past the index threshold the answers are the ones the in-order search gives: each of
    /// 200 relays is found on its own line, and a key repeated later keeps its first line.
    func testManyPathsUseTheIndexWithTheSameAnswers() {
        var text = "domain = \"d\"\n"
        for i in 0..<200 { text += "[[relay]]\nhost = \"h\(i)\"\n" }
        text += "domain = \"again\"\n"
        let l = TOMLLocator(text: text)
        XCTAssertGreaterThan(200, TOMLLocator.indexFrom)
        XCTAssertEqual(l.line(of: "domain"), 1)
        for i in [0, 31, 32, 63, 64, 65, 199] {
            XCTAssertEqual(l.line(of: "relay[\(i)]"), 2 + 2 * i, "relay[\(i)]")
            XCTAssertEqual(l.line(of: "relay[\(i)].host"), 3 + 2 * i, "relay[\(i)].host")
            XCTAssertEqual(l.line(of: "relay[\(i)].tls"), 2 + 2 * i, "relay[\(i)].tls")
        }
    }

    /// CRLF lines count like LF ones; a multi-line string's lines are not keys; paths are
    /// compared as bytes (a Kelvin sign is not a K).
    func testCRLFMultilineStringsAndBytes() {
        let text = "a = 1\r\nb = \"\"\"\r\nc = 2\r\n\"\"\"\r\n\u{212A} = 3\r\nd = 4\r\n"
        let l = TOMLLocator(text: text)
        XCTAssertEqual(l.line(of: "b"), 2)
        XCTAssertNil(l.line(of: "c"), "inside a multi-line string")
        XCTAssertEqual(l.line(of: "d"), 6)
        XCTAssertEqual(l.line(of: "\u{212A}"), 5)
        XCTAssertNil(l.line(of: "K"))
    }

    /// A config with 300 unknown keys reports each on its own line (through the index).
    func testDiagnosticsOfABigConfigKeepTheirLines() {
        let text = (1...300).map { "unknown\($0) = 1" }.joined(separator: "\n")
        guard case .failure(let e) = ConfigParser.parse(text, path: "t.toml") else { return XCTFail("parsed") }
        XCTAssertEqual(e.diagnostics.count, 300)
        for d in e.diagnostics {
            XCTAssertEqual(d.message, "unknown key \"unknown\(d.line ?? -1)\" at top level")
        }
    }
}
