import MailMessage

// Pass one of canonicalisation (RFC 8551 3.1): walk the MIME structure of the message on disk
// and decide, for each leaf, how it is written: copied with CRLF line ends, or given a 7-bit
// transfer encoding (quoted-printable for text, base64 otherwise). Only offsets and small
// header blocks are kept in memory. The MIME pieces are MailMessage's: the header parser,
// ContentType, delimiter recognition (`MIMEEntity.delimiter`) and, in pass two, the encoders.

/// One step of writing the canonical entity.
enum Segment {
    /// These bytes as they are.
    case literal([UInt8])
    /// The range, line ends made CRLF.
    case copy(Range<Int>)
    /// The range (text) encoded quoted-printable (RFC 2045 6.7), line ends as hard breaks.
    case quotedPrintable(Range<Int>)
    /// The range is already quoted-printable: protect `From `, trailing white space, 8-bit
    /// (`QuotedPrintableEncoder.reprotecting()`).
    case reprotectedQuotedPrintable(Range<Int>)
    /// The range encoded base64 (RFC 2045 6.8), 76-character CRLF lines.
    case base64(Range<Int>)
}

/// The canonical MIME entity to protect: its header fields and the body's segments.
struct CanonicalEntity {
    var headerFields: [HeaderField]
    var body: [Segment]
}

/// Walks a MIME entity stored in a file.
struct CanonicalPlanner {
    let file: InputFile
    let maxDepth = 32
    /// RFC 9788 4.5.3: the element put in front of the main body parts, when any.
    var legacyDisplay: LegacyDisplay? = nil

    init(file: InputFile, legacyDisplay: LegacyDisplay? = nil) {
        self.file = file
        self.legacyDisplay = legacyDisplay
    }

    /// Plans the entity formed by `contentFields` (the Content-* fields of the message) and the
    /// body in `body`.
    func plan(contentFields: [HeaderField], body: Range<Int>) throws -> CanonicalEntity {
        let fields = try Self.typed(contentFields) { try file.bodyStats(body) }
        return try entity(fields: fields, body: body, depth: 0, main: true)
    }

    /// The plan of a body that is neither multipart nor message/rfc822, from its statistics
    /// alone: what `plan` makes of it, without the file. Nil for those two, whose structure
    /// only a walk of the file finds. (Signing as the message arrives guesses with it, then
    /// checks the guess: `ArrivalSigner`.)
    static func singlePart(contentFields: [HeaderField], body: Range<Int>, stats: BodyStats) -> CanonicalEntity? {
        let fields = typed(contentFields) { stats }
        let type = ContentType(of: HeaderBlock(fields))
        guard !type.isMultipart, type.mediaType != "message/rfc822" else { return nil }
        return leaf(fields: fields, type: type, body: body) { stats }
    }

    /// `fields` with a Content-Type when they have none: text/plain, us-ascii unless the body
    /// holds 8-bit octets (then UTF-8, what such text almost always is).
    private static func typed(_ fields: [HeaderField], _ stats: () throws -> BodyStats) rethrows -> [HeaderField] {
        guard !fields.contains(where: { $0.is("Content-Type") }) else { return fields }
        let charset = try stats().has8Bit ? "utf-8" : "us-ascii"
        return [HeaderField.folded(name: "Content-Type", value: Array("text/plain; charset=\(charset)".utf8))] + fields
    }

    /// `main`: a main body part or on the way to one (RFC 9788 4.5.3.3: the root; every
    /// child of multipart/alternative; the first child of any other multipart; nothing inside
    /// an encapsulated message).
    private func entity(fields: [HeaderField], body: Range<Int>, depth: Int, main: Bool) throws -> CanonicalEntity {
        let type = ContentType(of: HeaderBlock(fields))
        if depth < maxDepth, type.isMultipart, let boundary = type.boundary,
           let segments = try multipart(boundary: Array(boundary.utf8), body: body, depth: depth,
                                        main: main ? (type.subtype == "alternative" ? { _ in true } : { $0 == 0 }) : { _ in false }) {
            return CanonicalEntity(headerFields: fields, body: segments)
        }
        if depth < maxDepth, type.mediaType == "message/rfc822" {
            let inner = try file.headerBlock(at: body.lowerBound, limit: body.upperBound)
            let nested = try entity(fields: inner.fields, body: inner.bodyStart..<body.upperBound, depth: depth + 1, main: false)
            return CanonicalEntity(headerFields: fields, body: [.literal(render(nested.headerFields))] + nested.body)
        }
        let planned = try Self.leaf(fields: fields, type: type, body: body) { try file.bodyStats(body) }
        guard main, let legacyDisplay else { return planned }
        return legacyDisplay.apply(to: planned, type: type)
    }

