import MailMessage

// RFC 9788 4.5.3, the legacy display element: when encryption hides a user-facing header field
// outside (hcp_baseline: the Subject becomes `[...]`), a client that does not read protected
// headers shows `[...]`. So the main body parts (4.5.3.3: the text parts a reader shows as
// the message) begin with the real values, `Subject: ...` and a blank line in text/plain, a
// `div.header-protection-legacy-display` in text/html, and are marked `hp-legacy-display="1"`
// so that readers that do know header protection can hide it again.

/// The obscured fields to show, and how a main body part gets them.
struct LegacyDisplay {
    /// Each obscured user-facing field: its name, its text (encoded words decoded), and its
    /// value as sent (for a part whose charset cannot carry the decoded text).
    struct Field {
        var name: String
        var text: String
        var raw: String
    }
    var fields: [Field]

    /// nil when nothing is to be shown.
    init?(_ fields: [Field]) {
        guard !fields.isEmpty else { return nil }
        self.fields = fields
    }

    /// The element's bytes for a part: `Name: value` lines and a blank line (text/plain), or
    /// the div (text/html); the values decoded when `decoded`, else as sent.
    func element(html: Bool, decoded: Bool) -> [UInt8] {
        let lines = fields.map { "\($0.name): \(decoded ? $0.text : $0.raw)" }
        guard html else { return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) }
        // Escaped byte by byte: `\u{0600}<` or `>\u{0301}` is one Character, which equals
        // neither "<" nor ">", so a Character-wise escape let a tag from the Subject into the
        // HTML that recipients see.
        var out = Array("<div class=\"header-protection-legacy-display\"><pre>".utf8)
        for (i, line) in lines.enumerated() {
            if i > 0 { out += [13, 10] }
            for b in line.utf8 {
                switch b {
                case UInt8(ascii: "&"): out += Array("&amp;".utf8)
                case UInt8(ascii: "<"): out += Array("&lt;".utf8)
                case UInt8(ascii: ">"): out += Array("&gt;".utf8)
                default: out.append(b)
                }
            }
        }
        return out + Array("</pre></div>\r\n".utf8)
    }

    /// A main body part's leaf (one segment, as `CanonicalPlanner.leaf` plans it) with the
    /// element in front, its Content-Type marked; unchanged when the part is not text/plain
    /// or text/html or its encoding is unknown.
    func apply(to leaf: CanonicalEntity, type: ContentType) -> CanonicalEntity {
        let html: Bool
        switch type.mediaType {
        case "text/plain": html = false
        case "text/html": html = true
        default: return leaf
        }
        guard leaf.body.count == 1 else { return leaf }
        let header = HeaderBlock(leaf.headerFields)
        let cte = (header.first("Content-Transfer-Encoding")?.value ?? "7bit").lowercased()
        // The element is in the part's charset: UTF-8 text goes into a UTF-8 part, or into an
        // ASCII one relabelled UTF-8 (a superset); any other charset gets the values as sent.
        let charset = type.charset?.lowercased() ?? "us-ascii"
        let needs8Bit = fields.contains { $0.text.utf8.contains { $0 >= 0x80 } }
        let relabel = needs8Bit && (charset == "us-ascii" || charset == "ascii")
        let element = self.element(html: html, decoded: !needs8Bit || relabel || charset == "utf-8")
        let elementIs8Bit = element.contains { $0 >= 0x80 }

        var fields = leaf.headerFields
        var body: [Segment]
        switch (leaf.body[0], cte) {
        case (.copy(let r), "base64"): body = [.literal(Self.base64(element)), .copy(r)]
        case (.base64(let r), _): body = [.literal(Self.base64(element)), .base64(r)]
        case (.quotedPrintable(let r), _): body = [.literal(QuotedPrintableEncoder.encode(element)), .quotedPrintable(r)]
        case (.reprotectedQuotedPrintable(let r), _):
            body = [.literal(QuotedPrintableEncoder.encode(element)), .reprotectedQuotedPrintable(r)]
        case (.copy(let r), "7bit"), (.copy(let r), "8bit"), (.copy(let r), "binary"):
            if elementIs8Bit {
                // A 7-bit entity stays 7-bit (RFC 8551 3.1.3): the part becomes quoted-printable.
                fields = fields.filter { !$0.is("Content-Transfer-Encoding") }
                fields.append(HeaderField.folded(name: "Content-Transfer-Encoding", value: Array("quoted-printable".utf8)))
                body = [.literal(QuotedPrintableEncoder.encode(element)), .quotedPrintable(r)]
            } else {
                body = [.literal(element), .copy(r)]
            }
        default:
            return leaf
        }
        // The Content-Type marked in place (relabelled, or made when the part had none).
        var marked = type
        if relabel { marked.field.setParameter("charset", "utf-8") }
        let mark = Array("; hp-legacy-display=\"1\"".utf8)
        if let i = fields.firstIndex(where: { $0.is("Content-Type") }) {
            if relabel {
                fields[i] = HeaderField.folded(name: fields[i].name, value: Array(marked.rendered.utf8) + mark)
            } else {
                fields[i].rawValue += mark
            }
        } else {
            fields.insert(HeaderField.folded(name: "Content-Type", value: Array(marked.rendered.utf8) + mark), at: 0)
        }
        return CanonicalEntity(headerFields: fields, body: body)
    }

    /// `bytes` as base64 lines that the part's own base64 may follow: padded with CRLFs (an
    /// empty line more or two) to a multiple of three octets, so no `=` ends it.
    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        var padded = bytes
        while padded.count % 3 != 0 { padded += [0x0D, 0x0A] }
        return Base64LineEncoder.encode(padded)
    }
}
