// Address model: the values the address parser (AddressParser.swift) produces.
//
// RFCs: RFC 5322 3.4 (address specification), 4.4 (obsolete addressing), RFC 6532 3.2
// (UTF-8 in addresses), RFC 2047 (encoded words in display names).

/// A mailbox (RFC 5322 3.4) found in a header field value.
///
/// `localPart` and `domain` are in wire form, ready for an SMTP envelope (RFC 5321 4.1.2):
/// the obsolete spaces and comments of RFC 5322 4.4 are removed and a local part is quoted only
/// when it is not a dot-atom. The byte ranges point into the text that was parsed, so a caller can
/// rewrite one part (e.g. qualify `root`) and keep everything else byte for byte.
public struct Mailbox: Equatable, Sendable {
    /// The display name (RFC 5322 3.4 `display-name`), decoded: quotes removed, quoted-pairs
    /// unescaped, RFC 2047 encoded words decoded, whitespace runs collapsed to one space, control
    /// characters replaced by spaces. `nil` when absent or empty.
    public var displayName: String?
    /// The local part (RFC 5322 3.4.1) in wire form: a dot-atom as is, otherwise a quoted-string
    /// (`"john doe"`, `"john..doe"`). A quoted-string that is also a dot-atom loses its quotes.
    public var localPart: String
    /// The domain (RFC 5322 3.4.1), `nil` when the mailbox is unqualified (`root`). A domain
    /// literal keeps its brackets (`[192.0.2.1]`); obs-domain spaces and comments are removed.
    public var domain: String?
    /// The domains of an obs-route (RFC 5322 4.4, `<@a,@b:user@c>` gives `["a", "b"]`); usually empty.
    /// RFC 5321 C says to ignore a source route; it is kept here only so nothing is silently lost.
    public var route: [String]
    /// Byte offsets, in the parsed input, of the addr-spec (local-part through domain, without angle brackets).
    /// Used to qualify unqualified addresses by splicing the original text, so display names and comments survive byte for byte.
    public var addrSpecRange: Range<Int>
    /// Byte offsets, in the parsed input, of the local part (including quotes and any obsolete CFWS inside it).
    public var localPartRange: Range<Int>
    /// Byte offsets, in the parsed input, of the domain (including brackets of a domain literal); `nil` when unqualified.
    public var domainRange: Range<Int>?
    /// Text of the comment(s) after a mailbox that has no display name, decoded like a display name:
    /// the old-style name of RFC 822 (`root (Cron Daemon)` gives `"Cron Daemon"`). `nil` otherwise.
    public var comment: String?

    /// The addr-spec (RFC 5322 3.4.1): `localPart`, then `@` and `domain` when qualified.
    public var addrSpec: String {
        guard let domain else { return localPart }
        return localPart + "@" + domain
    }

    /// Creates a mailbox. The ranges default to empty: a mailbox built in code has no source text.
    public init(displayName: String? = nil, localPart: String, domain: String? = nil, route: [String] = [],
                addrSpecRange: Range<Int> = 0..<0, localPartRange: Range<Int> = 0..<0,
                domainRange: Range<Int>? = nil, comment: String? = nil) {
        self.displayName = displayName
        self.localPart = localPart
        self.domain = domain
        self.route = route
        self.addrSpecRange = addrSpecRange
        self.localPartRange = localPartRange
        self.domainRange = domainRange
        self.comment = comment
    }
}

/// An address (RFC 5322 3.4): a mailbox, or a named group of mailboxes.
public enum Address: Equatable, Sendable {
    /// A single mailbox (`name-addr` or `addr-spec`).
    case mailbox(Mailbox)
    /// A group (`display-name ":" [group-list] ";"`); `undisclosed-recipients:;` has no members.
    case group(name: String, members: [Mailbox])

    /// The mailboxes of this address: itself, or the members of the group.
    public var mailboxes: [Mailbox] {
        switch self {
        case .mailbox(let mailbox): return [mailbox]
        case .group(_, let members): return members
        }
    }
}

