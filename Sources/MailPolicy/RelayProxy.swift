import MailMessage

/// A `[[relay]]`'s `proxy`: the URL `SCHEME://HOST[:PORT]` (RFC 3986 syntax, curl's schemes),
/// as a typed value. Credentials are not part of it (`proxy_user`, `proxy_password_file`), so
/// the URL can be shown in messages and logs.
public struct RelayProxy: Equatable, Sendable, CustomStringConvertible {
    /// The protocol, and who resolves the relay's name.
    public enum Scheme: String, Sendable, CaseIterable {
        /// SOCKS5 (RFC 1928); the relay's name is resolved on this host.
        case socks5
        /// SOCKS5; the proxy resolves the relay's name (as curl's socks5h).
        case socks5h
        /// SOCKS4a: the proxy resolves the name; a user id, no password.
        case socks4a
        /// An HTTP proxy's CONNECT tunnel (RFC 9110 9.3.6).
        case http
    }

    /// The scheme.
    public var scheme: Scheme
    /// The proxy's host name or address (an IPv6 address without its brackets).
    public var host: String
    /// The proxy's port; 1080 when the URL has none (as curl).
    public var port: Int

    /// Creates a proxy description.
    public init(scheme: Scheme, host: String, port: Int = 1080) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// The URL, normalised: `socks5://proxy.example:1080`, `http://[::1]:3128`.
    public var description: String {
        let h = host.containsByte(UInt8(ascii: ":")) ? "[\(host)]" : host
        return "\(scheme.rawValue)://\(h):\(port)"
    }

    /// Parses `SCHEME://HOST[:PORT][/]`; the error says what is wrong and how to write it.
    /// Read as bytes: a delimiter next to a combining mark is one Character with it, and was
    /// not seen (an '@' so hidden kept a password out of the redaction of the message).
    public static func parse(_ url: String) -> Result<RelayProxy, ConfigDiagnostic> {
        func bad(_ why: String) -> Result<RelayProxy, ConfigDiagnostic> {
            .failure(ConfigDiagnostic(line: nil, message: "proxy = \"\(redacted(url))\": \(why)"))
        }
        func text(_ b: ArraySlice<UInt8>) -> String { String(decoding: b, as: UTF8.self) }
        let schemes = Scheme.allCases.map(\.rawValue).joined(separator: " | ")
        let u = Array(url.utf8)
        guard let separator = schemeSeparator(u) else {
            return bad("not a proxy URL such as \"socks5://proxy.example:1080\" (schemes: \(schemes))")
        }
        let name = text(u[..<separator]).asciiLowercased()
        guard let scheme = Scheme(rawValue: name) else {
            return bad("unknown scheme \"\(name)\"; use one of \(schemes)")
        }
        var rest = u[(separator + 3)...]
        if rest.last == UInt8(ascii: "/") { rest = rest.dropLast() }
        if rest.contains(UInt8(ascii: "@")) {
            return bad("credentials do not go in the URL; use proxy_user and proxy_password_file")
        }
        if rest.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            return bad("a proxy URL has no path, query or fragment")
        }
        var host: ArraySlice<UInt8>
        var portText: ArraySlice<UInt8>?
        if rest.first == UInt8(ascii: "[") {
            guard let close = rest.firstIndex(of: UInt8(ascii: "]")) else { return bad("an IPv6 address without its closing \"]\"") }
            host = rest[(rest.startIndex + 1)..<close]
            let after = rest[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { return bad("only \":PORT\" may follow \"]\"") }
                portText = after.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ Hex.value($0) != nil || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else {
                return bad("\"[\(text(host))]\" is not an IPv6 address")
            }
        } else {
            let colons = rest.filter { $0 == UInt8(ascii: ":") }.count
            guard colons <= 1 else { return bad("write an IPv6 address in brackets: \"\(scheme.rawValue)://[::1]:1080\"") }
            if let colon = rest.firstIndex(of: UInt8(ascii: ":")) {
                host = rest[..<colon]
                portText = rest[(colon + 1)...]
            } else {
                host = rest
            }
            guard Reader.isHostName(text(host)) else { return bad("\"\(text(host))\" is not a host name or address") }
        }
        var port = 1080
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let n = Int(text(portText)), (1...65535).contains(n) else {
                return bad("the port must be a number from 1 to 65535")
            }
            port = n
        }
        return .success(RelayProxy(scheme: scheme, host: text(host), port: port))
    }

    /// Where "://" starts in `u`.
    static func schemeSeparator(_ u: [UInt8]) -> Int? { u.firstRange(of: Array("://".utf8))?.lowerBound }

    /// The URL for a message: what stands before the last '@' after "://" (a password,
    /// perhaps) becomes `<redacted>`. The '@' is found as a byte, whatever follows it.
    static func redacted(_ url: String) -> String {
        let u = Array(url.utf8)
        guard let separator = schemeSeparator(u), let at = u[(separator + 3)...].lastIndex(of: UInt8(ascii: "@")) else {
            return url
        }
        return String(decoding: u[..<(separator + 3)], as: UTF8.self) + "<redacted>" + String(decoding: u[at...], as: UTF8.self)
    }
}
