import XCTest
@testable import MailPolicy

/// `[[relay]]` `proxy`, `proxy_user`, `proxy_password_file`: typed values, or an error on
/// the key's line.
final class ProxyConfigTests: XCTestCase {
    func relay(_ keys: String) -> Result<SealmailConfig, ConfigErrors> {
        ConfigParser.parse("hostname = \"h.example.com\"\n\n[[relay]]\nhost = \"smtp.example.com\"\n\(keys)\n", path: "t.toml")
    }

    /// The diagnostics, as `line N: message`.
    func errors(_ keys: String) -> [String] {
        guard case .failure(let e) = relay(keys) else { return [] }
        return e.diagnostics.map(\.description)
    }

    func testSchemesHostsAndPorts() throws {
        let cases: [(String, RelayProxy)] = [
            ("socks5://127.0.0.1:1080", RelayProxy(scheme: .socks5, host: "127.0.0.1", port: 1080)),
            ("socks5h://proxy.example.com:9050/", RelayProxy(scheme: .socks5h, host: "proxy.example.com", port: 9050)),
            ("SOCKS4A://proxy", RelayProxy(scheme: .socks4a, host: "proxy", port: 1080)),
            ("http://[::1]:3128", RelayProxy(scheme: .http, host: "::1", port: 3128)),
            ("http://[2001:db8::7]", RelayProxy(scheme: .http, host: "2001:db8::7", port: 1080)),
        ]
        for (url, expected) in cases {
            let c = try relay("proxy = \"\(url)\"").get()
            XCTAssertEqual(c.relays[0].proxy, expected, url)
        }
        XCTAssertEqual(RelayProxy(scheme: .http, host: "::1", port: 3128).description, "http://[::1]:3128")
        XCTAssertNil(try relay("").get().relays[0].proxy)
    }

    func testCredentials() throws {
        let c = try relay("proxy = \"socks5://p:1080\"\nproxy_user = \"alice\"\nproxy_password_file = \"/etc/sealmail/proxy.secret\"").get()
        XCTAssertEqual(c.relays[0].proxyUser, "alice")
        XCTAssertEqual(c.relays[0].proxyPasswordFile, "/etc/sealmail/proxy.secret")
        XCTAssertEqual(try relay("proxy = \"socks4a://p:1080\"\nproxy_user = \"bob\"").get().relays[0].proxyUser, "bob")
    }

    /// Each bad value is one error, on the line of the key (line 5: the first key after host).
    func testMalformedURLsAreErrorsOnTheirLine() {
        let bad: [(String, String)] = [
            ("proxy.example.com:1080", "not a proxy URL such as \"socks5://proxy.example:1080\""),
            ("https://proxy:443", "unknown scheme \"https\"; use one of socks5 | socks5h | socks4a | http"),
            ("socks://proxy:1080", "unknown scheme \"socks\""),
            ("socks5://alice:pw@proxy:1080", "credentials do not go in the URL; use proxy_user and proxy_password_file"),
            ("http://proxy:3128/path", "a proxy URL has no path, query or fragment"),
            ("http://proxy:3128?x", "a proxy URL has no path, query or fragment"),
            ("socks5://proxy:0", "the port must be a number from 1 to 65535"),
            ("socks5://proxy:65536", "the port must be a number from 1 to 65535"),
            ("socks5://proxy:", "the port must be a number from 1 to 65535"),
            ("socks5://proxy:+80", "the port must be a number from 1 to 65535"),
            ("socks5://:1080", "\"\" is not a host name or address"),
            ("socks5://pro xy:1080", "\"pro xy\" is not a host name or address"),
            ("socks5://::1:1080", "write an IPv6 address in brackets"),
            ("socks5://[::1", "an IPv6 address without its closing \"]\""),
            ("socks5://[::1]x", "only \":PORT\" may follow \"]\""),
            ("socks5://[proxy]:1080", "\"[proxy]\" is not an IPv6 address"),
        ]
        for (url, message) in bad {
            let e = errors("proxy = \"\(url)\"")
            XCTAssertEqual(e.count, 1, "\(url): \(e)")
            XCTAssertTrue(e.first?.hasPrefix("line 5: proxy = \"\(RelayProxy.redacted(url))\": ") ?? false, "\(url): \(e)")
            XCTAssertTrue(e.first?.contains(message) ?? false, "\(url): \(e)")
        }
        XCTAssertEqual(errors("proxy = \"socks5://alice:pw@proxy:1080\"").first?.contains("pw"), false, "no password in messages")
        XCTAssertEqual(RelayProxy.redacted("http://a:b@c@proxy:1"), "http://<redacted>@proxy:1")
        XCTAssertEqual(errors("proxy = 1080"), ["line 5: proxy must be a string"])
        XCTAssertEqual(errors("proxi = \"socks5://p\""), ["line 5: unknown key \"proxi\" in [relay]"])
    }

    func testCredentialRules() {
        XCTAssertEqual(errors("proxy = \"socks5://p\"\nproxy_password_file = \"/s\""),
                       ["line 6: proxy_password_file = \"/s\" needs proxy_user"])
        XCTAssertEqual(errors("proxy_user = \"alice\"\nproxy_password_file = \"/s\""),
                       ["line 5: proxy_user without proxy", "line 6: proxy_password_file without proxy"])
        XCTAssertEqual(errors("proxy = \"socks5://p\"\nproxy_user = \"alice\""), ["line 6: proxy_user needs proxy_password_file"])
        XCTAssertEqual(errors("proxy = \"http://p\"\nproxy_user = \"alice\""), ["line 6: proxy_user needs proxy_password_file"])
        XCTAssertEqual(errors("proxy = \"http://p\"\nproxy_user = \"a:b\"\nproxy_password_file = \"/s\""),
                       ["line 6: proxy_user must be non-empty and without ':' (HTTP Basic, RFC 7617)"])
        XCTAssertEqual(errors("proxy = \"socks5h://p\"\nproxy_user = \"\(String(repeating: "u", count: 256))\"\nproxy_password_file = \"/s\""),
                       ["line 6: proxy_user must be 1 to 255 octets (RFC 1929)"])
        XCTAssertEqual(errors("proxy = \"socks5://p\"\nproxy_user = \"a\\tb\"\nproxy_password_file = \"/s\""),
                       ["line 6: proxy_user must not contain control characters"])
        XCTAssertEqual(errors("proxy = \"socks4a://p\"\nproxy_user = \"bob\"\nproxy_password_file = \"/s\""),
                       ["line 7: socks4a sends a user id and no password; use socks5 for a password"])
    }
}
