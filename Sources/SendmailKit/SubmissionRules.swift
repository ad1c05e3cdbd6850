import MailMessage
import MailQueue

/// Facts about this submission that the rules need, passed in so the rules do no IO.
public struct SubmissionContext: Sendable {
    public var qualifier: AddressQualifier
    /// This machine's FQDN (Message-Id and Received).
    public var hostname: String
    public var user: String
    public var uid: UInt32
    /// The submitter's full name (NAME, else GECOS), used for an added From: unless -F.
    public var fullName: String?
    public var epochSeconds: Int64
    public var utcOffset: Int
    public var queueID: String

    public init(qualifier: AddressQualifier, hostname: String, user: String, uid: UInt32, fullName: String?,
                epochSeconds: Int64, utcOffset: Int, queueID: String) {
        self.qualifier = qualifier; self.hostname = hostname; self.user = user; self.uid = uid
        self.fullName = fullName; self.epochSeconds = epochSeconds; self.utcOffset = utcOffset; self.queueID = queueID
    }
}

/// A problem with the submission's data or addresses (exit 65, or 64 for a usage error).
public struct SubmissionError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable, CaseIterable { case usage, data, noUser }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    public var description: String { message }
}

/// The submission semantics of sendmail, as Postfix implements them (peers.md section 4):
/// envelope sender, recipients (argv, `-t`, Resent-), header completion and clean-up.
/// Pure functions over values.
public enum SubmissionRules {
    /// Fields always removed (Postfix's `message_drop_headers`).
    public static let droppedFields: Set<String> = ["bcc", "resent-bcc", "return-path", "content-length"]
    /// Fields whose addresses are qualified.
    public static let addressFields: Set<String> = [
        "from", "sender", "reply-to", "to", "cc", "bcc", "errors-to", "return-receipt-to",
        "disposition-notification-to", "apparently-to", "mail-followup-to", "mail-reply-to",
        "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc", "resent-reply-to",
    ]

    /// The envelope sender: `-f`/`-r` (validated as one mailbox; `""` or `<>` is the null
    /// sender), else the login name; qualified.
    public static func envelopeSender(_ option: String?, context: SubmissionContext) throws -> String {
        guard let option else { return context.qualifier.qualify(Mailbox(localPart: context.user)) }
        switch AddressParser.parseSenderArgument(option) {
        case .nullPath:
            return ""
        case .mailbox(let m):
            if startsWithDash(m.localPart) {
                throw SubmissionError(.usage, "-f \(option): a sender address must not start with '-'")
            }
            return context.qualifier.qualify(m)
        case .invalid(let reason):
            throw SubmissionError(.usage, "-f \(option): not a sender address (\(reason))")
        }
    }

