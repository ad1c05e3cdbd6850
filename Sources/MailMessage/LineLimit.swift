/// The line length limit: at most 998 octets between line ends (RFC 5322 2.1.1, RFC 5321
/// 4.5.3.1.6). Re-encoding a body (quoted-printable) keeps its text intact and is done where
/// the MIME structure allows it (SMTPProtocol's `MessageConversion`); what is left is broken
/// here, the way Postfix's `smtp_line_length_limit` does it, because a server may refuse a
/// longer line outright (aiosmtpd: `500 Line too long`) and the message would bounce.
public enum LineLimit {
    /// The longest line allowed, line end excluded.
    public static let maxOctets = 998

    /// Whether a line of CRLF (or LF) text is longer than `maxOctets`. Inlinable, so that a
    /// caller's `[UInt8]` gets a specialised loop (unspecialised, a byte cost a few protocol
    /// witness calls: a third of the Mailer's CPU time).
    @inlinable
    public static func hasLongLine<C: Collection>(_ text: C) -> Bool where C.Element == UInt8 {
        var length = 0
        for byte in text {
            if byte == 10 || byte == 13 {
                length = 0
            } else {
                length += 1
                if length > maxOctets { return true }
            }
        }
        return false
    }

    /// One header line (no line end) as lines of at most `maxOctets` joined by CRLF: folded
    /// before its last white space within the limit (RFC 5322 2.2.3: unfolding gives the
    /// same value), or, where a word is longer than that, broken with CRLF + space after
    /// `maxOctets` octets (the value then unfolds with one added space, as Postfix's does).
    ///
    /// A line that starts with a field name (not with white space) keeps `Name:` whole on its
    /// first line: a field name is never split (a name too long for one line is refused at
    /// submission, `HeaderFolding.maxFieldNameOctets`; here it is broken as a last resort).
    /// No line is left holding white space only; a line holding only `Name:` is made when
    /// that alone saves the next word from being broken.
    public static func breakHeaderLine<C: Collection>(_ line: C) -> [UInt8] where C.Element == UInt8 {
        let b = Array(line)
        guard b.count > maxOctets else { return b }
        func isWSP(_ x: UInt8) -> Bool { x == 32 || x == 9 }
        var out: [UInt8] = []
        out.reserveCapacity(b.count + b.count / maxOctets * 3 + 3)
        // Where the field body starts on the first line (after `Name:`); 0 for a continuation
        // line, whose colons belong to the value.
        var contentStart = isWSP(b[0]) ? 0 : (b.firstIndex(of: 58) ?? -1) + 1
        var start = 0
        var addedSpace = false
        while true {
            let room = maxOctets - (addedSpace ? 1 : 0)
            if addedSpace { out.append(32) }
            if b.count - start <= room {
                out.append(contentsOf: b[start...])
                return out
            }
            // The last white space at which the line can be folded within the limit.
            var fold = start + room
            while fold > start, !isWSP(b[fold]) { fold -= 1 }
            let lo = max(start, contentStart)
            let hasContent = fold > lo && b[lo..<fold].contains { !isWSP($0) }
            // Only the name before it: worth it when the next word then fits on its own line.
            var nameOnly = false
            if !hasContent, contentStart > 0, fold >= contentStart, fold > start,
               b[contentStart..<fold].allSatisfy(isWSP) {
                var wordEnd = fold
                while wordEnd < b.count, isWSP(b[wordEnd]) { wordEnd += 1 }
                while wordEnd < b.count, !isWSP(b[wordEnd]) { wordEnd += 1 }
                nameOnly = wordEnd - fold <= maxOctets
            }
            if hasContent || nameOnly {
                out.append(contentsOf: b[start..<fold])
                start = fold
                addedSpace = false
            } else {
                // No fold: a hard break, never inside `Name:` while it fits on the line.
                let cut = start + room
                out.append(contentsOf: b[start..<cut])
                start = cut
                addedSpace = true
            }
            out.append(13); out.append(10)
            contentStart = 0
        }
    }

    /// One body line (no line end) as lines of at most `maxOctets` joined by CRLF (hard
    /// breaks: the last resort for content that cannot be re-encoded).
    public static func breakBodyLine<C: Collection>(_ line: C) -> [UInt8] where C.Element == UInt8 {
        let b = Array(line)
        guard b.count > maxOctets else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count + b.count / maxOctets * 2)
        var start = 0
        while b.count - start > maxOctets {
            out.append(contentsOf: b[start..<(start + maxOctets)])
            out.append(13); out.append(10)
            start += maxOctets
        }
        out.append(contentsOf: b[start...])
        return out
    }
}

extension HeaderFolding {
    /// The longest field name that fits on a line with its colon (RFC 5322 2.1.1, 2.2).
    public static let maxFieldNameOctets = LineLimit.maxOctets - 1

    /// The first field whose name is too long to be written on a line, if any: such a
    /// message cannot be made valid without renaming the field, so it is refused.
    public static func fieldNameTooLong(in block: HeaderBlock) -> HeaderField? {
        block.fields.first { $0.name.utf8.count > maxFieldNameOctets }
    }

    /// A field whose physical lines are all at most 998 octets: folded at white space near 78
    /// columns when a line is too long, then, if a word is still longer than the limit, broken
    /// as `LineLimit.breakHeaderLine` does. Other fields are returned untouched.
    public static func limitLineLength(_ field: HeaderField) -> HeaderField {
        let folded = foldIfTooLong(field)
        guard longestLine(of: folded) > LineLimit.maxOctets else { return folded }
        // `Name:` must fit on its line; a longer name cannot be written at all (the caller
        // refuses the message: `fieldNameTooLong`).
        guard field.name.utf8.count <= maxFieldNameOctets else { return folded }
        let prefix = Array(field.name.utf8) + [58]
        let wire = prefix + folded.rawValue
        var out: [UInt8] = []
        var lineStart = 0
        var i = 0
        while i <= wire.count {
            if i == wire.count || (wire[i] == 13 && i + 1 < wire.count && wire[i + 1] == 10) {
                if lineStart > 0 { out.append(13); out.append(10) }
                out.append(contentsOf: LineLimit.breakHeaderLine(wire[lineStart..<i]))
                lineStart = i + 2
                i += 2
                continue
            }
            i += 1
        }
        var f = folded
        f.rawValue = Array(out.dropFirst(prefix.count))
        return f
    }
}
