import Foundation
import XCTest
import PeerTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Base class of the S/MIME policy's end-to-end tests: the built `sealmail` submits and
/// delivers through a real SMTP relay (aiosmtpd, `CaptureRelay`), and what arrived is judged
/// by `openssl cms` and `gpgsm`. Each subclass gets its own relay and throwaway PKI, made in
/// class setUp and removed in class tearDown; a test is skipped (with the reason) only when a
/// peer is truly missing.
class PolicyTestCase: SealmailTestCase {
    private static var relays: [String: CaptureRelay] = [:]
    private static var pkis: [String: PolicyPKI] = [:]
    private static var unavailable: [String: String] = [:]
    private static var setupErrors: [String: Error] = [:]

    private static var key: String { String(describing: self) }

    override class func setUp() {
        super.setUp()
        do {
            try Peers.requireProgram("openssl", ["version"], package: "openssl")
            pkis[key] = try PolicyPKI()
            relays[key] = try CaptureRelay()
            try classSetUp()
        } catch let e as PeerUnavailable {
            unavailable[key] = e.description
        } catch {
            setupErrors[key] = error
        }
    }

    override class func tearDown() {
        classTearDown()
        relays.removeValue(forKey: key)?.stop()
        pkis.removeValue(forKey: key)?.remove()
        super.tearDown()
    }

    /// What a subclass adds to the class set-up (a throwaway user) and removes again.
    class func classSetUp() throws {}
    class func classTearDown() {}

    var pki: PolicyPKI { Self.pkis[Self.key]! }
    var relay: CaptureRelay { Self.relays[Self.key]! }
    var openssl: OpenSSLChecks { OpenSSLChecks(dir: dir, ca: pki.caCert) }

    static let sender = "sender@example.com"
    static func partner(_ name: String) -> String { "\(name)@partner.example" }

    override func setUpWithError() throws {
        if let reason = Self.unavailable[Self.key] { throw XCTSkip(reason) }
        if let error = Self.setupErrors[Self.key] { throw error }
        try super.setUpWithError()
        relay.clear()
    }

    // MARK: config

    /// The relay (plain SMTP on 127.0.0.1) and the `[smime]` table with the throwaway store
    /// (and `smime`, more of its keys; `trust_anchors` only when `anchors`).
    func relayAndStore(cipher: String? = nil, smime: String = "", anchors: Bool = true) -> String {
        """

        [[relay]]
        host = "127.0.0.1"
        port = \(relay.port)
        tls = "none"
        connect_timeout = 10
        command_timeout = 10
        data_timeout = 20

        [smime]
        certificates = "\(pki.certificates)"
        \(anchors ? "trust_anchors = \"\(pki.caCert)\"" : "")
        \(cipher.map { "cipher = \"\($0)\"" } ?? "")
        \(smime)
        """
    }

    /// A `[[smime.sign]]` rule for `*@example.com` with the sender's key (or another one).
    func signRule(users: [String] = ["root"], unauthorised: String = "refuse",
                  certificate: String? = nil, key: String? = nil) -> String {
        """

        [[smime.sign]]
        from = ["*@example.com"]
        certificate = "\(certificate ?? pki.cert("sender"))"
        key = "\(key ?? pki.key("sender"))"
        users = [\(users.map { "\"\($0)\"" }.joined(separator: ", "))]
        unauthorised = "\(unauthorised)"
        """
    }

    /// `[[smime.encrypt]]` rules, in order: (patterns, mode).
    func encryptRules(_ rules: [([String], String)]) -> String {
        rules.map { to, mode in
            "\n[[smime.encrypt]]\nto = [\(to.map { "\"\($0)\"" }.joined(separator: ", "))]\nmode = \"\(mode)\"\n"
        }.joined()
    }

    /// Writes the config: `top` (top-level keys and tables such as [senders]) first, then the
    /// relay and store, then `rules`.
    func writePolicy(top: String = "", rules: String, cipher: String? = nil, smime: String = "", anchors: Bool = true) throws {
        try writeConfig(extra: top + relayAndStore(cipher: cipher, smime: smime, anchors: anchors) + rules)
    }

    // MARK: messages

    /// A body with a line starting `From ` and trailing white space, which the signing side
    /// must protect with quoted-printable (RFC 8551 3.1.4); `marker` survives that unchanged.
    static let body = "Quarterly figures attached.\nFrom the start, trailing space here \nand a last line.\n"
    static let marker = "Quarterly figures attached."

    /// A message from `sender@example.com` with these visible and hidden recipients.
    func message(to: [String], bcc: [String] = [], from: String = sender, subject: String = "policy e2e") -> String {
        var text = "From: Sender <\(from)>\nTo: \(to.joined(separator: ", "))\n"
        if !bcc.isEmpty { text += "Bcc: \(bcc.joined(separator: ", "))\n" }
        return text + "Subject: \(subject)\n\n" + Self.body
    }

    // MARK: checks

    /// `sealmail -odi -t`: exit 0, and every copy delivered (nothing stays queued).
    @discardableResult
    func deliver(_ input: String, file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
        let r = try sealmail(["-odi", "-t", "-i", "-f", Self.sender], input: input)
        XCTAssertEqual(r.status, 0, "stderr: \(r.stderrText)", file: file, line: line)
        XCTAssertEqual(queuedIDs, [], "-odi delivered every copy: nothing stays queued", file: file, line: line)
        return r
    }

    /// The captured copy whose envelope recipients are exactly `rcpts` (in any order).
    func copy(for rcpts: [String], in messages: [CapturedMessage], file: StaticString = #filePath, line: UInt = #line) throws -> CapturedMessage {
        let matching = messages.filter { Set($0.rcptTos) == Set(rcpts) && $0.rcptTos.count == rcpts.count }
        guard matching.count == 1 else {
            XCTFail("expected one copy for \(rcpts), found \(matching.count); copies: \(messages.map(\.rcptTos))", file: file, line: line)
            throw HarnessError("no copy for \(rcpts)")
        }
        return matching[0]
    }

    /// The sysexits status and stderr lines of a refusal; asserts nothing was queued or sent.
    func assertRefusedAndNothingSent(_ r: RunResult, status: Int32, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(r.status, status, "stderr: \(r.stderrText)", file: file, line: line)
        assertNothingQueued(file: file, line: line)
        XCTAssertEqual(try relay.messages().count, 0, "nothing may reach the relay", file: file, line: line)
    }

    /// The stderr lines that name `address` (as `<address>`).
    func lines(naming address: String, in r: RunResult) -> [String] {
        r.stderrText.split(separator: "\n").map(String.init).filter { $0.contains("<\(address)>") }
    }

    /// gpgsm trusting the throwaway CA, at the real time; skips without gpgsm.
    func gpgsm() throws -> GpgSM {
        do { return try GpgSM(trusting: pki.caCert) } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
    }

    /// An NSS database trusting the throwaway CA, with the keys of `names` imported under
    /// their names; skips without the NSS tools.
    func nss(keys names: [String] = []) throws -> NSS {
        do {
            let nss = try NSS(trusting: pki.caCert)
            for name in names { try nss.importKey(cert: pki.cert(name), key: pki.key(name), nickname: name) }
            return nss
        } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
    }

    /// Bouncy Castle (Tests/peers/BCPeer.java); skips without Java or its jars.
    func bouncyCastle() throws -> BouncyCastle {
        do { return try BouncyCastle() } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
    }
}
