/// A MIME entity to generate (RFC 2045, RFC 2046): its media type, extra header fields, and a
/// body that is bytes in memory, a source read in pieces (a file), or parts. The generator
/// (`MIMEGenerator`) writes it with CRLF line ends, every line at most 998 octets, encoded
/// as it needs (`TransferEncoding`).
public struct MIMEPart: Sendable {
    /// The body of a part.
    public enum Body: Sendable {
        /// Bytes in memory (text with any line ends, or binary data).
        case data([UInt8])
        /// Bytes read in pieces when the part is written (never held whole).
        case stream(any MIMEBodySource)
        /// A multipart's parts, in order.
        case parts([MIMEPart])
    }

    public var contentType: ContentType
    /// Fields other than Content-Type and Content-Transfer-Encoding (Content-Disposition,
    /// Content-ID, Content-Description...).
    public var fields: [HeaderField]
    public var body: Body
    /// The transfer encoding; nil lets the generator choose (see `MIMEGenerator`).
    public var transferEncoding: TransferEncoding?

    public init(_ contentType: ContentType, fields: [HeaderField] = [], body: Body, transferEncoding: TransferEncoding? = nil) {
        self.contentType = contentType
        self.fields = fields
        self.body = body
        self.transferEncoding = transferEncoding
    }

    /// A text part (`text/SUBTYPE; charset=utf-8`).
    public static func text(_ text: String, subtype: String = "plain") -> MIMEPart {
        MIMEPart(ContentType("text/\(subtype)", ["charset": "utf-8"]), body: .data(Array(text.utf8)))
    }

    /// A `multipart/SUBTYPE` of these parts (its boundary is chosen when written).
    public static func multipart(_ subtype: String, _ parts: [MIMEPart], parameters: [MIMEParameter] = []) -> MIMEPart {
        var type = ContentType("multipart/\(subtype)")
        type.field.parameters = parameters
        return MIMEPart(type, body: .parts(parts))
    }
}

/// Content-Transfer-Encoding values (RFC 2045 6.1).
public enum TransferEncoding: String, Sendable {
    case sevenBit = "7bit"
    case eightBit = "8bit"
    case binary
    case quotedPrintable = "quoted-printable"
    case base64
}

/// Bytes that a part reads when it is written, in pieces: an attachment's file, a stream.
public protocol MIMEBodySource: Sendable {
    /// Calls `consume` with the content, piece after piece, from the start each time it is
    /// called (a message may be written more than once: a retry, a second copy).
    func read(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws
}

/// Writes `MIMEPart`s as bytes. No IO of its own: bytes go to the caller's sink, randomness
/// (boundaries) comes from the caller.
///
/// Transfer encodings chosen when a part has none: text that is 7-bit, without NUL or bare
/// CR, with no line over 998 octets: `7bit` (line ends made CRLF); other text:
/// `quoted-printable`; anything else (and every `.stream`): `base64`. Multipart and message
/// parts: `7bit` (RFC 2045 6.4; their parts are encoded themselves).
public struct MIMEGenerator {
    /// Makes a boundary; called once per multipart (`n` counts them). Boundaries start with
    /// `=_`, which neither quoted-printable nor base64 can produce, and 7bit text holding
    /// one is sent quoted-printable, so a boundary never occurs in a part.
    private var makeBoundary: (Int) -> String
    private var boundariesMade = 0

    /// - Parameter random: 16 random bytes per call (the caller's randomness source).
    public init(random: @escaping () -> [UInt8]) {
        makeBoundary = { n in "=_sealmail_\(n)_" + Hex.string(random()) }
    }

    /// Writes `part` with `headerFields` before its own (the message's header, for the top
    /// level), then its body. Every byte goes to `sink` in pieces.
    public mutating func write(_ part: MIMEPart, headerFields: [HeaderField] = [],
                               to sink: ([UInt8]) throws -> Void) throws {
        var out: [UInt8] = []
        try write(part, headerFields: headerFields, out: &out, sink: sink)
        if out.suffix(2) != [13, 10] { out += [13, 10] }  // the message ends with a line end
        if !out.isEmpty { try sink(out) }
    }

    /// The encoding `part` is written with.
    public static func encoding(for part: MIMEPart) -> TransferEncoding {
        if let e = part.transferEncoding { return e }
        switch part.body {
        case .parts: return .sevenBit
        case .stream: return .base64
        case .data(let bytes):
            if part.contentType.isMessage { return .sevenBit }
            guard part.contentType.isText else { return .base64 }
            return isPlain7Bit(bytes) ? .sevenBit : .quotedPrintable
        }
    }