    /// `stats` is asked only for a body whose encoding depends on what it holds.
    private static func leaf(fields: [HeaderField], type: ContentType, body: Range<Int>,
                             _ stats: () throws -> BodyStats) rethrows -> CanonicalEntity {
        let cte = (HeaderBlock(fields).first("Content-Transfer-Encoding")?.value ?? "7bit").lowercased()
        // A composite type that could not be walked (no delimiter found, too deep) must keep an
        // identity encoding (RFC 2045 6.4): copy it.
        if type.isMultipart || type.type == "message" {
            return CanonicalEntity(headerFields: fields, body: [.copy(body)])
        }
        switch cte {
        case "base64":
            return CanonicalEntity(headerFields: fields, body: [.copy(body)])
        case "quoted-printable":
            return CanonicalEntity(headerFields: fields, body: [.reprotectedQuotedPrintable(body)])
        case "7bit", "8bit", "binary":
            let stats = try stats()
            guard stats.needsEncoding else { return CanonicalEntity(headerFields: fields, body: [.copy(body)]) }
            let isText = type.isText && !stats.hasNUL
            var rewritten = fields.filter { !$0.is("Content-Transfer-Encoding") }
            rewritten.append(HeaderField.folded(name: "Content-Transfer-Encoding",
                                                value: Array((isText ? "quoted-printable" : "base64").utf8)))
            return CanonicalEntity(headerFields: rewritten, body: [isText ? .quotedPrintable(body) : .base64(body)])
        default:
            return CanonicalEntity(headerFields: fields, body: [.copy(body)])
        }
    }

    /// The delimiter lines of a multipart body (RFC 2046 5.1.1); nil when there is none.
    private func multipart(boundary: [UInt8], body: Range<Int>, depth: Int, main: (Int) -> Bool) throws -> [Segment]? {
        var delimiters: [(line: ScannedLine, isClose: Bool)] = []
        try file.scanLines(body, prefixLimit: boundary.count + 82) { line in
            // Only a line held whole in its prefix can be a delimiter.
            guard line.length == line.prefix.count,
                  let kind = line.prefix.withUnsafeBufferPointer({ MIMEEntity.delimiter($0, boundary: boundary) }) else {
                return true
            }
            delimiters.append((line, kind == .close))
            return kind != .close
        }
        guard let first = delimiters.first, !first.isClose else { return nil }
        var segments: [Segment] = []
        let dash = Array("--".utf8) + boundary
        let open = dash + [0x0D, 0x0A]
        if first.line.start > body.lowerBound {
            segments.append(.copy(body.lowerBound..<contentEnd(before: first.line.start, from: body.lowerBound)))
            segments.append(.literal([0x0D, 0x0A]))
        }
        var partIndex = 0
        for (index, delimiter) in delimiters.enumerated() where !delimiter.isClose {
            segments.append(.literal(open))
            let partStart = delimiter.line.start + delimiter.line.length + delimiter.line.terminator
            let next = index + 1 < delimiters.count ? delimiters[index + 1].line.start : body.upperBound
            let partEnd = index + 1 < delimiters.count ? contentEnd(before: next, from: partStart) : next
            let header = try file.headerBlock(at: partStart, limit: max(partStart, partEnd), isPart: true)
            let part = try entity(fields: header.fields, body: header.bodyStart..<max(header.bodyStart, partEnd),
                                  depth: depth + 1, main: main(partIndex))
            partIndex += 1
            segments.append(.literal(render(part.headerFields)))
            segments += part.body
            segments.append(.literal([0x0D, 0x0A]))
        }
        segments.append(.literal(dash + Array("--\r\n".utf8)))
        if let close = delimiters.last, close.isClose {
            let epilogue = close.line.start + close.line.length + close.line.terminator
            if epilogue < body.upperBound { segments.append(.copy(epilogue..<body.upperBound)) }
        }
        return segments
    }

    /// The end of content before a delimiter line at `delimiterStart`: the CRLF (or LF) in
    /// front of it belongs to the delimiter (RFC 2046 5.1.1).
    private func contentEnd(before delimiterStart: Int, from start: Int) -> Int {
        guard delimiterStart > start, let tail = try? file.bytes(max(start, delimiterStart - 2)..<delimiterStart) else {
            return delimiterStart
        }
        if tail.count == 2 && tail == [0x0D, 0x0A] { return delimiterStart - 2 }
        if tail.last == 0x0A { return delimiterStart - 1 }
        return delimiterStart
    }
}

/// A header block: the fields (CRLF) and the empty line.
func render(_ fields: [HeaderField]) -> [UInt8] {
    HeaderBlock(fields).wireBytes + [0x0D, 0x0A]
}

extension HeaderField {
    /// Whether the field belongs in the MIME entity (RFC 8551 3.1): Content-*.
    var isContentField: Bool { lowercasedName.hasPrefix("content-") }
}
