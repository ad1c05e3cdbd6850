// The parts of a mailbox (RFC 5322 3.4, 3.4.1, 4.4): angle-addr with obs-route, addr-spec, local
// part, domain. Display names and comments are in AddressPhrase.swift.

extension AddressListParser {
    /// Which defect to record when a local part has two words with no dot between them: inside an
    /// angle-addr or before `@` it is an invalid character; alone (`John Smith`) it is a phrase
    /// without an address.
    enum AdjacentWords { case invalidCharacter, missingAddrSpec }

    /// angle-addr = [CFWS] "<" addr-spec ">" [CFWS] / obs-angle-addr (RFC 5322 3.4, 4.4: obs-route).
    /// The current token is `<`. An unqualified `<root>` is accepted; a missing `>` at the end of the
    /// input is recorded and the mailbox kept.
    mutating func parseAngleAddr() -> Mailbox? {
        let open = current.range.lowerBound
        advance()
        var route: [String] = []
        if isAt("@") || isAt(",") {
            let routeStart = current.range.lowerBound
            guard parseRoute(&route) else {
                skipAngleAddr()
                return nil
            }
            defects.append(.obsoleteSyntax(at: routeStart))
        }
        let start = pos
        while current.isPhrasePart { advance() }
        if start == pos {
            if isAt("@") || isAt(">") {
                defects.append(.missingLocalPart(at: current.range.lowerBound))
            } else if atEnd {
                defects.append(.unterminatedAngleAddr(at: open))
            } else {
                defects.append(.invalidCharacter(at: current.range.lowerBound))
            }
            skipAngleAddr()
            return nil
        }
        guard var mailbox = parseAddrSpec(localPart: start..<pos, wordsWithoutDot: .invalidCharacter) else {
            skipAngleAddr()
            return nil
        }
        mailbox.route = route
        if isAt(">") {
            advance()
        } else if atEnd {
            defects.append(.unterminatedAngleAddr(at: open))
        } else {
            defects.append(.invalidCharacter(at: current.range.lowerBound))
            skipAngleAddr()
            return nil
        }
        return mailbox
    }

    /// After an error inside an angle-addr: skips past the next `>`, or up to the end of the element.
    mutating func skipAngleAddr() {
        while !atElementEnd {
            if isAt(">") {
                advance()
                return
            }
            advance()
        }
    }

    /// obs-route = obs-domain-list ":" (RFC 5322 4.4), obs-domain-list = *(CFWS / ",") "@" domain
    /// *("," [CFWS] ["@" domain]). The current token is `@` or `,`.
    mutating func parseRoute(_ route: inout [String]) -> Bool {
        while true {
            if isAt(",") {
                advance()
            } else if isAt("@") {
                guard let domain = parseDomain() else { return false }
                route.append(domain.text)
            } else if isAt(":") {
                advance()
                return true
            } else if isAt(">") {
                defects.append(.missingLocalPart(at: current.range.lowerBound))
                return false
            } else {
                defects.append(.invalidCharacter(at: current.range.lowerBound))
                return false
            }
        }
    }

    /// addr-spec = local-part ["@" domain] (RFC 5322 3.4.1; the domain is optional here, for `root`).
    /// `localPart` are the phrase-part tokens before the cursor; the cursor is at `@` or after them.
    mutating func parseAddrSpec(localPart words: Range<Int>, wordsWithoutDot: AdjacentWords) -> Mailbox? {
        guard let local = localPart(words, wordsWithoutDot: wordsWithoutDot) else { return nil }
        let localRange = tokens[words.lowerBound].range.lowerBound..<tokens[words.upperBound - 1].range.upperBound
        guard let localText = String(validating: local, as: UTF8.self) else {
            defects.append(.invalidCharacter(at: localRange.lowerBound))
            return nil
        }
        var mailbox = Mailbox(localPart: localText, addrSpecRange: localRange, localPartRange: localRange)
        if isAt("@") {
            guard let domain = parseDomain() else { return nil }
            mailbox.domain = domain.text
            mailbox.domainRange = domain.range
            mailbox.addrSpecRange = localRange.lowerBound..<domain.range.upperBound
        }
        // A control byte between the tokens (already recorded) must not end up inside a spliced address.
        if input[mailbox.addrSpecRange].contains(where: AddressBytes.isControl) { return nil }
        return mailbox
    }

