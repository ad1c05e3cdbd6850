import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME
import MailMessage

/// The one-pass body statistics that choose a transfer encoding (RFC 8551 3.1), including
/// facts that straddle the chunks the file is read in.
final class BodyStatsTests: XCTestCase {
    func stats(_ body: [UInt8]) throws -> BodyStats {
        let dir = TempDir()
        let path = dir.path + "/b"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(body)))
        let file = try InputFile(path: path)
        return try file.bodyStats(0..<file.size)
    }

    func testCleanCRLFTextNeedsNothing() throws {
        let s = try stats(Array(String(repeating: "a plain line\r\n", count: 20_000).utf8))
        XCTAssertFalse(s.needsEncoding)
        XCTAssertEqual(s.longestLine, 12)
    }

    func testEachFactIsFound() throws {
        XCTAssertTrue(try stats(Array("ok\r\nZ\u{fc}rich\r\n".utf8)).has8Bit)
        XCTAssertTrue(try stats([0x61, 0x00, 0x62, 0x0D, 0x0A]).hasNUL)
        XCTAssertTrue(try stats(Array("a\rb\r\n".utf8)).hasBareCR)
        XCTAssertTrue(try stats(Array("x\r\nFrom me\r\n".utf8)).hasFromLine)
        XCTAssertTrue(try stats(Array("trailing \r\n".utf8)).hasTrailingSpace)
        XCTAssertEqual(try stats(Array((String(repeating: "y", count: 77) + "\r\n").utf8)).longestLine, 77)
    }

    /// A CR that ends one 64 KiB chunk is judged by the first byte of the next.
    func testCRAtAChunkBoundary() throws {
        let chunk = 1 << 16
        var crlf = [UInt8](repeating: 0x61, count: chunk - 1) + [0x0D, 0x0A]
        crlf += Array("tail\r\n".utf8)
        XCTAssertFalse(try stats(crlf).hasBareCR, "CRLF split over two chunks is not a bare CR")
        var bare = [UInt8](repeating: 0x61, count: chunk - 1) + [0x0D, 0x62]
        bare += Array("\r\n".utf8)
        XCTAssertTrue(try stats(bare).hasBareCR, "a CR then a letter in the next chunk is bare")
    }

    func testByteFlagsAgreeWithAByteLoop() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let n = Int.random(in: 1...300, using: &generator)
            let alphabet: [UInt8] = [0x0D, 0x0A, 0x00, 0x41, 0xC3, 0x20]
            let bytes = (0..<n).map { _ in alphabet.randomElement(using: &generator)! }
            let previous = Bool.random(using: &generator)
            let flags = bytes.withUnsafeBytes { ByteFlags($0, previousWasCR: previous) }
            var bare = previous && bytes[0] != 0x0A
            for i in 0..<(n - 1) where bytes[i] == 0x0D && bytes[i + 1] != 0x0A { bare = true }
            XCTAssertEqual(flags.highBit, bytes.contains { $0 >= 0x80 })
            XCTAssertEqual(flags.nul, bytes.contains(0))
            XCTAssertEqual(flags.bareCR, bare, "\(bytes) after CR: \(previous)")
            XCTAssertEqual(flags.endsWithCR, bytes.last == 0x0D)
        }
    }
}
