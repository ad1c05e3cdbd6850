import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A full disk while the S/MIME engine writes a signed copy is a temporary condition, as it
/// is for an unsigned message (BadInputTests.testDiskFull): exit 75 naming the cause, nothing
/// queued, and the caller keeps the message to try again. It was exit 78 (a configuration
/// error) while every S/MIME failure was turned into one string.
final class SigningDiskFullTests: PolicyTestCase {
    /// A 1 MiB tmpfs holds the canonical copy of a 600 KB message but not, beside it, the
    /// signed copy: the write fails inside the signer, not before.
    func testDiskFullWhileSigningExits75() throws {
        let mnt = dir + "/small"
        guard mountTmpfs(mnt, size: "1m") else {
            throw XCTSkip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): \(errnoText())")
        }
        try writeConfig(queueDir: mnt + "/q", extra: relayAndStore() + signRule())
        let line = String(repeating: "a", count: 99) + "\n"
        let body = String(repeating: line, count: 600 * 1024 / 100)
        let input = "From: Sender <\(Self.sender)>\nTo: \(Self.partner("a"))\nSubject: big\n\n" + body
        let r = try sealmail(["-odq", "-t", "-f", Self.sender], input: input)
        XCTAssertEqual(r.status, 75, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("No space left on device"), r.stderrText)
        XCTAssertEqual(files(in: mnt + "/q/messages"), [], "nothing queued")
        XCTAssertEqual(files(in: mnt + "/q/tmp"), [], "nothing left in tmp/")

        // The failure was the signer's: the same message unsigned fits (one copy only).
        try writeConfig(queueDir: mnt + "/q", extra: relayAndStore())
        let plain = try sealmail(["-odq", "-t", "-f", Self.sender], input: input)
        XCTAssertEqual(plain.status, 0, plain.stderrText)
        XCTAssertEqual(files(in: mnt + "/q/messages").count, 1)
    }

    /// `-bs` gives the SMTP form of the same decision: 451 4.3.0 (try again), not a
    /// permanent 554. Its DATA, the canonical copy and the signed copy share the tmpfs: a
    /// 360 KB message leaves no room for the third.
    func testDiskFullWhileSigningIsATransientReplyForBS() throws {
        let mnt = dir + "/small"
        guard mountTmpfs(mnt, size: "1m") else {
            throw XCTSkip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): \(errnoText())")
        }
        try writeConfig(queueDir: mnt + "/q", extra: relayAndStore() + signRule())
        let line = String(repeating: "a", count: 98) + "\r\n"
        let body = String(repeating: line, count: 360 * 1024 / 100)
        let session = "EHLO client.example\r\nMAIL FROM:<\(Self.sender)>\r\nRCPT TO:<\(Self.partner("a"))>\r\nDATA\r\n"
            + "From: Sender <\(Self.sender)>\r\nTo: \(Self.partner("a"))\r\nSubject: big\r\n\r\n" + body + ".\r\nQUIT\r\n"
        let r = try sealmail(["-bs", "-odq"], input: session)
        let reply = r.stdoutText.components(separatedBy: "\r\n").first { $0.hasPrefix("451 ") || $0.hasPrefix("554 ") || $0.hasPrefix("250 2.0.0 Ok: queued") }
        XCTAssertEqual(reply?.hasPrefix("451 4.3.0 "), true, r.stdoutText)
        XCTAssertEqual(reply?.contains("No space left on device"), true, r.stdoutText)
        XCTAssertEqual(files(in: mnt + "/q/messages"), [], "nothing queued")
    }
}
