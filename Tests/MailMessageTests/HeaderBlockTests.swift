import XCTest
@testable import MailMessage

final class HeaderBlockTests: XCTestCase {
    func parse(_ s: String) -> (HeaderBlock, [MessageDefect], String) {
        let bytes = Array(s.utf8)
        let (b, d, off) = HeaderBlock.parse(bytes)
        return (b, d, String(decoding: bytes[off...], as: UTF8.self))
    }

    func testFoldedFieldsUnfoldAndRoundTrip() {
        let text = "Subject: a\r\n b\r\n\tc\r\nTo: x@y\r\n\r\nbody\r\n"
        let (b, d, body) = parse(text)
        XCTAssertEqual(d, [])
        XCTAssertEqual(b.fields.map(\.name), ["Subject", "To"])
        XCTAssertEqual(b.first("subject")?.value, "a b\tc")
        XCTAssertEqual(body, "body\r\n")
        XCTAssertEqual(String(decoding: b.wireBytes, as: UTF8.self), "Subject: a\r\n b\r\n\tc\r\nTo: x@y\r\n")
    }

    func testMixedLineEndsParseAlike() {
        let (a, _, _) = parse("To: x\nSubject: s\n continued\n\n")
        let (b, _, _) = parse("To: x\r\nSubject: s\r\n continued\r\n\r\n")
        XCTAssertEqual(a, b)
    }

    func testFirstLineNotAHeaderMakesEverythingBody() {
        let (b, d, body) = parse("hello world\nTo: x\n")
        XCTAssertTrue(b.fields.isEmpty)
        XCTAssertEqual(d, [.noHeaderBlock])
        XCTAssertEqual(body, "hello world\nTo: x\n")
    }

    func testNonHeaderLineEndsHeaderBlock() {
        let (b, d, body) = parse("To: x\nthis is text\nmore\n")
        XCTAssertEqual(b.fields.count, 1)
        XCTAssertEqual(d, [.headerBlockEndedByNonHeader(line: 2)])
        XCTAssertEqual(body, "this is text\nmore\n")
    }

    func testLeadingContinuationIsBody() {
        let (b, d, _) = parse(" indented\nTo: x\n")
        XCTAssertTrue(b.fields.isEmpty)
        XCTAssertEqual(d, [.noHeaderBlock])
    }

    func testMboxFromLineDropped() {
        let (b, d, _) = parse("From root@x Sun Nov 29 15:00:00 2026\nTo: x\n\n")
        XCTAssertEqual(b.fields.map(\.name), ["To"])
        XCTAssertEqual(d, [.mboxFromLineDropped])
    }

    func testObsoleteSpaceBeforeColonAndEmptyValue() {
        let (b, d, _) = parse("Subject : hi\nX-Empty:\n\n")
        XCTAssertEqual(b.fields.map(\.name), ["Subject", "X-Empty"])
        XCTAssertEqual(b.first("Subject")?.value, "hi")
        XCTAssertEqual(b.first("X-Empty")?.value, "")
        XCTAssertEqual(d, [.obsoleteFieldName(name: "Subject")])
    }

    func testDefectsForEightBitNulAndLongLines() {
        let long = String(repeating: "x", count: 1200)
        let (_, d, _) = parse("Subject: caf\u{e9}\nX-Nul: a\u{0}b\nX-Long: \(long)\n\n")
        XCTAssertTrue(d.contains(.eightBitHeader(name: "Subject")))
        XCTAssertTrue(d.contains(.nulByte(inHeaders: true)))
        XCTAssertTrue(d.contains(.lineTooLong(inHeaders: true, length: 1208)))
    }

    func testHeadersWithoutBody() {
        let (b, _, body) = parse("To: x\nSubject: y")
        XCTAssertEqual(b.fields.count, 2)
        XCTAssertEqual(body, "")
    }

    func testBuiltFieldsRejectLineBreaks() {
        XCTAssertThrowsError(try HeaderField(name: "Subject", value: "a\r\nBcc: x"))
        XCTAssertThrowsError(try HeaderField(name: "Subject", value: "a\u{0}"))
        XCTAssertThrowsError(try HeaderField(name: "Bad Name", value: "a"))
        XCTAssertEqual(try HeaderField(name: "Subject", value: "ok").wireBytes, Array("Subject: ok\r\n".utf8))
    }
}

