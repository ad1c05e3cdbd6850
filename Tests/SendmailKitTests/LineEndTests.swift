import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import SendmailKit

/// Line ends in what sealmail reads (issue 11, items 1 and 3).
final class LineEndTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/sealmail-lineend-XXXXXX".utf8CString)
        dir = String(cString: try XCTUnwrap(mkdtemp(&template)))
    }

    override func tearDown() { _ = try? FileManager.default.removeItem(atPath: dir) }

    func write(_ name: String, _ bytes: String) -> String {
        let path = dir + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(bytes.utf8))
        return path
    }

    /// /etc/mailname as Debian's MTAs write it (`name\n`), or with CRLF, or blank: the
    /// domain is the name alone (b5b1990 made it `vm\n`).
    func testMailnameIsTheFirstLineTrimmedAsBytes() {
        XCTAssertEqual(Runtime.mailname(path: write("a", "vm\n")), "vm")
        XCTAssertEqual(Runtime.mailname(path: write("b", "mail.example.com\r\n")), "mail.example.com")
        XCTAssertEqual(Runtime.mailname(path: write("c", "  host.example.org \n# comment\n")), "host.example.org")
        XCTAssertNil(Runtime.mailname(path: write("d", "\n")))
        XCTAssertNil(Runtime.mailname(path: write("e", "not a name\n")), "what is not a host name is not used")
        XCTAssertNil(Runtime.mailname(path: dir + "/absent"))
    }

    /// A password file ending in CRLF: the password is without the CR.
    func testSecretFileEndingInCRLF() throws {
        let trust = FileTrust(owners: [getuid()])
        func secret(_ name: String, _ text: String) -> String {
            let path = write(name, text)
            chmod(path, 0o600)
            return path
        }
        XCTAssertEqual(try RelayFactory.readSecretFile(secret("s", "pa ss\r\n"), trust: trust), Array("pa ss".utf8))
        XCTAssertEqual(try RelayFactory.readSecretFile(secret("t", "only\n second line\n"), trust: trust), Array("only".utf8))
    }

    /// Only CRLF "." CRLF ends SMTP DATA; a dot line reached or left by a bare LF is content.
    func testDataTerminator() {
        func verdicts(_ lines: [([UInt8], LineReader.Ending)]) -> [DataTerminator.Verdict] {
            var t = DataTerminator()
            return lines.map { t.take($0.0, ending: $0.1) }
        }
        let dot: [UInt8] = [46]
        XCTAssertEqual(verdicts([(dot, .crlf)]), [.end], "right after DATA")
        XCTAssertEqual(verdicts([(Array("a".utf8), .crlf), (dot, .crlf)]), [.content(drop: 0), .end])
        XCTAssertEqual(verdicts([(Array("a".utf8), .lf), (dot, .crlf)]), [.content(drop: 0), .content(drop: 0)], "\\n.\\r\\n")
        XCTAssertEqual(verdicts([(Array("a".utf8), .crlf), (dot, .lf)]), [.content(drop: 0), .content(drop: 0)], "\\r\\n.\\n")
        XCTAssertEqual(verdicts([(Array("a".utf8), .lf), (dot, .lf)]), [.content(drop: 0), .content(drop: 0)], "\\n.\\n")
        XCTAssertEqual(verdicts([(Array("..x".utf8), .crlf)]), [.content(drop: 1)], "dot-unstuffing")
        XCTAssertEqual(verdicts([(Array("aaa".utf8), .partial), (dot, .crlf), (dot, .crlf)]),
                       [.content(drop: 0), .content(drop: 0), .end], "a piece that continues a line is not a line start")
    }

    /// LineReader tells CRLF from LF and hands over long lines in pieces.
    func testLineReaderReportsLineEnds() throws {
        let path = write("in", "a\r\nb\nc\r\r\n" + String(repeating: "x", count: 10) + "\r\nend")
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var r = LineReader(fd: fd)
        var got: [String] = []
        while let (bytes, ending) = r.next(limit: 4) { got.append(String(decoding: bytes, as: UTF8.self) + "|\(ending)") }
        XCTAssertEqual(got, ["a|crlf", "b|lf", "c\r|crlf", "xxxx|partial", "xxxx|partial", "xx|crlf", "end|eof"])
    }
}
