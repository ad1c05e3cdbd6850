import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

/// DERTemplate grows the lengths around streamed content; openssl asn1parse (an independent
/// parser) reads the result whole.
final class DERTemplateTests: XCTestCase {
    /// SEQUENCE { OID 1.2.3, [0] { OCTET STRING (empty) }, INTEGER 5 }
    let sample: [UInt8] = [0x30, 0x0B, 0x06, 0x02, 0x2A, 0x03, 0xA0, 0x02, 0x04, 0x00, 0x02, 0x01, 0x05]

    func testLengthOctetsAreShortest() {
        XCTAssertEqual(DERTemplate.lengthOctets(0), [0x00])
        XCTAssertEqual(DERTemplate.lengthOctets(127), [0x7F])
        XCTAssertEqual(DERTemplate.lengthOctets(128), [0x81, 0x80])
        XCTAssertEqual(DERTemplate.lengthOctets(255), [0x81, 0xFF])
        XCTAssertEqual(DERTemplate.lengthOctets(256), [0x82, 0x01, 0x00])
        XCTAssertEqual(DERTemplate.lengthOctets(65_536), [0x83, 0x01, 0x00, 0x00])
        XCTAssertEqual(DERTemplate.lengthOctets(137_000_000), [0x84, 0x08, 0x2A, 0x74, 0x40])
    }

    func testEnclosingLengthsGrowAcrossLengthForms() throws {
        let dir = TempDir()
        for n in [0, 1, 115, 116, 117, 123, 124, 125, 126, 127, 128, 250, 255, 256, 65_530, 65_535, 65_536, 70_000] {
            var template = try DERTemplate(sample)
            try template.stream(at: [0xA0, 0x04], length: n)
            let (head, tail) = try template.split()
            XCTAssertEqual(tail, [0x02, 0x01, 0x05])
            let path = dir.write("t\(n).der", head + [UInt8](repeating: 0x41, count: n) + tail)
            let parsed = try sh(["openssl", "asn1parse", "-inform", "DER", "-in", path])
            XCTAssertEqual(parsed.status, 0, "\(n): \(parsed.stderr)")
            XCTAssertTrue(parsed.out.contains("OCTET STRING") && parsed.out.contains("INTEGER           :05"),
                          "\(n): \(parsed.out)")
            XCTAssertTrue(parsed.out.contains("l=\(String(n).leftPad(4)) prim: OCTET STRING"), "\(n): \(parsed.out)")
        }
    }

    func testReplaceCountsTheNewContents() throws {
        // SEQUENCE { [0] { OCTET STRING (empty) }, OCTET STRING (empty) }: the second grows to 16.
        var template = try DERTemplate([0x30, 0x06, 0xA0, 0x02, 0x04, 0x00, 0x04, 0x00])
        try template.stream(at: [0xA0, 0x04], length: 200)
        try template.replace(at: [0x04], with: [UInt8](repeating: 7, count: 16))
        let (head, tail) = try template.split()
        XCTAssertEqual(head, [0x30, 0x81, 0xE0, 0xA0, 0x81, 0xCB, 0x04, 0x81, 0xC8])
        XCTAssertEqual(tail, [0x04, 0x10] + [UInt8](repeating: 7, count: 16))
    }

    func testRefusesWhatItCannotFrame() throws {
        XCTAssertThrowsError(try DERTemplate([0x30, 0x80, 0x04, 0x00, 0x00, 0x00]), "indefinite length")
        XCTAssertThrowsError(try DERTemplate(sample + [0x00]), "bytes after the element")
        XCTAssertThrowsError(try DERTemplate([0x30, 0x05, 0x04, 0x00]), "truncated")
        var template = try DERTemplate(sample)
        XCTAssertThrowsError(try template.stream(at: [0xA1, 0x04], length: 1), "no such element")
        XCTAssertThrowsError(try template.stream(at: [0x02], length: 1), "placeholder not empty")
        XCTAssertThrowsError(try template.stream(at: [0x06, 0x04], length: 1), "through a primitive")
        XCTAssertThrowsError(try template.split(), "nothing streamed")
    }
}

private extension String {
    func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
