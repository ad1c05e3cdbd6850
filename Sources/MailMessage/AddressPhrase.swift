// Display names and old-style comment names (RFC 5322 3.2.5 phrase, 4.4 obs-phrase, 3.2.2 comment),
// decoded for people: RFC 2047 encoded words decoded, whitespace collapsed.

extension AddressListParser {
    /// The decoded text of a phrase (RFC 5322 3.2.5 `phrase`, 4.4 `obs-phrase`): words joined by one
    /// space where the input separated them, quotes and quoted-pairs removed, encoded words decoded
    /// (RFC 2047 6.2). A dot (obs-phrase, `John Q. Public`) is accepted and recorded; an unquoted
    /// `[...]` is kept as text and recorded. Nil when the text is empty.
    mutating func displayName(_ words: Range<Int>) -> String? {
        var bytes: [UInt8] = []
        var dotAt: Int?
        for k in words {
            let token = tokens[k]
            if k > words.lowerBound, token.spaceBefore { bytes.append(0x20) }
            switch token.kind {
            case .atom, .quotedString:
                bytes += token.content
            case .domainLiteral:
                defects.append(.invalidCharacter(at: token.range.lowerBound))
                bytes += [UInt8(ascii: "[")] + token.content + [UInt8(ascii: "]")]
            case .special(let byte):
                if dotAt == nil { dotAt = token.range.lowerBound }
                bytes.append(byte)
            case .end:
                break
            }
        }
        if let at = dotAt { defects.append(.obsoleteSyntax(at: at)) }
        return humanText(bytes, at: tokens[words.lowerBound].range.lowerBound)
    }

    /// The comments just before the current token (after a mailbox), joined, as an old-style name.
    mutating func trailingComment() -> String? {
        let found = current.comments
        guard let first = found.first else { return nil }
        var bytes: [UInt8] = []
        for k in found {
            if !bytes.isEmpty { bytes.append(0x20) }
            bytes += comments[k].text
        }
        return humanText(bytes, at: comments[first].range.lowerBound)
    }

    /// Decodes encoded words (recording the ones left encoded), turns controls into spaces, collapses
    /// whitespace runs and trims. Nil when nothing is left.
    mutating func humanText(_ bytes: [UInt8], at offset: Int) -> String? {
        let decoded = EncodedWord.decodeReporting(String(decoding: bytes, as: UTF8.self))
        if decoded.leftEncoded { defects.append(.encodedWordNotDecoded(at: offset)) }
        return Self.collapsingWhitespace(decoded.text)
    }

    /// Controls (C0, DEL, C1) become spaces, runs of whitespace one space, ends trimmed; nil if empty.
    static func collapsingWhitespace(_ text: String) -> String? {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v <= 0x20 || (0x7F...0x9F).contains(v) {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace {
                out.append(" ")
                pendingSpace = false
            }
            out.append(scalar)
        }
        return out.isEmpty ? nil : String(out)
    }
}
