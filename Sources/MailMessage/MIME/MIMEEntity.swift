/// The MIME structure of a message over its bytes (RFC 2045, RFC 2046): each entity's header
/// and body as ranges of one buffer, multiparts split at their boundaries, message/rfc822
/// bodies parsed as messages. Nothing is copied but the parsed header fields; a consumer
/// (the 7-bit downgrade, the S/MIME canonicaliser, the tests' structure checks) walks the
/// tree and reads the ranges it needs.
///
/// Like the header parser it never throws: a multipart without a usable boundary or without
/// its close delimiter is still walked (its parts up to the end), and the defects say so.
/// Nesting deeper than `maxDepth` is treated as an opaque leaf (a hostile message cannot
/// exhaust the stack).
public struct MIMEEntity: Sendable {
    /// The header fields (parsed; their bytes are `headerRange`).
    public var header: HeaderBlock
    /// The header block's bytes, without the blank line that ends it.
    public var headerRange: Range<Int>
    /// The body's bytes (after the blank line; for a part, up to the CRLF that belongs to the
    /// next delimiter, RFC 2046 5.1.1).
    public var bodyRange: Range<Int>
    /// Content-Type, or the default for this position (text/plain, message/rfc822 in a digest).
    public var contentType: ContentType
    /// Content-Transfer-Encoding, lower-cased; `7bit` when absent (RFC 2045 6.1).
    public var transferEncoding: String
    /// The children: a multipart's parts in order, or an encapsulated message.
    public var parts: [MIMEEntity]
    /// A multipart's text before its first delimiter and after its close delimiter.
    public var preamble: Range<Int>?
    public var epilogue: Range<Int>?
    /// A multipart's delimiter lines, each from the line end before it (which belongs to it,
    /// RFC 2046 5.1.1) through its own line end: one more than `parts` when it is closed.
    public var delimiters: [Range<Int>]
    /// What was odd about this entity's structure.
    public var defects: [MIMEDefect]

    /// Entities nested deeper than this are not split further.
    public static let maxDepth = 40

    /// Whether the entity declares MIME (MIME-Version or Content-Type present).
    public var isMIME: Bool { header.contains("MIME-Version") || header.contains("Content-Type") }

    /// Parses the entity in `bytes[range]` (the whole buffer by default).
    public static func parse(_ bytes: [UInt8], range: Range<Int>? = nil) -> MIMEEntity {
        bytes.withUnsafeBufferPointer { parse($0, range: range ?? 0..<bytes.count, depth: 0, defaultType: .defaultText) }
    }

    /// - Parameters:
    ///   - defaultType: the Content-Type when the entity gives none (RFC 2046 5.1.5).
    ///   - isPart: a multipart's part: a first line `From ...` is body, not an mbox separator.
    static func parse(_ b: UnsafeBufferPointer<UInt8>, range: Range<Int>, depth: Int, defaultType: ContentType,
                      isPart: Bool = false) -> MIMEEntity {
        let parsed = HeaderBlock.parse(b, range, parser: HeaderBlockParser(dropsMboxFromLine: !isPart))
        let (header, headerRange, bodyStart) = (parsed.block, range.lowerBound..<parsed.headerEnd, parsed.bodyStart)
        let type = header.first("Content-Type").flatMap { ContentType(parsing: $0.rawValue) } ?? defaultType
        let cte = header.first("Content-Transfer-Encoding").map { asciiLowercased(String(decoding: $0.unfoldedValue, as: UTF8.self)) } ?? "7bit"
        var entity = MIMEEntity(header: header, headerRange: headerRange, bodyRange: bodyStart..<range.upperBound,
                                contentType: type, transferEncoding: cte, parts: [], preamble: nil, epilogue: nil,
                                delimiters: [], defects: [])
        guard depth < maxDepth else {
            if type.isMultipart || type.isMessage { entity.defects.append(.nestedTooDeep) }
            return entity
        }
        if type.isMultipart {
            guard let boundary = type.boundary else {
                entity.defects.append(.multipartWithoutBoundary)
                return entity
            }
            entity.splitMultipart(b, boundary: Array(boundary.utf8), depth: depth)
        } else if type.isMessage, cte == "7bit" || cte == "8bit" || cte == "binary" {
            entity.parts = [parse(b, range: entity.bodyRange, depth: depth + 1, defaultType: .defaultText)]
        }
        return entity
    }

