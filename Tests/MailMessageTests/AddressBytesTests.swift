// The [UInt8] entry point: bytes that are not UTF-8, and agreement with the String entry point.
import XCTest
@testable import MailMessage

final class AddressBytesTests: XCTestCase {
    /// Latin-1 bytes (not UTF-8): a display name gets U+FFFD; an addr-spec is never guessed at, it is dropped.
    func testInvalidUTF8() {
        let input: [UInt8] = Array("J".utf8) + [0xF6] + Array("rg <j".utf8) + [0xF6] + Array("rg@x>, ok@x".utf8)
        let list = AddressParser.parseList(input)
        XCTAssertEqual(render(list), [
            "M <ok@x>",
            "D eightBitInAddress@1",
            "D invalidCharacter@6",
            "D eightBitInAddress@7",
        ])
        let name = AddressParser.parseList(Array("J".utf8) + [0xF6] + Array("rg <j@x>".utf8)).mailboxes.first?.displayName
        XCTAssertEqual(name, "J\u{FFFD}rg")
        let domain: [UInt8] = Array("a@b".utf8) + [0xFF]
        XCTAssertEqual(AddressParser.parseList(domain).mailboxes, [])
    }

    func testStringAndBytesAgree() {
        for golden in AddressGoldenTests.all + AddressGoldenRecoveryTests.all {
            XCTAssertEqual(AddressParser.parseList(golden.input), AddressParser.parseList(Array(golden.input.utf8)))
        }
    }

    func testEmptyInput() {
        XCTAssertEqual(AddressParser.parseList(""), AddressList())
        XCTAssertEqual(AddressParser.parseList([UInt8]()), AddressList())
        XCTAssertEqual(AddressParser.parseList("  (just a comment)  "), AddressList())
    }
}
