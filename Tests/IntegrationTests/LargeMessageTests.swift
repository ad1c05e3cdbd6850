import XCTest

/// A 64 MiB body is queued whole (not timed here: compat/bench/memory.sh measures its peak RSS).
final class LargeMessageTests: SealmailTestCase {
    func testSixtyFourMiBBody() throws {
        // 1 Mi lines of 63 characters + LF: exactly 64 MiB of body, each line numbered.
        let lineCount = 1 << 20
        var input = "To: a@x.example\nSubject: 64 MiB\n\n".bytes
        input.reserveCapacity(input.count + lineCount * 64)
        var expectedBody: [UInt8] = []
        expectedBody.reserveCapacity(lineCount * 65)
        let pad = [UInt8](repeating: UInt8(ascii: "."), count: 63 - 8)
        for i in 0..<lineCount {
            var number = Array(String(i, radix: 16).utf8)
            number = [UInt8](repeating: UInt8(ascii: "0"), count: 8 - number.count) + number
            input.append(contentsOf: number); input.append(contentsOf: pad); input.append(10)
            expectedBody.append(contentsOf: number); expectedBody.append(contentsOf: pad)
            expectedBody.append(13); expectedBody.append(10)
        }
        let r = try sealmail(["-odq", "-t"], input: input, timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderrText)
        let q = try onlyQueued()
        XCTAssertEqual(Int(q.summary["size"] ?? ""), q.message.count, "summary size = bytes after `message`")
        XCTAssertEqual(q.body.count, expectedBody.count)
        XCTAssertTrue(sameBytes(q.body, expectedBody), "the 64 MiB body is queued byte for byte")
        XCTAssertTrue(hasOnlyCRLFLineEnds(q.message))
        XCTAssertEqual(q.summary["long"], "0")
    }
}
