import XCTest
@testable import SMTPProtocol

/// EHLO keywords, read as bytes: a blank with a combining mark after it is one Swift Character
/// with it, and Unicode case mapping takes the dotless ı for I (review of 2026-12-06).
final class CapabilityParsingTests: XCTestCase {
    func testEHLOKeywordsSplitAtBlankBytes() {
        let caps = SMTPCapabilities(ehloReply: SMTPReply(code: 250, lines: [
            "mx.example", "starttls", "AUTH PLAIN \u{0301}LOGIN", "auth=cram-md5 plain", "SIZE\t\u{0301}1000",
        ]))
        XCTAssertTrue(caps.has("STARTTLS"))
        XCTAssertEqual(caps.keywords["AUTH"], ["PLAIN", "\u{0301}LOGIN", "CRAM-MD5", "plain"])
        XCTAssertEqual(caps.keywords["SIZE"], ["\u{0301}1000"])
        // Unicode case mapping would take the dotless ı for I.
        XCTAssertFalse(SMTPCapabilities(ehloReply: SMTPReply(code: 250, lines: ["mx", "P\u{0131}PELINING"])).pipelining)
    }
}
