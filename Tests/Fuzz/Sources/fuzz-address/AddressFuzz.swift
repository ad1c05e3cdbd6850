import FuzzSupport
import MailMessage

/// The address grammar: `AddressParser.parseList` (header fields, argv words) and
/// `parseSenderArgument` (`-f`, `-r`).
///
/// Input: the bytes of one unfolded field body (or one argument).
/// Properties: every range lies inside the input, nested as documented (local part and domain
/// inside the addr-spec) and in input order without overlap, because `AddressQualifier`
/// splices the original text at these ranges; no address or name carries CR, LF or NUL (they
/// would inject a header line or an SMTP command); defects are sorted and inside the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAddress(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    let list = AddressParser.parseList(bytes)
    var previousEnd = 0
    for m in list.mailboxes {
        // Built only for a message (an eager string here was most of the harness's time).
        func what() -> String { "\(m.addrSpec) in \(show(bytes))" }
        require(m.addrSpecRange.lowerBound >= previousEnd && m.addrSpecRange.upperBound <= bytes.count,
                "addr-spec range \(m.addrSpecRange) out of order or outside \(bytes.count): \(what())")
        previousEnd = m.addrSpecRange.upperBound
        require(m.addrSpecRange.contains(range: m.localPartRange), "local part range \(m.localPartRange) outside \(m.addrSpecRange): \(what())")
        if let d = m.domainRange {
            require(m.addrSpecRange.contains(range: d) && d.lowerBound >= m.localPartRange.upperBound,
                    "domain range \(d) misplaced (addr-spec \(m.addrSpecRange), local \(m.localPartRange)): \(what())")
        }
        require((m.domain == nil) == (m.domainRange == nil), "domain and its range disagree: \(what())")
        for text in [m.localPart, m.domain ?? "", m.displayName ?? "", m.comment ?? ""] + m.route {
            require(!text.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }, "CR, LF or NUL in \(show(Array(text.utf8))): \(what())")
        }
    }
    var lastOffset = 0
    for d in list.defects {
        require(d.offset >= lastOffset && d.offset <= bytes.count, "defect \(d) out of order or outside the input")
        lastOffset = d.offset
    }

    let text = String(decoding: bytes, as: UTF8.self)
    if case .mailbox(let m) = AddressParser.parseSenderArgument(text) {
        require(!m.addrSpec.utf8.contains { ($0 < 32 && $0 != 9) || $0 == 127 }, "a sender argument with a control byte: \(show(bytes))")
        require(!m.localPart.isEmpty, "a sender argument with an empty local part: \(show(bytes))")
    }
    return 0
}

extension Range where Bound == Int {
    func contains(range other: Range<Int>) -> Bool { other.lowerBound >= lowerBound && other.upperBound <= upperBound }
}

/// libFuzzer's driver on `fuzzAddress`.
@main enum FuzzAddressMain {
    static func main() { runLibFuzzer(fuzzAddress) }
}