    /// 7-bit, no NUL, no bare CR, no line over 998 octets, no `=_` (a boundary's start).
    static func isPlain7Bit(_ bytes: [UInt8]) -> Bool {
        var length = 0
        for (i, b) in bytes.enumerated() {
            if b >= 0x80 || b == 0 { return false }
            if b == 13 { if i + 1 >= bytes.count || bytes[i + 1] != 10 { return false }; continue }
            if b == 10 { length = 0; continue }
            if b == 95, i > 0, bytes[i - 1] == 61 { return false }
            length += 1
            if length > LineLimit.maxOctets { return false }
        }
        return true
    }

    private mutating func write(_ part: MIMEPart, headerFields: [HeaderField], out: inout [UInt8],
                                sink: ([UInt8]) throws -> Void) throws {
        var type = part.contentType
        var boundary = ""
        if case .parts = part.body {
            boundariesMade += 1
            boundary = makeBoundary(boundariesMade)
            type.field.setParameter("boundary", boundary)
        }
        let encoding = Self.encoding(for: part)
        var fields = headerFields
        fields.append(HeaderField.folded(name: "Content-Type", value: Array(type.rendered.utf8)))
        if encoding != .sevenBit {
            fields.append(HeaderField.folded(name: "Content-Transfer-Encoding", value: Array(encoding.rawValue.utf8)))
        }
        fields += part.fields
        for f in fields { out += HeaderFolding.limitLineLength(f).wireBytes }
        out += [13, 10]
        switch part.body {
        case .parts(let parts):
            for p in parts {
                out += Array("--\(boundary)\r\n".utf8)
                try write(p, headerFields: [], out: &out, sink: sink)
                out += [13, 10]
            }
            out += Array("--\(boundary)--\r\n".utf8)
        case .data(let bytes):
            try encode({ consume in try bytes.withUnsafeBytes { try consume($0) } }, encoding, out: &out, sink: sink)
        case .stream(let source):
            try encode({ consume in try source.read(consume) }, encoding, out: &out, sink: sink)
        }
    }

    /// Encodes the content that `feed` hands over, flushing `out` to `sink` as it grows. Text
    /// keeps its final line break; base64 ends without one (the line end before a delimiter
    /// belongs to the delimiter, RFC 2046 5.1.1, and the caller writes it).
    private func encode(_ feed: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void, _ encoding: TransferEncoding,
                        out: inout [UInt8], sink: ([UInt8]) throws -> Void) throws {
        switch encoding {
        case .base64:
            var e = Base64LineEncoder()
            try run(&e, feed, out: &out, sink: sink)
            if out.suffix(2) == [13, 10] { out.removeLast(2) }
        case .quotedPrintable:
            var e = QuotedPrintableEncoder(binary: false, protectingLineStarts: true)
            try run(&e, feed, out: &out, sink: sink)  // a final line break of the text is kept
        case .sevenBit, .eightBit, .binary:
            var e = CRLFLineEnds()  // line ends made CRLF; the rest as given
            try run(&e, feed, out: &out, sink: sink)
        }
    }

    /// Runs `encoder` over what `feed` hands over, passing `out` to `sink` in pieces of about
    /// 64 KiB; the last two bytes stay in `out`, so that a final line end can still be dropped.
    private func run<E: BodyEncoder>(_ encoder: inout E, _ feed: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void,
                                     out: inout [UInt8], sink: ([UInt8]) throws -> Void) throws {
        try withoutActuallyEscaping(sink) { sink in
            let o = Output(out, sink)
            defer { out = o.bytes }
            try feed { chunk in
                encoder.encode(chunk, into: &o.bytes)
                try o.flushIfBig()
            }
            encoder.finish(into: &o.bytes)
        }
    }

    /// Bytes on their way to the sink.
    private final class Output {
        var bytes: [UInt8]
        let sink: ([UInt8]) throws -> Void
        init(_ bytes: [UInt8], _ sink: @escaping ([UInt8]) throws -> Void) { self.bytes = bytes; self.sink = sink }
        func flushIfBig() throws {
            guard bytes.count >= 1 << 16 else { return }
            try sink(Array(bytes.dropLast(2)))
            bytes.removeFirst(bytes.count - 2)
        }
    }
}
