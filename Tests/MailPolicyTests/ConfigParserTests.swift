import XCTest
@testable import MailPolicy

final class ConfigParserTests: XCTestCase {
    func parse(_ text: String) -> Result<SealmailConfig, ConfigErrors> { ConfigParser.parse(text, path: "t.toml") }

    func diagnostics(_ text: String) -> [String] {
        guard case .failure(let e) = parse(text) else { return [] }
        return e.diagnostics.map(\.description)
    }

    func testDesignExampleParses() throws {
        let text = """
        hostname = "host.example.com"      # EHLO name
        domain = "example.com"
        queue_dir = "/var/spool/sealmail"
        delivery = "background"
        aliases = "/etc/aliases"

        [[relay]]
        host = "smtp.example.com"
        port = 587
        tls = "starttls"
        tls_verify = true
        ca_file = "/etc/sealmail/relay-ca.pem"
        auth = "auto"
        user = "alerts@example.com"
        password_file = "/etc/sealmail/relay.secret"

        [smime]
        certificates = "/etc/sealmail/certs"
        digest = "sha256"
        cipher = "aes-256-cbc"

        [[smime.sign]]
        from = ["*@example.com"]
        certificate = "/etc/sealmail/keys/example.crt"
        key = "/etc/sealmail/keys/example.key"
        chain = "/etc/sealmail/keys/chain.pem"
        users = ["*"]

        [[smime.encrypt]]
        to = ["*@partner.example"]
        mode = "required"
        """
        let c = try parse(text).get()
        XCTAssertEqual(c.hostname, "host.example.com")
        XCTAssertEqual(c.delivery, .background)
        XCTAssertEqual(c.relays.count, 1)
        XCTAssertEqual(c.relays[0].port, 587)
        XCTAssertEqual(c.relays[0].tls, .starttls)
        XCTAssertEqual(c.relays[0].auth, .auto)
        XCTAssertEqual(c.relays[0].line, 7)
        XCTAssertEqual(c.smime.sign.first?.from, ["*@example.com"])
        XCTAssertEqual(c.smime.sign.first?.unauthorised, "refuse")
        XCTAssertEqual(c.smime.encrypt.first?.mode, .required)
    }

    func testEmptyConfigIsDefaults() throws {
        let c = try parse("").get()
        XCTAssertEqual(c.queueDir, "/var/spool/sealmail")
        XCTAssertEqual(c.delivery, .background)
        XCTAssertEqual(c.maxQueueLifetime, 5 * 86400)
    }

    func testUnknownKeysAreErrorsWithLines() {
        let d = diagnostics("""
        hostname = "h.example"
        colour = "blue"
        [[relay]]
        host = "a.example"
        prot = 25
        [[relay]]
        host = "b.example"
        tls = "maybe"
        [smime]
        digest = "sha256"
        [[smime.sign]]
        from = "*@x"
        certificate = "c"
        key = "k"
        userz = ["*"]
        """)
        XCTAssertEqual(d, [
            "line 2: unknown key \"colour\" at top level",
            "line 5: unknown key \"prot\" in [relay]",
            "line 8: tls = \"maybe\" is not one of none | starttls | tls",
            "line 15: unknown key \"userz\" in [smime.sign]",
        ])
    }

    /// A pattern that is not one would make its rule match nothing, silently: it is an error
    /// on the line of its key, in every place patterns go (sealmail then exits 78).
    func testBadPatternsAreErrorsOnTheirLine() {
        let d = diagnostics("""
        [senders]
        www-data = ["noreply@example.com", "a b@example.com"]
        [smime]
        [[smime.sign]]
        certificate = "/k.crt"
        key = "/k.key"
        users = ["*"]
        from = ["<x>@example.com"]
        [[smime.encrypt]]
        mode = "required"
        to = ["*@partner.example", "a@b@c"]
        """)
        XCTAssertEqual(d.count, 3, "\(d)")
        XCTAssertTrue(d.contains { $0.hasPrefix("line 2: www-data: \"a b@example.com\" is not a pattern") }, "\(d)")
        XCTAssertTrue(d.contains { $0.hasPrefix("line 8: from: \"<x>@example.com\" is not a pattern") }, "\(d)")
        XCTAssertTrue(d.contains { $0.hasPrefix("line 11: to: \"a@b@c\" is not a pattern") }, "\(d)")
    }

