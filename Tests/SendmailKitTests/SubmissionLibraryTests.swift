import XCTest
#if canImport(Glibc)
import Glibc
#endif
import MailPolicy
import MailQueue
@testable import SendmailKit

/// Submission as a library call (issue 12): a `SubmissionRequest` and a `Runtime` built from
/// values (config, identity, clock, randomness): no config file, no passwd lookup, no argv,
/// and a golden result because time and randomness come from the caller.
final class SubmissionLibraryTests: XCTestCase {
    func testSubmitWithAnInjectedEnvironment() throws {
        var template = Array("/tmp/sealmail-sublib-XXXXXX".utf8CString)
        let dir = String(cString: try XCTUnwrap(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = SealmailConfig()
        config.queueDir = dir + "/q"
        config.aliases = dir + "/no-aliases"
        config.localDelivery = LocalDelivery.none
        var rt = Runtime(config: config, identity: SystemIdentity(uid: 1234, user: "app", gecosName: "App Server", nodeName: "web1"),
                         hostname: "web1.example.com", domain: "example.com")
        rt.clock = { Clock(epochSeconds: 1_800_000_000, microseconds: 1_800_000_000_000_000, utcOffset: 0) }
        rt.random = { 42 }
        let request = SubmissionRequest(sender: nil, recipients: ["ops"], ignoreDots: true)
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let input = Array("Subject: injected\n\nbody\n".utf8)
        XCTAssertEqual(write(fds[1], input, input.count), input.count)
        close(fds[1])
        defer { close(fds[0]) }
        let outcome = try Submission.submit(request, runtime: rt, inputFD: fds[0])
        let env = outcome.envelope
        XCTAssertEqual(env.id, QueueID.make(microseconds: 1_800_000_000_000_000, random: 42), "the id from the injected clock and bits")
        XCTAssertEqual(env.sender, "app@example.com")
        XCTAssertEqual(env.recipients.map(\.address), ["ops@example.com"])
        XCTAssertEqual(env.uid, 1234)
        let file = try String(contentsOfFile: dir + "/q/messages/" + env.id, encoding: .utf8)
        XCTAssertTrue(file.contains("Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n"), file)
        XCTAssertTrue(file.contains("From: App Server <app@example.com>\r\n"), file)
        let unfolded = file.replacingOccurrences(of: "\r\n ", with: " ")
        XCTAssertTrue(unfolded.contains("Received: by web1.example.com (sealmail, from userid 1234) id \(env.id);"), file)
    }
}
