#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailPolicy
import MailQueue

/// Local recipients (issue 6): a recipient that is unqualified or names this host goes
/// through /etc/aliases (unless -n); what remains local is a mailbox in the mail spool when
/// `local_delivery = "mbox"` (the default without a relay), else it is qualified and relayed.
struct LocalResolver {
    var aliases: AliasTable?
    var include: (String) -> String?
    var userExists: (String) -> Bool
    var mbox: Bool
    var qualifier: AddressQualifier
    /// Lowercased names of this host (FQDN, short name, localhost).
    var hostNames: Set<String>

    func isLocal(_ m: Mailbox) -> Bool {
        guard let d = m.domain else { return true }
        // ASCII case only (host names are ASCII): Unicode lowercasing takes a Kelvin sign for k.
        return hostNames.contains(d.asciiLowercased())
    }

    func resolve(_ m: Mailbox) -> [QueuedRecipient] {
        guard isLocal(m) else { return [QueuedRecipient(address: qualifier.qualify(m))] }
        let original = m.domain == nil ? qualifier.qualify(m) : m.addrSpec
        let name = m.localPart
        var expansion = AliasTable.Expansion()
        if let aliases {
            expansion = aliases.expand(name, include: include)
        } else {
            expansion.localUsers = [name]
        }
        if let err = expansion.error {
            return [QueuedRecipient(address: name, original: original, local: true, error: "5.4.6 \(err)")]
        }
        var out: [QueuedRecipient] = []
        for a in expansion.addresses {
            if let box = AddressParser.parseList(a).mailboxes.first {
                out.append(QueuedRecipient(address: qualifier.qualify(box), original: original))
            }
        }
        for target in expansion.unsupported {
            out.append(QueuedRecipient(address: name, original: original, local: true,
                                       error: "5.3.5 alias target \(target): sealmail does not deliver to programs or files"))
        }
        for user in expansion.localUsers {
            if mbox {
                out.append(QueuedRecipient(address: user, original: original == user ? nil : original, local: true,
                                           error: userExists(user) ? nil : "5.1.1 unknown local user \(user)"))
            } else {
                out.append(QueuedRecipient(address: qualifier.qualify(Mailbox(localPart: user)),
                                           original: original))
            }
        }
        return out
    }

    /// Built from the runtime: aliases file (missing file = no aliases), passwd, host names.
    static func make(_ rt: Runtime, noAliases: Bool) throws -> LocalResolver {
        var table: AliasTable?
        if !noAliases {
            switch Runtime.readFile(rt.config.aliases) {
            case .success(let text): table = AliasTable.parse(text)
            case .failure(let e) where e.code == ENOENT: table = nil
            case .failure(let e):
                throw ConfigLoadError(message: "cannot read aliases \(rt.config.aliases): \(String(cString: strerror(e.code)))",
                                      isPermission: e.code == EACCES)
            }
        }
        var names = rt.qualifier.localNames
        names.insert(rt.hostname.lowercased())
        let mbox = (rt.config.localDelivery ?? (rt.config.relays.isEmpty ? .mbox : .none)) == .mbox
        return LocalResolver(aliases: table,
                             include: { path in if case .success(let t) = Runtime.readFile(path) { return t } else { return nil } },
                             userExists: { getpwnam($0) != nil }, mbox: mbox, qualifier: rt.qualifier, hostNames: names)
    }
}