    /// Envelope recipients: argv (each word an address list), plus, with `-t`, To/Cc/Bcc, or
    /// Resent-To/Cc/Bcc when the header has Resent- fields (Postfix adds header recipients
    /// to argv ones). Qualified, duplicates removed, order kept.
    /// - Returns: the recipients and warnings about header elements that were not addresses.
    /// - Parameter resolve: turns a mailbox into final recipients (aliases, local mailboxes);
    ///   without it every mailbox is qualified and relayed.
    public static func recipients(argv: [String], header: HeaderBlock?, extract: Bool, notify: String?,
                                  qualifier: AddressQualifier, resolve: ((Mailbox) -> [QueuedRecipient])? = nil)
        throws -> (recipients: [QueuedRecipient], warnings: [String], skipped: [String]) {
        var out: [QueuedRecipient] = []
        // Keys as bytes: a Set of Strings takes canonically equivalent addresses (`caf\u{e9}@x`,
        // `cafe\u{301}@x`) as one, and the second recipient was dropped.
        var seen = ByteStringSet()
        var warnings: [String] = []
        var skipped: [String] = []
        func add(_ m: Mailbox) {
            if let resolve {
                for var r in resolve(m) {
                    let key = Array(((r.local ? "local:" : "") + canonicalKey(r.address)).utf8)
                    guard seen.insert(key) else { continue }
                    // An alias may name an address SMTP cannot carry (a tab in a quoted local
                    // part): it fails at once with the reason, as a program target does.
                    if r.error == nil, hasControl(r.address) { r.error = controlInAddress }
                    r.notify = notify
                    out.append(r)
                }
                return
            }
            let address = qualifier.qualify(m)
            guard seen.insert(Array(canonicalKey(address).utf8)) else { return }
            let original = address == m.addrSpec ? nil : m.addrSpec
            out.append(QueuedRecipient(address: address, original: original, notify: notify))
        }
        for word in argv {
            if startsWithDash(word) {
                throw SubmissionError(.usage, "recipient \(word): an address must not start with '-'")
            }
            if word.utf8.contains(where: { $0 == 10 || $0 == 13 || $0 == 0 }) {
                throw SubmissionError(.usage, "recipient address contains a line break or NUL")
            }
            if unquotedAtSigns(word) > 1 && !word.containsByte(UInt8(ascii: "<")) {
                throw SubmissionError(.usage, "recipient \(word): more than one @ (quote the local part: \"a@b\"@example.net)")
            }
            let list = AddressParser.parseList(word)
            let boxes = list.mailboxes.filter { !$0.localPart.isEmpty }
            if boxes.isEmpty && !isEmptyGroup(list) {
                throw SubmissionError(.usage, "recipient \(word): not an address")
            }
            for m in boxes {
                if startsWithDash(m.localPart) {
                    throw SubmissionError(.usage, "recipient \(word): an address must not start with '-'")
                }
                if hasControl(m.addrSpec) {
                    throw SubmissionError(.usage, "recipient \(printable(m.addrSpec)): \(controlInAddress)")
                }
                add(m)
            }
        }
        if extract, let header {
            let resent = header.containsPrefix("Resent-")
            let names = resent ? ["Resent-To", "Resent-Cc", "Resent-Bcc"] : ["To", "Cc", "Bcc"]
            for field in header.fields where names.contains(where: { field.is($0) }) {
                let value = field.unfoldedValue
                let list = parseLenient(value)
                var sent = ByteStringSet(), refused = ByteStringSet()  // addr-specs, as bytes
                for m in list.mailboxes {
                    if m.localPart.isEmpty || startsWithDash(m.localPart) {
                        skipped.append("\(field.name): skipped \"\(printable(m.addrSpec))\": not a deliverable address")
                        refused.insert(Array(m.addrSpec.utf8))
                        continue
                    }
                    if hasControl(m.addrSpec) {
                        skipped.append("\(field.name): skipped \"\(printable(m.addrSpec))\": \(controlInAddress)")
                        refused.insert(Array(m.addrSpec.utf8))
                        continue
                    }
                    add(m)
                    sent.insert(Array(m.addrSpec.utf8))
                }
                // What the list names that is not sent to: the caller hears of it whatever -v
                // says (the rest still goes, as with sendmail). Each element is read on its own
                // and compared with what the whole list gave: an element that gives no address
                // (`foo@`, a name alone), or an address the whole list lost around it. A list
                // read without a defect lost nothing: the usual case is not parsed twice.
                for element in list.defects.isEmpty ? [] : listElements(value) {
                    let alone = parseLenient(Array(element))
                    let boxes = alone.mailboxes.filter { !$0.localPart.isEmpty }
                    // (An empty group, `undisclosed-recipients:;`, names no one on purpose.)
                    if boxes.isEmpty && (!isEmptyGroup(alone) || !alone.defects.isEmpty) {
                        skipped.append("\(field.name): skipped \"\(shown(element))\": not an address")
                    }
                    for b in boxes where !sent.contains(Array(b.addrSpec.utf8)) && !refused.contains(Array(b.addrSpec.utf8)) {
                        skipped.append("\(field.name): skipped \"\(printable(b.addrSpec))\": not read as an address of the list")
                    }
                }
                if !list.defects.isEmpty {
                    warnings.append("\(field.name): \(list.defects.count) syntax problem(s) in the address list")
                }
            }
        }
        return (out, warnings, skipped)
    }

