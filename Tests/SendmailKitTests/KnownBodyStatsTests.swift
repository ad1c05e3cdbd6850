import Foundation
import XCTest
import MailMessage
@testable import SMIME
@testable import SendmailKit

/// The body statistics a submission hands to S/MIME signing (`knownBody`) stand in for the
/// protector's own pass over the body, so they must be the figures that pass would find:
/// random bodies are read through `MessageInput` and the canonical body it produces is
/// measured again by `InputFile.bodyStats`.
final class KnownBodyStatsTests: XCTestCase {
    func testInputStatsEqualTheProtectorsOwnPass() throws {
        var rng = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [
            Array("hello world".utf8), Array("From the start".utf8), Array("From".utf8), Array(" From x".utf8),
            Array("trailing  ".utf8), Array("tab\t".utf8), Array("caf\u{e9}".utf8), [0x61, 0x00, 0x62],
            Array("stray\rcr".utf8), Array("ends in cr\r".utf8), [], Array(repeating: 0x78, count: 77),
            Array(repeating: 0x79, count: 999),
        ]
        for round in 0..<150 {
            var body: [UInt8] = []
            for _ in 0..<Int.random(in: 0...30, using: &rng) {
                body += pieces.randomElement(using: &rng)!
                body += Bool.random(using: &rng) ? [10] : [13, 10]
            }
            if Bool.random(using: &rng) { body += pieces.randomElement(using: &rng)! }  // no line end at the end
            try check(body, "round \(round)")
        }
        // Lines handed on in pieces (over MessageInput.bodyPieceBytes), ending in a space, with
        // their line end near the end of a 128 KiB read.
        for length in [MessageInput.bodyPieceBytes + 1, 9 << 17, (9 << 17) - 40, (9 << 17) + 40] {
            var line = [UInt8](repeating: 0x7A, count: length)
            line[length - 1] = 0x20
            try check(Array("From big\n".utf8) + line + [10] + Array("next\n".utf8), "a line of \(length) octets")
        }
    }

    private func check(_ body: [UInt8], _ what: String) throws {
        let message = Array("Subject: s\n\n".utf8) + body
        let (stats, canonical) = try read(message)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("known-\(UUID().uuidString)")
        try Data(canonical).write(to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try InputFile(path: dir.path)
        let measured = try file.bodyStats(0..<file.size)
        let known = BodyStats(has8Bit: stats.eightBit, hasNUL: stats.nul, hasBareCR: false, hasBareLF: false,
                              longestLine: stats.longestLine,
                              hasFromLine: stats.fromLine, hasTrailingSpace: stats.trailingSpace)
        XCTAssertEqual(known, measured, what)
        XCTAssertEqual(known.needsEncoding, measured.needsEncoding, what)
    }

    /// The statistics and the canonical body MessageInput gives for `message` written to a pipe.
    private func read(_ message: [UInt8]) throws -> (MessageInput.BodyStats, [UInt8]) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let writeEnd = fds[1]
        let writer = Thread {
            var off = 0
            while off < message.count {
                let n = message.withUnsafeBytes { write(writeEnd, $0.baseAddress! + off, message.count - off) }
                if n <= 0 { break }
                off += n
            }
            close(writeEnd)
        }
        writer.start()
        defer { close(fds[0]) }
        let input = MessageInput(fd: fds[0], ignoreDots: true)
        try input.readHeader()
        var canonical: [UInt8] = []
        while try input.nextBodyChunk({ canonical += $0 }) {}
        return (input.stats, canonical)
    }
}
