import Foundation
import SMTPTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// sealmail and `sealctl config check` refuse (exit 78) a config, a secret or a
/// password_command program that someone other than the trusted owner could have written
/// (issue 11, items 9 and 10), before anything runs or is queued. The password_command
/// leaves a side-effect file when it runs: its absence proves it did not. The relay is a
/// scripted server offering AUTH PLAIN, so a trusted config does run the command (the
/// control case). Tests that give a file to another user need root and are skipped otherwise.
final class TrustedFilesTests: SealmailTestCase {
    var server: ScriptedSMTPServer!
    var pwned: String { dir + "/pwned" }
    static let nobody: uid_t = getpwnam("nobody").map { $0.pointee.pw_uid } ?? 65534
    let message = "To: rcpt@example.org\nSubject: trust\n\nhello\n"

    override func setUpWithError() throws {
        try super.setUpWithError()
        server = try ScriptedSMTPServer(script: .init(ehloReply: "250-scripted.test\n250-AUTH PLAIN\n250 8BITMIME"))
    }

    override func tearDownWithError() throws {
        server?.stop()
        try super.tearDownWithError()
    }

    /// A config with a relay that authenticates with `secret` (a `password_file = ...` or
    /// `password_command = ...` line), mode 0600.
    func writeRelayConfig(_ secret: String) throws {
        try writeConfig(extra: """
        [[relay]]
        host = "127.0.0.1"
        port = \(server.port)
        tls = "none"
        auth = "plain"
        allow_plaintext_auth = true
        user = "u"
        \(secret)
        """)
        chmod(configPath, 0o600)
    }

    /// The command of the brief (`id > pwned`), printing a password as well.
    var pwnCommand: String { "password_command = \"sh -c 'id > \(pwned); echo pw'\"" }

    func requireRoot() throws {
        if getuid() != 0 { throw XCTSkip("needs root (chown to another user)") }
    }

    func assertRefused(_ r: RunResult, naming path: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 78, r.stderrText, file: file, line: line)
        XCTAssertTrue(r.stderrText.contains(path), "the message names \(path): \(r.stderrText)", file: file, line: line)
        XCTAssertTrue(r.stderrText.contains(reason), "the message says \(reason): \(r.stderrText)", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pwned), "the password_command ran", file: file, line: line)
        XCTAssertEqual(server.messages.count, 0, "nothing reached the relay", file: file, line: line)
        assertNothingQueued(file: file, line: line)
    }

    /// The control: a config only its owner can write runs the command and delivers.
    func testATrustedConfigRunsItsPasswordCommand() throws {
        try writeRelayConfig(pwnCommand)
        let r = try sealmail(["-odi", "-t"], input: message)
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertTrue(FileManager.default.fileExists(atPath: pwned))
        XCTAssertEqual(server.messages.count, 1)
    }

    func testAConfigOwnedByAnotherUserIsRefusedAndItsCommandNeverRuns() throws {
        try requireRoot()
        try writeRelayConfig(pwnCommand)
        XCTAssertEqual(chown(configPath, Self.nobody, gid_t(Self.nobody)), 0)
        let r = try sealmail(["-odi", "-t"], input: message)
        assertRefused(r, naming: configPath, "owned by uid \(Self.nobody) (nobody), not by root")
        let check = try sealctl(["config", "check"])
        XCTAssertEqual(check.status, 78, check.stderrText)
        XCTAssertTrue(check.stderrText.contains("config \(configPath): it is owned by uid \(Self.nobody)"), check.stderrText)
    }

    func testAConfigWritableByOthersIsRefusedAndItsCommandNeverRuns() throws {
        try writeRelayConfig(pwnCommand)
        chmod(configPath, 0o666)
        let r = try sealmail(["-odi", "-t"], input: message)
        assertRefused(r, naming: configPath, "writable by group or others (mode 0666)")
    }

    /// A link to a config owned by another user: judged by its target.
    func testALinkToAConfigOwnedByAnotherUserIsRefused() throws {
        try requireRoot()
        try writeRelayConfig(pwnCommand)
        XCTAssertEqual(chown(configPath, Self.nobody, gid_t(Self.nobody)), 0)
        let link = dir + "/link.toml"
        XCTAssertEqual(symlink(configPath, link), 0)
        let child = try Child(Binaries.sealmail, ["-C", link, "-odi", "-t"], environment: childEnvironment(), outputDir: dir)
        child.write(Array(message.utf8))
        assertRefused(child.wait(), naming: link, "its target \(configPath) is owned by uid \(Self.nobody)")
    }

    /// Item 10: the password file `config check` refused was used by sealmail. Now both
    /// refuse it with the same words, and both accept it once it is private.
    func testAPasswordFileReadableByOthersIsRefusedBySealmailAndConfigCheck() throws {
        let secret = dir + "/relay.secret"
        try writeText(secret, "pw\n")
        chmod(secret, 0o644)
        try writeRelayConfig("password_file = \"\(secret)\"")
        let r = try sealmail(["-odi", "-t"], input: message)
        assertRefused(r, naming: secret, "readable by others (mode 0644)")
        let check = try sealctl(["config", "check"])
        XCTAssertEqual(check.status, 78, check.stderrText)
        let line = "password_file \(secret): it is readable by others (mode 0644): refused (chmod o-rwx)"
        XCTAssertTrue(check.stderrText.contains(line), check.stderrText)
        XCTAssertTrue(r.stderrText.contains(line), r.stderrText)

        chmod(secret, 0o640)
        XCTAssertEqual(try sealctl(["config", "check"]).status, 0)
        let sent = try sealmail(["-odi", "-t"], input: message)
        XCTAssertEqual(sent.status, 0, sent.stderrText)
        XCTAssertEqual(server.messages.count, 1)
    }

    /// A password_command program in a folder anyone may write to (it could be replaced).
    func testAPasswordCommandProgramInAnOpenFolderIsRefused() throws {
        let bin = dir + "/bin"
        mkdir(bin, 0o755)
        let tool = bin + "/pwtool"
        try writeText(tool, "#!/bin/sh\nid > \(pwned)\necho pw\n")
        chmod(tool, 0o755)
        chmod(bin, 0o777)
        try writeRelayConfig("password_command = \"\(tool)\"")
        let r = try sealmail(["-odi", "-t"], input: message)
        assertRefused(r, naming: tool, "the folder \(bin) above it is writable by group or others without the sticky bit")
        let check = try sealctl(["config", "check"])
        XCTAssertEqual(check.status, 78, check.stderrText)
        XCTAssertTrue(check.stderrText.contains("password_command \(tool): the folder \(bin)"), check.stderrText)
    }

    func testAPasswordCommandProgramOwnedByAnotherUserIsRefused() throws {
        try requireRoot()
        let tool = dir + "/pwtool"
        try writeText(tool, "#!/bin/sh\nid > \(pwned)\necho pw\n")
        chmod(tool, 0o755)
        XCTAssertEqual(chown(tool, Self.nobody, gid_t(Self.nobody)), 0)
        try writeRelayConfig("password_command = \"\(tool) --account relay\"")
        let r = try sealmail(["-odi", "-t"], input: message)
        assertRefused(r, naming: tool, "owned by uid \(Self.nobody) (nobody), not by root")
    }
}
