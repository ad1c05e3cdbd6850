import XCTest
@testable import MailMessage

/// What the rest of the package builds on the MIME layer: the walker writes back every byte
/// (the 8BITMIME downgrade keeps what it does not convert), header spans (the 7-bit header
/// downgrade copies what it does not encode), the streaming encoders (S/MIME feeds them file
/// chunks of any size).
final class MIMEWriterTests: XCTestCase {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// Headers the parsed fields would not give back as they came: a part that is all header
    /// (no blank line; its last line end belongs to the delimiter), white space before a
    /// colon, a part opening with `From `, bare LF line ends.
    func testWriteBackKeepsHeadersAsTheyCame() {
        let cases = [
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n--b--\r\n",
            "Subject : old syntax\r\nContent-Type: text/plain\r\n\r\nbody\r\n",
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nFrom the start\r\n--b--\r\n",
            "Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nlf\n--b--\n",
        ]
        for m in cases {
            XCTAssertEqual(String(decoding: MIMEEntity.parse(bytes(m)).serialized(from: bytes(m)), as: UTF8.self), m)
        }
    }

    /// In a part, a first line `From ...` is body (it is not a field), not an mbox line to drop.
    func testFromLineOfAPartIsBody() throws {
        let m = bytes("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nFrom here\r\n--b--\r\n")
        let part = try XCTUnwrap(MIMEEntity.parse(m).parts.first)
        XCTAssertEqual(String(decoding: m[part.bodyRange], as: UTF8.self), "From here")
        XCTAssertEqual(HeaderBlock.parse(bytes("From me\r\nSubject: s\r\n\r\n")).block.fields.map(\.name), ["Subject"],
                       "a message's mbox line is still dropped")
    }

    func testHeaderSpansCoverEveryLine() throws {
        let header = bytes("From x\r\nSubject: a\r\n b\r\nnot a field\r\n c\r\nTo: t\r\n\r\n")
        let spans = HeaderBlock.spans(header)
        XCTAssertEqual(spans.map { String(decoding: header[$0.range], as: UTF8.self) },
                       ["From x\r\n", "Subject: a\r\n b\r\n", "not a field\r\n", " c\r\n", "To: t\r\n", "\r\n"])
        XCTAssertEqual(spans.map { $0.field?.name }, [nil, "Subject", nil, nil, "To", nil])
        XCTAssertEqual(spans[1].field?.value, "a b")
        XCTAssertEqual(spans.last?.range.upperBound, header.count)
    }

    /// CRLF kept, bare LF made CRLF, bare CR kept, whatever the chunking (a CR at the end of
    /// one chunk and its LF at the start of the next are one line end).
    func testCRLFLineEndsAcrossChunks() {
        let input = bytes("a\r\nb\nc\rd\r\n\ne\r")
        let expected = bytes("a\r\nb\r\nc\rd\r\n\r\ne\r")
        for size in 1...input.count {
            var e = CRLFLineEnds()
            var out: [UInt8] = []
            var i = 0
            while i < input.count {
                e.encode(Array(input[i..<min(i + size, input.count)]), into: &out)
                i += size
            }
            e.finish(into: &out)
            XCTAssertEqual(out, expected, "chunks of \(size)")
        }
    }

    func testReprotectingQuotedPrintable() {
        var e = QuotedPrintableEncoder.reprotecting()
        var out: [UInt8] = []
        e.encode(bytes("From here \r\nok=3D long=\r\n.\r\nna\u{EF}ve\r\n"), into: &out)
        e.finish(into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "=46rom here=20\r\nok=3D long=\r\n=2E\r\nna=C3=AFve\r\n")
    }

    /// Bodies read in pieces (`.stream`) larger than the generator's 64 KiB buffer: a CR at the
    /// end of one piece and its LF in the next (the old generator removed a CR that had been
    /// flushed already), and base64 that ends exactly when the buffer is flushed (its last line
    /// end, which belongs to the delimiter, was written twice).
    func testGeneratorStreamsAcrossItsBuffer() throws {
        struct Pieces: MIMEBodySource {
            let pieces: [[UInt8]]
            func read(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
                for p in pieces { try p.withUnsafeBytes { try consume($0) } }
            }
        }
        let first = [UInt8](repeating: UInt8(ascii: "x"), count: 70_000) + [13]
        let text = MIMEPart(ContentType("text/plain"), body: .stream(Pieces(pieces: [first, bytes("\nend\n")])),
                            transferEncoding: .sevenBit)
        let binary = MIMEPart(ContentType("application/octet-stream"),
                              body: .stream(Pieces(pieces: [[UInt8](repeating: 7, count: 57 * 1200)])))
        var generator = MIMEGenerator(random: { [UInt8](repeating: 1, count: 16) })
        var out: [UInt8] = []
        try generator.write(.multipart("mixed", [text, binary])) { out += $0 }
        let written = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(written.contains("x\r\nend\r\n\r\n--"), "one CRLF where the CR and LF were split")
        XCTAssertFalse(written.contains("\r\n\r\n--=_sealmail_1_01010101010101010101010101010101--"),
                       "no blank line after the base64")
        XCTAssertEqual(MIMEEntity.parse(out).parts.count, 2)
    }
}
