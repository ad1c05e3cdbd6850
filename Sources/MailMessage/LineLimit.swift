/// The line length limit: at most 998 octets between line ends (RFC 5322 2.1.1, RFC 5321
/// 4.5.3.1.6). Re-encoding a body (quoted-printable) keeps its text intact and is done where
/// the MIME structure allows it (SMTPProtocol's `MessageConversion`); what is left is broken
/// here, the way Postfix's `smtp_line_length_limit` does it, because a server may refuse a
/// longer line outright (aiosmtpd: `500 Line too long`) and the message would bounce.
public enum LineLimit {
    /// The longest line allowed, line end excluded.
    public static let maxOctets = 998

    /// Whether a line of CRLF (or LF) text is longer than `maxOctets`.
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
    /// A fold never leaves a line with nothing but the field name or white space on it.
    public static func breakHeaderLine<C: Collection>(_ line: C) -> [UInt8] where C.Element == UInt8 {
        let b = Array(line)
        guard b.count > maxOctets else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count + b.count / maxOctets * 3 + 3)
        // Where the field body starts on the first line (after `Name:`).
        var contentStart = (b.firstIndex(of: 58) ?? -1) + 1
        var start = 0
        var addedSpace = false
        while true {
            let room = maxOctets - (addedSpace ? 1 : 0)
            if addedSpace { out.append(32) }
            if b.count - start <= room {
                out.append(contentsOf: b[start...])
                return out
            }
            var fold = start + room
            while fold > start, b[fold] != 32, b[fold] != 9 { fold -= 1 }
            let lo = max(start, contentStart)
            if fold > lo, b[lo..<fold].contains(where: { $0 != 32 && $0 != 9 }) {
                out.append(contentsOf: b[start..<fold])
                start = fold
                addedSpace = false
            } else {
                out.append(contentsOf: b[start..<(start + room)])
                start += room
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
    /// A field whose physical lines are all at most 998 octets: folded at white space near 78
    /// columns when a line is too long, then, if a word is still longer than the limit, broken
    /// as `LineLimit.breakHeaderLine` does. Other fields are returned untouched.
    public static func limitLineLength(_ field: HeaderField) -> HeaderField {
        let folded = foldIfTooLong(field)
        guard longestLine(of: folded) > LineLimit.maxOctets else { return folded }
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
