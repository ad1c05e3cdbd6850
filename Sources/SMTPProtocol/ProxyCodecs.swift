import MailMessage
/// The wire formats of the proxies an SMTP client can tunnel through, without IO: SOCKS5
/// (RFC 1928) with username/password authentication (RFC 1929), SOCKS4a (the SOCKS 4
/// protocol note and its 4A extension), and HTTP CONNECT (RFC 9110 9.3.6) with Basic
/// credentials (RFC 7617). Encoders check every argument where the bytes are built (house
/// rule 3); parsers take whatever has arrived, return nil while more bytes are needed, and say
/// how many bytes they consumed (what follows belongs to the tunnel).

/// Where the proxy should connect: the relay, as an address or as a name the proxy resolves
/// (RFC 1928 4, ATYP).
public enum ProxyTarget: Hashable, Sendable {
    /// An IPv4 address, 4 octets in network order.
    case ipv4([UInt8])
    /// An IPv6 address, 16 octets in network order.
    case ipv6([UInt8])
    /// A host name, resolved by the proxy (socks5h, socks4a, HTTP CONNECT).
    case domain(String)

    /// "192.0.2.1", "2001:db8::1" (RFC 5952 form) or the name.
    public var text: String {
        switch self {
        case .ipv4(let b): return b.map { String($0) }.joined(separator: ".")
        case .ipv6(let b): return ProxyTarget.ipv6Text(b)
        case .domain(let name): return name
        }
    }

    /// `host:port` as in an HTTP authority (RFC 9110 7.2), an IPv6 address in brackets.
    public func authority(port: UInt16) -> String {
        if case .ipv6 = self { return "[\(text)]:\(port)" }
        return "\(text):\(port)"
    }

