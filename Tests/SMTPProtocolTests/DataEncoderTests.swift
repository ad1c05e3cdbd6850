import XCTest
@testable import SMTPProtocol

final class DataEncoderTests: XCTestCase {
    private func encode(_ s: String, stuff: Bool = true) -> String {
        String(decoding: DataEncoder.encodeAll(Array(s.utf8), stuffDots: stuff), as: UTF8.self)
    }

    /// Every CR is followed by LF and every LF preceded by CR; the only "." line is the last.
    private func assertWireSafe(_ out: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        for (i, b) in out.enumerated() {
            if b == 0x0D { XCTAssertTrue(i + 1 < out.count && out[i + 1] == 0x0A, "bare CR at \(i)", file: file, line: line) }
            if b == 0x0A { XCTAssertTrue(i > 0 && out[i - 1] == 0x0D, "bare LF at \(i)", file: file, line: line) }
        }
        let text = String(decoding: out, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        XCTAssertEqual(lines.last, "", file: file, line: line)
        XCTAssertEqual(lines.dropLast().last, ".", file: file, line: line)
        XCTAssertEqual(lines.filter { $0 == "." }.count, 1, "a lone '.' line before the end: \(text.debugDescription)",
                       file: file, line: line)
    }

    func testPlainAndStuffing() {
        XCTAssertEqual(encode("a\r\n.b\r\n..c\r\n"), "a\r\n..b\r\n...c\r\n.\r\n")
        XCTAssertEqual(encode(".\r\n"), "..\r\n.\r\n")
        XCTAssertEqual(encode(""), ".\r\n")
        XCTAssertEqual(encode("no newline"), "no newline\r\n.\r\n")
        XCTAssertEqual(encode("a.b\r\n"), "a.b\r\n.\r\n")
    }

    func testLineEndsBecomeCRLF() {
        XCTAssertEqual(encode("a\nb\n"), "a\r\nb\r\n.\r\n")
        XCTAssertEqual(encode("a\rb\r"), "a\r\nb\r\n.\r\n")
        XCTAssertEqual(encode("a\r\r\nb"), "a\r\n\r\nb\r\n.\r\n")
        XCTAssertEqual(encode("a\n\rb"), "a\r\n\r\nb\r\n.\r\n")
    }

    /// The 2023 SMTP smuggling payloads (SEC Consult): none may end the data early.
    func testSmugglingPayloads() {
        let payloads = ["\n.\n", "\r.\r", "\r\n.\r", "\n.\r\n", "\r.\n", "\n.\r", "\r\n.\n", "\r.\r\n",
                        "\r\n\r\n.\r\n", "\n\n.\n\n", "\r\n.\u{0}\r\n"]
        for p in payloads {
            let message = "Subject: hi\r\n\r\nbody" + p + "MAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\nsmuggled\r\n"
            let out = DataEncoder.encodeAll(Array(message.utf8))
            assertWireSafe(out)
        }
        XCTAssertEqual(encode("x\n.\ny"), "x\r\n..\r\ny\r\n.\r\n")
        XCTAssertEqual(encode("x\r.\ry"), "x\r\n..\r\ny\r\n.\r\n")
        XCTAssertEqual(encode("x\r\n.\ry"), "x\r\n..\r\ny\r\n.\r\n")
        XCTAssertEqual(encode("x\n.\r\ny"), "x\r\n..\r\ny\r\n.\r\n")
    }

    func testChunkBoundariesDoNotMatter() {
        let message = Array("a\r\n.b\r\r\n\n.\r\n.\rz".utf8)
        let whole = DataEncoder.encodeAll(message)
        for split in 0...message.count {
            var encoder = DataEncoder(stuffDots: true)
            var out = encoder.encode(message[0..<split])
            out += encoder.encode(message[split...])
            encoder.finish(into: &out)
            XCTAssertEqual(out, whole, "split at \(split)")
        }
        var encoder = DataEncoder(stuffDots: true)
        var out: [UInt8] = []
        for b in message { encoder.encode([b], into: &out) }
        encoder.finish(into: &out)
        XCTAssertEqual(out, whole)
        assertWireSafe(whole)
    }

    /// The streaming encoder agrees with a line-by-line model of the rule (lines end at CRLF,
    /// LF or a lone CR; a line starting with "." gets a second one; CRLF after each line;
    /// "." CRLF at the end), whatever the input and however it is cut into chunks.
    func testAgreesWithALineModelOnRandomChunkedInput() {
        func model(_ input: [UInt8]) -> [UInt8] {
            var lines: [[UInt8]] = [], current: [UInt8] = [], i = 0
            while i < input.count {
                let b = input[i]
                if b == 0x0D {
                    lines.append(current); current = []
                    if i + 1 < input.count && input[i + 1] == 0x0A { i += 1 }
                } else if b == 0x0A {
                    lines.append(current); current = []
                } else {
                    current.append(b)
                }
                i += 1
            }
            if !current.isEmpty { lines.append(current) }
            var out: [UInt8] = []
            for l in lines { out += (l.first == 0x2E ? [0x2E] : []) + l + [0x0D, 0x0A] }
            return out + [0x2E, 0x0D, 0x0A]
        }
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x0D, 0x0A, 0x2E, 0x61, 0x62, 0x20]
        for _ in 0..<500 {
            let message = (0..<Int.random(in: 0..<60, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            var encoder = DataEncoder(stuffDots: true)
            var out: [UInt8] = []
            var at = 0
            while at < message.count {
                let end = min(message.count, at + Int.random(in: 1...7, using: &rng))
                encoder.encode(message[at..<end], into: &out)
                at = end
            }
            encoder.finish(into: &out)
            XCTAssertEqual(out, model(message), "\(message)")
        }
    }

    func testRandomInputsAreAlwaysWireSafe() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x0D, 0x0A, 0x2E, 0x61, 0x20, 0x00]
        for _ in 0..<300 {
            let n = Int.random(in: 0..<40, using: &rng)
            let message = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
            assertWireSafe(DataEncoder.encodeAll(message))
        }
    }

