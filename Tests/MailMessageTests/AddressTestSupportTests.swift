// Test support for the address golden tables: a compact, stable rendering of parse results.
import XCTest
@testable import MailMessage

/// One line per address, then one per defect:
/// `M name="John Doe" <jd@example.com> comment="x"`, `G "Friends" { M <a@b> | M <c@d> }`, `D emptyElement@4`.
func render(_ list: AddressList) -> [String] {
    var lines: [String] = []
    for address in list.addresses {
        switch address {
        case .mailbox(let mailbox):
            lines.append(render(mailbox))
        case .group(let name, let members):
            let inner = members.map(render).joined(separator: " | ")
            lines.append("G \"\(name)\" {" + (inner.isEmpty ? "" : " \(inner) ") + "}")
        }
    }
    lines += list.defects.map(render)
    return lines
}

func render(_ mailbox: Mailbox) -> String {
    var parts = ["M"]
    if let name = mailbox.displayName { parts.append("name=\"\(name)\"") }
    let route = mailbox.route.isEmpty ? "" : mailbox.route.map { "@" + $0 }.joined(separator: ",") + ":"
    parts.append("<\(route)\(mailbox.addrSpec)>")
    if let comment = mailbox.comment { parts.append("comment=\"\(comment)\"") }
    return parts.joined(separator: " ")
}

func render(_ defect: AddressDefect) -> String {
    let name: String
    switch defect {
    case .unterminatedQuotedString: name = "unterminatedQuotedString"
    case .unterminatedComment: name = "unterminatedComment"
    case .unterminatedAngleAddr: name = "unterminatedAngleAddr"
    case .unterminatedDomainLiteral: name = "unterminatedDomainLiteral"
    case .invalidCharacter: name = "invalidCharacter"
    case .emptyElement: name = "emptyElement"
    case .missingLocalPart: name = "missingLocalPart"
    case .obsoleteSyntax: name = "obsoleteSyntax"
    case .eightBitInAddress: name = "eightBitInAddress"
    case .encodedWordNotDecoded: name = "encodedWordNotDecoded"
    case .trailingGarbage: name = "trailingGarbage"
    case .unterminatedGroup: name = "unterminatedGroup"
    case .missingDomain: name = "missingDomain"
    case .missingAddrSpec: name = "missingAddrSpec"
    case .missingDisplayName: name = "missingDisplayName"
    case .nestedGroup: name = "nestedGroup"
    }
    return "D \(name)@\(defect.offset)"
}

/// A golden case: input and the expected rendering.
struct Golden {
    let input: String
    let expected: [String]
    let line: UInt
    init(_ input: String, _ expected: [String], line: UInt = #line) {
        self.input = input
        self.expected = expected
        self.line = line
    }
}

/// Checks every case of a golden table, reporting failures at the case's own line.
func checkGolden(_ table: [Golden], file: StaticString = #filePath) {
    for golden in table {
        let got = render(AddressParser.parseList(golden.input))
        XCTAssertEqual(got, golden.expected, "input: \(golden.input.debugDescription)", file: file, line: golden.line)
    }
}
