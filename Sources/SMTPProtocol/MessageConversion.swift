import MailMessage

/// What the client does to a message's bytes before sending them, and why: a relay without
/// 8BITMIME gets 8-bit content converted to 7bit (RFC 6152 3), no line may exceed 998
/// octets (RFC 5321 4.5.3.1.6), and no NUL may be sent as 7bit or 8bit data (RFC 2045 2.7,
/// 2.8). No IO: SMTPTransport reads the message into memory only when `reasons` is not empty,
/// which is rare (most relays take 8BITMIME; long lines and NUL are flagged at submission).
public enum MessageConversion {
    /// The message as it is to be sent.
    public struct Result: Equatable, Sendable {
        /// The converted bytes (CRLF line ends; dot-stuffing is still the encoder's job).
        public var message: [UInt8]
        /// The body type to announce now (RFC 6152, RFC 3030).
        public var body: SMTPBodyType
        /// True when 8-bit content was converted because the relay lacks 8BITMIME.
        public var convertedTo7Bit: Bool
        /// True when NUL octets are left that could not be encoded (`EightBitDowngrade`): the
        /// message must not be sent (the state machine refuses it, `SMTPEnvelope.hasNUL`).
        public var hasNUL: Bool
    }

    /// Whether some line of the message is longer than 998 octets.
    public static func hasLongLine(_ message: [UInt8]) -> Bool { LineLimit.hasLongLine(message) }

    /// Whether the message holds a NUL octet.
    public static func hasNUL(_ message: [UInt8]) -> Bool { message.contains(0) }

    /// Why this message must be converted for a relay with these capabilities (empty: send as is).
    public static func reasons(for envelope: SMTPEnvelope, capabilities: SMTPCapabilities) -> EightBitDowngrade.Reasons {
        var reasons: EightBitDowngrade.Reasons = []
        if envelope.body == .eightBitMIME, !capabilities.eightBitMIME { reasons.insert(.eightBit) }
        // BINARYMIME data has no lines to limit and may hold any octet (RFC 3030 3).
        if envelope.hasLongLines, envelope.body != .binaryMIME { reasons.insert(.longLines) }
        if envelope.hasNUL, envelope.body != .binaryMIME { reasons.insert(.nul) }
        return reasons
    }

    /// Converts `message` (announced as `body`) for `reasons`. Entities that can be re-encoded
    /// are (quoted-printable or base64, `EightBitDowngrade`); for long lines, whatever is left
    /// is broken (`breakLongLines`). When the 8-bit conversion is impossible the body type
    /// stays 8BITMIME, and the state machine refuses the message with its reason; when NUL
    /// cannot be encoded, `hasNUL` says so and the state machine refuses it for that.
    public static func convert(_ message: [UInt8], body: SMTPBodyType, for reasons: EightBitDowngrade.Reasons) -> Result {
        var result = Result(message: message, body: body, convertedTo7Bit: false, hasNUL: false)
        let original8Bit = EightBitDowngrade.has8Bit(message)
        let converted = EightBitDowngrade.convert(message, for: reasons)
        if reasons.contains(.nul), converted == nil {
            // Refused either way; say NUL only when NUL is what cannot be encoded.
            result.hasNUL = !reasons.contains(.eightBit)
                || EightBitDowngrade.convert(message, for: reasons.subtracting(.eightBit)) == nil
        }
        if let converted {
            if reasons.contains(.eightBit) {
                result.body = .sevenBit
                result.convertedTo7Bit = original8Bit
            } else if original8Bit, !EightBitDowngrade.has8Bit(converted) {
                // 8BITMIME was for content that is encoded now; one declared for 7-bit content
                // (`-B 8BITMIME`) stays, as the submitter asked.
                result.body = .sevenBit
            }
            result.message = converted
        }
        if reasons.contains(.longLines) { result.message = breakLongLines(result.message) }
        return result
    }

    /// The message with no line over 998 octets: header lines (up to the first empty line)
    /// folded or broken with CRLF + space (`LineLimit.breakHeaderLine`), body lines broken
    /// with CRLF. Line ends come out as CRLF; a message without long lines is returned as it is.
    public static func breakLongLines(_ message: [UInt8]) -> [UInt8] {
        guard LineLimit.hasLongLine(message) else { return message }
        var encoder = DataEncoder(stuffDots: false)
        var text = encoder.encode(message)
        encoder.finish(into: &text)
        var out: [UInt8] = []
        out.reserveCapacity(text.count + text.count / LineLimit.maxOctets * 3)
        var inHeader = true
        var start = 0
        while start < text.count {
            // DataEncoder made every line end CRLF, the last one included.
            var end = start
            while text[end] != 13 { end += 1 }
            let line = text[start..<end]
            if line.isEmpty { inHeader = false }
            out += inHeader ? LineLimit.breakHeaderLine(line) : LineLimit.breakBodyLine(line)
            out += [13, 10]
            start = end + 2
        }
        return out
    }
}
