#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailPolicy

/// Whether sealmail may trust a file it reads or runs: the config, the relay and proxy
/// secrets, private keys, and the program of `password_command`. The rule is OpenSSH's
/// (`secure_permissions`, `safe_path`): the file and every folder above it belong to a
/// trusted owner and are not writable by group or others; a folder writable by others only
/// with the sticky bit, as /tmp. A secret must also not be readable by others.
///
/// A symbolic link is judged by what it resolves to (realpath), and callers read that
/// resolved path, never the link again: since no untrusted user can change the resolved path
/// or a folder above it, nothing can be swapped between the check and the read. A program is
/// also judged by the folders above the path it is run by (which the shell runs, link or not).
///
/// One check, used by sealmail at run time and by `sealctl config check`, so they cannot
/// disagree (issue 11).
public struct FileTrust: Sendable, Equatable {
    /// Who may own trusted files and the folders above them: root, and sometimes the caller.
    /// In ascending order, without repeats. (An array, not a Set: the first Set<uid_t> costs
    /// the runtime a scan of every protocol conformance in the program, at every start.)
    public var owners: [uid_t]

    public init(owners: [uid_t]) {
        var sorted: [uid_t] = [0]
        for uid in owners.sorted() where uid != sorted[sorted.count - 1] { sorted.append(uid) }
        self.owners = sorted
    }

    /// Trusted owners for a run. Root always. The real user too only when they chose the
    /// config themselves (`-C`, `SEALMAIL_CONFIG`) and the process holds no privilege they do
    /// not have: it is not running set-group-ID (never was, or dropped the group, which
    /// `Runtime.load` does before reading a config chosen by an ordinary user). The default
    /// config of the set-group-ID binary, and anything root runs, must be root's.
    public static func forRun(configChosenByCaller: Bool) -> FileTrust {
        let uid = getuid()
        if configChosenByCaller && uid != 0 && !Privileges.isSetID { return FileTrust(owners: [0, uid]) }
        return FileTrust(owners: [0])
    }

    /// What a file is used for: it decides the mode bits that are refused.
    public enum Use: Sendable {
        /// Read (the config): not writable by group or others.
        case file
        /// A password or private key: also not readable by others.
        case secret
        /// Run: not writable by group or others, nor the folders of the path it is run by.
        case program
    }

    /// The path to read (or run): `path` resolved through its symbolic links, when the file,
    /// its target and the folders above them may be trusted; else the problem, naming `what`
    /// (the config key) and `path`. A path that does not resolve (missing, not searchable)
    /// comes back as it is, so that the reader reports why it cannot be opened.
    public func resolve(_ path: String, what: String, use: Use, line: Int? = nil) -> Result<String, FileTrustProblem> {
        Result { () throws(FileTrustProblem) in try resolved(path, what: what, use: use, line: line) }
    }

    /// `resolve` as a throwing function, for `Runtime.load` at every start: destroying a
    /// `Result<String, FileTrustProblem>` needs its type metadata, whose first instantiation
    /// costs the runtime a scan of every protocol conformance in the program.
    func resolved(_ path: String, what: String, use: Use, line: Int? = nil) throws(FileTrustProblem) -> String {
        func problem(_ reason: String, fix: String? = nil) -> FileTrustProblem {
            FileTrustProblem(what: what, path: path, line: line, reason: reason, fix: fix)
        }
        guard let real = Self.realPath(path) else { return path }
        var st = stat()
        guard stat(real, &st) == 0 else { return path }
        let it = real == path ? "it" : "its target \(real)"
        if !owners.contains(st.st_uid) {
            throw problem("\(it) is owned by \(Self.describe(uid: st.st_uid)), not by \(ownerList)", fix: "chown root")
        }
        let mode = st.st_mode & 0o7777
        if mode & 0o022 != 0 {
            throw problem("\(it) is writable by group or others (mode \(Self.octal(mode)))", fix: "chmod go-w")
        }
        if use == .secret && mode & 0o004 != 0 {
            throw problem("\(it) is readable by others (mode \(Self.octal(mode)))", fix: "chmod o-rwx")
        }
        var folders = Self.folders(above: real)
        if use == .program, path.hasBytePrefix("/") {
            // Compared as bytes: String == takes canonically equivalent names (a precomposed
            // and a decomposed é) as one folder, and the second went unchecked.
            let known = Set(folders.map { Array($0.utf8) })
            folders += Self.folders(above: path).filter { !known.contains(Array($0.utf8)) }
        }
        for folder in folders {
            if let reason = folderProblem(folder) { throw problem(reason) }
        }
        return real
    }

    /// Why `folder` cannot be trusted, or nil.
    func folderProblem(_ folder: String) -> String? {
        var st = stat()
        guard stat(folder, &st) == 0 else {
            return "the folder \(folder) above it cannot be examined: \(String(cString: strerror(errno)))"
        }
        if !owners.contains(st.st_uid) {
            return "the folder \(folder) above it is owned by \(Self.describe(uid: st.st_uid)), not by \(ownerList)"
        }
        let mode = st.st_mode & 0o7777
        if mode & 0o022 != 0 && mode & S_ISVTX == 0 {
            return "the folder \(folder) above it is writable by group or others without the sticky bit (mode \(Self.octal(mode)))"
        }
        return nil
    }

