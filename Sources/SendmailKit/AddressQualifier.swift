import MailMessage

/// Qualifies the unqualified addresses that local programs write (cron's `root`, logwatch's
/// `Logwatch`, mailutils' `root@vm`), the way Postfix's `myorigin` and `append_dot_mydomain`
/// would, with one deliberate difference (README, "Differences from Postfix"):
///
/// - `user` gets `@domain` (Postfix: `@$myorigin`);
/// - `user@host`, where `host` is this machine's own short name or `localhost`, becomes
///   `user@domain`, so that `root@vm` and `root` are one identity (Postfix with
///   append_dot_mydomain=yes would give `root@vm.example.com`);
/// - `user@host` with any other dotless host gets `.domain` appended (append_dot_mydomain);
/// - domain literals and dotted domains are left alone.
public struct AddressQualifier: Equatable, Sendable {
    public var domain: String
    /// Lowercased names of this machine that are not FQDNs (short hostname, `localhost`).
    public var localNames: Set<String>

    public init(domain: String, localNames: Set<String>) {
        self.domain = domain
        self.localNames = Set(localNames.map { $0.lowercased() })
    }

    /// The qualified domain for a mailbox's domain (nil when unqualified).
    public func qualifiedDomain(_ d: String?) -> String {
        guard var d, !d.isEmpty else { return domain }
        // A trailing dot (an absolute DNS name) is not valid in SMTP (RFC 5321 4.1.2).
        while d.hasSuffix("."), !d.hasPrefix("[") { d.removeLast() }
        if d.isEmpty { return domain }
        if d.hasPrefix("[") || d.contains(Character(".")) { return d }
        if localNames.contains(d.lowercased()) { return domain }
        return d + "." + domain
    }

    /// A mailbox's addr-spec, qualified.
    public func qualify(_ m: Mailbox) -> String {
        m.localPart + "@" + qualifiedDomain(m.domain)
    }

    /// Whether qualifying changes this mailbox.
    public func needsQualifying(_ m: Mailbox) -> Bool {
        guard let d = m.domain else { return true }
        return qualifiedDomain(d) != d
    }

    /// Rewrites the unqualified mailboxes of an address-list field body (unfolded), splicing
    /// only the domain part so display names and comments stay byte for byte. Returns nil
    /// when nothing needed qualifying.
    public func qualifyField(_ value: [UInt8]) -> [UInt8]? {
        let list = AddressParser.parseList(value)
        var edits: [(Range<Int>, [UInt8])] = []
        for m in list.mailboxes where needsQualifying(m) {
            if let r = m.domainRange {
                edits.append((r, Array(qualifiedDomain(m.domain).utf8)))
            } else {
                let end = m.localPartRange.upperBound
                edits.append((end..<end, Array(("@" + domain).utf8)))
            }
        }
        guard !edits.isEmpty else { return nil }
        var out = value
        for (range, bytes) in edits.sorted(by: { $0.0.lowerBound > $1.0.lowerBound }) {
            guard range.lowerBound >= 0, range.upperBound <= out.count else { continue }
            out.replaceSubrange(range, with: bytes)
        }
        return out
    }
}