final class FoldingTests: XCTestCase {
    func testFoldsAtWhiteSpaceUnder78AndUnfoldsBack() {
        let value = (0..<60).map { "addr\($0)@example.com," }.joined(separator: " ")
        let f = HeaderField.folded(name: "To", value: Array(value.utf8))
        let lines = String(decoding: f.wireBytes, as: UTF8.self).components(separatedBy: "\r\n").dropLast()
        XCTAssertGreaterThan(lines.count, 10)
        for l in lines { XCTAssertLessThanOrEqual(l.utf8.count, 78, l) }
        XCTAssertEqual(f.value, value)
    }

    func testShortValuesUntouched() {
        XCTAssertEqual(HeaderField.folded(name: "Subject", value: Array("hi".utf8)).rawValue, Array(" hi".utf8))
    }

    func testUnbreakableWordStaysWhole() {
        let word = String(repeating: "y", count: 2000)
        let f = HeaderField.folded(name: "X", value: Array("a \(word) b".utf8))
        XCTAssertEqual(f.value, "a \(word) b")
        XCTAssertTrue(HeaderFolding.longestLine(of: f) >= 2000)
    }
}

final class LineSplitterTests: XCTestCase {
    func lines(_ chunks: [String], max: Int = 1 << 20) -> [String] {
        var s = LineSplitter(maxPendingLine: max)
        var out: [String] = []
        let take: (LineSplitter.Line) -> Bool = { l in
            out.append(String(decoding: l.bytes, as: UTF8.self) + (l.isPartial ? "…" : ""))
            return true
        }
        for c in chunks {
            let bytes = Array(c.utf8)
            _ = bytes.withUnsafeBufferPointer { s.feed($0, take) }
        }
        s.finish(take)
        return out
    }

    func testEveryLineEndingMix() {
        XCTAssertEqual(lines(["a\nb\r\nc\r\r\nd"]), ["a", "b", "c", "d"])
    }

    func testCRLFSplitAcrossChunks() {
        XCTAssertEqual(lines(["a\r", "\nb\r", "\r", "\n"]), ["a", "b"])
    }

    func testSameResultForAnyChunking() {
        let text = "To: x\r\nSubject: y\n\nline1\r\nline2\n.\n\r\nlast"
        let whole = lines([text])
        for size in 1...7 {
            var chunks: [String] = []
            var rest = Substring(text)
            while !rest.isEmpty { chunks.append(String(rest.prefix(size))); rest = rest.dropFirst(size) }
            XCTAssertEqual(lines(chunks), whole, "chunk size \(size)")
        }
    }

    func testLongLinesHandedOverInPieces() {
        let out = lines(Array(repeating: "zzzzz", count: 5) + ["\n"], max: 10)
        XCTAssertEqual(out.joined().replacingOccurrences(of: "…", with: ""), String(repeating: "z", count: 25))
        XCTAssertTrue(out.first!.hasSuffix("…"))
        XCTAssertFalse(out.last!.hasSuffix("…"))
    }

    func testStopsWhenConsumerSaysSo() {
        var s = LineSplitter()
        var seen: [String] = []
        let bytes = Array("a\n.\nb\n".utf8)
        let more = bytes.withUnsafeBufferPointer { buf in
            s.feed(buf) { l in
                let t = String(decoding: l.bytes, as: UTF8.self)
                if t == "." { return false }
                seen.append(t); return true
            }
        }
        XCTAssertFalse(more)
        XCTAssertEqual(seen, ["a"])
    }
}

final class DateTests: XCTestCase {
    func testRFC5322Dates() {
        XCTAssertEqual(MessageDate.format(epochSeconds: 0, utcOffset: 0), "Thu, 1 Jan 1970 00:00:00 +0000")
        XCTAssertEqual(MessageDate.format(epochSeconds: 1_795_965_220, utcOffset: -5 * 3600 - 1800), "Sun, 29 Nov 2026 09:43:40 -0530")
        XCTAssertEqual(MessageDate.format(epochSeconds: 951_782_400, utcOffset: 0), "Tue, 29 Feb 2000 00:00:00 +0000")
        XCTAssertEqual(MessageDate.compactUTC(epochSeconds: 1_795_965_220), "20261129151340")
        XCTAssertEqual(MessageDate.mailqStamp(epochSeconds: 1_795_965_220, utcOffset: 0), "Sun Nov 29 15:13:40")
        XCTAssertEqual(MessageIdentifier.make(epochSeconds: 1_795_965_220, unique: "ID", host: "h.example"),
                       "<20261129151340.ID@h.example>")
    }
}
