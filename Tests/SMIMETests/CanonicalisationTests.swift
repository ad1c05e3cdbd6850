import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME
import CMailShim
import MailMessage

/// RFC 8551 3.1 canonicalisation: golden outputs of the planner and encoders.
final class CanonicalisationTests: XCTestCase {
    /// The canonical entity of `message` (Content-* fields + body), as bytes.
    func canonical(_ message: String) throws -> String {
        let dir = TempDir()
        let file = try InputFile(path: dir.write("m.eml", message))
        let head = try file.headerBlock(at: 0, limit: file.size)
        let entity = try CanonicalPlanner(file: file).plan(contentFields: head.fields.filter(\.isContentField),
                                                           body: head.bodyStart..<file.size)
        let memory = try BIOHandle.emptyMemory()
        let writer = BIOWriter(target: memory.pointer)
        try writer.write(render(entity.headerFields))
        try file.write(entity.body, to: writer)
        try writer.flush()
        return String(decoding: memory.memoryBytes(), as: UTF8.self)
    }

    func testPlainSevenBitIsCopiedWithCRLFAndDefaultType() throws {
        XCTAssertEqual(try canonical("Subject: x\n\nhello\nworld\n"),
                       "Content-Type: text/plain; charset=us-ascii\r\n\r\nhello\r\nworld\r\n")
        XCTAssertEqual(try canonical("Subject: x\nContent-Type: text/plain\n\nok\r\n"),
                       "Content-Type: text/plain\r\n\r\nok\r\n")
    }

    func testRiskyTextBecomesQuotedPrintable() throws {
        let out = try canonical("Content-Type: text/plain; charset=utf-8\r\n\r\nFrom me\r\ntrail \r\n.\r\nüber = 1\r\n"
                                + String(repeating: "x", count: 100) + "\r\n")
        XCTAssertEqual(out, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                       + "=46rom me\r\ntrail=20\r\n=2E\r\n=C3=BCber =3D 1\r\n"
                       + String(repeating: "x", count: 75) + "=\r\n" + String(repeating: "x", count: 25) + "\r\n")
    }

    func testUndeclared8BitGetsUTF8Charset() throws {
        XCTAssertTrue(try canonical("Subject: x\r\n\r\nZürich\r\n").hasPrefix("Content-Type: text/plain; charset=utf-8\r\n"
                                                                        + "Content-Transfer-Encoding: quoted-printable\r\n"))
    }

    func testBinaryLeafBecomesBase64AndMultipartFramingIsKept() throws {
        let out = try canonical("Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\nplain\r\n--zz\r\n"
                                + "Content-Type: application/octet-stream\r\n\r\n\u{00}\u{01}\u{02}\r\n--zz--\r\nepilogue\r\n")
        XCTAssertEqual(out, "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\nplain\r\n--zz\r\n"
                       + "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n\r\n"
                       + "--zz--\r\nepilogue\r\n")
    }

    func testUnwalkableMultipartIsCopiedNotReencoded() throws {
        XCTAssertEqual(try canonical("Content-Type: multipart/mixed; boundary=nope\r\n\r\nFrom x\r\n\u{00e9}\r\n"),
                       "Content-Type: multipart/mixed; boundary=nope\r\n\r\nFrom x\r\n\u{00e9}\r\n")
    }

    func testExistingQuotedPrintableIsProtected() throws {
        let out = try canonical("Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                                + "From here \r\nok=3D\r\n")
        XCTAssertTrue(out.hasSuffix("\r\n\r\n=46rom here=20\r\nok=3D\r\n"), out)
    }

    func testNestedMessageIsWalked() throws {
        let out = try canonical("Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\n"
                                + "From inner\r\n")
        XCTAssertTrue(out.contains("Subject: inner\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable"
                                   + "\r\n\r\n=46rom inner\r\n"), out)
    }

    func testQuotedPrintableRoundTripsThroughPython() throws {
        var text = ""
        for i in 0..<300 {
            text += String(repeating: i % 7 == 0 ? "é " : "ab= \t", count: i % 40) + (i % 5 == 0 ? " " : "") + "\r\n"
        }
        let out = try canonical("Content-Type: text/plain; charset=utf-8\r\n\r\n" + text)
        let body = String(out[out.range(of: "\r\n\r\n")!.upperBound...])
        XCTAssertTrue(body.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        let decoded = try sh(["python3", "-c", "import quopri,sys; sys.stdout.buffer.write(quopri.decodestring(sys.stdin.buffer.read()))"],
                             stdin: Data(body.utf8))
        XCTAssertEqual(decoded.out, text)
    }

    /// Headers are read with MailMessage's parser: a message's mbox `From ` line is not a
    /// field (it went into the outer header), and in a part a first line `From ...` is body,
    /// encoded like any `From ` line (it stayed a header line, which an mbox would mangle).
    func testFromLinesAreNotHeaderFields() throws {
        let dir = TempDir()
        let file = try InputFile(path: dir.write("m.eml", "From alice@x Mon Jan  1 10:00:00 2024\nSubject: s\n\nbody\n"))
        XCTAssertEqual(try file.headerBlock(at: 0, limit: file.size).fields.map(\.name), ["Subject"])
        let out = try canonical("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nFrom x\r\n--b--\r\n")
        XCTAssertFalse(out.contains("\nFrom "), out)
        XCTAssertTrue(out.contains("--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=46rom x\r\n--b--"), out)
    }

    func testHeaderProtectionSignedOnlyMarksClear() throws {
        let fields = HeaderBlock.parse(Array("From: a@x\r\nSubject: s\r\nReceived: by relay\r\n".utf8)).block.fields
        let hp = ProtectedHeaders(protecting: fields, encrypting: false)
        XCTAssertEqual(hp.outer.map(\.value), ["a@x", "s", "by relay"])
        let inner = hp.entityFields([try HeaderField(name: "Content-Type", value: "text/plain")])
        XCTAssertEqual(inner.map { String(decoding: $0.wireBytes, as: UTF8.self) },
                       ["From: a@x\r\n", "Subject: s\r\n",
                        "Content-Type: text/plain; hp=\"clear\"; protected-headers=\"v1\"\r\n"])
    }

    func testBase64FilterBIOWrapsAt76WithCRLF() throws {
        let memory = try BIOHandle.emptyMemory()
        let b64 = BIOHandle(try XCTUnwrap(sm_cms_bio_b64crlf(memory.pointer)))
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        for chunk in stride(from: 0, to: data.count, by: 33) {
            let slice = Array(data[chunk..<min(chunk + 33, data.count)])
            XCTAssertEqual(sm_cms_bio_write_all(b64.pointer, slice, slice.count), 1)
        }
        XCTAssertEqual(sm_cms_b64crlf_finish(b64.pointer), 1)
        let text = String(decoding: memory.memoryBytes(), as: UTF8.self)
        XCTAssertEqual(text, String(decoding: Base64LineEncoder.encode(data), as: UTF8.self))
        XCTAssertEqual(Array(Data(base64Encoded: text.replacingOccurrences(of: "\r\n", with: "")) ?? Data()), data)
        XCTAssertTrue(text.components(separatedBy: "\r\n").dropLast(2).allSatisfy { $0.count == 76 })
    }
}
