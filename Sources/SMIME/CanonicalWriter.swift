// Pass two of canonicalisation: executes a CanonicalEntity's segments, reading the message
// file again, into a BIOWriter.

extension InputFile {
    /// Writes the body segments of `entity` (not its header fields) to `out`.
    func write(_ segments: [Segment], to out: BIOWriter) throws {
        for segment in segments {
            switch segment {
            case .literal(let bytes):
                try out.write(bytes)
            case .copy(let range):
                var copier = CRLFCopier()
                try forEachChunk(range) { try copier.feed($0, to: out) }
            case .quotedPrintable(let range):
                var encoder = QuotedPrintableEncoder()
                try forEachChunk(range) { try encoder.feed($0, to: out) }
                try encoder.finish(to: out)
            case .quotedPrintableFixup(let range):
                var fixup = QuotedPrintableFixup()
                try forEachChunk(range) { try fixup.feed($0, to: out) }
                try fixup.finish(to: out)
            case .base64(let range):
                var encoder = Base64LineEncoder()
                try forEachChunk(range) { try encoder.feed($0, to: out) }
                try encoder.finish(to: out)
            }
        }
    }
}
