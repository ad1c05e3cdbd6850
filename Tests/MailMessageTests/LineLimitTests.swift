import XCTest
@testable import MailMessage

/// The 998-octet line limit (RFC 5322 2.1.1): folding where white space allows, else a break
/// with CRLF + space in headers (Postfix's way) and CRLF in bodies.
final class LineLimitTests: XCTestCase {
    private func lines(_ bytes: [UInt8]) -> [Int] {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n").map { $0.utf8.count }
    }

    func testHasLongLine() {
        XCTAssertFalse(LineLimit.hasLongLine(Array((String(repeating: "a", count: 998) + "\r\n").utf8)))
        XCTAssertTrue(LineLimit.hasLongLine(Array(("x\r\n" + String(repeating: "a", count: 999)).utf8)))
    }

    func testHeaderLineWithoutWhiteSpaceBrokenLikePostfix() {
        let line = Array(("X-Long: " + String(repeating: "z", count: 1500)).utf8)
        let out = LineLimit.breakHeaderLine(line)
        XCTAssertEqual(lines(out), [998, 511])
        XCTAssertEqual(out.filter { $0 != 13 && $0 != 10 && $0 != 32 }, line.filter { $0 != 32 }, "same octets, a space added")
        XCTAssertTrue(String(decoding: out, as: UTF8.self).contains("\r\n z"))
    }

    func testHeaderLineFoldedAtItsLastWhiteSpace() {
        let word = String(repeating: "w", count: 600)
        let line = Array("Subject: \(word) \(word) \(word)".utf8)
        let out = LineLimit.breakHeaderLine(line)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "Subject: \(word)\r\n \(word)\r\n \(word)",
                       "folding only: unfolding gives the value back")
    }

    func testBodyLineHardBreaks() {
        let out = LineLimit.breakBodyLine(Array(String(repeating: "x", count: 2500).utf8))
        XCTAssertEqual(lines(out), [998, 998, 504])
    }

    func testFieldLimitedAtSubmission() {
        let field = HeaderField(name: "X-Long", rawValue: Array((" " + String(repeating: "z", count: 1500)).utf8))
        let limited = HeaderFolding.limitLineLength(field)
        XCTAssertLessThanOrEqual(HeaderFolding.longestLine(of: limited), 998)
        XCTAssertEqual(String(decoding: limited.wireBytes, as: UTF8.self),
                       "X-Long: " + String(repeating: "z", count: 990) + "\r\n " + String(repeating: "z", count: 510) + "\r\n")
        let words = HeaderField(name: "Subject", rawValue: Array((" " + Array(repeating: "word", count: 300).joined(separator: " ")).utf8))
        let folded = HeaderFolding.limitLineLength(words)
        XCTAssertEqual(folded.unfoldedValue, words.unfoldedValue, "white space allowed folding only")
        XCTAssertEqual(HeaderFolding.limitLineLength(HeaderField(name: "Subject", rawValue: Array(" short".utf8))).rawValue,
                       Array(" short".utf8))
    }

    func testEncodeUnstructuredRoundTrip() throws {
        let text = "café über 日本 — a longer subject line that needs several encoded words, 100%"
        let encoded = try XCTUnwrap(EncodedWord.encodeUnstructuredIfNeeded(text))
        XCTAssertFalse(encoded.utf8.contains { $0 >= 0x80 })
        XCTAssertEqual(EncodedWord.decode(encoded), text)
        XCTAssertNil(EncodedWord.encodeUnstructuredIfNeeded("plain ascii"))
        XCTAssertNil(EncodedWord.encodeUnstructuredIfNeeded("café =?UTF-8?Q?x?="), "an encoded word stays readable as one")
    }
}