    /// Whether an address or word starts with the byte '-' (an option to whatever program may
    /// see it): compared as bytes, because '-' and a combining mark after it are one Character,
    /// and `hasPrefix("-")` is then false (found by fuzz-recipients).
    public static func startsWithDash(_ s: some StringProtocol) -> Bool {
        s.utf8.first == UInt8(ascii: "-")
    }

    /// A quoted local part may hold a tab or another control character (RFC 5322's quoted-pair
    /// and obs-qtext), but SMTP cannot carry it (RFC 5321 4.1.2: qtextSMTP and quoted-pairSMTP
    /// are printable ASCII): the relay would refuse RCPT TO, so it is refused at submission.
    static func hasControl(_ address: String) -> Bool {
        address.utf8.contains { $0 < 32 || $0 == 127 }
    }
    static let controlInAddress = "a control character (tab or other) in the address, which SMTP cannot carry"

    /// An address for a message to the caller's terminal: control characters as `?`.
    static func printable(_ address: String) -> String {
        hasControl(address) ? String(decoding: address.utf8.map { $0 < 32 || $0 == 127 ? 63 : $0 }, as: UTF8.self) : address
    }

    /// Header text for a message: printable ASCII (others as `?`), at most 60 octets.
    static func shown(_ text: ArraySlice<UInt8>) -> String {
        String(decoding: text.prefix(60).map { $0 >= 32 && $0 < 127 ? $0 : 63 }, as: UTF8.self) + (text.count > 60 ? "..." : "")
    }

    /// The header as it is queued: Received on top; Bcc, Resent-Bcc, Return-Path and
    /// Content-Length removed; addresses qualified; lines over 998 octets folded where
    /// white space allows, else broken with CRLF + space (as Postfix does); missing (Resent-)Message-Id, Date and From appended in Postfix's order.
    public static func finalHeader(_ input: HeaderBlock, sender: String, fullNameOption: String?,
                                   context c: SubmissionContext) -> HeaderBlock {
        var out = HeaderBlock()
        let date = MessageDate.format(epochSeconds: c.epochSeconds, utcOffset: c.utcOffset)
        out.fields.append(HeaderField.folded(
            name: "Received",
            value: Array("by \(c.hostname) (sealmail, from userid \(c.uid)) id \(c.queueID); \(date)".utf8)))
        for field in input.fields {
            let lower = field.lowercasedName
            if droppedFields.contains(lower) { continue }
            var f = field
            if let nul = f.rawValue.firstIndex(of: 0) {
                f.rawValue.removeSubrange(nul...)  // Postfix cuts a field at a NUL byte
            }
            if addressFields.contains(lower), let q = c.qualifier.qualifyField(f.unfoldedValue) {
                f = HeaderField.folded(name: field.name, value: q)
            }
            out.fields.append(f)
        }
        let prefix = input.containsPrefix("Resent-") ? "Resent-" : ""
        if !input.contains(prefix + "Message-ID") {
            let id = MessageIdentifier.make(epochSeconds: c.epochSeconds, unique: c.queueID, host: c.hostname)
            out.fields.append(HeaderField.folded(name: prefix + "Message-Id", value: Array(id.utf8)))
        }
        if !input.contains(prefix + "Date") {
            out.fields.append(HeaderField.folded(name: prefix + "Date", value: Array(date.utf8)))
        }
        if !input.contains(prefix + "From") {
            let address = sender.isEmpty ? "MAILER-DAEMON@\(c.qualifier.domain)" : sender
            let name = sender.isEmpty ? nil : (fullNameOption ?? c.fullName)
            let value: String
            if let name, !name.isEmpty {
                value = "\(EncodedWord.encodePhrase(sanitizeName(name))) <\(address)>"
            } else {
                value = address
            }
            out.fields.append(HeaderField.folded(name: prefix + "From", value: Array(value.utf8)))
        }
        // Every field, those added here too (a -F name or a sender of one long word: found by
        // Tests/Fuzz, fuzz-header), ends with no line over 998 octets.
        out.fields = out.fields.map(HeaderFolding.limitLineLength)
        return out
    }