/// A problem found while parsing an address list. Each carries the byte offset, in the parsed
/// input, where it was found. The parser never throws: it records a defect and recovers (in the
/// manner of CPython's `email` package).
public enum AddressDefect: Equatable, Sendable {
    /// A quoted-string (RFC 5322 3.2.4) runs to the end of the input.
    case unterminatedQuotedString(at: Int)
    /// A comment (RFC 5322 3.2.2) runs to the end of the input.
    case unterminatedComment(at: Int)
    /// An angle-addr (RFC 5322 3.4) has no closing `>`; the mailbox is kept.
    case unterminatedAngleAddr(at: Int)
    /// A domain literal (RFC 5322 3.4.1) has no closing `]`; the mailbox is dropped.
    case unterminatedDomainLiteral(at: Int)
    /// A byte that is not allowed where it is: CR, LF, NUL or another control (they are never part of
    /// an address), a stray special, words not separated by dots in a local part, an empty label.
    case invalidCharacter(at: Int)
    /// An empty list element (`a@b,,c@d`, a leading or trailing comma): RFC 5322 4.4 obs-addr-list.
    case emptyElement(at: Int)
    /// `@domain` without a local part, or `<>` in an address list.
    case missingLocalPart(at: Int)
    /// An obsolete form of RFC 5322 4.4 that was accepted: obs-route, obs-local-part or obs-domain
    /// with CFWS around dots, obs-phrase with dots, quoted-pairs in a domain literal.
    case obsoleteSyntax(at: Int)
    /// A byte over 127 (RFC 6532 UTF-8, accepted; the message needs SMTPUTF8 or encoding).
    case eightBitInAddress(at: Int)
    /// An encoded word (RFC 2047) that could not be decoded (unknown charset or bad encoding); left as is.
    case encodedWordNotDecoded(at: Int)
    /// Text after a complete address that is not a `,` (or `;` in a group); it is skipped.
    case trailingGarbage(at: Int)
    /// A group (RFC 5322 3.4) has no closing `;`; its members are kept.
    case unterminatedGroup(at: Int)
    /// `@` with nothing usable after it; the mailbox is dropped.
    case missingDomain(at: Int)
    /// A phrase with no address after it (`John Smith` alone); the element is skipped.
    case missingAddrSpec(at: Int)
    /// A group with an empty name (`: a@b;`); the group is kept with the name `""`.
    case missingDisplayName(at: Int)
    /// A group inside a group (not allowed by RFC 5322 3.4); the element is skipped.
    case nestedGroup(at: Int)

    /// The byte offset where the defect was found.
    public var offset: Int {
        switch self {
        case .unterminatedQuotedString(let at), .unterminatedComment(let at), .unterminatedAngleAddr(let at),
             .unterminatedDomainLiteral(let at), .invalidCharacter(let at), .emptyElement(let at),
             .missingLocalPart(let at), .obsoleteSyntax(let at), .eightBitInAddress(let at),
             .encodedWordNotDecoded(let at), .trailingGarbage(let at), .unterminatedGroup(let at),
             .missingDomain(let at), .missingAddrSpec(let at), .missingDisplayName(let at),
             .nestedGroup(let at):
            return at
        }
    }

    /// Whether the defect is only informative (obsolete but understood syntax, 8-bit text, an encoded
    /// word left as is): the addresses are exactly what the sender meant.
    public var isBenign: Bool {
        switch self {
        case .obsoleteSyntax, .eightBitInAddress, .encodedWordNotDecoded: return true
        default: return false
        }
    }
}

/// The result of parsing an address list (RFC 5322 3.4 `address-list`): the addresses that were
/// understood, in order, and the defects found (sorted by offset).
public struct AddressList: Equatable, Sendable {
    /// The addresses, in input order.
    public var addresses: [Address]
    /// The defects, in order of their offset.
    public var defects: [AddressDefect]

    /// All mailboxes, with groups flattened, in input order.
    public var mailboxes: [Mailbox] { addresses.flatMap { $0.mailboxes } }

    /// Creates an address list.
    public init(addresses: [Address] = [], defects: [AddressDefect] = []) {
        self.addresses = addresses
        self.defects = defects
    }
}

/// A sender or recipient given on the command line (`-f`, `-r`, argv), RFC 5321 4.1.2 `Reverse-path`.
public enum SenderArgument: Equatable, Sendable {
    /// `<>` or the empty string: the null reverse-path (RFC 5321 4.5.5).
    case nullPath
    /// Exactly one mailbox.
    case mailbox(Mailbox)
    /// Anything else, with a reason fit for a message on stderr.
    case invalid(reason: String)
}

extension AddressDefect: CustomStringConvertible {
    /// A short English description with the offset, for a message on stderr or a log line.
    public var description: String {
        let what: String
        switch self {
        case .unterminatedQuotedString: what = "unterminated quoted string"
        case .unterminatedComment: what = "unterminated comment"
        case .unterminatedAngleAddr: what = "missing '>'"
        case .unterminatedDomainLiteral: what = "unterminated domain literal"
        case .invalidCharacter: what = "invalid character"
        case .emptyElement: what = "empty list element"
        case .missingLocalPart: what = "missing local part"
        case .obsoleteSyntax: what = "obsolete syntax"
        case .eightBitInAddress: what = "8-bit character"
        case .encodedWordNotDecoded: what = "encoded word not decoded"
        case .trailingGarbage: what = "unexpected text after address"
        case .unterminatedGroup: what = "missing ';' at end of group"
        case .missingDomain: what = "missing domain after '@'"
        case .missingAddrSpec: what = "name without an address"
        case .missingDisplayName: what = "group without a name"
        case .nestedGroup: what = "group inside a group"
        }
        return "\(what) at offset \(offset)"
    }
}
