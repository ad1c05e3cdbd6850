/// Header field bodies with their 8-bit octets re-encoded as RFC 2047 encoded words, for a
/// relay that takes no 8-bit header (no SMTPUTF8: RFC 6531 3.5, RFC 6532). What a reader
/// decodes is what arrived: UTF-8 text as UTF-8, other octets under `unknown-8bit` (RFC 1428),
/// as CPython's email package writes them.
///
/// - Unstructured text (RFC 5322 3.2.5; Subject, Comments, optional fields 3.6.8): the words
///   from the first 8-bit one to the last become encoded words (RFC 2047 5(1)); ASCII words
///   around them and encoded words already there stay as they are.
/// - Address fields (RFC 5322 3.4): display names and group names (phrases, RFC 2047 5(3)) and
///   comments (RFC 2047 5(2)) are encoded the same way; the addresses are kept byte for byte.
///   An 8-bit octet in an address itself (RFC 6532 3.2) cannot be encoded: such a field
///   needs SMTPUTF8, and `encodeAddressField` returns nil.
///
/// RFC 2047 6.2 has a reader drop the white space between two adjacent encoded words; where a
/// new encoded word comes next to one that was there, that white space is encoded into the
/// new word, so that it survives.
public enum SevenBitHeader {
    /// An unstructured field body (unfolded, no CR/LF) with its 8-bit words encoded; the
    /// same bytes when it has none.
    public static func encodeUnstructured(_ value: [UInt8]) -> [UInt8] {
        guard value.contains(where: { $0 >= 0x80 }) else { return value }
        var words: [Word] = []
        var i = 0
        while i < value.count {
            var start = i
            while start < value.count, value[start] == 0x20 || value[start] == 0x09 { start += 1 }
            guard start < value.count else { break }
            var end = start
            while end < value.count, value[end] != 0x20, value[end] != 0x09 { end += 1 }
            let bytes = Array(value[start..<end])
            words.append(Word(range: start..<end, text: bytes, gap: Array(value[i..<start]),
                              isEncodedWord: EncodedWord.parse(bytes, at: 0)?.end == bytes.count))
            i = end
        }
        return apply(runs(words), to: value)
    }

    /// An address field body (unfolded, no CR/LF) with its 8-bit phrases and comments
    /// encoded, or nil when an address (local part, domain, route, domain literal) holds an
    /// 8-bit octet, which only SMTPUTF8 can carry.
    public static func encodeAddressField(_ value: [UInt8]) -> [UInt8]? {
        guard value.contains(where: { $0 >= 0x80 }) else { return value }
        let lexed = AddressTokenizer.tokenize(value)
        let tokens = lexed.tokens
        var replacements: [(Range<Int>, [UInt8])] = []
        var inPhrase = Array(repeating: false, count: tokens.count)
        // Phrases: runs of words outside <...> that a '<' (display name) or ':' (group) follows.
        var depth = 0
        var k = 0
        while k < tokens.count {
            if tokens[k].isSpecial(UInt8(ascii: "<")) { depth += 1 }
            if tokens[k].isSpecial(UInt8(ascii: ">")) { depth = max(0, depth - 1) }
            guard depth == 0, tokens[k].isPhrasePart else { k += 1; continue }
            var end = k
            while end < tokens.count, tokens[end].isPhrasePart { end += 1 }
            if end < tokens.count, tokens[end].isSpecial(UInt8(ascii: "<")) || tokens[end].isSpecial(UInt8(ascii: ":")) {
                for m in k..<end { inPhrase[m] = true }
                var words: [Word] = []
                var previousEnd = tokens[k].range.lowerBound
                for m in k..<end {
                    let t = tokens[m]
                    let text: [UInt8]
                    if case .special(let byte) = t.kind { text = [byte] } else { text = t.content }
                    words.append(Word(range: t.range, text: text, gap: Array(value[previousEnd..<t.range.lowerBound]),
                                      isEncodedWord: t.kind == .atom && EncodedWord.parse(t.content, at: 0)?.end == t.content.count,
                                      afterComment: !t.comments.isEmpty))
                    previousEnd = t.range.upperBound
                }
                replacements += runs(words, touchingWordsJoin: true)
            }
            k = end
        }
        for (index, token) in tokens.enumerated() where !inPhrase[index] {
            if value[token.range].contains(where: { $0 >= 0x80 }) { return nil }
        }
        for comment in lexed.comments where value[comment.range].contains(where: { $0 >= 0x80 }) {
            replacements.append((comment.range, [UInt8(ascii: "(")] + Array(EncodedWord.encodeOctets(comment.text).utf8) + [UInt8(ascii: ")")]))
        }
        return apply(replacements, to: value)
    }

    // MARK: runs of words

    /// A word of a field body: its place, its text (a quoted-string's unescaped), the bytes
    /// between it and the word before, and whether it is an encoded word already.
    struct Word {
        var range: Range<Int>
        var text: [UInt8]
        var gap: [UInt8]
        var isEncodedWord: Bool
        /// A comment separates it from the word before: no run crosses it.
        var afterComment = false
        var isEightBit: Bool { text.contains { $0 >= 0x80 } }
    }

    /// The replacements that encode every run of words from an 8-bit word to the last 8-bit
    /// word before an encoded word, a comment or the end; ASCII words inside a run are encoded
    /// with it (their spacing kept). With `touchingWordsJoin` (phrases), words with no white
    /// space between them and a run join it, so that an encoded word stays a whole word.
    static func runs(_ words: [Word], touchingWordsJoin: Bool = false) -> [(Range<Int>, [UInt8])] {
        var out: [(Range<Int>, [UInt8])] = []
        var i = 0
        while i < words.count {
            guard words[i].isEightBit else { i += 1; continue }
            var first = i
            var last = i
            var k = i + 1
            while k < words.count, !words[k].afterComment, !words[k].isEncodedWord {
                if words[k].isEightBit || (touchingWordsJoin && words[k].gap.isEmpty && k == last + 1) { last = k }
                k += 1
            }
            while touchingWordsJoin, first > 0, words[first].gap.isEmpty, !words[first].afterComment,
                  !words[first - 1].isEncodedWord {
                first -= 1
            }
            var text: [UInt8] = []
            // White space next to an encoded word that was there is kept inside the new one.
            if first > 0, words[first - 1].isEncodedWord, !words[first].afterComment { text += words[first].gap }
            for m in first...last {
                if m > first { text += words[m].gap }
                text += words[m].text
            }
            if last + 1 < words.count, words[last + 1].isEncodedWord, !words[last + 1].afterComment {
                text += words[last + 1].gap
            }
            out.append((words[first].range.lowerBound..<words[last].range.upperBound, Array(EncodedWord.encodeOctets(text).utf8)))
            i = last + 1
        }
        return out
    }

    /// `value` with the ranges replaced (ranges do not overlap).
    static func apply(_ replacements: [(Range<Int>, [UInt8])], to value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(value.count * 2)
        var position = 0
        for (range, bytes) in replacements.sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) {
            out += value[position..<range.lowerBound]
            out += bytes
            position = range.upperBound
        }
        out += value[position...]
        return out
    }
}
