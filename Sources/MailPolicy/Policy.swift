import MailMessage

/// The S/MIME policy (issue 5): who is signed, who is encrypted, and who may use which key
/// and which sender address. `decide` is pure: certificates are looked up through a closure.
///
/// Decided once, at submission, before anything is queued: a refusal reaches the program that
/// submitted the mail (exit status and one line per problem), and nothing goes to anyone.

/// One recipient as the policy sees it.
public struct PolicyRecipient: Equatable, Sendable {
    public var address: String
    /// Not in To/Cc (Bcc, or argv only): gets a copy of its own when S/MIME is involved, so
    /// that no copy reveals it.
    public var hidden: Bool
    public init(_ address: String, hidden: Bool = false) { self.address = address; self.hidden = hidden }
}

/// What the policy needs to know about a message.
public struct PolicyInput: Equatable, Sendable {
    /// The From address (first mailbox), nil when the message has none.
    public var from: String?
    /// The envelope sender ("" for `<>`).
    public var sender: String
    public var recipients: [PolicyRecipient]
    /// The submitting user and their groups.
    public var user: String
    public var groups: [String]
    /// The Subject as text (RFC 2047 encoded words decoded), nil when the message has none;
    /// for `secure_tag`.
    public var subject: String?
    public init(from: String?, sender: String, recipients: [PolicyRecipient], user: String, groups: [String] = [],
                subject: String? = nil) {
        self.from = from; self.sender = sender; self.recipients = recipients; self.user = user; self.groups = groups
        self.subject = subject
    }
}

/// The answer of the certificate store for one address.
public enum CertificateAnswer: Equatable, Sendable {
    /// A usable certificate (an identifier the caller understands, e.g. its path).
    case usable(id: String, description: String)
    /// Certificates exist but none is usable; the reasons (expired, revoked, wrong purpose...).
    case unusable(reasons: [String])
    /// No certificate for this address.
    case none
}

/// One copy of the message to queue.
public struct PlannedCopy: Equatable, Sendable {
    public var recipients: [String]
    /// The sign rule's index in `config.smime.sign`, nil when unsigned.
    public var signRule: Int?
    /// Certificates (ids from the lookup) to encrypt to; empty when not encrypted.
    public var encryptTo: [String]
    /// The cipher for this copy (rule's, else the [smime] default).
    public var cipher: String?
    /// RFC 9788 header protection for this copy (the recipients' rule's `header_protection`,
    /// else `[smime]`'s). Recipients whose settings differ never share a protected copy.
    public var headerProtection: Bool = false
    /// RFC 9788 legacy display for this copy (its recipients' `legacy_display`, else
    /// `[smime]`'s): with header protection on an encrypted copy, the main text parts begin
    /// with the real Subject. Recipients whose settings differ never share such a copy.
    public var legacyDisplay: Bool = false
    /// How the content key reaches each recipient certificate of `encryptTo` (their rules'
    /// `key_transport`, else `[smime]`'s); each RecipientInfo has its own.
    public var keyTransport: [String: EncryptRule.KeyTransport] = [:]
}

/// A reason not to send.
public struct PolicyRefusal: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable, CaseIterable {
        /// A `required` recipient without a usable certificate (exit 69).
        case noCertificate
        /// The user may not use this sender or From address, or this signing key (exit 77).
        case notAuthorised
    }
    public var kind: Kind
    public var address: String
    public var reason: String
    public var description: String { "<\(address)>: \(reason)" }
}

public enum PolicyDecision: Equatable, Sendable {
    case send([PlannedCopy])
    case refuse([PolicyRefusal])
}

public enum Policy {
    /// Whether any S/MIME rule (or the subject tag) exists at all (if not, the message is
    /// queued as it is).
    public static func isActive(_ c: SealmailConfig) -> Bool {
        !c.smime.sign.isEmpty || !c.smime.encrypt.isEmpty || c.smime.secureTag != nil
    }

    /// Whether `user` (with `groups`) is named by `names` (`*`, a user, or `@group`).
    public static func names(_ names: [String], user: String, groups: [String]) -> Bool {
        names.contains { n in
            if n == "*" || n == user { return true }
            if n.hasPrefix("@") { return groups.contains(String(n.dropFirst())) }
            return false
        }
    }

