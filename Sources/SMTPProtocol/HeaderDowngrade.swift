import MailMessage

/// Raw UTF-8 header fields (RFC 6532) for a relay without SMTPUTF8: the message still goes
/// (its addresses are ASCII, or it would have been refused), with each unstructured field
/// that holds UTF-8 written as RFC 2047 encoded words, which any relay and reader takes.
///
/// Only unstructured fields are rewritten (RFC 5322 3.6.5 Subject and Comments, RFC 2045
/// Content-Description, and X- fields, unstructured by custom): their whole value becomes
/// encoded text, which decodes to the same characters. Structured fields (addresses with
/// UTF-8 display names, Received, ...), fields whose bytes are not UTF-8 (the charset is
/// unknown), and fields already holding encoded words stay byte for byte, as Postfix sends
/// them.
public enum HeaderDowngrade {
    static let unstructuredNames: Set<String> = ["subject", "comments", "content-description", "thread-topic"]

    /// Whether a field (lower-cased name) is unstructured text that may be encoded.
    public static func isUnstructured(_ lowercasedName: String) -> Bool {
        unstructuredNames.contains(lowercasedName) || lowercasedName.hasPrefix("x-")
    }

    /// A header block, from its first field through the empty line that ends it, with the
    /// unstructured UTF-8 fields encoded; every other byte as it was.
    public static func encodeUTF8Fields(_ header: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(header.count + 64)
        var start = 0
        while start < header.count {
            // One field: its first line and the continuation lines (starting with SP or HT).
            var end = start
            repeat {
                end = (header[end...].firstIndex(of: 10) ?? header.count - 1) + 1
            } while end < header.count && (header[end] == 32 || header[end] == 9)
            let raw = header[start..<end]
            out += encodedField(raw) ?? Array(raw)
            start = end
        }
        return out
    }

    /// The field re-written with encoded words, or nil when it stays as it is.
    static func encodedField(_ raw: ArraySlice<UInt8>) -> [UInt8]? {
        guard raw.contains(where: { $0 >= 0x80 }) else { return nil }
        let parsed = HeaderBlock.parse(Array(raw)).block.fields
        guard parsed.count == 1, let field = parsed.first, isUnstructured(field.lowercasedName) else { return nil }
        let value = field.unfoldedValue
        let text = String(decoding: value, as: UTF8.self)
        guard Array(text.utf8) == value, let encoded = EncodedWord.encodeUnstructuredIfNeeded(text) else { return nil }
        return HeaderField.folded(name: field.name, value: Array(encoded.utf8)).wireBytes
    }
}
