import Foundation
import XCTest

/// Header lines at and over the limits (issue 11, items 5 and 7): a header field is never cut
/// or split, a field name never broken, no bare LF ever queued, and what cannot be written is
/// refused with exit 65 and a reason, never accepted and reinterpreted.
final class HeaderLimitTests: SealmailTestCase {
    /// Names from 991 to 1000 octets before `At: hello`: the ones that fit with their colon on
    /// a line (at most 997 octets) are queued with the name whole on its first line and the
    /// value unchanged; longer ones are refused (65) naming the problem. (b5b1990 queued
    /// `...At:\n : hello`, a bare LF, and for longer names a corrupted field.)
    func testFieldNameIsNeverSplitAndNoBareLFIsQueued() throws {
        for prefix in 991...1000 {
            let name = String(repeating: "X", count: prefix) + "At"
            let input = "To: a@x.example\n\(name): hello\n\nbody\n"
            if name.utf8.count <= 997 {
                let q = try submitOK(["-odq", "-t"], input)
                let text = String(decoding: q.message, as: UTF8.self)
                XCTAssertTrue(text.contains("\r\n\(name):"), "the name is whole at the start of a line (\(prefix))")
                let lines = text.components(separatedBy: "\r\n")
                XCTAssertLessThanOrEqual(lines.map(\.utf8.count).max() ?? 0, 998, "no line over 998 octets (\(prefix))")
                guard let i = lines.firstIndex(where: { $0.hasPrefix(name + ":") }) else { return XCTFail("no field") }
                var value = String(lines[i].dropFirst(name.utf8.count + 1))
                var j = i + 1
                while j < lines.count, lines[j].hasPrefix(" ") || lines[j].hasPrefix("\t") { value += lines[j]; j += 1 }
                XCTAssertEqual(value.trimmingCharacters(in: .whitespaces), "hello", "folding only, the value unchanged (\(prefix))")
                try FileManager.default.removeItem(atPath: messagesDir + "/" + q.id)
            } else {
                let r = try sealmail(["-odq", "-t"], input: input)
                XCTAssertEqual(r.status, 65, "a \(name.utf8.count)-octet field name cannot be written: \(r.stderrText)")
                XCTAssertTrue(r.stderrText.contains("field name"), r.stderrText)
                assertNothingQueued("name of \(name.utf8.count) octets")
            }
        }
    }

    /// A 2 MiB field is a field: the Bcc after it is still header, so it is removed and its
    /// address is a recipient (b5b1990 ended the header at the 1 MiB line: exit 0, the Bcc
    /// recipient dropped and disclosed in the body).
    func testHeaderLineOverOneMiBDoesNotEndTheHeader() throws {
        let big = String(repeating: "y", count: 2 << 20)
        let q = try submitOK(["-odq", "-t"], "To: a@x.example\nX-Big: \(big)\nBcc: secret@hidden.example\n\nbody\n")
        XCTAssertEqual(Set(q.recipients), ["a@x.example", "secret@hidden.example"])
        let text = String(decoding: q.message, as: UTF8.self)
        XCTAssertFalse(text.contains("secret@hidden.example"), "the Bcc address is in no header and not in the body")
        let parts = text.components(separatedBy: "\r\n\r\n")
        XCTAssertEqual(parts.last, "body\r\n", "the body is the body")
        let header = parts[0]
        let after = header.components(separatedBy: "\r\nX-Big:")
        XCTAssertEqual(after.count, 2, "one X-Big field in the header")
        let field = (after.last ?? "").components(separatedBy: "\r\nMessage-Id:")[0]
        XCTAssertEqual(field.filter { $0 == "y" }.count, 2 << 20, "the field's value is kept whole")
        XCTAssertLessThanOrEqual(header.components(separatedBy: "\r\n").map(\.utf8.count).max() ?? 0, 998)
    }

    /// One header line larger than the whole header block may be (16 MiB): refused, 65.
    func testSingleHeaderLineOverTheHeaderLimitIsRefused() throws {
        let r = try sealmail(["-odq", "-t"], input: Array("To: a@x.example\nX-Big: ".utf8) + [UInt8](repeating: 121, count: 17 << 20) + Array("\n\nbody\n".utf8))
        XCTAssertEqual(r.status, 65, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("header"), r.stderrText)
        assertNothingQueued()
    }
}