    /// `command` with its program named by an absolute path, when that program may be run:
    /// the first word must be an absolute path or a name found in PATH (as sh looks it up),
    /// and pass `resolve(use: .program)`. The found path replaces the name, so the shell
    /// runs the very file that was checked, whatever an earlier PATH folder holds later.
    public func command(_ command: String, what: String = "password_command", line: Int? = nil,
                        searchPath: String? = nil) -> Result<String, FileTrustProblem> {
        let bytes = Array(command.utf8)
        var start = 0
        while start < bytes.count, bytes[start] == 32 || bytes[start] == 9 { start += 1 }
        var end = start
        while end < bytes.count, !(bytes[end] == 32 || bytes[end] == 9 || bytes[end] == 10) { end += 1 }
        let word = String(decoding: bytes[start..<end], as: UTF8.self)
        let rest = String(decoding: bytes[end...], as: UTF8.self)
        func problem(_ reason: String) -> Result<String, FileTrustProblem> {
            .failure(FileTrustProblem(what: what, path: word, line: line, reason: reason))
        }
        guard !word.isEmpty, word.utf8.allSatisfy(Self.isPlainWordByte) else {
            return problem("the command must begin with a program (an absolute path, or a name found in PATH)")
        }
        let program: String
        if word.hasBytePrefix("/") {
            program = word
        } else if word.utf8.contains(UInt8(ascii: "/")) {
            return problem("a relative program path depends on the caller's working folder: give an absolute path")
        } else {
            let path = searchPath ?? getenv("PATH").map { String(cString: $0) } ?? Self.shellDefaultPath
            let dirs = path.utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: true)
                .filter { $0.first == UInt8(ascii: "/") }.map { String(decoding: $0, as: UTF8.self) }
            guard let found = dirs.map({ "\($0)/\(word)" }).first(where: Self.isExecutableFile) else {
                return problem("not found in PATH (\(path))")
            }
            program = found
        }
        guard Self.isExecutableFile(program) else {
            return problem("not an executable file")
        }
        return resolve(program, what: what, use: .program, line: line).map { _ in Self.shellQuoted(program) + rest }
    }

    /// Every file the config names that sealmail reads as a secret or runs, judged: relay and
    /// proxy passwords, TLS client and S/MIME signing keys, key passphrases, and the program
    /// of each `password_command`. Files that do not exist are left to the readers.
    public func problems(in config: SealmailConfig) -> [FileTrustProblem] {
        var out: [FileTrustProblem] = []
        func secret(_ path: String?, _ what: String, _ line: Int?) {
            guard let path, case .failure(let p) = resolve(path, what: what, use: .secret, line: line) else { return }
            out.append(p)
        }
        for r in config.relays {
            secret(r.passwordFile, "password_file", r.line)
            secret(r.proxyPasswordFile, "proxy_password_file", r.line)
            secret(r.clientKey, "client_key", r.line)
            if let c = r.passwordCommand, case .failure(let p) = command(c, line: r.line) { out.append(p) }
        }
        for rule in config.smime.sign {
            secret(rule.key, "key", rule.line)
            secret(rule.keyPassphraseFile, "key_passphrase_file", rule.line)
        }
        return out
    }

    // MARK: helpers

    /// sh's (dash's) search path when PATH is unset.
    static let shellDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    var ownerList: String {
        owners.map { Self.describe(uid: $0) }.joined(separator: " or ")
    }

    static func describe(uid: uid_t) -> String {
        if uid == 0 { return "root" }
        if let pw = getpwuid(uid) { return "uid \(uid) (\(String(cString: pw.pointee.pw_name)))" }
        return "uid \(uid)"
    }

    static func octal(_ mode: mode_t) -> String {
        let s = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    static func realPath(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    /// The folders above an absolute path, nearest first, up to "/". Split at the byte '/':
    /// a name that starts with a combining mark (`/srv/shared/\u{0301}keys`) or a folder name
    /// that ends in a Prepend character made the '/' part of another Character, and the
    /// folder before it went unchecked.
    static func folders(above path: String) -> [String] {
        let bytes = Array(path.utf8)
        var out: [String] = []
        var end = bytes.count
        while let slash = bytes[..<end].lastIndex(of: UInt8(ascii: "/")) {
            end = slash
            out.append(end == 0 ? "/" : String(decoding: bytes[..<end], as: UTF8.self))
            if end == 0 { break }
        }
        return out
    }

    static func isExecutableFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG && access(path, X_OK) == 0
    }

    /// Bytes a program name may hold for the shell to take it as one plain word (no quoting,
    /// expansion, assignment or redirection).
    static func isPlainWordByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "/._+-,@%:".utf8.contains(b)
        }
    }

    static func shellQuoted(_ s: String) -> String {
        if !s.isEmpty && s.utf8.allSatisfy(isPlainWordByte) { return s }
        var out: [UInt8] = [UInt8(ascii: "'")]
        for c in s.utf8 { out += c == UInt8(ascii: "'") ? Array("'\\''".utf8) : [c] }
        return String(decoding: out + [UInt8(ascii: "'")], as: UTF8.self)
    }
}

/// A file sealmail refuses to trust, with the reason (exit 78).
public struct FileTrustProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The config key (`config` for the config file itself).
    public var what: String
    /// The path as configured.
    public var path: String
    /// The config line of the table that names it.
    public var line: Int?
    public var reason: String
    /// The command that makes it trusted, when there is a simple one.
    public var fix: String? = nil
    public var description: String { "\(what) \(path): \(reason): refused" + (fix.map { " (\($0))" } ?? "") }
}

/// Files sealmail refuses to trust, all at once, one line each (exit 78).
public struct UntrustedFiles: Error, Sendable, CustomStringConvertible {
    /// The config that names them (as `sealctl config check` prefixes its lines); nil for
    /// the config file itself.
    public var configPath: String?
    public var problems: [FileTrustProblem]
    public var description: String {
        problems.map { p in
            (configPath.map { "\($0): " } ?? "") + (p.line.map { "line \($0): " } ?? "") + "\(p)"
        }.joined(separator: "\n")
    }
}
