import Foundation
import XCTest
import MailMessage
import MailQueue
@testable import SendmailKit

/// The flags a submission records in the queue record, from a message read through a pipe.
final class SubmissionSummaryTests: XCTestCase {
    let context = SubmissionContext(qualifier: AddressQualifier(domain: "example.com", localNames: ["vm"]),
                                    hostname: "vm.example.com", user: "root", uid: 0, fullName: nil,
                                    epochSeconds: 1_795_965_220, utcOffset: 3600, queueID: "8DyyRLFYOfKbDWLY")

    /// What the queue record says about a message: the 8-bit header flag (for SMTPUTF8) and
    /// long body lines (for the transport to encode).
    func testSummaryFlags() throws {
        func summary(_ input: String) throws -> QueuedEnvelope {
            var fds: [Int32] = [0, 0]
            XCTAssertEqual(pipe(&fds), 0)
            let bytes = Array(input.utf8)
            XCTAssertEqual(write(fds[1], bytes, bytes.count), bytes.count)
            close(fds[1])
            defer { close(fds[0]) }
            let message = MessageInput(fd: fds[0], ignoreDots: true)
            try message.readHeader()
            while try message.nextBodyChunk({ _ in }) {}
            let header = SubmissionRules.finalHeader(message.header.block, sender: "a@example.com",
                                                     fullNameOption: nil, context: context)
            var e = QueuedEnvelope(id: "x", arrivalMicros: 0, sender: "a@example.com", recipients: [], uid: 0, user: "root")
            Submission.summarize(&e, input: message, header: header, options: SubmissionRequest())
            return e
        }
        let utf8 = try summary("To: utf8@example.net\nSubject: café über 日本\n\nbody\n")
        XCTAssertTrue(utf8.eightBitHeader)
        XCTAssertFalse(utf8.smtputf8, "addresses are ASCII: SMTPUTF8 preferred, not required")
        XCTAssertFalse(try summary("Subject: plain\n\ncafé\n").eightBitHeader, "8-bit body only")
        let long = try summary("Subject: s\n\n" + String(repeating: "x", count: 1500) + "\nshort\n")
        XCTAssertTrue(long.hasLongLines)
        XCTAssertFalse(try summary("X-Long: " + String(repeating: "z", count: 1500) + "\n\nbody\n").hasLongLines,
                       "the header is broken at submission")
    }
}
