import Foundation
import XCTest
import PeerTestSupport
import MailMessage
@testable import SMIME

/// Signing as the message arrives (`ArrivalSigner`), driven the way a submission drives it:
/// the prefix written to a file, the body in pieces, each piece given to the signer after it
/// is in the file, the signature part last. What comes out verifies in openssl and gpgsm, on
/// the caller's thread alone and with the second thread reading the file back; it is the
/// message MessageProtector makes of the same input; and the guess is refused for every body
/// that needs a transfer encoding, and never made for what cannot be planned ahead.
final class ArrivalSignerTests: XCTestCase {
    static let header = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: arriving\r\n"
        + "Date: Sun, 29 Nov 2026 12:00:00 +0000\r\nMessage-ID: <7@example.test>\r\n"

    func signer(headerProtection: Bool = false) throws -> Protection {
        var p = Protection(signer: try Fixture.alice())
        p.now = { Fixture.labTime }
        p.headerProtection = headerProtection
        return p
    }

    /// The fields of a header block, as MailMessage's parser reads them.
    func fields(_ header: String) throws -> [HeaderField] {
        let dir = TempDir()
        let path = dir.write("header", header + "\r\n")
        return try withExtendedLifetime(dir) { try InputFile(path: path).headerBlock(at: 0, limit: header.utf8.count + 2).fields }
    }

    /// A body of `lines` lines of plain text with CRLF line ends (under 76 octets each).
    func body(lines: Int) -> [UInt8] {
        var text = ""
        for i in 0..<lines { text += "line \(i) of a message signed while it arrives\r\n" }
        return Array(text.utf8)
    }

    /// What a submission does: the prefix, then the body in `piece`-sized pieces, each given
    /// to the signer once written, then the tail. Nil when the signer's guess failed.
    func signOnArrival(_ header: String, _ body: [UInt8], _ protection: Protection, in dir: TempDir,
                       piece: Int = 128 * 1024) throws -> [UInt8]? {
        let signer = try XCTUnwrap(try ArrivalSigner(protection, fields: try fields(header)))
        let path = dir.file("out.eml")
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        XCTAssertEqual(write(fd, signer.prefix, signer.prefix.count), signer.prefix.count)
        var at = signer.prefix.count
        var offset = 0
        while offset < body.count {
            let n = min(piece, body.count - offset)
            try body.withUnsafeBytes { b in
                let chunk = UnsafeRawBufferPointer(rebasing: b[offset..<(offset + n)])
                XCTAssertEqual(write(fd, chunk.baseAddress, n), n)
                try signer.add(chunk, writtenTo: fd, at: at)
            }
            at += n
            offset += n
        }
        let stats = try BodyStats.of(body, in: dir)
        guard let tail = try signer.finish(stats) else { return nil }
        XCTAssertEqual(write(fd, tail, tail.count), tail.count)
        return dir.read("out.eml")
    }

    func testSmallAndLargeBodiesVerifyInOpenSSLAndGpgsm() throws {
        let gpg = try GpgSM.lab()
        // 600 octets (the caller's thread only), 2.5 MB (a second thread after the first MiB),
        // and an empty body.
        for lines in [12, 50_000, 0] {
            let dir = TempDir()
            let text = body(lines: lines)
            let header = Self.header + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
            let signedBefore = ArrivalSigner.signedCount
            let out = try XCTUnwrap(try signOnArrival(header, text, signer(), in: dir), "\(lines) lines")
            XCTAssertEqual(ArrivalSigner.signedCount, signedBefore + 1)
            assertWireSafe(out)
            let verified = try opensslVerify(dir.file("out.eml"))
            XCTAssertEqual(verified.status, 0, "\(lines) lines: \(verified.stderr)")
            XCTAssertEqual(Array(verified.stdout), Array("Content-Type: text/plain; charset=us-ascii\r\n\r\n".utf8) + text,
                           "\(lines) lines: the signed entity is the body as given")
            let split = try XCTUnwrap(MIMESplit.signed(out))
            let g = try gpg.verify(signature: split.signature, content: split.content)
            XCTAssertTrue(g.out.contains("[GNUPG:] GOODSIG"), "\(lines) lines: \(g.out) \(g.stderr)")
        }
    }

