import XCTest
@testable import MailMessage

/// Field bodies made 7-bit with RFC 2047 encoded words: only 8-bit words are encoded, the
/// rest keeps its bytes, and a reader decodes the same text.
final class SevenBitHeaderTests: XCTestCase {
    private func unstructured(_ s: String) -> String {
        String(decoding: SevenBitHeader.encodeUnstructured(Array(s.utf8)), as: UTF8.self)
    }

    private func address(_ s: String) -> String? {
        SevenBitHeader.encodeAddressField(Array(s.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    func testASCIIIsUntouched() {
        XCTAssertEqual(unstructured("plain  text\twith =?UTF-8?Q?x?= words"), "plain  text\twith =?UTF-8?Q?x?= words")
        XCTAssertEqual(address("\"Doe, John\" <j@example.net> (c)"), "\"Doe, John\" <j@example.net> (c)")
    }

    func testRunFromFirstToLastEightBitWord() {
        // ASCII words between two 8-bit ones are encoded with them, their spacing kept.
        XCTAssertEqual(unstructured("Re: é  and ü ok"), "Re: =?UTF-8?B?w6kgIGFuZCDDvA==?= ok")
        XCTAssertEqual(EncodedWord.decode(unstructured("Re: é  and ü ok")), "Re: é  and ü ok")
    }

    func testEncodedWordOnBothSides() {
        let out = unstructured("=?UTF-8?Q?a?= é =?UTF-8?Q?b?=")
        XCTAssertEqual(out, "=?UTF-8?Q?a?= =?UTF-8?Q?_=C3=A9_?= =?UTF-8?Q?b?=")
        XCTAssertEqual(EncodedWord.decode(out), "a é b", "the spaces survive RFC 2047 6.2")
    }

    func testPhraseWithDotsAndTouchingWords() {
        XCTAssertEqual(address("J. Müller <m@example.net>"), "J. =?UTF-8?Q?M=C3=BCller?= <m@example.net>")
        // "Mü.ller": the words touching the 8-bit one join it, so the encoded word is whole.
        XCTAssertEqual(address("Mü.ller <m@example.net>"), "=?UTF-8?B?TcO8LmxsZXI=?= <m@example.net>")
    }

    func testCommentInsideADisplayNameSplitsTheRun() {
        let out = address("Jö (x) Dö <d@example.net>")
        XCTAssertEqual(out, "=?UTF-8?B?SsO2?= (x) =?UTF-8?B?RMO2?= <d@example.net>")
    }

    func testAddressesInsideAnglesAndRoutesAreNeverEncoded() {
        XCTAssertNil(address("Jö <jö@example.net>"))
        XCTAssertNil(address("<@rüute.example:j@example.net>"))
        XCTAssertNil(address("j@[dömain]"))
        XCTAssertNil(address("Jürgen Müller"), "no angle-addr: the words are an address")
        XCTAssertEqual(address("a@example.net (Ünïcode comment), b@example.net"),
                       "a@example.net (=?UTF-8?B?w5xuw69jb2RlIGNvbW1lbnQ=?=), b@example.net")
    }

    func testOctetsThatAreNotUTF8() {
        let value: [UInt8] = [0x63, 0x61, 0x66, 0xE9, 0x20, 0x80]
        let out = String(decoding: SevenBitHeader.encodeUnstructured(value), as: UTF8.self)
        XCTAssertEqual(out, "=?unknown-8bit?B?Y2Fm6SCA?=")
    }
}
