import XCTest

/// Submissions running at the same time get distinct queue ids and complete files.
final class ConcurrencyTests: SealmailTestCase {
    func testFiftyParallelSubmissions() throws {
        let n = 50
        // Start all of them first, then feed them, so that they really overlap.
        var children: [Child] = []
        for _ in 0..<n { children.append(try startSealmail(["-t", "-i"])) }
        for (i, child) in children.enumerated() {
            let filler = String(repeating: "filler line for message \(i)\n", count: 200)
            XCTAssertTrue(child.write("To: rcpt\(i)@x.example\nSubject: parallel \(i)\n\nmarker-\(i)-start\n\(filler)marker-\(i)-end\n"))
            child.closeInput()
        }
        for (i, child) in children.enumerated() {
            let r = child.wait()
            XCTAssertEqual(r.status, 0, "submission \(i): \(r.stderrText)")
        }
        let ids = queuedIDs
        XCTAssertEqual(ids.count, n, "one queue file per submission")
        XCTAssertEqual(Set(ids).count, n)
        var seen = Set<Int>()
        for id in ids {
            let q = try queued(id)
            assertWellFormed(q)
            guard let rcpt = q.recipients.first, rcpt.hasPrefix("rcpt"),
                  let i = Int(rcpt.dropFirst(4).prefix { $0.isNumber }) else {
                XCTFail("\(id): unexpected recipients \(q.recipients)")
                continue
            }
            XCTAssertTrue(seen.insert(i).inserted, "message \(i) queued twice")
            let filler = String(repeating: "filler line for message \(i)\r\n", count: 200)
            XCTAssertEqual(q.bodyText, "marker-\(i)-start\r\n\(filler)marker-\(i)-end\r\n", "\(id) is complete and holds only message \(i)")
            XCTAssertEqual(q.fields("Subject"), ["parallel \(i)"])
        }
        XCTAssertEqual(seen, Set(0..<n))
        XCTAssertEqual(files(in: tmpDir), [])
    }
}
