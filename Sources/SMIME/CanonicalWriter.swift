import MailMessage

// Pass two of canonicalisation: executes a CanonicalEntity's segments, reading the message
// file again, through MailMessage's streaming encoders into a BIOWriter.

extension InputFile {
    /// Writes the body segments of `entity` (not its header fields) to `out`.
    func write(_ segments: [Segment], to out: BIOWriter) throws {
        for segment in segments {
            switch segment {
            case .literal(let bytes):
                try out.write(bytes)
            case .copy(let range):
                // Straight to `out`, no buffer between: a CRLF body (what sendmail's input
                // becomes) passes in whole chunks, which BIOWriter hands on without a copy.
                var lineEnds = CRLFLineEnds()
                try forEachChunk(range) { chunk in try lineEnds.convert(chunk) { try out.write($0) } }
            case .quotedPrintable(let range):
                try encode(range, QuotedPrintableEncoder(), to: out)
            case .reprotectedQuotedPrintable(let range):
                try encode(range, QuotedPrintableEncoder.reprotecting(), to: out)
            case .base64(let range):
                try encode(range, Base64LineEncoder(), to: out)
            }
        }
    }

    /// Runs `encoder` over `range`, passing its output to `out` in pieces of 32 KiB or more.
    private func encode<E: BodyEncoder>(_ range: Range<Int>, _ encoder: E, to out: BIOWriter) throws {
        var encoder = encoder
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 17)
        try forEachChunk(range) { chunk in
            encoder.encode(chunk, into: &buffer)
            if buffer.count >= 1 << 15 {
                try out.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        encoder.finish(into: &buffer)
        try out.write(buffer)
    }
}
