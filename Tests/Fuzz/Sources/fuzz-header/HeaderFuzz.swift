import FuzzSupport
import MailMessage
import SendmailKit

/// The header block of a submitted message, from the bytes sendmail reads to the header it
/// queues: `HeaderBlock.parse`, the streamed `LineSplitter` + `HeaderBlockParser` path, and
/// `SubmissionRules.finalHeader` (qualification, NUL cut, folding and line breaking, the
/// fields sendmail adds).
///
/// Input: a flags byte (which options `finalHeader` gets), a split seed, then the message.
/// Properties: the two parse paths agree; a parsed block written out and parsed again is the
/// same block; the final header has only CRLF line ends, no line over 998 octets, and parses
/// back to exactly its own fields (a fold never splits a name or ends the header early).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.choice()
    let seed = input.choice()
    let message = input.rest

    let parsed = HeaderBlock.parse(message)
    require(parsed.bodyOffset >= 0 && parsed.bodyOffset <= message.count, "body offset \(parsed.bodyOffset) out of range")
    for field in parsed.block.fields {
        require(HeaderField.isValidName(field.name), "invalid field name \(show(Array(field.name.utf8)))")
        requireFolding(field.rawValue, "parsed \(field.name)")
    }
    let again = HeaderBlock.parse(parsed.block.wireBytes + [13, 10])
    require(again.block == parsed.block, "parse(write(block)) differs: \(show(parsed.block.wireBytes))")

    let streamed = streamedHeader(message, seed: seed, asSendmail: false)
    require(streamed.block == parsed.block && streamed.defects == parsed.defects,
            "streamed parse differs: \(show(streamed.block.wireBytes)) vs \(show(parsed.block.wireBytes))")

    checkFinalHeader(streamedHeader(message, seed: seed, asSendmail: true).block, flags: flags, message: message)
    return 0
}

/// Every LF in a raw field body is part of a CRLF followed by white space (a fold).
func requireFolding(_ raw: [UInt8], _ what: @autoclosure () -> String) {
    for i in raw.indices where raw[i] == 10 {
        require(i > 0 && raw[i - 1] == 13 && i + 1 < raw.count && (raw[i + 1] == 32 || raw[i + 1] == 9),
                "\(what()): a line break that is not a fold: \(show(raw))")
    }
}

/// The header as `MessageInput` reads it (it does IO, so its per-line steps are repeated here):
/// lines from a `LineSplitter` fed in pieces, and with `asSendmail` a stray CR made a space.
func streamedHeader(_ message: [UInt8], seed: UInt8, asSendmail: Bool) -> (block: HeaderBlock, defects: [MessageDefect]) {
    var splitter = LineSplitter(maxPendingLine: Int.max)
    var parser = HeaderBlockParser()
    var inHeader = true
    func take(_ line: LineSplitter.Line) -> Bool {
        guard inHeader else { return false }
        if asSendmail, line.bytes.contains(13) {
            let copy = line.bytes.map { $0 == 13 ? 32 : $0 }
            inHeader = copy.withUnsafeBufferPointer { parser.feed($0) } == .header
        } else {
            inHeader = parser.feed(line.bytes) == .header
        }
        return inHeader
    }
    for piece in FuzzInput.pieces(message, seed: seed) {
        let more = Array(piece).withUnsafeBufferPointer { splitter.feed($0, take) }
        if !more { break }
    }
    if inHeader { splitter.finish(take) }
    parser.finish()
    return (parser.block, parser.defects)
}

func checkFinalHeader(_ block: HeaderBlock, flags: UInt8, message: [UInt8]) {
    // A name too long to fit on a line with its colon never reaches finalHeader: the
    // submission refuses the message first (exit 65, `HeaderFolding.fieldNameTooLong`).
    if HeaderFolding.fieldNameTooLong(in: block) != nil { return }
    let context = SubmissionContext(
        qualifier: AddressQualifier(domain: "example.org", localNames: ["vm", "localhost"]),
        hostname: "vm.example.org", user: "root", uid: 0, fullName: flags & 1 != 0 ? "Charlie Root" : nil,
        epochSeconds: 1_700_000_000, utcOffset: 3600, queueID: "4F2A9C1B2D")
    // -F: the message's first line, so the fuzzer also drives the phrase encoder.
    let fullName = flags & 4 != 0 ? String(decoding: TextLines.firstLine(message), as: UTF8.self) : nil
    let sender = flags & 2 != 0 ? "" : "root@example.org"
    let final = SubmissionRules.finalHeader(block, sender: sender, fullNameOption: fullName, context: context)
    let wire = final.wireBytes
    require(hasOnlyCRLF(wire), "the final header has a bare CR or LF: \(show(wire))")
    // One check after the loop: a check per octet was a tenth of the harness's time.
    var length = 0, longest = 0
    for b in wire {
        if b == 13 || b == 10 { length = 0; continue }
        length += 1
        longest = max(longest, length)
    }
    require(longest <= LineLimit.maxOctets, "the final header has a line of \(longest) octets (over 998)")
    let reparsed = HeaderBlock.parse(wire + [13, 10])
    require(reparsed.block == final, "the final header does not parse back to its fields: \(show(wire))")
    require(reparsed.bodyOffset == wire.count + 2, "the final header ends early: \(show(wire))")
}

/// libFuzzer's driver on `fuzzHeader`.
@main enum FuzzHeaderMain {
    static func main() { runLibFuzzer(fuzzHeader) }
}
