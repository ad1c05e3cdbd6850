import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Who may sign and who may use which sender address, through the binary run as an ordinary
/// user (a throwaway account, via setpriv): a user not in a sign rule's `users` is refused
/// (exit 77) or sent unsigned, as `unauthorised` says; with a `[senders]` map a user may use
/// only their own envelope sender and From addresses (exit 77 otherwise), root any.
final class SenderAuthorisationTests: PolicyTestCase {
    private static var account: ThrowawayUser?

    override class func classSetUp() throws { account = try ThrowawayUser() }
    override class func classTearDown() { account?.remove(); account = nil }

    var account: ThrowawayUser { Self.account! }
    var own: String { "\(account.name)@example.com" }

    override func setUpWithError() throws {
        try super.setUpWithError()
        // What the set-group-ID install gives through the sealmail group, given here through
        // the user's own group: the config and store readable, the key readable by the group
        // only, the queue writable by the group.
        chmod(dir, 0o711)
        for sub in ["", "/tmp", "/messages", "/state"] {
            mkdir(queueDir + sub, 0o2770)
            chown(queueDir + sub, 0, account.gid)
            chmod(queueDir + sub, 0o2770)
        }
        chown(pki.key("sender"), 0, account.gid)
        chmod(pki.key("sender"), 0o640)
    }

    /// Writes the policy (readable by the user) with a sign rule for `users`.
    func writePolicy(users: [String], unauthorised: String = "refuse", senders: String = "") throws {
        try writePolicy(top: senders, rules: signRule(users: users, unauthorised: unauthorised)
                        + encryptRules([(["*"], "never")]))
        chmod(configPath, 0o644)
    }

    /// sealmail as the throwaway user.
    func sealmailAsUser(_ args: [String], input: String) throws -> RunResult {
        let child = try Child(account.prefix[0], Array(account.prefix.dropFirst()) + [Binaries.sealmail, "-C", configPath] + args,
                              environment: childEnvironment(), outputDir: dir)
        child.write(input)
        return child.wait()
    }

    func testUserNotInSignUsersIsRefusedWhenUnauthorisedIsRefuse() throws {
        try writePolicy(users: ["root"], unauthorised: "refuse")
        let r = try sealmailAsUser(["-odi", "-t", "-i"], input: message(to: [Self.partner("a")]))
        try assertRefusedAndNothingSent(r, status: 77)
        XCTAssertTrue(r.stderrText.contains("user \(account.name) may not have mail signed"), r.stderrText)
    }

    func testUserNotInSignUsersIsSentUnsignedWhenUnauthorisedIsUnsigned() throws {
        try writePolicy(users: ["root"], unauthorised: "unsigned")
        let r = try sealmailAsUser(["-odi", "-t", "-i"], input: message(to: [Self.partner("a")]))
        XCTAssertEqual(r.status, 0, r.stderrText)
        let copies = try relay.waitForMessages(1)
        XCTAssertEqual(copies.count, 1)
        XCTAssertEqual(copies.first?.rcptTos, [Self.partner("a")])
        XCTAssertFalse(copies.first?.text.contains("pkcs7") ?? true, "unsigned: \(copies.first?.headerText ?? "")")
        XCTAssertTrue(copies.first?.text.contains(Self.marker) ?? false)
        XCTAssertThrowsError(try openssl.verify(copies.first?.data ?? []))
    }

    /// A user listed through its group (`@group`) gets the key: signed, and openssl and gpgsm
    /// verify it.
    func testUserListedByGroupGetsMailSigned() throws {
        try writePolicy(users: ["@\(account.name)"])
        let r = try sealmailAsUser(["-odi", "-t", "-i"], input: message(to: [Self.partner("a")]))
        XCTAssertEqual(r.status, 0, r.stderrText)
        let copies = try relay.waitForMessages(1)
        XCTAssertEqual(copies.count, 1)
        let signed = try XCTUnwrap(copies.first)
        XCTAssertTrue(String(decoding: try openssl.verify(signed.data).content, as: UTF8.self).contains(Self.marker))
    }

