import XCTest
@testable import MailPolicy
@testable import SendmailKit
#if canImport(Glibc)
import Glibc
#endif

/// The rule by which sealmail trusts a file (issue 11, items 9 and 10), on real files in a
/// fresh folder under /tmp: owner, group and other write bits, other read bits for secrets,
/// the folders above, symbolic links, and the program of a password_command. Tests that
/// give a file to another user (chown) need root and are skipped otherwise.
final class FileTrustTests: XCTestCase {
    var dir = ""
    /// Root and the user running the tests (the files made here are theirs).
    var trust: FileTrust { FileTrust(owners: [getuid()]) }
    static let nobody: uid_t = getpwnam("nobody").map { $0.pointee.pw_uid } ?? 65534

    override func setUpWithError() throws {
        var template = Array("/tmp/sealmail-trust-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        dir = String(cString: made)
    }

    override func tearDownWithError() throws {
        if !dir.isEmpty { _ = try? FileManager.default.removeItem(atPath: dir) }
    }

    func file(_ name: String, mode: mode_t, _ text: String = "secret\n") throws -> String {
        let path = dir + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
        XCTAssertEqual(chmod(path, mode), 0)
        return path
    }

    func requireRoot() throws {
        if getuid() != 0 { throw XCTSkip("needs root (chown to another user)") }
    }

    func problem(_ r: Result<String, FileTrustProblem>, file: StaticString = #filePath, line: UInt = #line) -> String {
        if case .failure(let p) = r { return p.description }
        XCTFail("expected a refusal, got \(r)", file: file, line: line)
        return ""
    }

    func testOwnFilesWithSafeModesAreTrusted() throws {
        let config = try file("sealmail.toml", mode: 0o644)
        XCTAssertEqual(trust.resolve(config, what: "config", use: .file), .success(config))
        let secret = try file("relay.secret", mode: 0o640)
        XCTAssertEqual(trust.resolve(secret, what: "password_file", use: .secret), .success(secret))
    }

    func testAFileWritableByGroupOrOthersIsRefused() throws {
        for mode: mode_t in [0o666, 0o646, 0o664, 0o620] {
            let path = try file("c\(mode).toml", mode: mode)
            let text = problem(trust.resolve(path, what: "config", use: .file))
            XCTAssertTrue(text.hasPrefix("config \(path): "), text)
            XCTAssertTrue(text.contains("writable by group or others (mode 0\(String(mode, radix: 8)))"), text)
        }
    }

    /// Item 10: what `config check` refused, sealmail must refuse too: the same function.
    func testASecretReadableByOthersIsRefusedButAConfigIsNot() throws {
        let path = try file("relay.secret", mode: 0o644)
        XCTAssertEqual(trust.resolve(path, what: "config", use: .file), .success(path))
        let text = problem(trust.resolve(path, what: "password_file", use: .secret))
        XCTAssertTrue(text.contains("password_file \(path): it is readable by others (mode 0644)"), text)
    }

    func testAFileOwnedByAnotherUserIsRefused() throws {
        try requireRoot()
        let path = try file("sealmail.toml", mode: 0o644)
        XCTAssertEqual(chown(path, Self.nobody, gid_t(Self.nobody)), 0)
        let text = problem(FileTrust(owners: [0]).resolve(path, what: "config", use: .file))
        XCTAssertTrue(text.contains("it is owned by uid \(Self.nobody) (nobody), not by root"), text)
        // The same file when its owner is the one trusted (their own -C config).
        XCTAssertEqual(FileTrust(owners: [Self.nobody]).resolve(path, what: "config", use: .file), .success(path))
    }

    func testAFolderAboveWritableByOthersWithoutTheStickyBitIsRefused() throws {
        let sub = dir + "/open"
        XCTAssertEqual(mkdir(sub, 0o700), 0)
        XCTAssertEqual(chmod(sub, 0o777), 0)
        let path = sub + "/sealmail.toml"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("x = 1\n".utf8)))
        chmod(path, 0o600)
        let text = problem(trust.resolve(path, what: "config", use: .file))
        XCTAssertTrue(text.contains("the folder \(sub) above it is writable by group or others without the sticky bit (mode 0777)"), text)
        // With the sticky bit (as /tmp), others cannot replace the file: trusted.
        XCTAssertEqual(chmod(sub, 0o1777), 0)
        XCTAssertEqual(trust.resolve(path, what: "config", use: .file), .success(path))
        // A group-writable folder is refused as well.
        XCTAssertEqual(chmod(sub, 0o770), 0)
        XCTAssertTrue(problem(trust.resolve(path, what: "config", use: .file)).contains("mode 0770"))
    }

    /// The open folder is found however the names around its '/' combine: a name starting
    /// with a combining mark, or a folder name ending in a Prepend character, made the '/'
    /// part of another Character, and the folder was skipped (the review of 2026-12-06).
    func testTheFoldersAboveAreSplitAtEverySlash() throws {
        XCTAssertEqual(FileTrust.folders(above: "/srv/shared/\u{0301}keys/relay.pw"),
                       ["/srv/shared/\u{0301}keys", "/srv/shared", "/srv", "/"])
        XCTAssertEqual(FileTrust.folders(above: "/srv/shared\u{0600}/getpw"), ["/srv/shared\u{0600}", "/srv", "/"])
        let open = dir + "/open"
        XCTAssertEqual(mkdir(open, 0o700), 0)
        XCTAssertEqual(chmod(open, 0o777), 0)
        let keys = open + "/\u{0301}keys"
        XCTAssertEqual(mkdir(keys, 0o700), 0)
        let path = keys + "/relay.pw"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("pw\n".utf8)))
        chmod(path, 0o600)
        let text = problem(trust.resolve(path, what: "password_file", use: .secret))
        XCTAssertTrue(text.contains("the folder \(open) above it is writable by group or others"), text)
    }

    func testAFolderAboveOwnedByAnotherUserIsRefused() throws {
        try requireRoot()
        let sub = dir + "/theirs"
        XCTAssertEqual(mkdir(sub, 0o755), 0)
        let path = sub + "/relay.secret"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("pw\n".utf8)))
        chmod(path, 0o600)
        XCTAssertEqual(chown(sub, Self.nobody, gid_t(Self.nobody)), 0)
        let text = problem(FileTrust(owners: [0]).resolve(path, what: "password_file", use: .secret))
        XCTAssertTrue(text.contains("the folder \(sub) above it is owned by uid \(Self.nobody) (nobody), not by root"), text)
    }

    /// A link is judged by its target, and the target is what the caller reads.
    func testASymlinkIsJudgedByItsTarget() throws {
        let target = try file("real.secret", mode: 0o600)
        let link = dir + "/link.secret"
        XCTAssertEqual(symlink(target, link), 0)
        XCTAssertEqual(trust.resolve(link, what: "password_file", use: .secret), .success(target))
        chmod(target, 0o604)
        let text = problem(trust.resolve(link, what: "password_file", use: .secret))
        XCTAssertTrue(text.contains("password_file \(link): its target \(target) is readable by others"), text)
    }

    func testASymlinkToAFileOwnedByAnotherUserIsRefused() throws {
        try requireRoot()
        let target = try file("theirs.toml", mode: 0o644)
        XCTAssertEqual(chown(target, Self.nobody, gid_t(Self.nobody)), 0)
        let link = dir + "/sealmail.toml"
        XCTAssertEqual(symlink(target, link), 0)
        let text = problem(FileTrust(owners: [0]).resolve(link, what: "config", use: .file))
        XCTAssertTrue(text.contains("config \(link): its target \(target) is owned by uid \(Self.nobody) (nobody)"), text)
    }

    /// A missing file is left to the reader, which says why it cannot be opened.
    func testAMissingFileComesBackAsItIs() {
        XCTAssertEqual(trust.resolve(dir + "/none", what: "password_file", use: .secret), .success(dir + "/none"))
    }

    // MARK: password_command

    func testTheProgramIsFoundInPATHAndNamedByItsPath() throws {
        let bin = dir + "/bin"
        XCTAssertEqual(mkdir(bin, 0o755), 0)
        let tool = bin + "/pwtool"
        XCTAssertTrue(FileManager.default.createFile(atPath: tool, contents: Data("#!/bin/sh\necho pw\n".utf8)))
        chmod(tool, 0o755)
        XCTAssertEqual(trust.command("pwtool --account 'a b'", searchPath: "/nonexistent:\(bin):/usr/bin"),
                       .success("\(tool) --account 'a b'"))
        XCTAssertEqual(trust.command("  \(tool)", searchPath: "/usr/bin"), .success(tool))
        // Not in PATH; a relative path; shell syntax before the program.
        XCTAssertTrue(problem(trust.command("pwtool", searchPath: "/usr/bin")).contains("password_command pwtool: not found in PATH (/usr/bin)"))
        XCTAssertTrue(problem(trust.command("./bin/pwtool", searchPath: bin)).contains("give an absolute path"))
        XCTAssertTrue(problem(trust.command("A=1 pwtool", searchPath: bin)).contains("must begin with a program"))
        XCTAssertTrue(problem(trust.command("$(pwtool)", searchPath: bin)).contains("must begin with a program"))
        XCTAssertTrue(problem(trust.command("", searchPath: bin)).contains("must begin with a program"))
    }

    func testAProgramWritableByOthersOrInAnOpenFolderIsRefused() throws {
        let bin = dir + "/bin"
        XCTAssertEqual(mkdir(bin, 0o755), 0)
        let tool = bin + "/pwtool"
        XCTAssertTrue(FileManager.default.createFile(atPath: tool, contents: Data("#!/bin/sh\necho pw\n".utf8)))
        chmod(tool, 0o757)
        XCTAssertTrue(problem(trust.command("pwtool", searchPath: bin)).contains("password_command \(tool): it is writable by group or others (mode 0757)"))
        chmod(tool, 0o755)
        chmod(bin, 0o777)
        XCTAssertTrue(problem(trust.command(tool)).contains("the folder \(bin) above it is writable by group or others"))
    }

    func testAProgramOwnedByAnotherUserIsRefused() throws {
        try requireRoot()
        let tool = try file("pwtool", mode: 0o755, "#!/bin/sh\necho pw\n")
        XCTAssertEqual(chown(tool, Self.nobody, gid_t(Self.nobody)), 0)
        XCTAssertTrue(problem(FileTrust(owners: [0]).command(tool)).contains("it is owned by uid \(Self.nobody) (nobody), not by root"))
    }

    /// A link to the program in a folder others may change could be turned elsewhere after
    /// the check: the folders of the path it is run by count too.
    func testALinkToAProgramInAnOpenFolderIsRefused() throws {
        let open = dir + "/open"
        XCTAssertEqual(mkdir(open, 0o755), 0)
        chmod(open, 0o777)
        XCTAssertEqual(symlink("/usr/bin/id", open + "/id"), 0)
        XCTAssertTrue(problem(trust.command("id", searchPath: open)).contains("the folder \(open) above it is writable"))
    }

    func testTheProblemsOfAConfigNameEveryUntrustedFile() throws {
        let pw = try file("relay.secret", mode: 0o644)
        let proxyPw = try file("proxy.secret", mode: 0o600)
        let key = try file("sign.key", mode: 0o666)
        var relay = RelayConfig(host: "relay.example")
        relay.passwordFile = pw
        relay.proxyPasswordFile = proxyPw
        relay.line = 3
        var other = RelayConfig(host: "other.example")
        other.passwordCommand = "no-such-program-here"
        other.line = 9
        var config = SealmailConfig()
        config.relays = [relay, other]
        config.smime.sign = [SignRule(from: ["*"], certificate: "/nonexistent.crt", key: key, users: ["*"],
                                      unauthorised: "refuse", line: 12)]
        let problems = trust.problems(in: config)
        XCTAssertEqual(problems.map(\.what), ["password_file", "password_command", "key"])
        XCTAssertEqual(problems.map(\.line), [3, 9, 12])
        let all = UntrustedFiles(configPath: "/etc/x.toml", problems: problems).description
        XCTAssertTrue(all.hasPrefix("/etc/x.toml: line 3: password_file \(pw): it is readable by others"), all)
        XCTAssertEqual(ExitCodes.code(for: UntrustedFiles(configPath: nil, problems: problems)), .config)
    }

    /// Owners are kept in order without repeats, root always among them (an array since the
    /// Set went for start-up; messages list them in this order).
    func testOwnersAreSortedUniqueWithRoot() {
        XCTAssertEqual(FileTrust(owners: [1000, 5, 1000]).owners, [0, 5, 1000])
        XCTAssertEqual(FileTrust(owners: [0, 0]).owners, [0])
        XCTAssertEqual(FileTrust(owners: []).owners, [0])
        XCTAssertEqual(FileTrust(owners: [7, 0]), FileTrust(owners: [0, 7]))
    }

    /// Root's own runs, and the default config of the set-group-ID binary, trust root only.
    func testRootTrustsOnlyRoot() throws {
        try requireRoot()
        XCTAssertEqual(FileTrust.forRun(configChosenByCaller: true).owners, [0])
        XCTAssertEqual(FileTrust.forRun(configChosenByCaller: false).owners, [0])
    }
}