    /// An address list where a `;` that ends no group separates addresses, as users write it
    /// (`a@x; b@y`) and Postfix reads it: the rest after the `;` is parsed again.
    /// The defects of every part are kept (the `;` taken as a separator is not one); the
    /// offsets of those after a `;` count from the start of their part.
    static func parseLenient(_ value: [UInt8]) -> AddressList {
        var list = AddressParser.parseList(value)
        var earlier: [AddressDefect] = []
        var rest = value
        for _ in 0..<100 {
            guard let garbage = list.defects.lazy.compactMap({ d -> Int? in
                if case .trailingGarbage(let at) = d { return at } else { return nil }
            }).first, garbage < rest.count, rest[garbage] == 59 else { break }
            earlier += list.defects.filter { $0 != .trailingGarbage(at: garbage) }
            rest = Array(rest[(garbage + 1)...])
            let more = AddressParser.parseList(rest)
            list = AddressList(addresses: list.addresses + more.addresses, defects: more.defects)
        }
        return AddressList(addresses: list.addresses, defects: earlier + list.defects)
    }

    /// The elements of an address list: split at the commas outside quoted strings,
    /// comments, angle brackets and domain literals (RFC 5322 3.4), trimmed; empty ones left out.
    static func listElements(_ value: [UInt8]) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var start = 0, i = 0
        var quoted = false, comment = 0, angle = false, literal = false
        func cut(_ end: Int) {
            let element = TextLines.trimmed(value[start..<end])
            if !element.isEmpty { out.append(element) }
        }
        while i < value.count {
            let c = value[i]
            if (quoted || comment > 0) && c == 92 { i += 2; continue }  // a quoted-pair
            if quoted { if c == 34 { quoted = false } }
            else if comment > 0 { if c == 40 { comment += 1 } else if c == 41 { comment -= 1 } }
            else if literal { if c == 93 { literal = false } }
            else {
                switch c {
                case 34: quoted = true
                case 40: comment = 1
                case 91: literal = true
                case 60: angle = true
                case 62: angle = false
                case 44 where !angle: cut(i); start = i + 1
                default: break
                }
            }
            i += 1
        }
        cut(min(i, value.count))
        return out
    }

    /// The most unquoted `@` signs in one comma-separated element of `s`.
    static func unquotedAtSigns(_ s: String) -> Int {
        var quoted = false, n = 0, most = 0
        for c in s.utf8 {
            if c == 34 { quoted.toggle() } else if c == 64 && !quoted { n += 1 } else if c == 44 && !quoted { n = 0 }
            most = max(most, n)
        }
        return most
    }

    /// A display name from argv, the environment or GECOS, with controls turned into spaces.
    static func sanitizeName(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 32 || $0.value == 127 ? " " : $0 }))
    }

    static func isEmptyGroup(_ list: AddressList) -> Bool {
        list.addresses.contains { if case .group = $0 { return true } else { return false } }
    }

    /// Duplicate detection: the domain is case-insensitive, the local part is not (RFC 5321 2.4).
    /// The `@` is found as a byte: with a combining mark after it, it is not a Character of its own.
    static func canonicalKey(_ address: String) -> String {
        let bytes = address.utf8
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return address }
        return String(decoding: bytes[..<at], as: UTF8.self) + "@"
            + String(decoding: bytes[bytes.index(after: at)...], as: UTF8.self).lowercased()
    }
}
