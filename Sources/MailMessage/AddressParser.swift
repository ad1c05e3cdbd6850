// The public entry points of the address grammar.
//
// RFCs: RFC 5322 3.4 and 4.4 (addresses and their obsolete forms), RFC 6532 3.2 (UTF-8 in
// addresses), RFC 2047 (encoded words in display names), RFC 5321 4.1.2 (wire form of a local part).
// Known divergences, all lenient and all recorded as defects: empty words in a local part
// (`john..doe@x`) are accepted and the local part is quoted; encoded words are decoded inside
// quoted-strings; an unquoted `[...]` in a display name is kept as text; a missing `>` or `;` at the
// end of the input is forgiven.

/// Parsing of address lists (RFC 5322 3.4) and of command-line addresses.
public enum AddressParser {
    /// Parses an address-list (RFC 5322 3.4, with the obsolete forms of 4.4) from an unfolded header field body. Never throws: recovers and records defects; an element that cannot be understood is skipped with a defect.
    ///
    /// CR, LF, NUL and other control bytes are recorded as `invalidCharacter` and are never part of an
    /// address; an unquoted one separates tokens like a space. Ranges in the result are byte offsets in `bytes`.
    public static func parseList(_ bytes: [UInt8]) -> AddressList {
        var parser = AddressListParser(bytes)
        return parser.parseAddressList()
    }

    /// Parses an address-list from text; ranges in the result are offsets in `text.utf8`.
    public static func parseList(_ text: String) -> AddressList {
        parseList(Array(text.utf8))
    }

    /// Parses a single mailbox or bare addr-spec (used for -f and argv recipients, which may be `<a@b>`, `a@b`, `Name <a@b>`, `a` or `<>`). Returns nil if it is not exactly one mailbox; `.nullPath` for `<>` or the empty string.
    ///
    /// "nil" above means `.invalid(reason:)`: more than one address, a group, a control character
    /// (a line break could inject a header or a recipient: STYLE.md rule 3), or any defect that is
    /// not benign (`AddressDefect.isBenign`). Surrounding whitespace and comments are allowed.
    public static func parseSenderArgument(_ text: String) -> SenderArgument {
        let bytes = Array(text.utf8)
        if bytes.contains(where: { $0 == 0x0D || $0 == 0x0A }) { return .invalid(reason: "contains a line break") }
        if bytes.contains(0) { return .invalid(reason: "contains a NUL byte") }
        if bytes.contains(where: AddressBytes.isControl) { return .invalid(reason: "contains a control character") }
        let lexed = AddressTokenizer.tokenize(bytes)
        let tokens = lexed.tokens
        if tokens.count == 1 && lexed.comments.isEmpty { return .nullPath }
        if tokens.count == 3, tokens[0].isSpecial(UInt8(ascii: "<")), tokens[1].isSpecial(UInt8(ascii: ">")) {
            return .nullPath
        }
        let list = parseList(bytes)
        if let defect = list.defects.first(where: { !$0.isBenign }) { return .invalid(reason: defect.description) }
        guard list.addresses.count == 1 else {
            return .invalid(reason: list.addresses.isEmpty ? "no address" : "more than one address")
        }
        guard case .mailbox(let mailbox) = list.addresses[0] else {
            return .invalid(reason: "a group, not a single mailbox")
        }
        return .mailbox(mailbox)
    }
}