    /// RFC 5952 4: lower case, no leading zeros, the longest run (two groups or more) of zero
    /// groups as "::".
    static func ipv6Text(_ b: [UInt8]) -> String {
        guard b.count == 16 else { return "?" }
        let groups = (0..<8).map { Int(b[2 * $0]) << 8 | Int(b[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 1, runStart = -1
        for i in 0...8 {
            if i < 8, groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            range.map { String(groups[$0], radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// Checks a name before it goes to a proxy: 1 to 255 octets of printable ASCII, none of
    /// the characters that would end or change an authority or a NUL-terminated field.
    static func checkDomain(_ name: String) throws {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 255 else {
            throw ProxyHandshakeFailure(.invalidArgument, "the relay name must be 1 to 255 octets to go to a proxy")
        }
        for byte in bytes {
            if byte <= 0x20 || byte >= 0x7F || "/?#@[]\\:\"<>".utf8.contains(byte) {
                throw ProxyHandshakeFailure(.invalidArgument,
                                            "the relay name \"\(Self.printable(bytes))\" cannot go to a proxy (write an internationalised name in its xn-- form)")
            }
        }
    }

    static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(255).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }
}

/// Credentials for a proxy: SOCKS5 username/password (RFC 1929), the SOCKS4 user id, or HTTP
/// Basic (RFC 7617). They are never traced.
public struct ProxyCredentials: Sendable {
    /// The user name (SOCKS4: the user id).
    public var username: [UInt8]
    /// The password (unused by SOCKS4a).
    public var password: [UInt8]

    /// Creates credentials.
    public init(username: [UInt8], password: [UInt8]) {
        self.username = username
        self.password = password
    }
}

/// Why a proxy handshake failed: the kind decides how the transport reports it.
public struct ProxyHandshakeFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kinds of failure.
    public enum Kind: Hashable, Sendable {
        /// Something we were asked to send cannot be encoded (a name too long, a CR in it...).
        case invalidArgument
        /// The proxy wants credentials and none are configured.
        case authenticationRequired
        /// The proxy refused the credentials (RFC 1929 status, HTTP 407).
        case authenticationRejected
        /// The proxy refused to open the tunnel (SOCKS reply code, HTTP status).
        case connectRefused
        /// The proxy's answer does not parse, or is not of the protocol spoken.
        case malformedReply
    }

    /// What went wrong.
    public var kind: Kind
    /// Our description (never contains the password).
    public var message: String
    /// The SOCKS reply code (RFC 1928 6: REP; SOCKS4: CD), when one caused this.
    public var socksReplyCode: UInt8?
    /// The HTTP status line, verbatim, when one caused this.
    public var httpStatusLine: String?

    /// Creates a failure.
    public init(_ kind: Kind, _ message: String, socksReplyCode: UInt8? = nil, httpStatusLine: String? = nil) {
        self.kind = kind
        self.message = message
        self.socksReplyCode = socksReplyCode
        self.httpStatusLine = httpStatusLine
    }

    /// The message.
    public var description: String { message }
}

/// SOCKS protocol version 5 (RFC 1928) and its username/password method (RFC 1929).
public enum SOCKS5 {
    /// RFC 1928 3: no authentication required.
    public static let methodNoAuthentication: UInt8 = 0x00
    /// RFC 1928 3: GSSAPI (RFC 1961; not offered).
    public static let methodGSSAPI: UInt8 = 0x01
    /// RFC 1928 3 / RFC 1929: username/password.
    public static let methodUsernamePassword: UInt8 = 0x02
    /// RFC 1928 3: no acceptable methods.
    public static let methodNoAcceptable: UInt8 = 0xFF

    /// The method's name, for traces and messages.
    public static func methodName(_ method: UInt8) -> String {
        switch method {
        case methodNoAuthentication: return "no authentication"
        case methodGSSAPI: return "GSSAPI"
        case methodUsernamePassword: return "username/password"
        case methodNoAcceptable: return "no acceptable method"
        default: return "method \(hexByte(method))"
        }
    }

    /// RFC 1928 3: `VER NMETHODS METHODS`.
    public static func greeting(methods: [UInt8]) -> [UInt8] {
        [0x05, UInt8(methods.count)] + methods
    }

    /// RFC 1928 3: the server's `VER METHOD`; nil until two bytes are there.
    public static func parseMethodSelection(_ bytes: ArraySlice<UInt8>) throws -> (method: UInt8, consumed: Int)? {
        guard bytes.count >= 2 else { return nil }
        let start = bytes.startIndex
        guard bytes[start] == 0x05 else {
            throw ProxyHandshakeFailure(.malformedReply,
                                        "the proxy does not speak SOCKS5 (its first byte is \(hexByte(bytes[start])), not 05)")
        }
        return (bytes[start + 1], 2)
    }

    /// RFC 1929 2: `VER=1 ULEN UNAME PLEN PASSWD`, each field 1 to 255 octets.
    public static func usernamePasswordRequest(_ credentials: ProxyCredentials) throws -> [UInt8] {
        let user = credentials.username, password = credentials.password
        guard (1...255).contains(user.count) else {
            throw ProxyHandshakeFailure(.invalidArgument, "a SOCKS5 user name must be 1 to 255 octets (RFC 1929)")
        }
        guard (1...255).contains(password.count) else {
            throw ProxyHandshakeFailure(.invalidArgument, "a SOCKS5 password must be 1 to 255 octets (RFC 1929)")
        }
        return [0x01, UInt8(user.count)] + user + [UInt8(password.count)] + password
    }

    /// RFC 1929 2: the server's `VER STATUS` (0 is success); nil until two bytes are there.
    /// VER is 1; 5 is accepted too, as some servers send it.
    public static func parseAuthenticationReply(_ bytes: ArraySlice<UInt8>) throws -> (status: UInt8, consumed: Int)? {
        guard bytes.count >= 2 else { return nil }
        let start = bytes.startIndex
        guard bytes[start] == 0x01 || bytes[start] == 0x05 else {
            throw ProxyHandshakeFailure(.malformedReply,
                                        "the proxy's reply to the username/password has version \(hexByte(bytes[start])), not 01")
        }
        return (bytes[start + 1], 2)
    }

    /// RFC 1928 4: `VER CMD=CONNECT RSV ATYP DST.ADDR DST.PORT`.
    public static func connectRequest(target: ProxyTarget, port: UInt16) throws -> [UInt8] {
        var out: [UInt8] = [0x05, 0x01, 0x00]
        switch target {
        case .ipv4(let b):
            guard b.count == 4 else { throw ProxyHandshakeFailure(.invalidArgument, "an IPv4 address has 4 octets") }
            out += [0x01] + b
        case .ipv6(let b):
            guard b.count == 16 else { throw ProxyHandshakeFailure(.invalidArgument, "an IPv6 address has 16 octets") }
            out += [0x04] + b
        case .domain(let name):
            try ProxyTarget.checkDomain(name)
            out += [0x03, UInt8(name.utf8.count)] + Array(name.utf8)
        }
        return out + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    /// RFC 1928 6: the server's reply to CONNECT.
    public struct Reply: Hashable, Sendable {
        /// REP: 0 is success (see `replyText`).
        public var code: UInt8
        /// BND.ADDR: the address the proxy connected from.
        public var boundAddress: ProxyTarget
        /// BND.PORT.
        public var boundPort: UInt16
    }

    /// RFC 1928 6: `VER REP RSV ATYP BND.ADDR BND.PORT`; nil until the whole reply is there.
    public static func parseReply(_ bytes: ArraySlice<UInt8>) throws -> (reply: Reply, consumed: Int)? {
        guard bytes.count >= 5 else { return nil }
        let b = Array(bytes)
        guard b[0] == 0x05 else {
            throw ProxyHandshakeFailure(.malformedReply, "the proxy's reply to CONNECT has version \(hexByte(b[0])), not 05")
        }
        let addressLength: Int
        switch b[3] {
        case 0x01: addressLength = 4
        case 0x04: addressLength = 16
        case 0x03: addressLength = 1 + Int(b[4])
        default:
            throw ProxyHandshakeFailure(.malformedReply, "the proxy's reply to CONNECT has address type \(hexByte(b[3]))",
                                        socksReplyCode: b[1])
        }
        let total = 4 + addressLength + 2
        guard b.count >= total else { return nil }
        let address: ProxyTarget
        switch b[3] {
        case 0x01: address = .ipv4(Array(b[4..<8]))
        case 0x04: address = .ipv6(Array(b[4..<20]))
        default: address = .domain(ProxyTarget.printable(Array(b[5..<(5 + Int(b[4]))])))
        }
        let port = UInt16(b[total - 2]) << 8 | UInt16(b[total - 1])
        return (Reply(code: b[1], boundAddress: address, boundPort: port), total)
    }

    /// RFC 1928 6: the meaning of REP.
    public static func replyText(_ code: UInt8) -> String {
        switch code {
        case 0x00: return "succeeded"
        case 0x01: return "general SOCKS server failure"
        case 0x02: return "connection not allowed by ruleset"
        case 0x03: return "network unreachable"
        case 0x04: return "host unreachable"
        case 0x05: return "connection refused"
        case 0x06: return "TTL expired"
        case 0x07: return "command not supported"
        case 0x08: return "address type not supported"
        default: return "unassigned reply code"
        }
    }

    /// True for the reply codes after which another address of the same relay may succeed
    /// (RFC 5321 5.1: try the addresses in turn).
    public static func isAddressSpecific(_ code: UInt8) -> Bool {
        (0x03...0x06).contains(code)
    }
}

/// SOCKS protocol version 4 with the 4A extension: the proxy resolves the name.
public enum SOCKS4a {
    /// `VN=4 CD=1 DSTPORT DSTIP USERID NUL [HOSTNAME NUL]`: an IPv4 address goes as DSTIP; a
    /// name goes after the user id, with DSTIP 0.0.0.1 (the 4A convention).
    public static func connectRequest(target: ProxyTarget, port: UInt16, userID: [UInt8]) throws -> [UInt8] {
        guard !userID.contains(0), userID.count <= 255 else {
            throw ProxyHandshakeFailure(.invalidArgument, "a SOCKS4 user id must have no NUL and at most 255 octets")
        }
        var out: [UInt8] = [0x04, 0x01, UInt8(port >> 8), UInt8(port & 0xFF)]
        switch target {
        case .ipv4(let b):
            guard b.count == 4 else { throw ProxyHandshakeFailure(.invalidArgument, "an IPv4 address has 4 octets") }
            out += b + userID + [0]
        case .ipv6:
            throw ProxyHandshakeFailure(.invalidArgument, "SOCKS4a cannot connect to an IPv6 address; use socks5")
        case .domain(let name):
            try ProxyTarget.checkDomain(name)
            out += [0, 0, 0, 1] + userID + [0] + Array(name.utf8) + [0]
        }
        return out
    }

    /// The reply `VN CD DSTPORT DSTIP` (8 octets; VN is 0, 4 accepted); nil until complete.
    public static func parseReply(_ bytes: ArraySlice<UInt8>) throws -> (code: UInt8, consumed: Int)? {
        guard bytes.count >= 8 else { return nil }
        let start = bytes.startIndex
        guard bytes[start] == 0x00 || bytes[start] == 0x04 else {
            throw ProxyHandshakeFailure(.malformedReply, "the proxy does not speak SOCKS4 (reply version \(hexByte(bytes[start])))")
        }
        return (bytes[start + 1], 8)
    }

    /// The meaning of CD.
    public static func replyText(_ code: UInt8) -> String {
        switch code {
        case 90: return "request granted"
        case 91: return "request rejected or failed"
        case 92: return "rejected: the proxy cannot reach identd on the client"
        case 93: return "rejected: identd reports a different user id"
        default: return "unknown reply code"
        }
    }
}

/// An HTTP proxy's CONNECT method (RFC 9110 9.3.6), HTTP/1.1 framing (RFC 9112).
public enum HTTPConnect {
    /// The request, and its lines for the trace with the credentials as `<redacted>`:
    /// `CONNECT host:port HTTP/1.1`, `Host: host:port`, and with credentials
    /// `Proxy-Authorization: Basic base64(user:password)` (RFC 7617 2).
    public static func request(target: ProxyTarget, port: UInt16,
                               credentials: ProxyCredentials?) throws -> (bytes: [UInt8], trace: [String]) {
        if case .domain(let name) = target { try ProxyTarget.checkDomain(name) }
        let authority = target.authority(port: port)
        var lines = ["CONNECT \(authority) HTTP/1.1", "Host: \(authority)"]
        var trace = lines
        if let credentials {
            let user = credentials.username, password = credentials.password
            guard !user.contains(UInt8(ascii: ":")) else {
                throw ProxyHandshakeFailure(.invalidArgument, "an HTTP Basic user name cannot contain ':' (RFC 7617 2)")
            }
            guard !(user + password).contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                throw ProxyHandshakeFailure(.invalidArgument,
                                            "HTTP Basic credentials cannot contain control characters (RFC 7617 2)")
            }
            lines.append("Proxy-Authorization: Basic " + Base64.encode(user + [UInt8(ascii: ":")] + password))
            trace.append("Proxy-Authorization: Basic <redacted>")
        }
        return (Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8), trace)
    }

    /// A response: the status line and the header fields (no body is read).
    public struct Response: Hashable, Sendable {
        /// The status code (RFC 9110 15).
        public var status: Int
        /// The status line, verbatim (control characters replaced).
        public var statusLine: String
        /// The header fields, names as sent, in order; continuation lines unfolded.
        public var fields: [Field]

        /// One header field.
        public struct Field: Hashable, Sendable {
            /// The field name.
            public var name: String
            /// The value, without surrounding white space.
            public var value: String
        }

        /// The first value of the field `name` (compared case-insensitively).
        public func value(of name: String) -> String? {
            let wanted = name.lowercased()
            return fields.first { $0.name.lowercased() == wanted }?.value
        }
    }

    /// The incremental response parser: feed bytes as they come, split anywhere; `next()`
    /// returns the final response (interim 1xx responses are skipped, RFC 9110 15.2) and
    /// leaves what follows it in `remaining`. Lines may end in CRLF or, leniently, LF.
    public struct ResponseParser: Sendable {
        /// The largest response head accepted.
        public let maxHeadLength: Int
        private var buffer: [UInt8] = []
        private var searchFrom = 0

        /// Creates a parser.
        public init(maxHeadLength: Int = 16 * 1024) { self.maxHeadLength = maxHeadLength }

        /// Appends received bytes.
        public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
            buffer.append(contentsOf: bytes)
        }

        /// Bytes after the response (the start of the tunnel), once `next()` returned one.
        public var remaining: [UInt8] { buffer }

        /// The final response, nil while incomplete; throws when it does not parse.
        public mutating func next() throws -> Response? {
            while true {
                guard let end = headEnd() else {
                    searchFrom = max(0, buffer.count - 3)
                    if buffer.count > maxHeadLength {
                        throw ProxyHandshakeFailure(.malformedReply, "the proxy's response head is over \(maxHeadLength) octets")
                    }
                    return nil
                }
                let head = Array(buffer[0..<end.head])
                buffer.removeSubrange(0..<end.next)
                searchFrom = 0
                let response = try Self.parse(head)
                if (100...199).contains(response.status) { continue }
                return response
            }
        }

        /// The end of the head (the empty line): where the head's text stops and the rest starts.
        private func headEnd() -> (head: Int, next: Int)? {
            var i = searchFrom
            while i < buffer.count {
                if buffer[i] == 0x0A {
                    // An empty line is LF LF or LF CR LF.
                    if i + 1 < buffer.count, buffer[i + 1] == 0x0A { return (i, i + 2) }
                    if i + 2 < buffer.count, buffer[i + 1] == 0x0D, buffer[i + 2] == 0x0A { return (i, i + 3) }
                }
                i += 1
            }
            return nil
        }

        static func parse(_ head: [UInt8]) throws -> Response {
            var lines: [[UInt8]] = head.split(separator: 0x0A, omittingEmptySubsequences: false).map {
                var line = Array($0)
                if line.last == 0x0D { line.removeLast() }
                return line
            }
            let statusLine = lines.removeFirst()
            let text = ProxyTarget.printable(statusLine)
            // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 4)
            let prefix = Array("HTTP/".utf8)
            guard statusLine.count >= 12, Array(statusLine[0..<5]) == prefix,
                  isDigit(statusLine[5]), statusLine[6] == UInt8(ascii: "."), isDigit(statusLine[7]),
                  statusLine[8] == 0x20, isDigit(statusLine[9]), isDigit(statusLine[10]), isDigit(statusLine[11]),
                  statusLine.count == 12 || statusLine[12] == 0x20 else {
                throw ProxyHandshakeFailure(.malformedReply, "the proxy did not answer with an HTTP status line: \(text)")
            }
            let status = statusLine[9...11].reduce(0) { $0 * 10 + Int($1 - 0x30) }
            var fields: [Response.Field] = []
            for line in lines {
                if let first = line.first, first == 0x20 || first == 0x09 {
                    // obs-fold (RFC 9112 5.2): a continuation of the previous field.
                    guard !fields.isEmpty else {
                        throw ProxyHandshakeFailure(.malformedReply, "the proxy's response starts with a continuation line")
                    }
                    fields[fields.count - 1].value += " " + trim(ProxyTarget.printable(line))
                    continue
                }
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
                    throw ProxyHandshakeFailure(.malformedReply,
                                                "the proxy's response has a header line without a field name: \(ProxyTarget.printable(line))")
                }
                fields.append(Response.Field(name: ProxyTarget.printable(Array(line[..<colon])),
                                             value: trim(ProxyTarget.printable(Array(line[(colon + 1)...])))))
            }
            return Response(status: status, statusLine: text, fields: fields)
        }

        private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

        private static func trim(_ s: String) -> String {
            String(s.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
        }
    }
}

/// Two hex digits.
func hexByte(_ byte: UInt8) -> String { Hex.string(CollectionOfOne(byte)) }
