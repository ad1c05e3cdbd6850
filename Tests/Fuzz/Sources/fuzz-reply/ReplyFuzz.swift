import FuzzSupport
import SMTPProtocol

/// The SMTP reply parser (`ReplyParser`, RFC 5321 4.2), as the client feeds it from the socket.
///
/// Input: a bounds byte (the default limits, or small ones so the fuzzer reaches them), a
/// split seed, then the server's bytes.
/// Properties: the replies (and the error, if any) do not depend on how the bytes were split;
/// every reply has a code in 200...559, 1...maxLines lines and no LF in its text; an enhanced
/// status code has the reply's class.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReply(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let bounds = input.choice()
    let seed = input.choice()
    let bytes = input.rest
    let small = bounds & 1 != 0
    let maxLines = small ? 4 : 512
    let make = { small ? ReplyParser(maxLineLength: 64, maxLines: maxLines) : ReplyParser() }

    let whole = run(make(), [bytes[...]])
    let split = run(make(), FuzzInput.pieces(bytes, seed: seed))
    require(whole.replies == split.replies, "replies depend on the split: \(whole.replies) vs \(split.replies)")
    require(whole.error == split.error, "the error depends on the split: \(String(describing: whole.error)) vs \(String(describing: split.error))")
    for reply in whole.replies {
        require((200...559).contains(reply.code), "reply code \(reply.code)")
        require((1...maxLines).contains(reply.lines.count), "\(reply.lines.count) lines")
        require(!reply.lines.contains { $0.utf8.contains(10) }, "LF in a reply line: \(reply.lines)")
        if let e = reply.enhancedStatus { require(e.klass == reply.code / 100, "enhanced code \(e) with \(reply.code)") }
    }
    return 0
}

/// Feeds the pieces in order, taking every complete reply after each; stops at the first error.
func run(_ start: ReplyParser, _ pieces: [ArraySlice<UInt8>]) -> (replies: [SMTPReply], error: String?) {
    var parser = start
    var replies: [SMTPReply] = []
    do {
        for piece in pieces {
            parser.feed(piece)
            while let reply = try parser.next() { replies.append(reply) }
        }
    } catch let e as ReplyParseError {
        return (replies, e.reason)
    } catch {
        return (replies, "\(error)")
    }
    return (replies, nil)
}

/// libFuzzer's driver on `fuzzReply`.
@main enum FuzzReplyMain {
    static func main() { runLibFuzzer(fuzzReply) }
}