    /// Splits the body at `--boundary` lines (RFC 2046 5.1.1): each part runs from the line
    /// after a delimiter to the line end before the next; `--boundary--` closes.
    private mutating func splitMultipart(_ b: UnsafeBufferPointer<UInt8>, boundary: [UInt8], depth: Int) {
        let childDefault: ContentType = contentType.mediaType == "multipart/digest" ? ContentType("message/rfc822") : .defaultText
        var partStart: Int?
        var lineStart = bodyRange.lowerBound
        var closed = false
        /// Where the line end before a delimiter line starts (it belongs to the delimiter).
        func lineEndBefore(_ line: Int, notBefore start: Int) -> Int {
            var end = line
            if end > start, b[end - 1] == 10 { end -= 1 }
            if end > start, b[end - 1] == 13 { end -= 1 }
            return end
        }
        func add(_ start: Int, _ delimiterLine: Int) {
            let end = lineEndBefore(delimiterLine, notBefore: start)
            parts.append(Self.parse(b, range: start..<end, depth: depth + 1, defaultType: childDefault, isPart: true))
        }
        while lineStart < bodyRange.upperBound {
            var lineEnd = lineStart
            while lineEnd < bodyRange.upperBound, b[lineEnd] != 10 { lineEnd += 1 }
            let next = min(lineEnd + 1, bodyRange.upperBound)
            if let kind = Self.delimiter(UnsafeBufferPointer(rebasing: b[lineStart..<lineEnd]), boundary: boundary) {
                let from: Int
                if let start = partStart {
                    add(start, lineStart)
                    from = lineEndBefore(lineStart, notBefore: start)
                } else {
                    // The first delimiter may open the body: then there is no line end before it.
                    from = lineStart == bodyRange.lowerBound ? lineStart : lineEndBefore(lineStart, notBefore: bodyRange.lowerBound)
                    preamble = bodyRange.lowerBound..<from
                }
                delimiters.append(from..<next)
                if kind == .close {
                    closed = true
                    partStart = nil
                    epilogue = next..<bodyRange.upperBound
                    break
                }
                partStart = next
            }
            lineStart = next
        }
        if let start = partStart {
            // Not closed: the last part runs to the end, its final line end included.
            parts.append(Self.parse(b, range: start..<bodyRange.upperBound, depth: depth + 1, defaultType: childDefault, isPart: true))
        }
        if !closed { defects.append(.multipartNotClosed) }
        if parts.isEmpty { defects.append(.multipartWithoutParts) }
    }

    /// What a delimiter line is (RFC 2046 5.1.1).
    public enum Delimiter: Sendable { case part, close }

    /// Whether `line` (without its LF) is `--boundary` or `--boundary--`, trailing white space
    /// (and CR) allowed: the one recognition of delimiter lines, for this walker and for the
    /// S/MIME canonicaliser, which scans files.
    public static func delimiter(_ line: UnsafeBufferPointer<UInt8>, boundary: [UInt8]) -> Delimiter? {
        let n = boundary.count
        guard line.count >= n + 2, line[0] == 45, line[1] == 45 else { return nil }
        for k in 0..<n where line[2 + k] != boundary[k] { return nil }
        var i = 2 + n
        var kind = Delimiter.part
        if i + 1 < line.count, line[i] == 45, line[i + 1] == 45 { kind = .close; i += 2 }
        while i < line.count, line[i] == 32 || line[i] == 9 || line[i] == 13 { i += 1 }
        return i == line.count ? kind : nil
    }

    /// The entity written back: its header block (with the blank line after it) as it came,
    /// then the body; a multipart's preamble, delimiters and epilogue from their ranges and
    /// each part written back the same way. This gives back the same bytes (the parse loses
    /// nothing); a rewriter (`replacingLeaves`) builds on it.
    public func serialized(from bytes: [UInt8]) -> [UInt8] {
        replacingLeaves(in: bytes) { _ in nil }
    }

    /// The entity written back with some leaves replaced: `replace` returns the new bytes of
    /// a leaf entity (header and body), or nil to keep it as it is.
    public func replacingLeaves(in bytes: [UInt8], _ replace: (MIMEEntity) -> [UInt8]?) -> [UInt8] {
        var out: [UInt8] = []
        write(bytes, replace, into: &out)
        return out
    }

    private func write(_ bytes: [UInt8], _ replace: (MIMEEntity) -> [UInt8]?, into out: inout [UInt8]) {
        if isLeaf, let new = replace(self) { out += new; return }
        out += bytes[headerRange.lowerBound..<bodyRange.lowerBound]  // the header and the blank line
        if contentType.isMultipart, !parts.isEmpty || !delimiters.isEmpty {
            if let p = preamble { out += bytes[p] }
            for (k, part) in parts.enumerated() {
                if k < delimiters.count { out += bytes[delimiters[k]] }
                part.write(bytes, replace, into: &out)
            }
            if delimiters.count > parts.count { out += bytes[delimiters[parts.count]] }
            if let e = epilogue { out += bytes[e] }
        } else if let inner = parts.first, contentType.isMessage {
            inner.write(bytes, replace, into: &out)
        } else {
            out += bytes[bodyRange]
        }
    }

    /// Every entity of the tree, depth first, this one first.
    public var all: [MIMEEntity] { [self] + parts.flatMap(\.all) }

    /// Whether this is a leaf (no parts).
    public var isLeaf: Bool { parts.isEmpty }
}

/// Structural oddities of a MIME entity (the parse goes on).
public enum MIMEDefect: Equatable, Sendable {
    case multipartWithoutBoundary
    case multipartNotClosed
    case multipartWithoutParts
    case nestedTooDeep
}
