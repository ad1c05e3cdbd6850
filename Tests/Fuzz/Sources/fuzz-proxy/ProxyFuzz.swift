import FuzzSupport
import SMTPProtocol

/// The proxy codecs and the handshake that drives them (`ProxyHandshake`: SOCKS5 with and
/// without RFC 1929 authentication, SOCKS4a, HTTP CONNECT), fed what a hostile proxy sends.
///
/// Input: a choice byte (protocol, credentials, target kind), a split seed, then the proxy's bytes.
/// Properties: the outcome (tunnel open with the same bytes for the relay, failure of the same
/// kind, or still waiting) does not depend on how the bytes were split; a failure leaves the
/// handshake failed and an open tunnel leaves it established; the decoders, given a slice
/// that does not start at index 0, agree with the same bytes as an array.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProxy(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let choice = input.choice()
    let seed = input.choice()
    let bytes = input.rest

    let proto: ProxyProtocol = [.socks5, .socks4a, .httpConnect][Int(choice % 3)]
    let credentials = choice & 4 != 0 ? ProxyCredentials(username: Array("user".utf8), password: Array("secret".utf8)) : nil
    let target: ProxyTarget
    switch (choice >> 3) % 3 {
    case 0: target = .domain("relay.example.org")
    case 1: target = .ipv4([192, 0, 2, 25])
    default: target = .ipv6([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
    }
    let make = { ProxyHandshake(proxyProtocol: proto, target: target, port: 587, credentials: credentials) }
    let whole = drive(make(), [bytes[...]])
    let split = drive(make(), FuzzInput.pieces(bytes, seed: seed))
    require(whole == split, "\(proto): the outcome depends on the split: \(whole) vs \(split)")

    decoders(bytes)
    return 0
}

/// How a handshake ended.
enum Outcome: Equatable {
    /// Open; the bytes that belong to the relay (the leftover and everything not yet fed).
    case established([UInt8])
    case failed(ProxyHandshakeFailure.Kind)
    case waiting(ProxyHandshake.State)
}

func drive(_ start: ProxyHandshake, _ pieces: [ArraySlice<UInt8>]) -> Outcome {
    var h = start
    guard case .send = h.start() else { return .failed(.invalidArgument) }
    var index = 0
    var action = ProxyHandshakeAction.read
    while true {
        switch action {
        case .established(let leftover):
            require(h.state == .established, "established in state \(h.state)")
            return .established(leftover + pieces[index...].flatMap { $0 })
        case .fail(let failure):
            require(h.state == .failed, "failed in state \(h.state)")
            return .failed(failure.kind)
        case .send:
            // What the proxy sent may already hold its next answer.
            action = h.receive([UInt8]())
        case .read:
            guard index < pieces.count else { return .waiting(h.state) }
            action = h.receive(pieces[index])
            index += 1
        }
    }
}

/// Each decoder on `bytes` as an array and as a slice of a longer array (start index 1).
func decoders(_ bytes: [UInt8]) {
    let shifted = ([0xEE] + bytes)[1...]
    func same<T: Equatable>(_ name: String, _ f: (ArraySlice<UInt8>) throws -> T?) {
        let a = Result { try f(bytes[...]) }, b = Result { try f(shifted) }
        switch (a, b) {
        case (.success(let x), .success(let y)): require(x == y, "\(name) differs on a shifted slice")
        case (.failure, .failure): break
        default: require(false, "\(name) throws on one of an array and a shifted slice only")
        }
    }
    same("SOCKS5.parseMethodSelection") { try SOCKS5.parseMethodSelection($0).map { [Int($0.method), $0.consumed] } }
    same("SOCKS5.parseAuthenticationReply") { try SOCKS5.parseAuthenticationReply($0).map { [Int($0.status), $0.consumed] } }
    same("SOCKS5.parseReply") { s -> [String]? in
        try SOCKS5.parseReply(s).map { ["\($0.reply.code)", $0.reply.boundAddress.authority(port: $0.reply.boundPort), "\($0.consumed)"] }
    }
    same("SOCKS4a.parseReply") { try SOCKS4a.parseReply($0).map { [Int($0.code), $0.consumed] } }
    if let (_, consumed) = try? SOCKS5.parseReply(bytes[...]) { require(consumed <= bytes.count, "SOCKS5 reply consumed \(consumed)") }
    var http = HTTPConnect.ResponseParser()
    http.feed(bytes)
    if let response = try? http.next() {
        require((200...999).contains(response.status) || response.status < 100, "HTTP status \(response.status)")
        require(http.remaining.count < bytes.count, "an HTTP response consumed nothing")
    }
}

/// libFuzzer's driver on `fuzzProxy`.
@main enum FuzzProxyMain {
    static func main() { runLibFuzzer(fuzzProxy) }
}