    /// Sender authorisation: without a `senders` map any sender goes (as Postfix); root and
    /// `trusted` users may use any; others only the patterns listed for them or their groups.
    public static func senderRefusals(_ c: SealmailConfig, _ input: PolicyInput) -> [PolicyRefusal] {
        guard let senders = c.senders, input.user != "root", !c.trusted.contains(input.user) else { return [] }
        var patterns: [String] = senders[input.user] ?? []
        for g in input.groups { patterns += senders["@" + g] ?? [] }
        patterns += senders["*"] ?? []
        let compiled = patterns.compactMap { try? AddressPattern($0) }
        var out: [PolicyRefusal] = []
        var checked = ByteStringSet()
        for (what, address) in [("envelope sender", input.sender), ("From address", input.from ?? "")] where !address.isEmpty {
            // Keyed as the patterns match, by bytes with ASCII case folded: Unicode lowercasing
            // or canonical equivalence would take a From that differs from the sender in its
            // bytes (a Kelvin sign, another normal form) as already checked.
            guard checked.insert(Array(address.asciiLowercased().utf8)) else { continue }
            if !compiled.contains(where: { $0.matches(address) }) {
                out.append(PolicyRefusal(kind: .notAuthorised, address: address,
                                         reason: "user \(input.user) may not use this \(what) (senders in the config)"))
            }
        }
        return out
    }

    /// The plan for a message: the copies to queue, or the refusals.
    public static func decide(_ c: SealmailConfig, _ input: PolicyInput,
                              lookup: (String) -> CertificateAnswer) -> PolicyDecision {
        var refusals = senderRefusals(c, input)

        // Signing: the first rule whose `from` matches the From address (else the sender).
        var signRule: Int?
        let signer = input.from ?? input.sender
        if !signer.isEmpty, let i = c.smime.sign.firstIndex(where: { rule in
            rule.from.contains { (try? AddressPattern($0))?.matches(signer) ?? false }
        }) {
            let rule = c.smime.sign[i]
            if names(rule.users, user: input.user, groups: input.groups) {
                signRule = i
            } else if rule.unauthorised == "refuse" {
                refusals.append(PolicyRefusal(kind: .notAuthorised, address: signer,
                    reason: "user \(input.user) may not have mail signed with \(rule.certificate) (not in users of the sign rule on line \(rule.line ?? 0))"))
            }
        }

        // Encryption per recipient. The subject tag makes every recipient `required`,
        // whatever its rule says (a rule that matches still gives its cipher).
        let tagged = secureTagged(c, subject: input.subject)
        let why = tagged ? "encryption required by the \(c.smime.secureTag ?? "") tag in the Subject" : "encryption required"
        // Keyed by the address's bytes, as the recipients were told apart: String keys would
        // take canonically equivalent addresses (a Kelvin sign and a K) as one recipient, and
        // give one the other's certificate.
        func key(_ address: String) -> [UInt8] { Array(address.utf8) }
        var encryptedCert: [[UInt8]: String] = [:]
        var cipherFor: [[UInt8]: String?] = [:]
        var protectHeaders: [[UInt8]: Protected] = [:]
        var transportFor: [String: EncryptRule.KeyTransport] = [:]
        for r in input.recipients {
            let rule = c.smime.encrypt.first(where: { rule in
                rule.to.contains { (try? AddressPattern($0))?.matches(r.address) ?? false }
            })
            let headers = rule?.headerProtection ?? c.smime.headerProtection
            protectHeaders[key(r.address)] = Protected(headers: headers,
                                                  legacyDisplay: headers && (rule?.legacyDisplay ?? c.smime.legacyDisplay))
            let mode = tagged ? .required : (rule?.mode ?? .never)
            switch mode {
            case .never:
                continue
            case .opportunistic, .required:
                switch lookup(r.address) {
                case .usable(let id, _):
                    encryptedCert[key(r.address)] = id
                    cipherFor[key(r.address)] = rule?.cipher
                    transportFor[id] = rule?.keyTransport ?? c.smime.keyTransport
                case .unusable(let reasons):
                    if mode == .required {
                        refusals.append(PolicyRefusal(kind: .noCertificate, address: r.address,
                            reason: why + ", but no usable certificate: " + reasons.joined(separator: "; ")))
                    }
                case .none:
                    if mode == .required {
                        refusals.append(PolicyRefusal(kind: .noCertificate, address: r.address,
                            reason: why + ", but no certificate for this address"))
                    }
                }
            }
        }
        if !refusals.isEmpty { return .refuse(refusals) }

        // Copies: visible plain recipients together, visible encrypted ones together (one
        // RecipientInfo each), every hidden recipient alone when S/MIME is involved. A signed
        // or encrypted group whose members differ in header protection is split in two.
        let smime = signRule != nil || !encryptedCert.isEmpty
        var copies: [PlannedCopy] = []
        let visible = input.recipients.filter { !$0.hidden || !smime }
        let plain = visible.filter { encryptedCert[key($0.address)] == nil }
        let encrypted = visible.filter { encryptedCert[key($0.address)] != nil }
        func protects(_ r: PolicyRecipient) -> Protected { protectHeaders[key(r.address)] ?? Protected(headers: false, legacyDisplay: false) }
        // Signed only, the legacy display does not apply (nothing is hidden): only header
        // protection splits the plain recipients.
        for group in split(plain, by: { signRule == nil ? false : protects($0).headers }) {
            copies.append(PlannedCopy(recipients: group.members.map(\.address), signRule: signRule, encryptTo: [], cipher: nil,
                                      headerProtection: signRule != nil && group.key))
        }
        func transports(_ certs: [String]) -> [String: EncryptRule.KeyTransport] {
            Dictionary(certs.map { ($0, transportFor[$0] ?? c.smime.keyTransport) }, uniquingKeysWith: { a, _ in a })
        }
        for group in split(encrypted, by: protects) {
            let certs = group.members.map { encryptedCert[key($0.address)]! }
            var copy = PlannedCopy(recipients: group.members.map(\.address), signRule: signRule, encryptTo: certs,
                                   cipher: group.members.compactMap { cipherFor[key($0.address)] ?? nil }.first,
                                   headerProtection: group.key.headers)
            copy.legacyDisplay = group.key.headers && group.key.legacyDisplay
            copy.keyTransport = transports(certs)
            copies.append(copy)
        }
        if smime {
            for r in input.recipients where r.hidden {
                let cert = encryptedCert[key(r.address)]
                var copy = PlannedCopy(recipients: [r.address], signRule: signRule,
                                       encryptTo: cert.map { [$0] } ?? [], cipher: cipherFor[key(r.address)] ?? nil,
                                       headerProtection: (signRule != nil || cert != nil) && protects(r).headers)
                copy.legacyDisplay = cert != nil && copy.headerProtection && protects(r).legacyDisplay
                copy.keyTransport = transports(copy.encryptTo)
                copies.append(copy)
            }
        }
        return .send(copies)
    }

