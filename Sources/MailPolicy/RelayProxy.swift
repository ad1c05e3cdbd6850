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
        let h = host.firstIndex(of: ":") == nil ? host : "[\(host)]"
        return "\(scheme.rawValue)://\(h):\(port)"
    }

    /// Parses `SCHEME://HOST[:PORT][/]`; the error says what is wrong and how to write it.
    public static func parse(_ url: String) -> Result<RelayProxy, ConfigDiagnostic> {
        func bad(_ why: String) -> Result<RelayProxy, ConfigDiagnostic> {
            .failure(ConfigDiagnostic(line: nil, message: "proxy = \"\(redacted(url))\": \(why)"))
        }
        let schemes = Scheme.allCases.map(\.rawValue).joined(separator: " | ")
        guard let separator = url.firstRange(of: "://") else {
            return bad("not a proxy URL such as \"socks5://proxy.example:1080\" (schemes: \(schemes))")
        }
        let name = url[..<separator.lowerBound].lowercased()
        guard let scheme = Scheme(rawValue: name) else {
            return bad("unknown scheme \"\(name)\"; use one of \(schemes)")
        }
        var rest = url[separator.upperBound...]
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        if rest.firstIndex(of: "@") != nil {
            return bad("credentials do not go in the URL; use proxy_user and proxy_password_file")
        }
        if rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) != nil {
            return bad("a proxy URL has no path, query or fragment")
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return bad("an IPv6 address without its closing \"]\"") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return bad("only \":PORT\" may follow \"]\"") }
                portText = after.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                return bad("\"[\(host)]\" is not an IPv6 address")
            }
        } else {
            let colons = rest.filter { $0 == ":" }.count
            guard colons <= 1 else { return bad("write an IPv6 address in brackets: \"\(scheme.rawValue)://[::1]:1080\"") }
            if let colon = rest.firstIndex(of: ":") {
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            } else {
                host = rest
            }
            guard Reader.isHostName(String(host)) else { return bad("\"\(host)\" is not a host name or address") }
        }
        var port = 1080
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let n = Int(portText), (1...65535).contains(n) else {
                return bad("the port must be a number from 1 to 65535")
            }
            port = n
        }
        return .success(RelayProxy(scheme: scheme, host: String(host), port: port))
    }

    /// The URL for a message: what stands before an '@' after "://" (a password, perhaps)
    /// becomes `<redacted>`.
    static func redacted(_ url: String) -> String {
        guard let separator = url.firstRange(of: "://"), let at = url[separator.upperBound...].lastIndex(of: "@") else {
            return url
        }
        return String(url[..<separator.upperBound]) + "<redacted>" + String(url[at...])
    }
}
