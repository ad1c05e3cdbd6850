import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Base class of the integration tests: each test gets its own temporary folder with a config
/// file and a queue folder, runs the built `sealmail`/`sealctl` as child processes with stdin
/// piped, and reads the queue files they leave. Everything is removed in tearDown.
class SealmailTestCase: XCTestCase {
    /// The test's own folder (config, queue, child output files).
    var dir = ""
    var queueDir: String { dir + "/q" }
    var configPath: String { dir + "/sealmail.toml" }
    var messagesDir: String { queueDir + "/messages" }
    var tmpDir: String { queueDir + "/tmp" }
    /// tmpfs mounts to undo in tearDown.
    var mounts: [String] = []

    static let domain = "example.com"
    static let hostname = "host.example.com"
    /// The display name the tests put in NAME, so added From: fields are predictable.
    static let fullName = "Test User"

    /// The login name of the user running the tests (the default envelope sender's local part).
    static let user: String = {
        guard let pw = getpwuid(getuid()) else { return "root" }
        return String(cString: pw.pointee.pw_name)
    }()

    /// This machine's short host name, as gethostname(2) gives it (mailutils uses it bare).
    static let shortHostname: String = {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count - 1)
        return String(String(cString: buf).split(separator: ".").first ?? "localhost")
    }()

    /// `user@example.com`.
    var qualifiedUser: String { "\(Self.user)@\(Self.domain)" }

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard Binaries.located.dir != nil else {
            XCTFail(Binaries.missingMessage)
            throw HarnessError(Binaries.missingMessage)
        }
        let base = (ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp")
        var template = Array((base + "/sealmail-it-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw HarnessError("mkdtemp: \(errnoText())") }
        dir = String(cString: made)
        try writeConfig()
    }

    override func tearDownWithError() throws {
        for m in mounts.reversed() { _ = umount2(m, Int32(MNT_DETACH)) }
        mounts = []
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
        try super.tearDownWithError()
    }

    // MARK: config

    /// The test's aliases file (absent unless a test writes it), so /etc/aliases never applies.
    var aliasesPath: String { dir + "/aliases" }

    /// Writes the test's config file (or another one at `path`). Delivery defaults to
    /// `queue`, so no detached deliverer touches the queue while a test reads it; tests of
    /// -odb/-odi pass the flag. Local delivery defaults to `none` (a satellite host: local
    /// names are qualified with `domain` and relayed), with the test's own aliases file.
    func writeConfig(queueDir q: String? = nil, delivery: String = "queue", localDelivery: String = "none",
                     extra: String = "", path: String? = nil) throws {
        let text = """
        hostname = "\(Self.hostname)"
        domain = "\(Self.domain)"
        queue_dir = "\(q ?? queueDir)"
        delivery = "\(delivery)"
        local_delivery = "\(localDelivery)"
        aliases = "\(aliasesPath)"
        mail_spool = "\(dir)/spool"
        \(extra)
        """
        try writeText(path ?? configPath, text)
    }

    func writeText(_ path: String, _ text: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw HarnessError("cannot write \(path)")
        }
    }

    // MARK: running

    /// The environment of every child: ours, without SEALMAIL_CONFIG, with a fixed NAME
    /// (the full name of added From: fields) and TZ.
    func childEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SEALMAIL_CONFIG")
        env["NAME"] = Self.fullName
        env["TZ"] = "UTC"
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Starts sealmail with `-C <config>` before `args` (unless `withConfig` is false).
    func startSealmail(_ args: [String], withConfig: Bool = true, argv0: String? = nil,
                       environment: [String: String] = [:]) throws -> Child {
        let full = (withConfig ? ["-C", configPath] : []) + args
        return try Child(Binaries.sealmail, full, argv0: argv0, environment: childEnvironment(environment), outputDir: dir)
    }

    /// Runs sealmail to completion with `input` on stdin.
    @discardableResult
    func sealmail(_ args: [String], input: [UInt8] = [], withConfig: Bool = true, argv0: String? = nil,
                  environment: [String: String] = [:], timeout: Double = 60) throws -> RunResult {
        let child = try startSealmail(args, withConfig: withConfig, argv0: argv0, environment: environment)
        child.write(input)
        return child.wait(timeout: timeout)
    }

    @discardableResult
    func sealmail(_ args: [String], input: String, withConfig: Bool = true, argv0: String? = nil,
                  environment: [String: String] = [:]) throws -> RunResult {
        try sealmail(args, input: Array(input.utf8), withConfig: withConfig, argv0: argv0, environment: environment)
    }

    /// Runs sealctl with `args` followed by `-C <config>`.
    @discardableResult
    func sealctl(_ args: [String], withConfig: Bool = true) throws -> RunResult {
        let full = args + (withConfig ? ["-C", configPath] : [])
        let child = try Child(Binaries.sealctl, full, environment: childEnvironment(), outputDir: dir)
        return child.wait()
    }

    // MARK: the queue

    /// Names of the files in a queue subfolder (empty when the folder does not exist).
    func files(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    var queuedIDs: [String] { files(in: messagesDir) }

    /// The one message in the queue; fails the test when there is not exactly one.
    func onlyQueued(file: StaticString = #filePath, line: UInt = #line) throws -> QueuedMessage {
        let ids = queuedIDs
        guard ids.count == 1 else {
            XCTFail("expected exactly one queued message, found \(ids.count): \(ids)", file: file, line: line)
            throw HarnessError("queue has \(ids.count) messages")
        }
        return try QueuedMessage(path: messagesDir + "/" + ids[0])
    }

    func queued(_ id: String) throws -> QueuedMessage { try QueuedMessage(path: messagesDir + "/" + id) }

    /// Asserts that nothing was committed (and, with `tmpToo`, that tmp/ is empty as well).
    func assertNothingQueued(tmpToo: Bool = true, _ context: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(queuedIDs, [], "messages/ must be empty \(context)", file: file, line: line)
        if tmpToo {
            XCTAssertEqual(files(in: tmpDir), [], "tmp/ must be empty \(context)", file: file, line: line)
        }
    }

    /// Submits a message that must be accepted, and returns the queue file it produced.
    func submitOK(_ args: [String], _ input: String, file: StaticString = #filePath, line: UInt = #line) throws -> QueuedMessage {
        try submitOK(args, Array(input.utf8), file: file, line: line)
    }

    func submitOK(_ args: [String], _ input: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> QueuedMessage {
        let before = Set(queuedIDs)
        let r = try sealmail(args, input: input)
        XCTAssertEqual(r.status, 0, "sealmail \(args) failed: \(r.stderrText)", file: file, line: line)
        let new = queuedIDs.filter { !before.contains($0) }
        guard new.count == 1 else {
            XCTFail("expected one new queue file, found \(new)", file: file, line: line)
            throw HarnessError("no queue file")
        }
        let q = try queued(new[0])
        assertWellFormed(q, file: file, line: line)
        return q
    }

    /// Checks what every queue file must satisfy: the record's shape, the summary size equal
    /// to the bytes after `message`, only CRLF line ends, the id matching the file name.
    func assertWellFormed(_ q: QueuedMessage, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(q.record.first, "sealmail-queue 1", file: file, line: line)
        XCTAssertEqual(q.value("id"), q.id, "the record's id is the file name", file: file, line: line)
        XCTAssertEqual(q.id.utf8.count, 16, file: file, line: line)
        XCTAssertTrue(q.id.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("A"..."Z").contains($0) || ("a"..."z").contains($0) },
                      "the id is base 62: \(q.id)", file: file, line: line)
        XCTAssertEqual(Int(q.summary["size"] ?? ""), q.message.count, "summary size = bytes after `message`", file: file, line: line)
        XCTAssertTrue(hasOnlyCRLFLineEnds(q.message), "the queued message has a bare CR or LF", file: file, line: line)
        XCTAssertFalse(q.recipients.isEmpty, "a queued message has recipients", file: file, line: line)
        XCTAssertNotNil(q.sender, file: file, line: line)
    }

    // MARK: tmpfs

    /// Mounts a tmpfs of `size` (e.g. "1m") at `path`; false when this is not possible here
    /// (not root, no CAP_SYS_ADMIN in a container).
    func mountTmpfs(_ path: String, size: String) -> Bool {
        mkdir(path, 0o755)
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(size)") == 0 else { return false }
        mounts.append(path)
        return true
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
