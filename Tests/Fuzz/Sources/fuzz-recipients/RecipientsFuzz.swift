import FuzzSupport
import MailMessage
import MailQueue
import SendmailKit

/// The recipients `sendmail -t` takes from a header: `SubmissionRules.recipients` with
/// `extract`, which reads To/Cc/Bcc (or their Resent- forms) leniently (a `;` that ends no
/// group separates addresses) and, when a list has a defect, reads each list element on its
/// own to name what it skipped.
///
/// Input: a flags byte (bit 0: Resent- fields; bit 1: the first field body is also given as
/// an argument word), then field bodies separated by LF, given to To, Cc and Bcc in turn (a CR
/// is made a space: folding is `fuzz-header`'s).
/// Properties: with no argument word nothing is thrown; every recipient is an address that can
/// go into RCPT TO (no control byte, not starting with `-`, a local part), and none is there
/// twice; what is written to the caller's terminal (skipped elements, warnings) has no control
/// byte.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecipients(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.choice()
    let bodies = input.rest.split(separator: 10, omittingEmptySubsequences: false).prefix(12)
    let names = flags & 1 != 0 ? ["Resent-To", "Resent-Cc", "Resent-Bcc"] : ["To", "Cc", "Bcc"]
    var header = HeaderBlock()
    for (i, body) in bodies.enumerated() {
        header.fields.append(HeaderField(name: names[i % 3], rawValue: body.map { $0 == 13 ? 32 : $0 }))
    }
    let argv = flags & 2 != 0 ? bodies.first.map { [String(decoding: $0, as: UTF8.self)] } ?? [] : []
    let qualifier = AddressQualifier(domain: "example.org", localNames: ["vm", "localhost"])
    let result: (recipients: [QueuedRecipient], warnings: [String], skipped: [String])
    do {
        result = try SubmissionRules.recipients(argv: argv, header: header, extract: true, notify: nil, qualifier: qualifier)
    } catch {
        require(!argv.isEmpty, "header recipients threw \(error): \(show(input.bytes))")
        return 0
    }
    // By bytes: canonically equivalent addresses that differ in their bytes are two recipients.
    var seen = Set<[UInt8]>()
    for r in result.recipients {
        let bytes = Array(r.address.utf8)
        require(!bytes.contains { $0 < 32 || $0 == 127 }, "a control byte in recipient \(show(bytes)) from \(show(input.bytes))")
        require(bytes.first != UInt8(ascii: "-"), "recipient \(show(bytes)) starts with '-' from \(show(input.bytes))")
        require(bytes.first != UInt8(ascii: "@"), "recipient \(show(bytes)) has no local part from \(show(input.bytes))")
        require(seen.insert(bytes).inserted, "recipient \(show(bytes)) twice from \(show(input.bytes))")
    }
    for line in result.skipped + result.warnings {
        require(!line.utf8.contains { $0 < 32 || $0 == 127 }, "a control byte in the message \(show(Array(line.utf8)))")
    }
    return 0
}

/// libFuzzer's driver on `fuzzRecipients`.
@main enum FuzzRecipientsMain {
    static func main() { runLibFuzzer(fuzzRecipients) }
}
