import XCTest
@testable import MailQueue

/// The queue record's summary flags: the 8-bit header flag round-trips, and records written
/// before it existed (summary of width 72, no `hdr8`) still read, with the flag off.
final class EnvelopeRecordTests: XCTestCase {
    private func envelope() -> QueuedEnvelope {
        QueuedEnvelope(id: QueueID.generate(), arrivalMicros: 1_795_965_220_000_000, sender: "a@x.org",
                       recipients: [QueuedRecipient(address: "r@y.org")], uid: 0, user: "root")
    }

    func testEightBitHeaderRoundTrip() throws {
        var e = envelope()
        e.eightBitHeader = true
        e.hasLongLines = true
        e.bodyType = .eightBitMIME
        let (bytes, _) = EnvelopeRecord.encode(e)
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.contains(" long=1 utf8=0 hdr8=1"), text)
        let (read, _) = try EnvelopeRecord.decode(bytes)
        XCTAssertEqual(read, e)
        e.eightBitHeader = false
        XCTAssertFalse(try EnvelopeRecord.decode(EnvelopeRecord.encode(e).bytes).0.eightBitHeader)
    }

    func testRecordWithoutTheKeyStillParses() throws {
        let e = envelope()
        var summary = "summary size=00000000000000000042 body=8bitmime nul=0 long=1 utf8=0"
        summary += String(repeating: " ", count: 72 - summary.utf8.count)
        let old = "sealmail-queue 1\nid \(e.id)\narrival \(e.arrivalMicros)\n\(summary)\nuid 0\nuser root\n"
            + "sender a@x.org\nrcpt r@y.org\nmessage\nSubject: x\r\n"
        let (read, offset) = try EnvelopeRecord.decode(Array(old.utf8))
        XCTAssertFalse(read.eightBitHeader)
        XCTAssertTrue(read.hasLongLines)
        XCTAssertEqual(read.bodyType, .eightBitMIME)
        XCTAssertEqual(read.size, 42)
        XCTAssertEqual(offset, old.utf8.count - "Subject: x\r\n".utf8.count)
    }
}
