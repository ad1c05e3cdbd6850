import XCTest
@testable import SMTPProtocol

/// Raw 8-bit header fields for a relay without SMTPUTF8: no 8-bit octet may stay. Unstructured
/// fields and the phrases and comments of address fields become RFC 2047 encoded words (UTF-8,
/// or `unknown-8bit` for octets that are not UTF-8); what RFC 2047 cannot encode is reported.
final class HeaderDowngradeTests: XCTestCase {
    private func downgrade(_ bytes: [UInt8]) -> HeaderDowngrade.Result { HeaderDowngrade.downgrade(bytes) }

    private func encode(_ s: String) -> String {
        let r = downgrade(Array(s.utf8))
        XCTAssertEqual(r.unencodable, [], s)
        return String(decoding: r.header, as: UTF8.self)
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

    /// The field: octets that are not UTF-8 go out as `unknown-8bit` encoded words of
    /// the very octets (the old downgrade left the field raw, and it reached a 7-bit relay).
    func testInvalidUTF8BecomesUnknown8Bit() {
        let raw: [UInt8] = Array("Subject: ".utf8) + [0xFF, 0xFE, 0xC3, 0x28] + [13, 10, 13, 10]
        let r = downgrade(raw)
        XCTAssertEqual(r.unencodable, [])
        XCTAssertEqual(String(decoding: r.header, as: UTF8.self), "Subject: =?unknown-8bit?B?//7DKA==?=\r\n\r\n")
        let latin1: [UInt8] = Array("Subject: Re: caf".utf8) + [0xE9] + Array(" ok\r\n\r\n".utf8)
        XCTAssertEqual(String(decoding: downgrade(latin1).header, as: UTF8.self), "Subject: Re: =?unknown-8bit?Q?caf=E9?= ok\r\n\r\n",
                       "ASCII words around the 8-bit one stay readable")
    }

    func testExistingEncodedWordsStayAndTheSpaceNextToThemSurvives() {
        // RFC 2047 6.2: a reader drops the white space between two encoded words, so the one
        // between the old word and the new is encoded into the new.
        XCTAssertEqual(encode("Subject: =?UTF-8?Q?x?= café\r\n\r\n"), "Subject: =?UTF-8?Q?x?= =?UTF-8?B?IGNhZsOp?=\r\n\r\n")
    }

    func testAddressFieldPhrasesAndCommentsEncodedAddressesKept() {
        XCTAssertEqual(encode("From: Jürgen Müller <j@example.net>\r\n\r\n"),
                       "From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <j@example.net>\r\n\r\n")
        XCTAssertEqual(encode("To: \"Doe, Jöhn\" <d@example.net>, plain@example.net (Büro)\r\n\r\n"),
                       "To: =?UTF-8?Q?Doe=2C_J=C3=B6hn?= <d@example.net>, plain@example.net\r\n (=?UTF-8?B?QsO8cm8=?=)\r\n\r\n")
        XCTAssertEqual(encode("Cc: Grüppe: a@example.net, b@example.net;\r\n\r\n"),
                       "Cc: =?UTF-8?Q?Gr=C3=BCppe?=: a@example.net, b@example.net;\r\n\r\n")
        let latin1: [UInt8] = Array("Reply-To: J".utf8) + [0xFC] + Array("rgen <j@example.net>\r\n\r\n".utf8)
        XCTAssertEqual(String(decoding: downgrade(latin1).header, as: UTF8.self), "Reply-To: =?unknown-8bit?Q?J=FCrgen?= <j@example.net>\r\n\r\n")
    }

    func testWhatCannotBeEncodedIsReported() {
        let cases: [(String, String)] = [
            ("From: Jürgen <jürgen@example.net>\r\n", "From"),     // 8-bit local part
            ("To: a@exämple.net\r\n", "To"),                       // 8-bit domain
            ("Received: from h (höst) by x\r\n", "Received"),
            ("Message-ID: <é@x>\r\n", "Message-ID"),
            ("Content-Type: text/plain; name=\"é.txt\"\r\n", "Content-Type"),
        ]
        for (field, name) in cases {
            let r = downgrade(Array((field + "Subject: ok\r\n\r\n").utf8))
            XCTAssertEqual(r.unencodable, [name], field)
            XCTAssertEqual(r.header, Array((field + "Subject: ok\r\n\r\n").utf8), "left as it was, to be refused: \(field)")
        }
        let badName: [UInt8] = Array("X-N".utf8) + [0xE9] + Array(": v\r\n\r\n".utf8)
        XCTAssertEqual(downgrade(badName).unencodable.count, 1)
    }

    func testFieldsWithoutEightBitKeepTheirBytes() {
        let m = "Received: by x;\r\n\tMon, 1 Jan 2024\r\nSubject: Grüße\r\n aus Köln\r\nX-A:  two  spaces\r\n\r\n"
        XCTAssertEqual(encode(m), "Received: by x;\r\n\tMon, 1 Jan 2024\r\nSubject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\nX-A:  two  spaces\r\n\r\n")
        XCTAssertEqual(encode("Subject: ascii only\r\n\r\n"), "Subject: ascii only\r\n\r\n")
    }

    /// Every line given is looked at, also after one that is not a field (which would end the
    /// header block for a reader): no 8-bit octet is passed over, and what is not encoded keeps
    /// its bytes, bare LF included.
    func testLinesAfterALineThatIsNotAFieldAreStillEncoded() {
        let raw: [UInt8] = Array("To: a@example.net\nnot a field, caf".utf8) + [0xE9] + Array("\nSubject: café\n\n".utf8)
        let r = downgrade(raw)
        XCTAssertEqual(r.unencodable, ["a header line that is not a field"])
        XCTAssertEqual(r.header, Array("To: a@example.net\nnot a field, caf".utf8) + [0xE9]
                       + Array("\nSubject: =?UTF-8?B?Y2Fmw6k=?=\r\n\n".utf8))
    }

    func testHeaderHasEightBit() {
        XCTAssertTrue(HeaderDowngrade.headerHasEightBit(Array("Subject: é\r\n\r\nbody\r\n".utf8)))
        XCTAssertFalse(HeaderDowngrade.headerHasEightBit(Array("Subject: e\r\n\r\nbödy\r\n".utf8)), "the body is not the header")
        XCTAssertTrue(HeaderDowngrade.headerHasEightBit(Array("Subject: é".utf8)), "no body at all")
        XCTAssertFalse(HeaderDowngrade.headerHasEightBit(Array("\r\nSubject: é\r\n".utf8)), "no header at all")
    }
}