    /// With `[senders]`, a From or an envelope sender that is not the user's is refused, each
    /// named; nothing is queued or sent.
    func testFromOrSenderThatIsNotTheUsersIsRefused() throws {
        try writePolicy(users: [account.name], senders: "[senders]\n\"\(account.name)\" = [\"\(own)\", \"alerts@example.com\"]\n")
        let notTheirs = "ceo@example.com"
        for (flagSender, from) in [("alerts@example.com", notTheirs), (notTheirs, "alerts@example.com")] {
            let r = try sealmailAsUser(["-odi", "-t", "-i", "-f", flagSender],
                                       input: message(to: [Self.partner("a")], from: from))
            try assertRefusedAndNothingSent(r, status: 77)
            XCTAssertEqual(lines(naming: notTheirs, in: r).count, 1, r.stderrText)
            XCTAssertTrue(lines(naming: notTheirs, in: r).first?.contains("may not use") ?? false, r.stderrText)
            XCTAssertEqual(lines(naming: "alerts@example.com", in: r), [], r.stderrText)
        }
    }

    /// An address the map allows goes, signed; root may use any address.
    func testAllowedSenderIsDeliveredAndSignedAndRootMayUseAny() throws {
        try writePolicy(users: [account.name, "root"], senders: "[senders]\n\"\(account.name)\" = [\"\(own)\", \"alerts@example.com\"]\n")
        let r = try sealmailAsUser(["-odi", "-t", "-i", "-f", "alerts@example.com"],
                                   input: message(to: [Self.partner("a")], from: "alerts@example.com"))
        XCTAssertEqual(r.status, 0, r.stderrText)
        let byRoot = try sealmail(["-odi", "-t", "-i", "-f", "ceo@example.com"],
                                  input: message(to: [Self.partner("c")], from: "ceo@example.com"))
        XCTAssertEqual(byRoot.status, 0, byRoot.stderrText)
        let copies = try relay.waitForMessages(2)
        XCTAssertEqual(copies.count, 2)
        let fromUser = try copy(for: [Self.partner("a")], in: copies)
        XCTAssertEqual(fromUser.mailFrom, "alerts@example.com")
        XCTAssertTrue(String(decoding: try openssl.verify(fromUser.data).content, as: UTF8.self).contains(Self.marker))
        XCTAssertEqual(try copy(for: [Self.partner("c")], in: copies).mailFrom, "ceo@example.com")
        XCTAssertEqual(queuedIDs, [])
    }

    /// A user's mailq lists their own messages; another's message is left out, even one the
    /// user may not read (neither an error nor its queue id on standard error).
    func testMailqAsUserShowsOnlyTheirOwn() throws {
        try writePolicy(users: ["*"], senders: "[senders]\n\(account.name) = [\"\(own)\"]\n")
        let mine = try sealmailAsUser(["-odq", "-f", own, "x@partner.example"], input: "From: \(own)\nSubject: mine\n\nhi\n")
        XCTAssertEqual(mine.status, 0, mine.stderrText)
        let rootOne = try sealmail(["-odq", "y@partner.example"], input: "Subject: root's\n\nhi\n")
        XCTAssertEqual(rootOne.status, 0, rootOne.stderrText)
        let ids = queuedIDs
        XCTAssertEqual(ids.count, 2)
        // Root's message unreadable by the user's group.
        let rootIDs = try ids.filter { try queued($0).sender != own }
        XCTAssertEqual(rootIDs.count, 1)
        chmod(messagesDir + "/" + rootIDs[0], 0o600)
        let list = try sealmailAsUser(["-bp"], input: "")
        XCTAssertEqual(list.status, 0, list.stderrText)
        XCTAssertTrue(list.stdoutText.contains(own), list.stdoutText)
        XCTAssertFalse(list.stdoutText.contains(rootIDs[0]), list.stdoutText)
        XCTAssertFalse(list.stderrText.contains(rootIDs[0]), "another's queue id: \(list.stderrText)")
        XCTAssertTrue(list.stdoutText.hasSuffix("in 1 Request.\n"), list.stdoutText)
    }
}