    /// A digest or cipher the engine does not offer is an error on its line when the config
    /// is read (so every message is refused until it is fixed, not only signed ones), in
    /// [smime] and in the rules; the engine's spellings pass.
    func testUnknownDigestsAndCiphersAreErrorsOnTheirLine() throws {
        let d = diagnostics("""
        [smime]
        digest = "md4"
        cipher = "rot13"
        [[smime.sign]]
        from = "*@example.com"
        certificate = "/k.crt"
        key = "/k.key"
        digest = "sha1"
        [[smime.encrypt]]
        to = "*@partner.example"
        mode = "required"
        cipher = "des-ede3-cbc"
        """)
        XCTAssertEqual(d, ["line 2: digest = \"md4\" is not one of sha256 | sha384 | sha512",
                           "line 3: cipher = \"rot13\" is not one of aes-256-cbc | aes-128-cbc | aes-256-gcm | aes-128-gcm",
                           "line 8: digest = \"sha1\" is not one of sha256 | sha384 | sha512",
                           "line 12: cipher = \"des-ede3-cbc\" is not one of aes-256-cbc | aes-128-cbc | aes-256-gcm | aes-128-gcm"])
        let good = try parse("[smime]\ndigest = \"SHA-384\"\ncipher = \"AES-128-GCM\"").get()
        XCTAssertEqual(good.smime.digest, "SHA-384")
        XCTAssertEqual(good.smime.cipher, "AES-128-GCM")
    }

    func testTypeErrorsAndSyntaxErrors() {
        XCTAssertEqual(diagnostics("hostname = 5"), ["line 1: hostname must be a string"])
        XCTAssertEqual(diagnostics("delivery = \"later\""), ["line 1: delivery = \"later\" is not one of background | interactive | queue"])
        XCTAssertEqual(diagnostics("queue_dir = \"relative\""), ["line 1: queue_dir must be an absolute path"])
        XCTAssertEqual(diagnostics("[[relay]]\nhost = \"a\"\nport = 70000"), ["line 3: port = 70000 is out of range 1...65535"])
        XCTAssertEqual(diagnostics("hostname = \"bad host\""), ["line 1: hostname = \"bad host\" is not a host name"])
        let syntax = diagnostics("a = [\nb = 1")
        XCTAssertEqual(syntax.count, 1)
        XCTAssertTrue(syntax[0].contains("TOML syntax"), syntax[0])
        XCTAssertTrue(diagnostics("[[smime.encrypt]]\nto = \"*@x\"\nmode = \"sometimes\"")[0].contains("never | opportunistic | required"))
    }

    func testRelayDefaultsAndConsistency() throws {
        let c = try parse("[[relay]]\nhost = \"a\"\ntls = \"tls\"\n[[relay]]\nhost = \"b\"\ntls = \"none\"").get()
        XCTAssertEqual(c.relays.map(\.port), [465, 25])
        XCTAssertEqual(c.relays.map(\.auth), [.none, .none])
        XCTAssertTrue(c.relays[0].tlsVerify)
        XCTAssertFalse(c.relays[0].allowPlaintextAuth)
        XCTAssertEqual(diagnostics("[[relay]]\nhost = \"a\"\nauth = \"plain\""), ["line 3: auth = \"plain\" needs user"])
        XCTAssertEqual(diagnostics("[[relay]]\nhost = \"a\"\nuser = \"u\"\npassword_file = \"f\"\npassword_command = \"c\"").count, 1)
    }

    /// Found by Tests/Fuzz (fuzz-config): toml++ 3.4.0 (inside TOMLKit) aborted the process on
    /// these (an assertion), and a NUL cut the config short where TOMLKit passes it on as a C
    /// string (the relay after it was silently dropped). Each must be a diagnostic with its line.
    func testMalformedTOMLThatAbortedTomlPlusPlusIsADiagnostic() {
        let cases: [(String, String)] = [
            ("domain = \"example.org\"\n[[[relay]]]\nhost = \"a\"", "line 2: TOML syntax: a table header must start with a name"),
            ("[\u{8}", "line 1: TOML syntax: control character 0x08"),
            ("[\n", "line 1: TOML syntax: a table header must start with a name"),
            ("[ {x = 1}]", "line 1: TOML syntax: a table header must start with a name"),
            ("trusted = [\n  \"root\",\n  }", "line 3: TOML syntax: an array element cannot start with '}'"),
            ("a = [}", "line 1: TOML syntax: an array element cannot start with '}'"),
            ("trusted = [\u{a0}\"root\"]", "line 1: TOML syntax: an array element cannot start with a non-ASCII character"),
            ("hostname = \"h.example\"\u{0}\n[[relay]]\nhost = \"a\"", "line 1: TOML syntax: control character 0x00"),
        ]
        for (text, expected) in cases {
            let d = diagnostics(text)
            XCTAssertEqual(d.count, 1, "\(text.debugDescription): \(d)")
            XCTAssertTrue(d.first?.hasPrefix(expected) == true, "\(text.debugDescription): \(d)")
        }
    }

