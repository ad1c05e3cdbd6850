import Foundation
import XCTest
import SMTPTestSupport

/// `-odb` (the default delivery): the caller waits for the queue, never for the relay. The
/// deliverer is detached: its own session, stdio on /dev/null and no descriptor of the
/// caller's, so a caller that reads sealmail's output to its end (cron, PHP's popen, a shell
/// pipe) or waits as Foundation's Process does (until every holder of a socket its child
/// inherits has closed it) is done when sealmail exits, while the message is still being sent.
final class BackgroundDeliveryTests: SealmailTestCase {
    func testOdbReturnsWhileTheRelayHoldsItsGreetingAndTheMessageArrivesAfter() throws {
        let hold = 5.0
        let server = try ScriptedSMTPServer(script: .init(steps: ["GREETING": [.slow("220 scripted.test ESMTP", seconds: hold)]]))
        defer { server.stop() }
        try writeConfig(extra: """
        [[relay]]
        host = "127.0.0.1"
        port = \(server.port)
        tls = "none"
        """)
        // As cron and popen run it: stdin, stdout and stderr are pipes, and the caller reads
        // stdout and stderr to their end.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.sealmail)
        process.arguments = ["-C", configPath, "-odb", "-f", "sender@example.com", "-t"]
        process.environment = childEnvironment()
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        let start = Date()
        try process.run()
        input.fileHandleForWriting.write(Data("To: rcpt@example.org\nSubject: background\n\nbody\n".utf8))
        try input.fileHandleForWriting.close()
        let outText = output.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let waited = Date().timeIntervalSince(start)
        XCTAssertEqual(process.terminationStatus, 0, errText)
        XCTAssertTrue(outText.isEmpty && errText.isEmpty, errText)
        XCTAssertLessThan(waited, hold - 1, "the caller waited \(waited) s: for the relay, or for a deliverer holding its pipes")
        XCTAssertEqual(server.messages.count, 0, "sent before the greeting?")

        let deadline = Date().addingTimeInterval(hold + 20)
        while server.messages.isEmpty && Date() < deadline { usleep(50_000) }
        XCTAssertEqual(server.messages.count, 1, "the detached deliverer sent the message")
        while !queuedIDs.isEmpty && Date() < deadline { usleep(50_000) }
        XCTAssertEqual(queuedIDs, [], "and removed it from the queue")
    }
}