    /// Pieces of odd sizes: the second thread starts in the middle of one and reads behind.
    func testOddPiecesAcrossTheSecondThread() throws {
        let dir = TempDir()
        let text = body(lines: 40_000)
        let out = try XCTUnwrap(try signOnArrival(Self.header, text, signer(), in: dir, piece: 77_777))
        let verified = try opensslVerify(dir.file("out.eml"))
        XCTAssertEqual(verified.status, 0, verified.stderr)
        XCTAssertEqual(Array(verified.stdout.suffix(text.count)), text)
        XCTAssertTrue(String(decoding: out.prefix(2000), as: UTF8.self).contains("Content-Type: text/plain; charset=us-ascii\r\n\r\nline 0 "),
                      "no Content-Type in the input: text/plain, us-ascii, as MessageProtector gives it")
    }

    /// The same message as MessageProtector's, but for the boundary and the signature part.
    func testSameMessageAsTheProtectorMakes() throws {
        for headerProtection in [false, true] {
            for contentFields in ["", "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"us-ascii\"; format=flowed\r\n",
                                  "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"] {
                let dir = TempDir()
                let header = Self.header + contentFields
                let text = contentFields.contains("base64") ? Array("AAEC\r\nAwQF\r\n".utf8) : body(lines: 300)
                let p = try signer(headerProtection: headerProtection)
                let arrived = try XCTUnwrap(try signOnArrival(header, text, p, in: dir))
                let protected = try protect(bytes: Array((header + "\r\n").utf8) + text, p, in: dir, name: "protected.eml")
                XCTAssertEqual(unsigned(arrived), unsigned(protected), "hp \(headerProtection), \(contentFields)")
                XCTAssertEqual(try opensslVerify(dir.file("out.eml")).status, 0)
            }
        }
    }

    /// Every body that needs a transfer encoding fails the guess (the caller then signs a
    /// canonical copy), both as the pieces arrive (`fits`) and at the end.
    func testBodiesThatNeedAnEncodingFailTheGuess() throws {
        let tricky: [(String, [UInt8])] = [
            ("8-bit", Array("caf\u{e9}\r\n".utf8)), ("NUL", [0x61, 0, 0x62, 13, 10]),
            ("long line", Array((String(repeating: "x", count: 77) + "\r\n").utf8)),
            ("From line", Array("From here\r\n".utf8)), ("trailing space", Array("end \r\n".utf8)),
            ("trailing tab", Array("end\t\r\n".utf8)),
        ]
        for (what, bytes) in tricky {
            let dir = TempDir()
            let text = body(lines: 30_000) + bytes + body(lines: 10)
            let stats = try BodyStats.of(text, in: dir)
            let signer = try XCTUnwrap(try ArrivalSigner(signer(), fields: try fields(Self.header)))
            XCTAssertFalse(signer.fits(stats), what)
            XCTAssertTrue(signer.fits(try BodyStats.of(body(lines: 3), in: dir)), what)
            let abandoned = ArrivalSigner.abandonedCount
            XCTAssertNil(try signOnArrival(Self.header, text, self.signer(), in: dir), what)
            XCTAssertEqual(ArrivalSigner.abandonedCount, abandoned + 1, what)
        }
        // A base64 body is copied whatever it holds: long lines do not matter there.
        let dir = TempDir()
        let header = Self.header + "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        let signer = try XCTUnwrap(try ArrivalSigner(signer(), fields: try fields(header)))
        XCTAssertTrue(signer.fits(try BodyStats.of(Array((String(repeating: "A", count: 100) + "\r\n").utf8), in: dir)))
    }