    /// local-part = dot-atom / quoted-string / obs-local-part (RFC 5322 3.4.1, 4.4), in wire form:
    /// the words joined by dots, quoted (RFC 5321 4.1.2 Quoted-string) unless that is a dot-atom.
    /// Empty words (`john..doe`, `john.`) are accepted with a defect, as mailers that write them exist.
    mutating func localPart(_ words: Range<Int>, wordsWithoutDot: AdjacentWords) -> [UInt8]? {
        var content: [UInt8] = []
        var expectWord = true
        var obsoleteAt: Int?
        var emptyWordAt: Int?
        for k in words {
            let token = tokens[k]
            let at = token.range.lowerBound
            if k > words.lowerBound, token.spaceBefore, obsoleteAt == nil { obsoleteAt = at }
            if token.kind == .special(UInt8(ascii: ".")) {
                if expectWord, emptyWordAt == nil { emptyWordAt = at }
                content.append(UInt8(ascii: "."))
                expectWord = true
                continue
            }
            guard expectWord else {
                switch wordsWithoutDot {
                case .invalidCharacter: defects.append(.invalidCharacter(at: at))
                case .missingAddrSpec: defects.append(.missingAddrSpec(at: tokens[words.lowerBound].range.lowerBound))
                }
                return nil
            }
            if token.broken { return nil }
            if token.kind == .domainLiteral {
                defects.append(.invalidCharacter(at: at))
                return nil
            }
            if token.kind == .quotedString, words.count > 1, obsoleteAt == nil { obsoleteAt = at }
            content += token.content
            expectWord = false
        }
        if expectWord, emptyWordAt == nil { emptyWordAt = tokens[words.upperBound - 1].range.lowerBound }
        if let at = obsoleteAt { defects.append(.obsoleteSyntax(at: at)) }
        if let at = emptyWordAt { defects.append(.invalidCharacter(at: at)) }
        return AddressBytes.isDotAtom(content) ? content : Self.quoted(content)
    }

    /// A quoted-string (RFC 5322 3.2.4) holding `content`, with `"` and `\` escaped.
    static func quoted(_ content: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for b in content {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    /// domain = dot-atom / domain-literal / obs-domain (RFC 5322 3.4.1, 4.4). The current token is `@`;
    /// on return the cursor is after the domain. Returns nil (with a defect) when there is none.
    mutating func parseDomain() -> (text: String, range: Range<Int>)? {
        let at = current.range.lowerBound
        advance()
        if current.kind == .domainLiteral {
            let literal = current
            advance()
            guard !literal.broken,
                  let text = String(validating: [UInt8(ascii: "[")] + literal.content + [UInt8(ascii: "]")],
                                    as: UTF8.self) else { return nil }
            return (text, literal.range)
        }
        var content: [UInt8] = []
        var expectLabel = true
        let first = pos
        var end = at
        var obsoleteAt: Int?
        var emptyLabelAt: Int?
        while true {
            let token = current
            let isDot = token.kind == .special(UInt8(ascii: "."))
            guard isDot || (token.kind == .atom && expectLabel) else { break }
            if pos > first, token.spaceBefore, obsoleteAt == nil { obsoleteAt = token.range.lowerBound }
            if isDot {
                if expectLabel, emptyLabelAt == nil { emptyLabelAt = token.range.lowerBound }
                content.append(UInt8(ascii: "."))
            } else {
                content += token.content
            }
            expectLabel = isDot
            end = token.range.upperBound
            advance()
        }
        guard pos > first else {
            defects.append(.missingDomain(at: at))
            return nil
        }
        if expectLabel, emptyLabelAt == nil { emptyLabelAt = end - 1 }
        if let offset = obsoleteAt { defects.append(.obsoleteSyntax(at: offset)) }
        if let offset = emptyLabelAt { defects.append(.invalidCharacter(at: offset)) }
        guard let text = String(validating: content, as: UTF8.self) else {
            defects.append(.invalidCharacter(at: tokens[first].range.lowerBound))
            return nil
        }
        return (text, tokens[first].range.lowerBound..<end)
    }
}
