import XCTest
@testable import SMTPProtocol

/// The proxy handshakes without IO: SOCKS5 (RFC 1928, RFC 1929), SOCKS4a and HTTP CONNECT
/// (RFC 9110 9.3.6), byte for byte, every reply code, replies split anywhere.
final class ProxyHandshakeTests: XCTestCase {
    let v4 = ProxyTarget.ipv4([192, 0, 2, 25])
    let v6 = ProxyTarget.ipv6([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
    let domainTarget = ProxyTarget.domain("smtp.example.com")
    let creds = ProxyCredentials(username: Array("alice".utf8), password: Array("s3cret".utf8))

    /// The reply of a SOCKS5 server to CONNECT: `code`, bound to 10.0.0.1:4660.
    func socks5Reply(_ code: UInt8) -> [UInt8] { [5, code, 0, 1, 10, 0, 0, 1, 0x12, 0x34] }

    /// Feeds `bytes` one at a time: every action but the last must be `.read`.
    func feedByteByByte(_ machine: inout ProxyHandshake, _ bytes: [UInt8],
                        file: StaticString = #filePath, line: UInt = #line) -> ProxyHandshakeAction {
        var action = ProxyHandshakeAction.read
        for (i, byte) in bytes.enumerated() {
            action = machine.receive([byte])
            if i < bytes.count - 1 { XCTAssertEqual(action, .read, "after byte \(i)", file: file, line: line) }
        }
        return action
    }

    func failure(_ action: ProxyHandshakeAction, file: StaticString = #filePath, line: UInt = #line) -> ProxyHandshakeFailure? {
        guard case .fail(let f) = action else {
            XCTFail("expected a failure, got \(action)", file: file, line: line)
            return nil
        }
        return f
    }

    // MARK: SOCKS5 encoders

    func testSOCKS5Greeting() {
        XCTAssertEqual(SOCKS5.greeting(methods: [0]), [5, 1, 0])
        XCTAssertEqual(SOCKS5.greeting(methods: [0, 2]), [5, 2, 0, 2])
        var anonymous = ProxyHandshake(proxyProtocol: .socks5, target: domainTarget, port: 25, credentials: nil)
        XCTAssertEqual(anonymous.start(), .send([5, 1, 0], trace: ["SOCKS5 methods: no authentication"]))
        var withUser = ProxyHandshake(proxyProtocol: .socks5, target: domainTarget, port: 25, credentials: creds)
        XCTAssertEqual(withUser.start(), .send([5, 2, 0, 2], trace: ["SOCKS5 methods: no authentication, username/password"]))
    }

    func testSOCKS5UsernamePasswordRequest() throws {
        XCTAssertEqual(try SOCKS5.usernamePasswordRequest(creds), [1, 5] + Array("alice".utf8) + [6] + Array("s3cret".utf8))
        let long = [UInt8](repeating: 0x61, count: 255)
        XCTAssertEqual(try SOCKS5.usernamePasswordRequest(ProxyCredentials(username: long, password: long)).count, 3 + 510)
        for (user, password) in [([UInt8](), Array("p".utf8)), (Array("u".utf8), []),
                                 (long + [0x61], Array("p".utf8)), (Array("u".utf8), long + [0x61])] {
            XCTAssertThrowsError(try SOCKS5.usernamePasswordRequest(ProxyCredentials(username: user, password: password))) {
                XCTAssertEqual(($0 as? ProxyHandshakeFailure)?.kind, .invalidArgument)
            }
        }
    }

    func testSOCKS5ConnectRequests() throws {
        XCTAssertEqual(try SOCKS5.connectRequest(target: v4, port: 587), [5, 1, 0, 1, 192, 0, 2, 25, 0x02, 0x4B])
        XCTAssertEqual(try SOCKS5.connectRequest(target: v6, port: 25),
                       [5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1, 0, 25])
        XCTAssertEqual(try SOCKS5.connectRequest(target: domainTarget, port: 465),
                       [5, 1, 0, 3, 16] + Array("smtp.example.com".utf8) + [0x01, 0xD1])
        let longest = String(repeating: "a", count: 255)
        XCTAssertEqual(try SOCKS5.connectRequest(target: .domain(longest), port: 25).count, 5 + 255 + 2)
        for bad in ["", String(repeating: "a", count: 256), "smtp.example.com\r\nX", "a b", "a:25", "a\u{0}b",
                    "bücher.example", "a/b", "[::1]"] {
            XCTAssertThrowsError(try SOCKS5.connectRequest(target: .domain(bad), port: 25), bad) {
                XCTAssertEqual(($0 as? ProxyHandshakeFailure)?.kind, .invalidArgument)
            }
        }
        XCTAssertThrowsError(try SOCKS5.connectRequest(target: .ipv4([1, 2, 3]), port: 25))
    }

    // MARK: SOCKS5 parsers

    func testSOCKS5MethodSelection() throws {
        XCTAssertNil(try SOCKS5.parseMethodSelection([5]))
        XCTAssertEqual(try SOCKS5.parseMethodSelection([5, 2, 9])?.method, 2)
        XCTAssertEqual(try SOCKS5.parseMethodSelection([5, 2, 9])?.consumed, 2)
        XCTAssertThrowsError(try SOCKS5.parseMethodSelection(Array("HTTP/1.1 400".utf8)[...]))
        XCTAssertThrowsError(try SOCKS5.parseMethodSelection([4, 0]))
    }

    func testSOCKS5ReplyWithEachBoundAddressType() throws {
        let r4 = try XCTUnwrap(try SOCKS5.parseReply(socks5Reply(0)[...]))
        XCTAssertEqual(r4.consumed, 10)
        XCTAssertEqual(r4.reply, SOCKS5.Reply(code: 0, boundAddress: .ipv4([10, 0, 0, 1]), boundPort: 0x1234))
        let six: [UInt8] = [5, 0, 0, 4] + [UInt8](repeating: 0, count: 15) + [1] + [0, 25]
        XCTAssertEqual(try SOCKS5.parseReply(six[...])?.reply.boundAddress.text, "::1")
        let domain: [UInt8] = [5, 0, 0, 3, 3] + Array("a.b".utf8) + [0, 25, 0x32]
        let rd = try XCTUnwrap(try SOCKS5.parseReply(domain[...]))
        XCTAssertEqual(rd.reply.boundAddress, .domain("a.b"))
        XCTAssertEqual(rd.consumed, 10, "the byte after the reply is not part of it")
        for cut in 0..<10 { XCTAssertNil(try SOCKS5.parseReply(socks5Reply(0)[0..<cut]), "\(cut) bytes") }
        XCTAssertThrowsError(try SOCKS5.parseReply([5, 0, 0, 9, 0, 0, 0, 0, 0, 0]))
        XCTAssertThrowsError(try SOCKS5.parseReply([4, 90, 0, 25, 1, 2, 3, 4]))
    }

    /// Every reply code of RFC 1928 6, and unassigned ones, through the state machine.
    func testEverySOCKS5ReplyCode() {
        let texts: [UInt8: String] = [
            1: "general SOCKS server failure", 2: "connection not allowed by ruleset", 3: "network unreachable",
            4: "host unreachable", 5: "connection refused", 6: "TTL expired", 7: "command not supported",
            8: "address type not supported", 9: "unassigned reply code", 0xFF: "unassigned reply code",
        ]
        XCTAssertEqual(SOCKS5.replyText(0), "succeeded")
        for (code, text) in texts {
            XCTAssertEqual(SOCKS5.replyText(code), text)
            var machine = ProxyHandshake(proxyProtocol: .socks5, target: domainTarget, port: 587, credentials: nil)
            _ = machine.start()
            XCTAssertEqual(machine.receive([5, 0]), .send([5, 1, 0, 3, 16] + Array("smtp.example.com".utf8) + [2, 0x4B],
                                                          trace: ["SOCKS5 CONNECT smtp.example.com:587"]))
            let f = failure(machine.receive(socks5Reply(code)))
            XCTAssertEqual(f?.kind, .connectRefused)
            XCTAssertEqual(f?.socksReplyCode, code)
            XCTAssertTrue(f?.message.hasSuffix("SOCKS5 reply \(hexByte(code)) \(text)") ?? false, f?.message ?? "")
            XCTAssertEqual(machine.state, .failed)
            XCTAssertEqual(SOCKS5.isAddressSpecific(code), (3...6).contains(code))
        }
    }

    // MARK: SOCKS5 dialogue

    func testSOCKS5WithAuthenticationSplitAnywhereKeepsTheLeftover() {
        var machine = ProxyHandshake(proxyProtocol: .socks5, target: v6, port: 25, credentials: creds)
        _ = machine.start()
        XCTAssertEqual(machine.awaiting, "its choice of authentication method")
        XCTAssertEqual(feedByteByByte(&machine, [5, 2]),
                       .send([1, 5] + Array("alice".utf8) + [6] + Array("s3cret".utf8), trace: ["SOCKS5 username/password: <redacted>"]))
        XCTAssertEqual(machine.receivedTrace, ["SOCKS5 method: username/password"])
        XCTAssertEqual(machine.awaiting, "its answer to the username/password")
        XCTAssertEqual(feedByteByByte(&machine, [1, 0]),
                       .send([5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1, 0, 25],
                             trace: ["SOCKS5 CONNECT [2001:db8::1]:25"]))
        XCTAssertEqual(machine.receivedTrace, ["SOCKS5 authentication: accepted"])
        let greeting = Array("220 relay ESMTP\r\n".utf8)
        XCTAssertEqual(feedByteByByte(&machine, Array(socks5Reply(0).prefix(9))), .read)
        XCTAssertEqual(machine.receive([socks5Reply(0)[9]] + greeting), .established(leftover: greeting))
        XCTAssertEqual(machine.receivedTrace, ["SOCKS5 reply: 00 succeeded (bound 10.0.0.1:4660)"])
        XCTAssertEqual(machine.state, .established)
        XCTAssertEqual(failure(machine.receive([1]))?.kind, .malformedReply, "nothing after the tunnel is the proxy's")
    }

    func testSOCKS5PasswordNeverInTheTrace() {
        var machine = ProxyHandshake(proxyProtocol: .socks5, target: domainTarget, port: 25, credentials: creds)
        var lines: [String] = []
        if case .send(_, let trace) = machine.start() { lines += trace }
        if case .send(_, let trace) = machine.receive([5, 2]) { lines += trace }
        lines += machine.receivedTrace
        XCTAssertFalse(lines.joined().contains("s3cret"), "\(lines)")
        XCTAssertFalse(lines.joined().contains("alice"), "\(lines)")
    }

    func testSOCKS5AuthenticationRefusedOrRequired() {
        var machine = ProxyHandshake(proxyProtocol: .socks5, target: domainTarget, port: 25, credentials: creds)
        _ = machine.start()
        _ = machine.receive([5, 2])
        let refused = failure(machine.receive([1, 1]))
        XCTAssertEqual(refused?.kind, .authenticationRejected)
        XCTAssertEqual(refused?.message, "the proxy refused the username/password (RFC 1929 status 01)")
        XCTAssertEqual(machine.receivedTrace, ["SOCKS5 authentication: refused (status 01)"])

        var anonymous = ProxyHandshake(proxyProtocol: .socks5, target: domainTarget, port: 25, credentials: nil)
        _ = anonymous.start()
        XCTAssertEqual(failure(anonymous.receive([5, 0xFF]))?.kind, .authenticationRequired)
        var neither = ProxyHandshake(proxyProtocol: .socks5, target: domainTarget, port: 25, credentials: creds)
        _ = neither.start()
        XCTAssertEqual(failure(neither.receive([5, 0xFF]))?.kind, .authenticationRejected)
        var notOffered = ProxyHandshake(proxyProtocol: .socks5, target: domainTarget, port: 25, credentials: nil)
        _ = notOffered.start()
        XCTAssertEqual(failure(notOffered.receive([5, 2]))?.kind, .malformedReply, "username/password was not offered")
        var gssapi = ProxyHandshake(proxyProtocol: .socks5, target: domainTarget, port: 25, credentials: creds)
        _ = gssapi.start()
        XCTAssertEqual(failure(gssapi.receive([5, 1]))?.message, "the proxy chose GSSAPI, which was not offered")
    }

    func testNotASOCKSServer() {
        var machine = ProxyHandshake(proxyProtocol: .socks5, target: domainTarget, port: 25, credentials: nil)
        _ = machine.start()
        let f = failure(machine.receive(Array("220 smtp.example.com ESMTP\r\n".utf8)))
        XCTAssertEqual(f?.kind, .malformedReply)
        XCTAssertEqual(f?.message, "the proxy does not speak SOCKS5 (its first byte is 32, not 05)")
    }

    // MARK: SOCKS4a

    func testSOCKS4aRequestsAndReplies() throws {
        XCTAssertEqual(try SOCKS4a.connectRequest(target: domainTarget, port: 25, userID: Array("bob".utf8)),
                       [4, 1, 0, 25, 0, 0, 0, 1] + Array("bob".utf8) + [0] + Array("smtp.example.com".utf8) + [0])
        XCTAssertEqual(try SOCKS4a.connectRequest(target: v4, port: 587, userID: []), [4, 1, 2, 0x4B, 192, 0, 2, 25, 0])
        XCTAssertThrowsError(try SOCKS4a.connectRequest(target: v6, port: 25, userID: []))
        XCTAssertThrowsError(try SOCKS4a.connectRequest(target: domainTarget, port: 25, userID: [0x61, 0]))

        for (code, ok) in [(UInt8(90), true), (91, false), (92, false), (93, false)] {
            var machine = ProxyHandshake(proxyProtocol: .socks4a, target: domainTarget, port: 25, credentials: nil)
            XCTAssertEqual(machine.start(), .send([4, 1, 0, 25, 0, 0, 0, 1, 0] + Array("smtp.example.com".utf8) + [0],
                                                  trace: ["SOCKS4a CONNECT smtp.example.com:25"]))
            let reply: [UInt8] = [0, code, 0, 0, 0, 0, 0, 0]
            XCTAssertEqual(feedByteByByte(&machine, Array(reply.prefix(7))), .read)
            let action = machine.receive([reply[7], 0x32])
            if ok {
                XCTAssertEqual(action, .established(leftover: [0x32]))
            } else {
                XCTAssertEqual(failure(action)?.kind, .connectRefused)
                XCTAssertEqual(failure(action)?.socksReplyCode, code)
            }
            XCTAssertEqual(machine.receivedTrace, ["SOCKS4a reply: \(code) \(SOCKS4a.replyText(code))"])
        }
        var wrong = ProxyHandshake(proxyProtocol: .socks4a, target: domainTarget, port: 25, credentials: nil)
        _ = wrong.start()
        XCTAssertEqual(failure(wrong.receive([5, 0, 0, 1, 0, 0, 0, 0]))?.kind, .malformedReply)
    }

    // MARK: HTTP CONNECT

    func testHTTPConnectRequest() throws {
        let plain = try HTTPConnect.request(target: domainTarget, port: 587, credentials: nil)
        XCTAssertEqual(String(decoding: plain.bytes, as: UTF8.self),
                       "CONNECT smtp.example.com:587 HTTP/1.1\r\nHost: smtp.example.com:587\r\n\r\n")
        let six = try HTTPConnect.request(target: v6, port: 25, credentials: creds)
        XCTAssertEqual(String(decoding: six.bytes, as: UTF8.self),
                       "CONNECT [2001:db8::1]:25 HTTP/1.1\r\nHost: [2001:db8::1]:25\r\n"
                       + "Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n")
        XCTAssertEqual(six.trace, ["CONNECT [2001:db8::1]:25 HTTP/1.1", "Host: [2001:db8::1]:25",
                                   "Proxy-Authorization: Basic <redacted>"])
        XCTAssertThrowsError(try HTTPConnect.request(target: v4, port: 25,
                                                     credentials: ProxyCredentials(username: Array("a:b".utf8), password: [])))
        XCTAssertThrowsError(try HTTPConnect.request(target: v4, port: 25,
                                                     credentials: ProxyCredentials(username: Array("a".utf8), password: [0x0A])))
        XCTAssertThrowsError(try HTTPConnect.request(target: .domain("evil\r\nX-Injected: 1"), port: 25, credentials: nil))
    }

    func testHTTPResponseSplitAnywhereWithGreetingAfterIt() throws {
        let response = Array("HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n".utf8)
        let greeting = Array("220 relay.example ESMTP\r\n".utf8)
        for cut in 0...response.count {
            var machine = ProxyHandshake(proxyProtocol: .httpConnect, target: domainTarget, port: 25, credentials: nil)
            _ = machine.start()
            let all = response + greeting
            let first = machine.receive(all[0..<cut])
            if cut < response.count {
                XCTAssertEqual(first, .read, "cut at \(cut)")
                XCTAssertEqual(machine.receive(all[cut...]), .established(leftover: greeting), "cut at \(cut)")
            } else {
                XCTAssertEqual(first, .established(leftover: []))
            }
            XCTAssertEqual(machine.receivedTrace, ["HTTP/1.0 200 Connection established", "Proxy-agent: tinyproxy/1.11.1"])
        }
        var machine = ProxyHandshake(proxyProtocol: .httpConnect, target: domainTarget, port: 25, credentials: nil)
        _ = machine.start()
        XCTAssertEqual(feedByteByByte(&machine, response), .established(leftover: []))
    }

    func testHTTP407WithAndWithoutCredentials() {
        let response = Array("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"tinyproxy\"\r\nContent-Length: 0\r\n\r\n".utf8)
        var anonymous = ProxyHandshake(proxyProtocol: .httpConnect, target: domainTarget, port: 25, credentials: nil)
        _ = anonymous.start()
        let required = failure(feedByteByByte(&anonymous, response))
        XCTAssertEqual(required?.kind, .authenticationRequired)
        XCTAssertEqual(required?.httpStatusLine, "HTTP/1.1 407 Proxy Authentication Required")
        XCTAssertEqual(required?.message, "the proxy wants authentication (it asks for Basic realm=\"tinyproxy\"): HTTP/1.1 407 Proxy Authentication Required")
        var wrong = ProxyHandshake(proxyProtocol: .httpConnect, target: domainTarget, port: 25, credentials: creds)
        _ = wrong.start()
        XCTAssertEqual(failure(wrong.receive(response))?.kind, .authenticationRejected)
        // tinyproxy answers 401 with WWW-Authenticate: still the proxy's authentication.
        var tiny = ProxyHandshake(proxyProtocol: .httpConnect, target: domainTarget, port: 25, credentials: creds)
        _ = tiny.start()
        let unauthorised = failure(tiny.receive(Array("HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n".utf8)))
        XCTAssertEqual(unauthorised?.kind, .authenticationRejected)
        XCTAssertEqual(unauthorised?.message, "the proxy refused the credentials (it asks for Basic realm=\"x\"): HTTP/1.0 401 Unauthorized")
    }

    func testHTTPRefusalsAndInterimResponses() throws {
        var machine = ProxyHandshake(proxyProtocol: .httpConnect, target: domainTarget, port: 25, credentials: nil)
        _ = machine.start()
        let refused = failure(machine.receive(Array("HTTP/1.1 403 Access violation\r\n\r\n".utf8)))
        XCTAssertEqual(refused?.kind, .connectRefused)
        XCTAssertEqual(refused?.httpStatusLine, "HTTP/1.1 403 Access violation")
        XCTAssertEqual(refused?.message, "the proxy refused the CONNECT to smtp.example.com:25: HTTP/1.1 403 Access violation")

        var interim = ProxyHandshake(proxyProtocol: .httpConnect, target: domainTarget, port: 25, credentials: nil)
        _ = interim.start()
        XCTAssertEqual(interim.receive(Array("HTTP/1.1 100 Continue\n\nHTTP/1.1 204\nX-A: 1\n  folded\n\nrest".utf8)),
                       .established(leftover: Array("rest".utf8)))
        XCTAssertEqual(interim.receivedTrace, ["HTTP/1.1 204", "X-A: 1 folded"])

        for garbage in ["SSH-2.0-OpenSSH_9.2\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                        "HTTP/1.1 200 OK\r\n folded first\r\n\r\n", "\u{5}\u{0}\r\n\r\n"] {
            var m = ProxyHandshake(proxyProtocol: .httpConnect, target: domainTarget, port: 25, credentials: nil)
            _ = m.start()
            XCTAssertEqual(failure(m.receive(Array(garbage.utf8)))?.kind, .malformedReply, garbage)
        }
        var parser = HTTPConnect.ResponseParser(maxHeadLength: 64)
        parser.feed(Array(("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 100)).utf8))
        XCTAssertThrowsError(try parser.next())
    }

    func testResponseFieldLookup() throws {
        var parser = HTTPConnect.ResponseParser()
        parser.feed(Array("HTTP/1.1 200 OK\r\nVia: 1.1 p\r\nvia: 1.1 q\r\n\r\n".utf8))
        let response = try XCTUnwrap(try parser.next())
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.value(of: "VIA"), "1.1 p")
        XCTAssertNil(response.value(of: "Server"))
    }

    // MARK: targets

    func testTargetText() {
        func six(_ groups: [UInt16]) -> ProxyTarget { .ipv6(groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }) }
        XCTAssertEqual(v4.text, "192.0.2.25")
        XCTAssertEqual(v6.text, "2001:db8::1")
        XCTAssertEqual(six([0, 0, 0, 0, 0, 0, 0, 1]).text, "::1")
        XCTAssertEqual(six([0, 0, 0, 0, 0, 0, 0, 0]).text, "::")
        XCTAssertEqual(six([1, 0, 0, 0, 0, 0, 0, 0]).text, "1::")
        XCTAssertEqual(six([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]).text, "2001:db8:0:1:1:1:1:1", "one zero group stays")
        XCTAssertEqual(six([1, 0, 0, 2, 0, 0, 0, 3]).text, "1:0:0:2::3", "the longest run")
        XCTAssertEqual(six([1, 0, 0, 2, 0, 0, 3, 4]).text, "1::2:0:0:3:4", "the first of equal runs")
        XCTAssertEqual(v6.authority(port: 25), "[2001:db8::1]:25")
        XCTAssertEqual(domainTarget.authority(port: 25), "smtp.example.com:25")
    }
}