    /// The guess against the planner, on random bodies and content fields: whenever `fits`
    /// says yes, MessageProtector's own plan of the same file is the guessed header and the
    /// body copied as it is; whenever it says no, that plan is something else.
    func testTheGuessHoldsExactlyWhenThePlannerCopiesTheBody() throws {
        var rng = SystemRandomNumberGenerator()
        let lines: [String] = ["plain text", "From the start", "trailing ", "tab\t", "caf\u{e9}", "", ".",
                               String(repeating: "x", count: 76), String(repeating: "y", count: 77), "a\u{0}b", "From"]
        let contentFields = ["", "Content-Type: text/plain; charset=utf-8\r\n",
                             "Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n",
                             "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n",
                             "Content-Type: text/html\r\nContent-Transfer-Encoding: binary\r\n",
                             "Content-Transfer-Encoding: x-unknown\r\n"]
        var seen = (fits: 0, not: 0)
        for round in 0..<300 {
            let dir = TempDir()
            var text = ""
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                // Mostly plain lines, so that about half the bodies need no encoding.
                text += (Int.random(in: 0..<4, using: &rng) == 0 ? lines.randomElement(using: &rng)! : "line") + "\r\n"
            }
            let fieldsText = contentFields.randomElement(using: &rng)!
            let header = Self.header + fieldsText
            for headerProtection in [false, true] {
                let p = try signer(headerProtection: headerProtection)
                let signer = try XCTUnwrap(try ArrivalSigner(p, fields: try fields(header)), "round \(round)")
                let body = Array(text.utf8)
                let head = Array((header + "\r\n").utf8)
                let file = try InputFile(path: dir.write("m-\(headerProtection).eml", head + body))
                let stats = try file.bodyStats(head.count..<file.size)
                let (contents, headers) = p.split(try file.headerBlock(at: 0, limit: file.size).fields)
                var planned = try CanonicalPlanner(file: file).plan(contentFields: contents, body: head.count..<file.size)
                planned.headerFields = headers.entityFields(planned.headerFields)
                var copiedAsIs = false
                if planned.body.count == 1, case .copy(let r) = planned.body[0], r == head.count..<file.size { copiedAsIs = true }
                let plannedHeader = render(planned.headerFields)
                let guessedHeader = Array(signer.prefix.suffix(plannedHeader.count))
                let what = "round \(round), hp \(headerProtection): \(fieldsText.debugDescription) \(text.debugDescription)"
                if signer.fits(stats) {
                    XCTAssertTrue(copiedAsIs && plannedHeader == guessedHeader, what)
                    seen.fits += 1
                } else {
                    XCTAssertFalse(copiedAsIs && plannedHeader == guessedHeader, what)
                    seen.not += 1
                }
                signer.abandon()
            }
        }
        XCTAssertGreaterThan(seen.fits, 100)
        XCTAssertGreaterThan(seen.not, 100)
    }

    /// Not tried where the entity cannot be planned before its body, or is not a detached
    /// signature; a message to encrypt too gets a signature, never a multipart/signed to send.
    func testNotTakenWhereThePlanNeedsTheBody() throws {
        let notAhead = ["Content-Type: multipart/mixed; boundary=\"b\"\r\n", "Content-Type: message/rfc822\r\n",
                        "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n"]
        for contentFields in notAhead {
            XCTAssertNil(try ArrivalSigner(signer(), fields: try fields(Self.header + contentFields)), contentFields)
        }
        var opaque = try signer()
        opaque.signing.form = .opaque
        XCTAssertNil(try ArrivalSigner(opaque, fields: try fields(Self.header)))
        var encrypting = try signer()
        encrypting.recipients = [try Fixture.cert("bob.crt")]
        let signsFirst = try XCTUnwrap(try ArrivalSigner(encrypting, fields: try fields(Self.header)), "signs before encrypting")
        XCTAssertThrowsError(try signsFirst.finish(BodyStats()), "but never writes a message it would not encrypt")
        XCTAssertNil(try ArrivalSigner(Protection(recipients: [try Fixture.cert("bob.crt")]), fields: try fields(Self.header)))
    }

    /// The certificate is checked before anything is written, as MessageProtector checks it.
    func testExpiredSignerIsRefusedUpFront() throws {
        var p = try signer()
        p.now = { Date(timeIntervalSince1970: 4_000_000_000) }
        XCTAssertThrowsError(try ArrivalSigner(p, fields: try fields(Self.header)))
    }

    /// Pieces must follow each other in the file: a gap is an error, not a wrong signature.
    func testAGapBetweenPiecesIsAnError() throws {
        let dir = TempDir()
        let signer = try XCTUnwrap(try ArrivalSigner(signer(), fields: try fields(Self.header)))
        let fd = open(dir.file("gap.eml"), O_RDWR | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        let piece = body(lines: 2)
        try piece.withUnsafeBytes { try signer.add($0, writtenTo: fd, at: 100) }
        XCTAssertThrowsError(try piece.withUnsafeBytes { try signer.add($0, writtenTo: fd, at: 100 + piece.count + 1) })
    }

    /// Signed while the canonical copy is written, then encrypted around that signature
    /// (`Presignature`): taken when the entity is what was signed, for an RSA and an EC key
    /// alike (nothing needs to be known ahead); openssl decrypts and verifies the whole body.
    /// A signature over other bytes (here one octet short) is not used: the protector signs.
    func testEncryptedAroundASignatureMadeAsTheCopyWasWritten() throws {
        let carol = try SigningIdentity.loadPEM(certificate: Fixture.lab("carol.crt"), key: Fixture.lab("carol.key"))
        for (identity, shortBy) in [(try Fixture.alice(), 0), (carol, 0), (try Fixture.alice(), 1)] {
            let dir = TempDir()
            var p = Protection(signer: identity, recipients: [try Fixture.cert("bob.crt")])
            p.now = { Fixture.labTime }
            let header = Self.header + "Content-Type: text/plain; charset=us-ascii\r\n"
            let text = body(lines: 50_000)
            let head = Array((header + "\r\n").utf8)
            let path = dir.write("canonical.eml", head + text)
            let signer = try XCTUnwrap(try ArrivalSigner(p, fields: try fields(header)))
            XCTAssertTrue(signer.encrypts)
            let fd = open(path, O_RDONLY)
            defer { close(fd) }
            var at = head.count
            for start in stride(from: 0, to: text.count - shortBy, by: 100_000) {
                let end = min(start + 100_000, text.count - shortBy)
                try text.withUnsafeBytes { try signer.add(UnsafeRawBufferPointer(rebasing: $0[start..<end]), writtenTo: fd, at: at) }
                at += end - start
            }
            let stats = try BodyStats.of(text, in: dir)
            let presignature = try XCTUnwrap(try signer.finishSignature(stats))
            let out = open(dir.file("out.eml"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            defer { close(out) }
            let before = MessageProtector.presignedCount
            try MessageProtector(p).protect(messageFD: fd, to: out, knownBody: (head.count, stats), presignature: presignature)
            XCTAssertEqual(MessageProtector.presignedCount, before + (shortBy == 0 ? 1 : 0), "short by \(shortBy)")
            let decrypted = try opensslDecrypt(dir.file("out.eml"), cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
            XCTAssertEqual(decrypted.status, 0, decrypted.stderr)
            _ = dir.write("inner.eml", Array(decrypted.stdout))
            let verified = try opensslVerify(dir.file("inner.eml"))
            XCTAssertEqual(verified.status, 0, verified.stderr)
            XCTAssertEqual(Array(verified.stdout), Array("Content-Type: text/plain; charset=us-ascii\r\n\r\n".utf8) + text)
        }
    }

    /// The message without its boundary string and signature part: what both paths must agree on.
    func unsigned(_ message: [UInt8]) -> String {
        var text = String(decoding: message, as: UTF8.self)
        if let r = text.range(of: "boundary=\"") {
            let boundary = String(text[r.upperBound...].prefix { $0 != "\"" })
            text = text.replacingOccurrences(of: boundary, with: "BOUNDARY")
        }
        if let sig = text.range(of: "\r\n--BOUNDARY\r\nContent-Type: application/pkcs7-signature") {
            text = String(text[..<sig.lowerBound])
        }
        return text
    }
}

extension BodyStats {
    /// The statistics MessageProtector's own pass finds for `body`.
    static func of(_ body: [UInt8], in dir: TempDir) throws -> BodyStats {
        let path = dir.write("body-\(body.count)", body)
        return try InputFile(path: path).bodyStats(0..<body.count)
    }
}
