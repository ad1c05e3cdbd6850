import XCTest
import MailMessage

/// `ByteStringSet`: an array until `hashFrom` members, then a Set; the same answers either way.
final class ByteStringSetTests: XCTestCase {
    func testInsertAndContainsAcrossTheThreshold() {
        var s = ByteStringSet()
        let n = ByteStringSet.hashFrom * 3
        for i in 0..<n {
            XCTAssertTrue(s.insert(Array("r\(i)@example.org".utf8)), "first insert of \(i)")
            XCTAssertFalse(s.insert(Array("r\(i)@example.org".utf8)), "second insert of \(i)")
            XCTAssertEqual(s.count, i + 1)
        }
        for i in 0..<n { XCTAssertTrue(s.contains(Array("r\(i)@example.org".utf8)), "\(i)") }
        XCTAssertFalse(s.contains(Array("r\(n)@example.org".utf8)))
        XCTAssertFalse(s.contains([]))
    }

    /// Members are bytes: canonically equivalent Strings are two members.
    func testCanonicallyEquivalentStringsStayApart() {
        var s = ByteStringSet()
        XCTAssertTrue(s.insert(Array("caf\u{e9}@x".utf8)))
        XCTAssertTrue(s.insert(Array("cafe\u{301}@x".utf8)))
        XCTAssertTrue(s.insert(Array("\u{212A}@x".utf8)))
        XCTAssertTrue(s.insert(Array("K@x".utf8)))
        XCTAssertEqual(s.count, 4)
    }
}
