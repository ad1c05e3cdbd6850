import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

final class SignTests: XCTestCase {
    let message = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: hello\r\n"
        + "Date: Sun, 29 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@example.test>\r\n\r\nHello Bob.\r\n"

    func testDetachedSignatureVerifiesWithOpenSSL() throws {
        let dir = TempDir()
        var protection = Protection(signer: try Fixture.alice())
        protection.now = { Fixture.labTime }
        let out = try protect(message, protection, in: dir)
        assertWireSafe(out)
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("From: alice@example.test\r\n"))
        XCTAssertTrue(text.contains("micalg=sha-256"))
        let verified = try opensslVerify(dir.file("out.eml"))
        XCTAssertEqual(verified.status, 0, verified.stderr)
        XCTAssertTrue(verified.out.contains("Hello Bob."))
    }
}
