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

    /// Bodies over many reads: most of their chunks hold no CR (MessageInput takes those whole
    /// lines at a time), some do (line by line). The canonical body is what a plain line by
    /// line reading gives (line ends CRLF, CRs before them dropped, stray CRs made spaces), up
    /// to a lone `.` without -i; the statistics those of that body.
    func testLargeBodiesMatchALineByLineReading() throws {
        var rng = SystemRandomNumberGenerator()
        let lines: [[UInt8]] = [
            Array("an ordinary line of text".utf8), Array("From here".utf8), Array("space at the end ".utf8), [],
            Array("..two dots".utf8), Array("caf\u{e9}".utf8), Array(repeating: 0x78, count: 2000), Array(".x".utf8),
        ]
        for round in 0..<12 {
            var body: [UInt8] = []
            // About 600 KB: five 128 KiB reads and more, the CRs kept to a few regions.
            while body.count < 600_000 {
                let withCR = Int.random(in: 0..<40, using: &rng) == 0
                for _ in 0..<Int.random(in: 1...400, using: &rng) {
                    body += lines.randomElement(using: &rng)!
                    body += withCR ? (Bool.random(using: &rng) ? [13, 10] : [13, 0x61, 10]) : [10]
                }
            }
            let dotAt = round % 3 == 0 ? Int.random(in: 0..<body.count, using: &rng) : nil
            if let dotAt, let lf = body[dotAt...].firstIndex(of: 10) { body.insert(contentsOf: [46, 10], at: lf + 1) }
            let message = Array("Subject: s\n\n".utf8) + body
            let ignoreDots = dotAt == nil
            let (stats, canonical) = try read(message, ignoreDots: ignoreDots)
            let expected = lineByLine(body, ignoreDots: ignoreDots)
            if canonical != expected {
                let at = zip(canonical, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(canonical.count, expected.count)
                XCTFail("round \(round): \(canonical.count) octets for \(expected.count), the first difference at \(at)")
            }
            try compareStats(stats, canonical, "round \(round)")
        }
    }

    /// The canonical body, one line at a time.
    private func lineByLine(_ body: [UInt8], ignoreDots: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var lines = body.split(separator: 10, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for var line in lines {
            while line.last == 13 { line = line.dropLast() }
            if !ignoreDots && line.elementsEqual([46]) { break }
            out += line.map { $0 == 13 ? 32 : $0 } + [13, 10]
        }
        return out
    }

    private func check(_ body: [UInt8], _ what: String) throws {
        let message = Array("Subject: s\n\n".utf8) + body
        let (stats, canonical) = try read(message)
        try compareStats(stats, canonical, what)
    }

    private func compareStats(_ stats: MessageInput.BodyStats, _ canonical: [UInt8], _ what: String) throws {
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
    private func read(_ message: [UInt8], ignoreDots: Bool = true) throws -> (MessageInput.BodyStats, [UInt8]) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let writeEnd = fds[1]
        let writer = Thread {
            var off = 0
            while off < message.count {
                // Pieces of any size, so that reads end anywhere in a line.
                let piece = min(message.count - off, Int.random(in: 1...150_000))
                let n = message.withUnsafeBytes { write(writeEnd, $0.baseAddress! + off, piece) }
                if n <= 0 { break }
                off += n
            }
            close(writeEnd)
        }
        writer.start()
        defer { close(fds[0]) }
        let input = MessageInput(fd: fds[0], ignoreDots: ignoreDots)
        try input.readHeader()
        var canonical: [UInt8] = []
        while try input.nextBodyChunk({ canonical += $0 }) {}
        // What follows a lone `.` is not read: drained here, so the writer ends.
        var rest = [UInt8](repeating: 0, count: 1 << 16)
        while rest.withUnsafeMutableBytes({ Glibc.read(fds[0], $0.baseAddress, $0.count) }) > 0 {}
        return (input.stats, canonical)
    }
}
