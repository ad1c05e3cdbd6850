#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailPolicy
import MailQueue

/// `-bi` / `newaliases` and `-bv`.
enum AddressModes {
    /// Checks the aliases file: every problem with its line (exit 78), or sendmail's summary.
    static func checkAliases(_ rt: Runtime, program: String) -> Int32 {
        let path = rt.config.aliases
        let text: String
        switch Runtime.readFile(path) {
        case .success(let t): text = t
        case .failure(let e):
            if e.code == ENOENT {
                Stderr.write("\(program): \(path) does not exist: no aliases\n")
                return 0
            }
            // What an unreadable config file is (77 or 78), as LocalResolver says of it.
            let error = ConfigLoadError(message: "cannot read \(path): \(String(cString: strerror(e.code)))", isPermission: e.code == EACCES)
            Stderr.write("\(program): \(error)\n")
            return ExitCodes.code(for: error).rawValue
        }
        let table = AliasTable.parse(text)
        let problems = table.check(include: { p in if case .success(let t) = Runtime.readFile(p) { return t } else { return nil } })
        for p in problems { Stderr.write("\(program): \(path): \(p)\n") }
        Stderr.write("\(path): \(table.entries.count) aliases, longest \(table.longest) bytes, \(table.totalBytes) bytes total\n")
        return problems.isEmpty ? 0 : ExitCode.config.rawValue
    }

    /// Verifies recipients without sending (sendmail's -bv): one line per address.
    static func verify(_ options: SendmailOptions, _ rt: Runtime, program: String) throws -> Int32 {
        guard !options.recipients.isEmpty else { throw UsageError("-bv needs addresses to verify") }
        let resolver = try LocalResolver.make(rt, noAliases: options.noAliases)
        var status: Int32 = 0
        for word in options.recipients {
            let list = AddressParser.parseList(word)
            if list.mailboxes.isEmpty {
                Stdout.write("\(word)... not an address\n")
                status = ExitCode.usage.rawValue
                continue
            }
            for m in list.mailboxes {
                for r in resolver.resolve(m) {
                    if let err = r.error {
                        Stdout.write("\(m.addrSpec)... undeliverable: \(err)\n")
                        status = ExitCode.noUser.rawValue
                    } else if r.local {
                        Stdout.write("\(m.addrSpec)... deliverable: mailbox \(rt.config.mailSpool)/\(r.address)\n")
                    } else if let relay = rt.config.relays.first {
                        Stdout.write("\(m.addrSpec)... deliverable: <\(r.address)> via relay \(relay.host):\(relay.port)\n")
                    } else {
                        Stdout.write("\(m.addrSpec)... <\(r.address)>: no relay configured, would stay queued\n")
                    }
                }
            }
        }
        return status
    }
}
