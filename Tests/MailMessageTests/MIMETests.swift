import Foundation
import XCTest
@testable import MailMessage

/// The MIME layer (issue 12): the walker loses nothing (parse then write back is the same
/// bytes, over a fixture corpus), agrees with an independent parser (CPython's email
/// package) on the structure, and the generator's output is read back by that parser with
/// the same content.
final class MIMETests: XCTestCase {
    static let fixtures: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/mime")

    /// Every fixture, its line ends made CRLF (as messages are queued and sent).
    func corpus() throws -> [(name: String, bytes: [UInt8])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path).filter { $0.hasSuffix(".eml") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 10)
        return try names.map { name in
            let raw = [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent(name)))
            var crlf: [UInt8] = []
            for b in raw { if b == 10 { crlf += [13, 10] } else { crlf.append(b) } }
            return (name, crlf)
        }
    }

    func testParseThenWriteBackIsIdentical() throws {
        for (name, bytes) in try corpus() {
            let entity = MIMEEntity.parse(bytes)
            XCTAssertEqual(entity.serialized(from: bytes), bytes, name)
        }
    }

    /// `type[children]` for each entity, as the structure check below prints it.
    static func shape(_ e: MIMEEntity) -> String {
        e.parts.isEmpty ? e.contentType.mediaType : e.contentType.mediaType + "[" + e.parts.map(shape).joined(separator: ",") + "]"
    }

    func testStructureAgreesWithPythonsEmailPackage() throws {
        let script = """
        import sys, email, email.policy
        def shape(m):
            t = m.get_content_type()
            if m.is_multipart():
                return t + "[" + ",".join(shape(p) for p in m.get_payload()) + "]"
            return t
        print(shape(email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.compat32)))
        """
        for (name, bytes) in try corpus() {
            let python = try Self.python(script, input: bytes).trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertEqual(Self.shape(MIMEEntity.parse(bytes)), python, name)
        }
    }

    func testNestedStructureAndParameters() throws {
        let bytes = try corpus().first { $0.name == "03-mixed-nested.eml" }!.bytes
        let m = MIMEEntity.parse(bytes)
        XCTAssertEqual(m.parts.count, 3)
        let png = m.parts[0].parts[1]
        XCTAssertEqual(png.contentType.mediaType, "image/png")
        XCTAssertEqual(png.transferEncoding, "base64")
        XCTAssertEqual(Base64.decode(bytes: Array(bytes[png.bodyRange]), skippingWhiteSpace: true)?.prefix(4), [0x89, 0x50, 0x4E, 0x47])
        let pdf = ContentDisposition(parsing: m.parts[1].header.first("Content-Disposition")!.rawValue)
        XCTAssertEqual(pdf?.filename, "Bericht für Q3.pdf", "RFC 2231 charset value")
        let csv = ContentDisposition(parsing: m.parts[2].header.first("Content-Disposition")!.rawValue)
        XCTAssertEqual(csv?.filename, "data-2026.csv", "RFC 2231 continuation")
        XCTAssertEqual(String(decoding: bytes[m.parts[2].bodyRange], as: UTF8.self), "a,b\r\n1,2", "the CRLF before the delimiter is not content")
    }

    func testDefectsAndDefaults() throws {
        let corpus = try self.corpus()
        let unclosed = MIMEEntity.parse(corpus.first { $0.name == "06-unclosed.eml" }!.bytes)
        XCTAssertEqual(unclosed.parts.count, 2)
        XCTAssertEqual(unclosed.defects, [.multipartNotClosed])
        let digest = MIMEEntity.parse(corpus.first { $0.name == "05-digest.eml" }!.bytes)
        XCTAssertEqual(digest.parts.map(\.contentType.mediaType), ["message/rfc822", "message/rfc822"], "RFC 2046 5.1.5")
        XCTAssertEqual(digest.parts[0].parts.first?.header.first("Subject")?.value, "first")
        var deep = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        for n in 0..<200 { deep += "--\(n == 0 ? "b" : "b\(n - 1)")\r\nContent-Type: multipart/mixed; boundary=b\(n)\r\n\r\n" }
        let parsed = MIMEEntity.parse(Array(deep.utf8))
        XCTAssertLessThanOrEqual(parsed.all.count, MIMEEntity.maxDepth + 1, "nesting is bounded")
    }

    func testContentTypeParametersRoundTrip() {
        var t = ContentType("application/pdf")
        t.field.setParameter("name", "Grüße \"Q3\".pdf")
        let rendered = t.rendered
        XCTAssertFalse(rendered.utf8.contains { $0 >= 0x80 }, rendered)
        XCTAssertEqual(ContentType(parsing: Array(rendered.utf8))?.parameter("name"), "Grüße \"Q3\".pdf")
        let long = String(repeating: "ä", count: 80) + ".txt"
        let d = ContentDisposition("attachment", filename: long)
        XCTAssertTrue(d.rendered.contains("filename*0*=utf-8''"), d.rendered)
        XCTAssertEqual(ContentDisposition(parsing: Array(d.rendered.utf8))?.filename, long)
        XCTAssertEqual(ContentType(parsing: Array("text/plain; charset=\"us-ascii\" (comment); format=flowed".utf8))?.parameter("format"), "flowed")
        XCTAssertNil(ContentType(parsing: Array("text".utf8)))
    }

    func testQuotedPrintableAndBase64RoundTrip() {
        let text = Array("From the start\r\n.\r\nTrailing space \r\nGrüße = \(String(repeating: "x", count: 200))\r\n".utf8)
        let qp = QuotedPrintableEncoder.encode(text)
        XCTAssertFalse(LineLimit.hasLongLine(qp))
        XCTAssertTrue(qp.split(separator: 10).allSatisfy { $0.count <= 77 }, "76 characters and CR")
        XCTAssertFalse(String(decoding: qp, as: UTF8.self).contains("\r\nFrom "), "From at a line start is protected")
        XCTAssertEqual(QuotedPrintableDecoder.decode(qp), text)
        let binary = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let b64 = Base64LineEncoder.encode(binary)
        XCTAssertTrue(b64.split(separator: 10).allSatisfy { $0.count <= 77 })
        XCTAssertEqual(Base64.decode(bytes: b64, skippingWhiteSpace: true), binary)
    }

    /// What the generator writes is read back by Python's email package: the tree, each
    /// part's decoded content, the filename.
    func testGeneratedMessageReadsBackInPython() throws {
        struct Chunks: MIMEBodySource {
            let bytes: [UInt8]
            func read(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
                var i = 0
                while i < bytes.count {
                    let end = min(i + 1000, bytes.count)
                    try Array(bytes[i..<end]).withUnsafeBytes { try consume($0) }
                    i = end
                }
            }
        }
        let attachment = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var pdf = MIMEPart(ContentType("application/octet-stream"), body: .stream(Chunks(bytes: attachment)))
        pdf.fields = [HeaderField.folded(name: "Content-Disposition", value: Array(ContentDisposition("attachment", filename: "Grüße.bin").rendered.utf8))]
        let message = MIMEPart.multipart("mixed", [
            .multipart("alternative", [.text("Hello\nGrüße\nFrom here\n"), .text("<p>Hello</p>", subtype: "html")]),
            pdf,
        ])
        var generator = MIMEGenerator(random: { [UInt8](repeating: 0xAB, count: 16) })
        var out: [UInt8] = []
        try generator.write(message, headerFields: [try HeaderField(name: "Subject", value: "t"), try HeaderField(name: "MIME-Version", value: "1.0")]) { out += $0 }
        XCTAssertFalse(LineLimit.hasLongLine(out))
        XCTAssertFalse(out.contains { $0 >= 0x80 }, "7-bit on the wire")
        XCTAssertEqual(MIMEEntity.parse(out).serialized(from: out), out)
        let script = """
        import sys, email, email.policy, hashlib
        m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
        for p in m.walk():
            if p.is_multipart():
                print(p.get_content_type())
            else:
                data = p.get_payload(decode=True)
                print(p.get_content_type(), p.get_filename(), hashlib.sha256(data).hexdigest(), repr(data[:40]) if p.get_content_maintype() == "text" else "")
        """
        let lines = try Self.python(script, input: out).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5, lines.joined(separator: "\n"))
        XCTAssertEqual(lines[0], "multipart/mixed")
        XCTAssertEqual(lines[1], "multipart/alternative")
        XCTAssertTrue(lines[2].hasPrefix("text/plain None "), lines[2])
        XCTAssertTrue(lines[2].hasSuffix(#"b'Hello\r\nGr\xc3\xbc\xc3\x9fe\r\nFrom here\r\n'"#), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("text/html None "), lines[3])
        let digest = try Self.sha256Hex(attachment)
        XCTAssertTrue(lines[4].hasPrefix("application/octet-stream Grüße.bin \(digest)"), lines[4])
    }

    static func sha256Hex(_ bytes: [UInt8]) throws -> String {
        try python("import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())", input: bytes)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs Debian's Python 3 (its email package is the independent reader).
    static func python(_ script: String, input: [UInt8]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "/usr/bin/env")
        p.arguments = (p.executableURL!.path == "/usr/bin/env" ? ["python3"] : []) + ["-c", script]
        let stdin = Pipe(), stdout = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        try p.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw NSError(domain: "python", code: Int(p.terminationStatus)) }
        return String(decoding: data, as: UTF8.self)
    }
}
