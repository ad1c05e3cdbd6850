import XCTest
@testable import SMTPProtocol

final class ReplyParserTests: XCTestCase {
    private func parseAll(_ text: String) throws -> [SMTPReply] {
        var parser = ReplyParser()
        parser.feed(Array(text.utf8))
        var replies: [SMTPReply] = []
        while let reply = try parser.next() { replies.append(reply) }
        return replies
    }

    func testSingleLine() throws {
        let replies = try parseAll("250 2.1.0 Ok\r\n")
        XCTAssertEqual(replies.count, 1)
        XCTAssertEqual(replies[0].code, 250)
        XCTAssertEqual(replies[0].enhancedStatus, EnhancedStatusCode(2, 1, 0))
        XCTAssertEqual(replies[0].lines, ["2.1.0 Ok"])
        XCTAssertTrue(replies[0].isPositive)
        XCTAssertFalse(replies[0].isTransient || replies[0].isPermanent)
    }

    func testMultiLineAndTwoRepliesInOneRead() throws {
        let replies = try parseAll("250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n354 go\r\n")
        XCTAssertEqual(replies.count, 2)
        XCTAssertEqual(replies[0].lines, ["mx.example", "PIPELINING", "8BITMIME"])
        XCTAssertEqual(replies[0].verbatim, "250-mx.example\n250-PIPELINING\n250 8BITMIME")
        XCTAssertEqual(replies[1].code, 354)
        XCTAssertTrue(replies[1].isIntermediate)
    }

    func testSplitAtEveryByte() throws {
        let text = Array("451-4.3.0 try\r\n451 4.3.0 later\r\n".utf8)
        var parser = ReplyParser()
        var got: [SMTPReply] = []
        for byte in text {
            parser.feed([byte])
            if let reply = try parser.next() { got.append(reply) }
        }
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got[0].code, 451)
        XCTAssertTrue(got[0].isTransient)
        XCTAssertEqual(got[0].enhancedStatus, EnhancedStatusCode(4, 3, 0))
        XCTAssertEqual(got[0].lines.count, 2)
    }

    func testBareLFAndCodeOnlyLine() throws {
        let replies = try parseAll("220\n550 no\n")
        XCTAssertEqual(replies.map(\.code), [220, 550])
        XCTAssertEqual(replies[0].lines, [""])
        XCTAssertTrue(replies[1].isPermanent)
    }

    func testIncompleteReplyWaits() throws {
        var parser = ReplyParser()
        parser.feed(Array("250-first\r\n250 sec".utf8))
        XCTAssertNil(try parser.next())
        parser.feed(Array("ond\r\n".utf8))
        XCTAssertEqual(try parser.next()?.lines, ["first", "second"])
    }

    func testMalformedReplies() {
        for bad in ["hello\r\n", "25\r\n", "2500 x\r\n", "250_x\r\n", "650 x\r\n", "160 x\r\n", "2x0 x\r\n",
                    "250-a\r\n251 b\r\n"] {
            XCTAssertThrowsError(try parseAll(bad), bad)
        }
    }

    func testLineLengthBounded() {
        var parser = ReplyParser(maxLineLength: 100)
        parser.feed(Array(repeating: UInt8(ascii: "5"), count: 200))
        XCTAssertThrowsError(try parser.next())
        XCTAssertThrowsError(try parseAll("250 " + String(repeating: "x", count: 5000) + "\r\n"))
    }

    func testTooManyLines() {
        var parser = ReplyParser(maxLines: 3)
        parser.feed(Array("250-a\r\n250-b\r\n250-c\r\n250 d\r\n".utf8))
        XCTAssertThrowsError(try parser.next())
    }

    func testEnhancedStatusOnlyWhenClassMatches() throws {
        XCTAssertNil(try parseAll("250 5.1.1 odd\r\n")[0].enhancedStatus)
        XCTAssertNil(try parseAll("550 5.1.1x odd\r\n")[0].enhancedStatus)
        XCTAssertNil(try parseAll("550 No such user\r\n")[0].enhancedStatus)
        XCTAssertEqual(try parseAll("550 No such user\r\n")[0].effectiveStatus, EnhancedStatusCode(5, 0, 0))
        XCTAssertEqual(try parseAll("550 5.1.1 <x>: unknown\r\n")[0].enhancedStatus?.description, "5.1.1")
        XCTAssertEqual(try parseAll("452 4.5.3 Too many\r\n")[0].enhancedStatus, EnhancedStatusCode(4, 5, 3))
    }

    func testNonUTF8TextIsKept() throws {
        var parser = ReplyParser()
        parser.feed([0x35, 0x35, 0x30, 0x20, 0xFF, 0x41, 0x0D, 0x0A])
        let reply = try XCTUnwrap(try parser.next())
        XCTAssertEqual(reply.code, 550)
        XCTAssertTrue(reply.lines[0].hasSuffix("A"))
    }
}