    func testBDATModeNormalisesWithoutStuffing() {
        XCTAssertEqual(encode("a\n.b\rc", stuff: false), "a\r\n.b\r\nc\r\n")
        XCTAssertEqual(encode("", stuff: false), "")
    }

    func testBDATFraming() {
        var framer = BDATFramer(chunkSize: 4)
        let frames = framer.append(Array("abcdefghij".utf8))
        XCTAssertEqual(frames.map { String(decoding: $0, as: UTF8.self) }, ["BDAT 4\r\nabcd", "BDAT 4\r\nefgh"])
        XCTAssertEqual(String(decoding: framer.finish(), as: UTF8.self), "BDAT 2 LAST\r\nij")
        var empty = BDATFramer(chunkSize: 4)
        XCTAssertEqual(String(decoding: empty.finish(), as: UTF8.self), "BDAT 0 LAST\r\n")
    }
}

final class CapabilitiesTests: XCTestCase {
    func testParse() throws {
        var parser = ReplyParser()
        parser.feed(Array("250-mx.example Hello\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8bitmime\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN CRAM-MD5\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n".utf8))
        let caps = SMTPCapabilities(ehloReply: try XCTUnwrap(try parser.next()))
        XCTAssertTrue(caps.pipelining && caps.eightBitMIME && caps.startTLS && caps.enhancedStatusCodes)
        XCTAssertTrue(caps.dsn && caps.smtpUTF8 && caps.chunking)
        XCTAssertFalse(caps.binaryMIME)
        XCTAssertEqual(caps.sizeLimit, 1000)
        XCTAssertEqual(caps.authMechanisms, ["PLAIN", "LOGIN", "CRAM-MD5"])
        XCTAssertTrue(caps.isExtended)
        XCTAssertFalse(SMTPCapabilities().isExtended)
    }

    func testSizeZeroMeansNoLimit() throws {
        var parser = ReplyParser()
        parser.feed(Array("250-x\r\n250 SIZE 0\r\n".utf8))
        let caps = SMTPCapabilities(ehloReply: try XCTUnwrap(try parser.next()))
        XCTAssertTrue(caps.announcesSize)
        XCTAssertNil(caps.sizeLimit)
    }

    func testAutoSelection() {
        let all = ["LOGIN", "PLAIN", "CRAM-MD5", "SCRAM-SHA-256", "XOAUTH2"]
        XCTAssertEqual(SMTPAuthMode.auto.select(offered: all, secretIsOAuthToken: false), .scramSHA256)
        XCTAssertEqual(SMTPAuthMode.auto.select(offered: ["LOGIN", "PLAIN", "CRAM-MD5"], secretIsOAuthToken: false), .cramMD5)
        XCTAssertEqual(SMTPAuthMode.auto.select(offered: ["LOGIN", "PLAIN"], secretIsOAuthToken: false), .plain)
        XCTAssertEqual(SMTPAuthMode.auto.select(offered: ["LOGIN"], secretIsOAuthToken: false), .login)
        XCTAssertNil(SMTPAuthMode.auto.select(offered: ["XOAUTH2"], secretIsOAuthToken: false))
        XCTAssertEqual(SMTPAuthMode.auto.select(offered: all, secretIsOAuthToken: true), .xoauth2)
        XCTAssertEqual(SMTPAuthMode.mechanism(.xoauth2).select(offered: all, secretIsOAuthToken: false), .xoauth2)
        XCTAssertNil(SMTPAuthMode.mechanism(.cramMD5).select(offered: ["PLAIN"], secretIsOAuthToken: false))
        XCTAssertNil(SMTPAuthMode.none.select(offered: all, secretIsOAuthToken: false))
    }
}