    /// A recipient's header protection settings: copies are split by these.
    struct Protected: Hashable {
        var headers: Bool
        var legacyDisplay: Bool
    }

    /// `recipients` in groups of equal `key`, in the order each key first appears; members
    /// keep their order.
    static func split<Key: Equatable>(_ recipients: [PolicyRecipient], by key: (PolicyRecipient) -> Key)
        -> [(key: Key, members: [PolicyRecipient])] {
        var groups: [(key: Key, members: [PolicyRecipient])] = []
        for r in recipients {
            let k = key(r)
            if let i = groups.firstIndex(where: { $0.key == k }) { groups[i].members.append(r) } else { groups.append((k, [r])) }
        }
        return groups
    }

    // MARK: the subject tag

    /// Whether `subject` carries the configured `secure_tag` (case-insensitive).
    /// Found scalar by scalar (a mark or a Prepend character next to the tag does not hide it)
    /// or Character by Character (a non-ASCII tag in another normal form, `e` + U+0301 for
    /// `é`): either one makes the message tagged, as a missed tag sends it unencrypted.
    public static func secureTagged(_ c: SealmailConfig, subject: String?) -> Bool {
        guard let tag = c.smime.secureTag, let subject else { return false }
        return !tagRanges(Array(tag.unicodeScalars), in: Array(subject.unicodeScalars)).isEmpty
            || !characterTagRanges(Array(tag), in: Array(subject)).isEmpty
    }

    /// `subject` without any occurrence of `tag` (case-insensitive), the white space where it
    /// was reduced to one space, and none left at either end: `[secure] Offer` and
    /// `Re: [SECURE] Offer` become `Offer` and `Re: Offer`.
    public static func removingTag(_ tag: String, from subject: String) -> String {
        let scalars = Array(subject.unicodeScalars)
        let byScalar = tagRanges(Array(tag.unicodeScalars), in: scalars)
        if byScalar.isEmpty {
            // Found only as Characters (a non-ASCII tag in another normal form): removed so.
            let characters = Array(subject)
            let byCharacter = characterTagRanges(Array(tag), in: characters)
            if !byCharacter.isEmpty {
                return String(removing(byCharacter, from: characters, blank: { $0 == " " || $0 == "\t" }, space: " "))
            }
        }
        var text = ""
        text.unicodeScalars.append(contentsOf: removing(byScalar, from: scalars, blank: { $0 == " " || $0 == "\t" }, space: " "))
        return text
    }

