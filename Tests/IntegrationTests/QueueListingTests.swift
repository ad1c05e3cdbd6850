import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// mailq (`sealmail -bp`, a link named `mailq`) in Postfix's layout, and `sealctl queue
/// list|show|delete`.
final class QueueListingTests: SealmailTestCase {
    static let heading = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"

    /// A link named `mailq` to the sealmail binary, in the test's folder.
    func mailqLink() throws -> String {
        let link = dir + "/mailq"
        guard symlink(Binaries.sealmail, link) == 0 else { throw HarnessError("symlink: \(errnoText())") }
        return link
    }

    func runMailqLink() throws -> RunResult {
        let child = try Child(try mailqLink(), ["-C", configPath], environment: childEnvironment(), outputDir: dir)
        return child.wait()
    }

    /// `Sun Nov 29 15:01:55`: the arrival column (asctime's first 19 characters), in UTC.
    func stamp(_ q: QueuedMessage) -> String {
        var t = time_t((UInt64(q.value("arrival") ?? "0") ?? 0) / 1_000_000)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 64)
        strftime(&buf, buf.count, "%a %b %e %H:%M:%S", &tmv)
        return String(cString: buf)
    }

    func testEmptyQueue() throws {
        let r = try sealmail(["-bp"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(r.stdoutText, "Mail queue is empty\n")
        let link = try runMailqLink()
        XCTAssertEqual(link.status, 0, link.stderrText)
        XCTAssertEqual(link.stdoutText, "Mail queue is empty\n")
        let list = try sealctl(["queue", "list"])
        XCTAssertEqual(list.status, 0, list.stderrText)
        XCTAssertEqual(list.stdoutText, "Mail queue is empty\n")
        let json = try sealctl(["queue", "list", "--json"])
        XCTAssertEqual(json.status, 0, json.stderrText)
        XCTAssertEqual(json.stdoutText, "")
    }

    func testMailqLayout() throws {
        let q1 = try submitOK(["-t"], "To: a@x.example\nSubject: one\n\nbody one\n")
        usleep(2_000)
        let q2 = try submitOK(["-f", "s@x.example", "-i", "b@y.example", "c@y.example"], "Subject: two\n\n" + String(repeating: "x", count: 3000) + "\n")
        let r = try sealmail(["-bp"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let lines = r.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, Self.heading)
        var expected: [String] = [Self.heading]
        var rowPatterns: [Int: (QueuedMessage, String)] = [:]
        for q in [q1, q2].sorted(by: { $0.id < $1.id }) {
            rowPatterns[expected.count] = (q, q.sender ?? "")
            expected.append("ROW")
            for rcpt in q.recipients { expected.append(String(repeating: " ", count: 41) + rcpt) }
            expected.append("")
        }
        let total = q1.message.count + q2.message.count
        expected.append("-- \(total / 1024) Kbytes in 2 Requests.")
        expected.append("")
        XCTAssertEqual(lines.count, expected.count, r.stdoutText)
        for (i, line) in lines.enumerated() where i < expected.count {
            if let (q, sender) = rowPatterns[i] {
                // `ID[*!]  SIZE Www Mmm dd hh:mm:ss  sender`; the id column overflows (16-char ids).
                let parts = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                XCTAssertEqual(parts.first, q.id, line)
                XCTAssertEqual(parts.dropFirst().first, String(q.message.count), "size column: \(line)")
                XCTAssertTrue(line.contains(" \(stamp(q))  \(sender)"), "arrival column then two spaces then the sender: \(line)")
                XCTAssertTrue(line.hasSuffix("  " + sender), line)
            } else if i == expected.count - 2 {
                XCTAssertTrue(line.hasPrefix("-- ") && line.hasSuffix(" Kbytes in 2 Requests."), line)
            } else {
                XCTAssertEqual(line, expected[i])
            }
        }
        // The mailq link, sealctl's list and -bp print the same thing.
        XCTAssertEqual(try runMailqLink().stdoutText, r.stdoutText)
        XCTAssertEqual(try sealctl(["queue", "list"]).stdoutText, r.stdoutText)
    }

    /// Postfix's showq_compat.c prints `queue_size / 1024` (rounded down): a queue of less than
    /// 1024 bytes is "-- 0 Kbytes in 1 Request.".
    func testMailqFooterRoundsKbytesDownLikePostfix() throws {
        let q = try submitOK(["-t"], "To: a@x.example\n\nhi\n")
        XCTAssertLessThan(q.message.count, 1024)
        let r = try sealmail(["-bp"])
        XCTAssertTrue(r.stdoutText.hasSuffix("\n\n-- 0 Kbytes in 1 Request.\n"), r.stdoutText)
    }

    /// After a failed attempt (-odi, no relay configured: deferred), mailq shows the reason in
    /// parentheses above the recipients, JSON has delay_reason and the deferred queue.
    func testMailqShowsDeferralReason() throws {
        let r = try sealmail(["-odi", "-t"], input: "To: a@x.example, b@x.example\nSubject: s\n\nhi\n")
        XCTAssertEqual(r.status, 0, "a deferral after queueing is still a success: \(r.stderrText)")
        XCTAssertTrue(r.stderrText.contains("deferred") || r.stderrText.contains("queued"), r.stderrText)
        let q = try onlyQueued()
        let list = try sealmail(["-bp"]).stdoutText
        let lines = list.split(separator: "\n").map(String.init)
        guard let reasonLine = lines.first(where: { $0.hasSuffix(")") && $0.contains("(") }) else {
            return XCTFail("no reason line: \(list)")
        }
        XCTAssertTrue(reasonLine.contains("relay"), reasonLine)
        let idx = lines.firstIndex(of: reasonLine)!
        XCTAssertTrue(lines[idx - 1].hasPrefix(q.id), "the reason follows the message's row")
        XCTAssertEqual(Array(lines[(idx + 1)...].prefix(2)), q.recipients.map { String(repeating: " ", count: 41) + $0 },
                       "one reason line for recipients sharing it")

        let json = try sealctl(["queue", "list", "--json"])
        let obj = try JSONSerialization.jsonObject(with: Data(json.stdout.split(separator: 10).first ?? [])) as? [String: Any]
        XCTAssertEqual(obj?["queue_name"] as? String, "deferred")
        let rcpts = obj?["recipients"] as? [[String: Any]] ?? []
        XCTAssertEqual(rcpts.count, 2)
        for r in rcpts { XCTAssertTrue((r["delay_reason"] as? String ?? "").contains("relay"), "\(r)") }
    }

    /// Postfix right-aligns the reason: `printf("%*s(%s)\n", 76 - strlen(reason), "", reason)`.
    func testMailqReasonLineRightAlignedLikePostfix() throws {
        let r = try sealmail(["-odi", "-t"], input: "To: a@x.example\nSubject: s\n\nhi\n")
        XCTAssertEqual(r.status, 0, r.stderrText)
        let json = try sealctl(["queue", "list", "--json"])
        let obj = try JSONSerialization.jsonObject(with: Data(json.stdout.split(separator: 10).first ?? [])) as? [String: Any]
        let reason = ((obj?["recipients"] as? [[String: Any]])?.first?["delay_reason"] as? String) ?? ""
        XCTAssertFalse(reason.isEmpty)
        let expected = String(repeating: " ", count: max(0, 76 - reason.utf8.count)) + "(\(reason))"
        let list = try sealmail(["-bp"]).stdoutText
        XCTAssertTrue(list.contains("\n" + expected + "\n"), "expected the line\n\(expected)\nin\n\(list)")
    }

    func testSealctlListJSON() throws {
        let q1 = try submitOK(["-t"], "To: a@x.example, b@y.example\nSubject: one\n\nbody\n")
        let q2 = try submitOK(["-f", "", "c@z.example"], "Subject: two\n\nbody\n")
        let r = try sealctl(["queue", "list", "--json"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let lines = r.stdout.split(separator: 10)
        XCTAssertEqual(lines.count, 2, r.stdoutText)
        let byID = Dictionary(uniqueKeysWithValues: [q1, q2].map { ($0.id, $0) })
        var seen: Set<String> = []
        for line in lines {
            guard let obj = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                XCTFail("not a JSON object: \(String(decoding: line, as: UTF8.self))"); continue
            }
            guard let id = obj["queue_id"] as? String, let q = byID[id] else {
                XCTFail("unknown queue_id in \(obj)"); continue
            }
            seen.insert(id)
            XCTAssertEqual((obj["arrival_time"] as? NSNumber)?.int64Value, Int64(q.value("arrival") ?? "0")! / 1_000_000)
            XCTAssertEqual((obj["message_size"] as? NSNumber)?.intValue, q.message.count)
            XCTAssertEqual(obj["sender"] as? String, q.sender == "<>" ? "" : q.sender)
            let rcpts = (obj["recipients"] as? [[String: Any]]) ?? []
            XCTAssertEqual(rcpts.compactMap { $0["address"] as? String }, q.recipients)
            XCTAssertTrue(rcpts.allSatisfy { $0["delay_reason"] == nil }, "not tried yet: no delay_reason")
        }
        XCTAssertEqual(seen, Set(byID.keys))
    }

    /// `queue show` prints the envelope, a blank line, then the queued message byte for byte
    /// (binary and NUL bytes included).
    func testSealctlShow() throws {
        let input = "To: a@x.example\nSubject: show me\n\n".bytes + [0, 1, 2, 0xff, 0xfe] + "\n.\nend\n".bytes
        let q = try submitOK(["-t", "-i", "-f", "s@x.example", "-N", "failure", "-V", "E1"], input)
        let r = try sealctl(["queue", "show", q.id])
        XCTAssertEqual(r.status, 0, r.stderrText)
        guard let blank = r.stdout.firstRange(of: "\n\n".bytes) else { return XCTFail(r.stdoutText) }
        let envelope = String(decoding: r.stdout[..<blank.lowerBound], as: UTF8.self)
        let message = Array(r.stdout[blank.upperBound...])
        XCTAssertTrue(envelope.hasPrefix("queue_id: \(q.id)\n"), envelope)
        XCTAssertTrue(envelope.contains("sender: <s@x.example>"), envelope)
        XCTAssertTrue(envelope.contains("recipient: <a@x.example>"), envelope)
        XCTAssertTrue(envelope.contains("message_size: \(q.message.count)"), envelope)
        XCTAssertTrue(envelope.contains("envid: E1"), envelope)
        XCTAssertTrue(sameBytes(message, q.message), "queue show must print the message exactly as queued")

        let missing = try sealctl(["queue", "show", "0000000000000000"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertFalse(missing.stderrText.isEmpty)
        let bad = try sealctl(["queue", "show", "../../etc/passwd"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertFalse(bad.stdoutText.contains("root:"), "a path is never read as a queue id")
    }

    /// The flags the transport acts on: an 8-bit header (SMTPUTF8 when offered) and long
    /// body lines (encoded before relay), in the record and in `queue show`.
    func testSealctlShowFlags() throws {
        let input = "To: a@x.example\nSubject: café über 日本\n\n" + String(repeating: "x", count: 1500) + "\n"
        let q = try submitOK(["-t", "-i"], input.bytes)
        XCTAssertEqual(q.summary["hdr8"], "1")
        XCTAssertEqual(q.summary["long"], "1")
        XCTAssertEqual(q.summary["utf8"], "0", "ASCII addresses: SMTPUTF8 preferred, not required")
        let r = try sealctl(["queue", "show", q.id])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertTrue(r.stdoutText.contains("body: 8bitmime, 8-bit header, has long lines\n"), r.stdoutText)
    }

    func testSealctlDelete() throws {
        let q1 = try submitOK(["-t"], "To: a@x.example\nSubject: one\n\nbody\n")
        let q2 = try submitOK(["-t"], "To: b@x.example\nSubject: two\n\nbody\n")
        let r = try sealctl(["queue", "delete", q1.id])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(r.stdoutText, "\(q1.id): deleted\n")
        XCTAssertEqual(queuedIDs, [q2.id])
        let list = try sealmail(["-bp"]).stdoutText
        XCTAssertFalse(list.contains(q1.id))
        XCTAssertTrue(list.contains(q2.id))
        XCTAssertTrue(list.hasSuffix("in 1 Request.\n"), list)

        let again = try sealctl(["queue", "delete", q1.id])
        XCTAssertNotEqual(again.status, 0, "deleting a message that is gone fails")
        XCTAssertTrue(again.stderrText.contains(q1.id), again.stderrText)
        let bad = try sealctl(["queue", "delete", "../messages/\(q2.id)"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertEqual(queuedIDs, [q2.id], "a path is never taken as a queue id")
    }

    func testSealctlConfigCheck() throws {
        let r = try sealctl(["config", "check"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertTrue(r.stdoutText.contains("OK"), r.stdoutText)
        XCTAssertTrue(r.stdoutText.contains(Self.hostname), r.stdoutText)
        let missing = try sealctl(["config", "check", "-C", dir + "/none.toml"], withConfig: false)
        XCTAssertEqual(missing.status, 78, missing.stderrText)
    }
}
