/// A malformed reply (RFC 5321 4.2: `Reply-line = *( Reply-code "-" [ textstring ] CRLF )
/// Reply-code [ SP textstring ] CRLF`).
public struct ReplyParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong.
    public var reason: String
    /// The offending line (truncated to 200 bytes), decoded with replacement.
    public var line: String
    /// `reason: line`.
    public var description: String { "\(reason): \(line)" }
}

/// The incremental reply parser (RFC 5321 4.2). Feed it bytes as they arrive, split anywhere;
/// take complete replies out with `next()`. Lines may end in CRLF or, leniently, bare LF.
/// Lines are bounded by `maxLineLength` and replies by `maxLines`; exceeding either, a line
/// without a valid code, a bad separator, or a continuation with a different code is an error.
public struct ReplyParser: Sendable {
    /// Longest line accepted, CRLF excluded (RFC 5321 4.5.3.1.5 says 512; servers send longer).
    public let maxLineLength: Int
    /// Most lines in one reply (EHLO replies are the longest in practice).
    public let maxLines: Int
    private var buffer: [UInt8] = []
    private var scanned = 0
    private var pendingStorage: [[UInt8]] = []

    /// Creates a parser with the given bounds.
    public init(maxLineLength: Int = 4096, maxLines: Int = 512) {
        self.maxLineLength = maxLineLength
        self.maxLines = maxLines
    }

    /// Appends received bytes.
    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    /// True when bytes beyond complete replies are buffered (e.g. a partial line).
    public var hasBufferedBytes: Bool { !buffer.isEmpty || !pendingStorage.isEmpty }

    /// Returns the next complete reply, nil if more bytes are needed, or throws on a malformed
    /// reply. After an error the parser should be discarded with its connection.
    public mutating func next() throws -> SMTPReply? {
        while true {
            guard let lf = buffer[scanned...].firstIndex(of: 0x0A) else {
                scanned = buffer.count
                if buffer.count > maxLineLength + 1 {
                    throw ReplyParseError(reason: "reply line too long", line: Self.show(buffer[...]))
                }
                return nil
            }
            var end = lf
            if end > 0, buffer[end - 1] == 0x0D { end -= 1 }
            let line = Array(buffer[0..<end])
            buffer.removeSubrange(0...lf)
            scanned = 0
            if line.count > maxLineLength {
                throw ReplyParseError(reason: "reply line too long", line: Self.show(line[...]))
            }
            if let reply = try accept(line: line) { return reply }
        }
    }

    private mutating func accept(line: [UInt8]) throws -> SMTPReply? {
        guard line.count >= 3,
              let d0 = Self.digit(line[0]), (2...5).contains(d0),
              let d1 = Self.digit(line[1]), (0...5).contains(d1),
              let d2 = Self.digit(line[2]) else {
            throw ReplyParseError(reason: "reply line without a valid code", line: Self.show(line[...]))
        }
        let code = d0 * 100 + d1 * 10 + d2
        var last = true
        if line.count > 3 {
            switch line[3] {
            case 0x2D: last = false
            case 0x20: break
            default:
                throw ReplyParseError(reason: "reply line with a bad separator", line: Self.show(line[...]))
            }
        }
        if let first = pendingStorage.first, let firstCode = Self.code(of: first), firstCode != code {
            throw ReplyParseError(reason: "multi-line reply with mixed codes", line: Self.show(line[...]))
        }
        pendingStorage.append(line)
        if pendingStorage.count > maxLines {
            throw ReplyParseError(reason: "reply has too many lines", line: Self.show(line[...]))
        }
        guard last else { return nil }
        let storage = pendingStorage
        pendingStorage = []
        return Self.build(code: code, lines: storage)
    }

    private static func build(code: Int, lines: [[UInt8]]) -> SMTPReply {
        var texts: [String] = []
        texts.reserveCapacity(lines.count)
        for line in lines {
            let body = line.count > 4 ? line[4...] : []
            texts.append(String(decoding: body, as: UTF8.self))
        }
        var enhanced: EnhancedStatusCode?
        if let first = lines.first, first.count > 4,
           let (status, _) = EnhancedStatusCode.parse(prefixOf: first[4...]),
           status.klass == code / 100 {
            enhanced = status
        }
        return SMTPReply(code: code, enhancedStatus: enhanced, lines: texts)
    }

    private static func code(of line: [UInt8]) -> Int? {
        guard line.count >= 3, let a = digit(line[0]), let b = digit(line[1]), let c = digit(line[2]) else { return nil }
        return a * 100 + b * 10 + c
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }

    private static func show(_ line: ArraySlice<UInt8>) -> String {
        String(decoding: line.prefix(200), as: UTF8.self)
    }
}
