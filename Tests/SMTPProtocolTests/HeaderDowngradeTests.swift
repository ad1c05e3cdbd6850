import XCTest
@testable import SMTPProtocol

/// Raw UTF-8 header fields for a relay without SMTPUTF8: unstructured fields become RFC 2047
/// encoded words; everything else stays byte for byte.
final class HeaderDowngradeTests: XCTestCase {
    private func encode(_ s: String) -> String {
        String(decoding: HeaderDowngrade.encodeUTF8Fields(Array(s.utf8)), as: UTF8.self)
    }

    func testSubjectEncoded() {
        XCTAssertEqual(encode("To: a@example.net\r\nSubject: café über 日本\r\n\r\n"),
                       "To: a@example.net\r\nSubject: =?UTF-8?B?Y2Fmw6kgw7xiZXIg5pel5pys?=\r\n\r\n")
    }

    func testLongValueFoldedIntoSeveralWords() {
        let out = encode("X-Note: " + String(repeating: "é", count: 100) + "\r\n\r\n")
        XCTAssertTrue(out.hasPrefix("X-Note: =?UTF-8?"), out)
        XCTAssertTrue(out.contains("?=\r\n =?UTF-8?"), "folded between encoded words: \(out)")
        XCTAssertFalse(out.utf8.contains { $0 >= 0x80 })
        // Encoded words are at most 75 characters (RFC 2047 2), one per line after the name.
        XCTAssertTrue(out.split(separator: "\r\n").allSatisfy { $0.utf8.count <= "X-Note: ".count + 75 }, out)
    }

    func testLeftAsTheyAre() {
        let untouched = [
            "From: Jürgen <j@example.net>\r\n",     // structured: an address field
            "Subject: caf\u{00e9} =?UTF-8?Q?x?=\r\n",  // already holds an encoded word
            "Subject: ascii only\r\n",
            "Received: from h (höst) by x\r\n",
        ]
        for field in untouched {
            XCTAssertEqual(encode(field + "\r\n"), field + "\r\n")
        }
        let latin1: [UInt8] = Array("Subject: caf".utf8) + [0xE9] + [13, 10, 13, 10]
        XCTAssertEqual(HeaderDowngrade.encodeUTF8Fields(latin1), latin1, "not UTF-8: the charset is unknown")
    }

    func testFoldedFieldAndOtherFieldsKeepTheirBytes() {
        let m = "Received: by x;\r\n\tMon, 1 Jan 2024\r\nSubject: Grüße\r\n aus Köln\r\nX-A:  two  spaces\r\n\r\n"
        XCTAssertEqual(encode(m), "Received: by x;\r\n\tMon, 1 Jan 2024\r\nSubject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\nX-A:  two  spaces\r\n\r\n")
    }
}
