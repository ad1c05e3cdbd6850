// The address-list grammar (RFC 5322 3.4, obsolete forms of 4.4) over the tokens of Tokenizer.swift:
// lists, groups and the choice between name-addr and addr-spec. The parts of a mailbox (angle-addr,
// route, local part, domain, display name) are in AddressSpecParser.swift.
//
// Recursive descent over a flat token array with one cursor that only moves forward, so parsing is
// linear in the input. Nothing throws: a defect is recorded and the parser resynchronises at the next
// `,` (or `;` in a group, or `>` inside an angle-addr).

/// Parses one address list; see `AddressParser.parseList`.
struct AddressListParser {
    let input: [UInt8]
    let tokens: [AddressToken]
    let comments: [AddressComment]
    var defects: [AddressDefect]
    /// Index of the current token; never past the `.end` token.
    var pos = 0
    /// Inside a group's member list: `;` ends an element too.
    var inGroup = false

    init(_ bytes: [UInt8]) {
        input = bytes
        let lexed = AddressTokenizer.tokenize(bytes)
        tokens = lexed.tokens
        comments = lexed.comments
        defects = lexed.defects
    }

    // MARK: - Cursor

    var current: AddressToken { tokens[pos] }

    var atEnd: Bool { tokens[pos].kind == .end }

    func isAt(_ ascii: Unicode.Scalar) -> Bool { tokens[pos].kind == .special(UInt8(ascii: ascii)) }

    mutating func advance() {
        if pos < tokens.count - 1 { pos += 1 }
    }

    /// At a token that ends a list element: `,`, the end, or `;` in a group.
    var atElementEnd: Bool { isAt(",") || atEnd || (inGroup && isAt(";")) }

    /// Skips to the end of the current element (see `atElementEnd`).
    mutating func skipElement() {
        while !atElementEnd { advance() }
    }

    // MARK: - Lists

    /// address-list = (address *("," address)) / obs-addr-list (RFC 5322 3.4, 4.4).
    mutating func parseAddressList() -> AddressList {
        var addresses: [Address] = []
        while !atEnd {
            if isAt(",") {
                defects.append(.emptyElement(at: current.range.lowerBound))
                advance()
                continue
            }
            if let address = parseAddress() { addresses.append(address) }
            endElement()
        }
        return AddressList(addresses: addresses, defects: sortedDefects())
    }

    /// After an element: skips trailing garbage, then consumes a `,` (recording an empty element if
    /// the list ends right after it).
    mutating func endElement() {
        if !atElementEnd {
            defects.append(.trailingGarbage(at: current.range.lowerBound))
            skipElement()
        }
        if isAt(",") {
            let comma = current.range.lowerBound
            advance()
            if atEnd || (inGroup && isAt(";")) { defects.append(.emptyElement(at: comma)) }
        }
    }

    /// address = mailbox / group; mailbox = name-addr / addr-spec (RFC 5322 3.4). Returns nil, with a
    /// defect recorded and the element skipped, when the element cannot be understood.
    mutating func parseAddress() -> Address? {
        let start = pos
        while current.isPhrasePart { advance() }
        let phrase = start..<pos
        let here = current.range.lowerBound
        switch current.kind {
        case .special(UInt8(ascii: "<")):
            let name = phrase.isEmpty ? nil : displayName(phrase)
            guard var mailbox = parseAngleAddr() else { return nil }
            mailbox.displayName = name
            if name == nil { mailbox.comment = trailingComment() }
            return .mailbox(mailbox)
        case .special(UInt8(ascii: ":")):
            if inGroup {
                defects.append(.nestedGroup(at: here))
                skipElement()
                return nil
            }
            return parseGroup(phrase)
        case .special(UInt8(ascii: "@")) where phrase.isEmpty:
            defects.append(.missingLocalPart(at: here))
            skipElement()
            return nil
        default:
            if phrase.isEmpty {
                defects.append(.invalidCharacter(at: here))
                skipElement()
                return nil
            }
            // addr-spec, qualified (`a@b`) or not (`root`).
            let adjacent: AdjacentWords = isAt("@") ? .invalidCharacter : .missingAddrSpec
            guard var mailbox = parseAddrSpec(localPart: phrase, wordsWithoutDot: adjacent) else {
                skipElement()
                return nil
            }
            mailbox.comment = trailingComment()
            return .mailbox(mailbox)
        }
    }

    /// group = display-name ":" [group-list] ";" [CFWS] (RFC 5322 3.4); a missing `;` is recorded.
    mutating func parseGroup(_ phrase: Range<Int>) -> Address {
        let colon = current.range.lowerBound
        if phrase.isEmpty { defects.append(.missingDisplayName(at: colon)) }
        let name = phrase.isEmpty ? "" : (displayName(phrase) ?? "")
        advance()
        inGroup = true
        defer { inGroup = false }
        var members: [Mailbox] = []
        while true {
            if isAt(";") {
                advance()
                break
            }
            if atEnd {
                defects.append(.unterminatedGroup(at: colon))
                break
            }
            if isAt(",") {
                defects.append(.emptyElement(at: current.range.lowerBound))
                advance()
                continue
            }
            if let address = parseAddress() { members += address.mailboxes }
            endElement()
        }
        return .group(name: name, members: members)
    }

    /// The defects by offset (the tokenizer's come first in `defects`, the parser's after).
    func sortedDefects() -> [AddressDefect] {
        if zip(defects, defects.dropFirst()).allSatisfy({ $0.offset <= $1.offset }) { return defects }
        return defects.enumerated()
            .sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }
            .map(\.element)
    }
}