    /// Unquoted values that are not TOML values are refused before toml++ sees them: one sent
    /// its date look-ahead past an assertion (found by fuzz-config's long run: sealmail and
    /// sealctl aborted, exit 134, instead of 78), and the common mistake of an unquoted string
    /// gets a plain message.
    func testUnquotedValuesThatAreNotTOMLValuesAreADiagnostic() {
        let cases: [(String, String)] = [
            ("dccomm =1--a-ap-ir 1,--api ", "line 1: TOML syntax: 1--a-ap-ir is not a TOML value"),
            ("a = [1, 1--a-ap-ir 1]", "line 1: TOML syntax: 1--a-ap-ir is not a TOML value"),
            ("domain = \"example.org\"\nhostname = mail.example.org", "line 2: TOML syntax: mail.example.org is not a TOML value (a string needs quotes)"),
            ("port = 25x", "line 1: TOML syntax: 25x is not a TOML value"),
            ("x = 1__0", "line 1: TOML syntax: 1__0 is not a TOML value"),
            ("x = 01", "line 1: TOML syntax: 01 is not a TOML value"),
            ("x = {a = yes}", "line 1: TOML syntax: yes is not a TOML value"),
            ("x = [\n  true,\n  maybe\n]", "line 3: TOML syntax: maybe is not a TOML value"),
        ]
        for (text, expected) in cases {
            let d = diagnostics(text)
            XCTAssertEqual(d.count, 1, "\(text.debugDescription): \(d)")
            XCTAssertTrue(d.first?.hasPrefix(expected) == true, "\(text.debugDescription): \(d)")
        }
    }

    /// Every form of TOML 1.0 value passes the check, and toml++ reads each (no syntax error).
    func testEveryTOMLValueFormPassesThePrecheck() {
        let values = ["true", "false", "0", "+17", "-5", "1_000", "0xDEAD_beef", "0o755", "0b1010", "3.14", "-0.5e+10",
                      "1e06", "6.626e-34", "224_617.445_991", "inf", "+inf", "-nan", "nan",
                      "1979-05-27T07:32:00Z", "1979-05-27T00:32:00.999999-07:00", "1979-05-27 07:32:00+01:00",
                      "1979-05-27t07:32:00z", "1979-05-27T07:32:00", "1979-05-27 07:32:00.5", "1979-05-27", "07:32:00",
                      "00:32:00.999999", "[1, 2.5, true, 1979-05-27]", "{ k = false, d = 1979-05-27 07:32:00 }", "[]"]
        for value in values {
            let text = "x = \(value)\ny = [ \(value) , \(value) ] # c\n"
            XCTAssertNil(TOMLPrecheck.problem(in: text), value)
            XCTAssertFalse(diagnostics(text).contains { $0.contains("TOML syntax") }, "\(value): \(diagnostics(text))")
        }
    }

    /// The check before toml++ knows arrays, strings, comments and headers well enough to pass
    /// valid TOML that looks like the cases above.
    func testValidTOMLPassesThePrecheck() throws {
        let text = #"""
        trusted = [  # comment [ }
          "root", # a ] in a comment
          'www-data',
          """multi
        [not a header] }
        """", ''' also ''' ,
        ]
        mailq_users = [[ "nested" ]]
        [ senders ]
        "www-data" = ["*@example.com", "\"[}\""]
        [["relay"]]
        host = "a.example"
        """#
        XCTAssertNil(TOMLPrecheck.problem(in: "\u{FEFF}" + text))
        let d = diagnostics(text)
        XCTAssertFalse(d.contains { $0.contains("table header") || $0.contains("array element") || $0.contains("control") }, "\(d)")
        XCTAssertNil(TOMLPrecheck.problem(in: "[[relay]]\nhost = 'a'\n[smime]\n[[smime.sign]]\nfrom = [\n]\n"))
        XCTAssertEqual(try parse("trusted = [\n  # none yet\n]\n").get().trusted, [])
    }

    func testDurations() {
        XCTAssertEqual(Duration.parse("5d"), 432000)
        XCTAssertEqual(Duration.parse("1h30m"), 5400)
        XCTAssertEqual(Duration.parse("90"), 90)
        XCTAssertNil(Duration.parse("5x"))
        XCTAssertNil(Duration.parse("h"))
    }

    /// `interactive_timeout` (top level) and `delivery_timeout` (per relay): defaults,
    /// durations, and errors on their line.
    func testOverallTimeLimits() throws {
        let defaults = try parse("[[relay]]\nhost = \"a\"").get()
        XCTAssertEqual(defaults.interactiveTimeout, 60)
        XCTAssertEqual(defaults.relays[0].deliveryTimeout, 1800)
        let set = try parse("interactive_timeout = \"2m\"\n[[relay]]\nhost = \"a\"\ndelivery_timeout = 600").get()
        XCTAssertEqual(set.interactiveTimeout, 120)
        XCTAssertEqual(set.relays[0].deliveryTimeout, 600)
        XCTAssertEqual(diagnostics("interactive_timeout = 0"),
                       ["line 1: interactive_timeout must be a duration such as 3600, \"30m\" or \"5d\""])
        XCTAssertEqual(diagnostics("[[relay]]\nhost = \"a\"\ndelivery_timeout = \"2d\""),
                       ["line 3: delivery_timeout = 172800 seconds is more than the maximum of 86400"])
        XCTAssertEqual(diagnostics("delivery_timeout = 5"), ["line 1: unknown key \"delivery_timeout\" at top level"])
    }
}