    /// `s` without the `ranges`, the blanks around each reduced to one `space`, and no blank
    /// left at either end.
    static func removing<E>(_ ranges: [Range<Int>], from s: [E], blank: (E) -> Bool, space: E) -> [E] {
        var out: [E] = []
        var i = 0
        for r in ranges {
            out += s[i..<r.lowerBound]
            while let last = out.last, blank(last) { out.removeLast() }
            i = r.upperBound
            while i < s.count, blank(s[i]) { i += 1 }
            if !out.isEmpty && i < s.count { out.append(space) }
        }
        out += s[i...]
        while let first = out.first, blank(first) { out.removeFirst() }
        while let last = out.last, blank(last) { out.removeLast() }
        return out
    }

    /// The places of `tag` in `text` compared Character by Character with `lowercased()`
    /// (canonical equivalence: another normal form of a non-ASCII tag matches).
    static func characterTagRanges(_ tag: [Character], in text: [Character]) -> [Range<Int>] {
        guard !tag.isEmpty, text.count >= tag.count else { return [] }
        let lowTag = tag.map { $0.lowercased() }
        var found: [Range<Int>] = []
        var i = 0
        while i + tag.count <= text.count {
            if (0..<tag.count).allSatisfy({ text[i + $0].lowercased() == lowTag[$0] }) {
                found.append(i..<(i + tag.count))
                i += tag.count
            } else {
                i += 1
            }
        }
        return found
    }

    /// The non-overlapping places where `tag` occurs in `text`, compared scalar by scalar with
    /// each one's lowercase mapping. Scalars, not Characters: a tag with a combining mark after
    /// it or a Prepend character before it (`[secure]\u{0301}`, `\u{0600}[secure]`) is one
    /// Character with them, so a Character search missed the tag and the message went
    /// unencrypted. (Another normal form of a non-ASCII tag is `characterTagRanges`' to find.)
    static func tagRanges(_ tag: [Unicode.Scalar], in text: [Unicode.Scalar]) -> [Range<Int>] {
        guard !tag.isEmpty, text.count >= tag.count else { return [] }
        // Compared as scalars too (String == would apply canonical equivalence again).
        func lower(_ c: Unicode.Scalar) -> [Unicode.Scalar] {
            c.isASCII ? [Unicode.Scalar(TextLines.asciiLowercased(UInt8(c.value)))] : Array(c.properties.lowercaseMapping.unicodeScalars)
        }
        let lowTag = tag.map(lower)
        var found: [Range<Int>] = []
        var i = 0
        while i + tag.count <= text.count {
            if (0..<tag.count).allSatisfy({ lower(text[i + $0]) == lowTag[$0] }) {
                found.append(i..<(i + tag.count))
                i += tag.count
            } else {
                i += 1
            }
        }
        return found
    }

    /// Problems a config can have that its TOML syntax does not show: rules that contradict
    /// each other or can never match. (A pattern that is not a pattern is already an error of
    /// `ConfigParser`, with its line.)
    public static func check(_ c: SealmailConfig) -> [ConfigDiagnostic] {
        var out: [ConfigDiagnostic] = []
        var seenFrom: [String: Int] = [:]
        for (i, rule) in c.smime.sign.enumerated() {
            var shadowed = true
            for p in rule.from {
                if let earlier = seenFrom[p.lowercased()] {
                    if c.smime.sign[earlier].certificate != rule.certificate {
                        out.append(ConfigDiagnostic(line: rule.line, message: "[[smime.sign]] from \"\(p)\" is also in the rule on line \(c.smime.sign[earlier].line ?? 0) with another certificate: the rules contradict each other (the first wins)"))
                    }
                } else {
                    shadowed = false
                    seenFrom[p.lowercased()] = i
                }
            }
            if shadowed && !rule.from.isEmpty {
                out.append(ConfigDiagnostic(line: rule.line, message: "[[smime.sign]] can never match: every pattern is already taken by an earlier rule"))
            }
            if rule.users.isEmpty {
                out.append(ConfigDiagnostic(line: rule.line, message: "[[smime.sign]] has no users: no one may sign with \(rule.certificate)"))
            }
        }
        if let tag = c.smime.secureTag, c.smime.certificates == nil {
            out.append(ConfigDiagnostic(line: nil, message: "warning: [smime] secure_tag = \"\(tag)\" without certificates: every tagged message will be refused"))
        }
        var seenTo: [String: EncryptRule] = [:]
        for rule in c.smime.encrypt {
            for p in rule.to {
                if let earlier = seenTo[p.lowercased()], earlier.mode != rule.mode {
                    out.append(ConfigDiagnostic(line: rule.line, message: "[[smime.encrypt]] to \"\(p)\" is mode \(rule.mode.rawValue) here but \(earlier.mode.rawValue) on line \(earlier.line ?? 0): the rules contradict each other"))
                } else if seenTo[p.lowercased()] == nil {
                    seenTo[p.lowercased()] = rule
                }
            }
        }
        return out
    }
}

