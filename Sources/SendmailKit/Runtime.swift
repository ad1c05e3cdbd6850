#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailPolicy
import MailQueue

/// The config file could not be read.
public struct ConfigLoadError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var isPermission: Bool
    public var description: String { message }
}

/// Everything a run needs from its surroundings, read once at start: config, identity,
/// names, the queue and the log.
public struct Runtime: Sendable {
    public static let defaultConfigPath = "/etc/sealmail/sealmail.toml"

    public var config: SealmailConfig
    public var configPath: String
    public var identity: SystemIdentity
    /// This machine's FQDN (EHLO, Message-Id, Received).
    public var hostname: String
    /// Appended to unqualified addresses.
    public var domain: String
    public var qualifier: AddressQualifier
    public var spool: Spool
    public var log: MailLog
    /// Who may own the files this run reads as secrets or runs (`FileTrust.forRun`).
    public var trust: FileTrust
    /// The time (queue ids, Date, Received, retry times): the real clock unless a test or an
    /// application injects another.
    public var clock: @Sendable () -> Clock = { Clock.now() }
    /// Random bits of queue ids.
    public var random: @Sendable () -> UInt64 = { UInt64.random(in: 0...UInt64.max) }

    /// A runtime from values, for applications and tests that submit without a config file
    /// or a passwd lookup: the queue is `config.queueDir`, the domain qualifies addresses
    /// (this host's short name and `localhost` count as local), the log goes to syslog.
    public init(config: SealmailConfig, configPath: String = "(given)", identity: SystemIdentity, hostname: String,
                domain: String, trust: FileTrust = FileTrust(owners: [getuid()])) {
        var localNames: Set<String> = ["localhost"]
        localNames.insert(String(identity.nodeName.split(separator: ".").first ?? ""))
        localNames.insert(String(hostname.split(separator: ".").first ?? ""))
        self.init(config: config, configPath: configPath, identity: identity, hostname: hostname, domain: domain,
                  qualifier: AddressQualifier(domain: domain, localNames: localNames), spool: Spool(root: config.queueDir),
                  log: MailLog(ident: config.syslogIdent, echo: false), trust: trust)
    }

    init(config: SealmailConfig, configPath: String, identity: SystemIdentity, hostname: String, domain: String,
         qualifier: AddressQualifier, spool: Spool, log: MailLog, trust: FileTrust) {
        self.config = config; self.configPath = configPath; self.identity = identity; self.hostname = hostname
        self.domain = domain; self.qualifier = qualifier; self.spool = spool; self.log = log; self.trust = trust
    }

    /// Loads the config from `-C`, else `SEALMAIL_CONFIG`, else the default path. A config
    /// chosen by a caller who is not root makes the binary drop its set-group-ID privilege
    /// first (DESIGN.md "Security model"), so it can never read the group's files for them.
    /// The config, and (with `checkingFiles`) the secrets and programs it names, must pass
    /// `FileTrust`, or the run stops with `UntrustedFiles` (exit 78) before anything else;
    /// `sealctl config check` lists those problems itself instead.
    public static func load(configOption: String?, verbose: Bool, checkingFiles: Bool = true) throws -> Runtime {
        var path = defaultConfigPath
        var chosenByCaller = false
        if let c = configOption {
            path = c; chosenByCaller = true
        } else if let e = getenv("SEALMAIL_CONFIG"), e.pointee != 0 {
            path = String(cString: e); chosenByCaller = true
        }
        if chosenByCaller && getuid() != 0 && getegid() != getgid() {
            // setregid setting the real ID too, not setgid: the saved set-group-ID then goes
            // as well (POSIX), so the group cannot be regained.
            let g = getgid()
            if setregid(g, g) != 0 {
                throw ConfigLoadError(message: "cannot drop group privileges: \(String(cString: strerror(errno)))", isPermission: true)
            }
        }
        let trust = FileTrust.forRun(configChosenByCaller: chosenByCaller)
        // The config is read by its resolved path, the one judged (see FileTrust).
        let resolved: String
        do {
            resolved = try trust.resolved(path, what: "config", use: .file)
        } catch {
            throw UntrustedFiles(configPath: nil, problems: [error])
        }
        let config: SealmailConfig
        switch readFile(resolved) {
        case .success(let text):
            switch ConfigParser.parse(text, path: path) {
            case .success(let c): config = c
            case .failure(let e): throw e
            }
        case .failure(let err):
            let e = err.code
            if e == ENOENT && !chosenByCaller {
                config = SealmailConfig()  // no config yet: defaults
            } else {
                throw ConfigLoadError(message: "cannot read config \(path): \(String(cString: strerror(e)))",
                                      isPermission: e == EACCES)
            }
        }
        if checkingFiles {
            let problems = trust.problems(in: config)
            if !problems.isEmpty { throw UntrustedFiles(configPath: path, problems: problems) }
        }
        let identity = try SystemIdentity.current()
        let hostname = config.hostname ?? identity.fullyQualifiedHostName()
        let mailname: String? = config.domain == nil ? mailname() : nil
        let domain = config.domain ?? mailname ?? hostname
        var localNames: Set<String> = ["localhost"]
        localNames.insert(String(identity.nodeName.split(separator: ".").first ?? ""))
        localNames.insert(String(hostname.split(separator: ".").first ?? ""))
        return Runtime(config: config, configPath: path, identity: identity, hostname: hostname, domain: domain,
                       qualifier: AddressQualifier(domain: domain, localNames: localNames),
                       spool: Spool(root: config.queueDir),
                       log: MailLog(ident: config.syslogIdent, echo: verbose), trust: trust)
    }

    /// The first line of `/etc/mailname` (Debian's MTAs write `name\n`), trimmed as bytes, when
    /// it is a host name; nil when it is absent, empty or not a name (a mailname that is not a
    /// name would otherwise end up in every address and header).
    static func mailname(path: String = "/etc/mailname") -> String? {
        guard case .success(let bytes) = readBytes(path) else { return nil }
        let name = String(decoding: TextLines.trimmed(TextLines.firstLine(bytes)), as: UTF8.self)
        return HostName.isValid(name) ? name : nil
    }

    /// Reads a whole (small) text file, decoded as UTF-8 (invalid bytes become U+FFFD). Split
    /// and trim its lines with `TextLines`, never with String's Character operations.
    static func readFile(_ path: String) -> Result<String, Errno> {
        readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads a whole (small) file, at most 16 MiB.
    static func readBytes(_ path: String) -> Result<[UInt8], Errno> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return .failure(Errno(code: errno)) }
        defer { close(fd) }
        var out: [UInt8] = []
        // Not zeroed, and small: these files are a few KB, read at every start.
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 1)
        defer { chunk.deallocate() }
        while true {
            let n = read(fd, chunk.baseAddress, chunk.count)
            if n < 0 { if errno == EINTR { continue }; return .failure(Errno(code: errno)) }
            if n == 0 { break }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            if out.count > 16 << 20 { return .failure(Errno(code: EFBIG)) }
        }
        return .success(out)
    }
}
/// An errno value as an error.
public struct Errno: Error, Equatable, Sendable { public var code: Int32 }
