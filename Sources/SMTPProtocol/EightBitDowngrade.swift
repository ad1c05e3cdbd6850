import MailMessage

/// Converts an 8-bit MIME message to 7bit for a relay without 8BITMIME (RFC 6152 3, the
/// conversion RFC 1652 describes): the body of every text/* leaf with 8-bit octets becomes
/// quoted-printable (RFC 2045 6.7), every other such leaf base64 (RFC 2045 6.8); multipart/*
/// (RFC 2046 5.1) and message/rfc822 entities are converted recursively; a message without
/// MIME headers is treated as text/plain (charset unknown-8bit, RFC 1428, or us-ascii) and
/// gets them. Line ends come out as CRLF. Header fields are left as they are (as Postfix does).
/// The message is walked with MailMessage's `MIMEEntity` and encoded with its encoders; what
/// is not converted is written back byte for byte.
///
/// The same conversion serves a second reason (`Reasons.longLines`): a leaf with a line over
/// 998 octets (RFC 5321 4.5.3.1.6) is encoded the same way, so its text reaches the recipient
/// intact instead of broken. For that reason alone a leaf already quoted-printable or base64,
/// and the parts of multipart/signed and multipart/encrypted (RFC 1847: re-encoding would break
/// the signature), are left as they are; `MessageConversion.breakLongLines` breaks what is left.
///
/// And a third (`Reasons.nul`): NUL octets, which neither 7bit nor 8bit data may hold (RFC
/// 2045 2.7, 2.8). A leaf with NUL is encoded the same way (quoted-printable writes `=00`);
/// NUL in a header, in a leaf already quoted-printable or base64, or inside multipart/signed
/// or multipart/encrypted cannot be encoded without changing what was signed or declared, so
/// the conversion fails and the message is refused rather than sent with NUL.
public enum EightBitDowngrade {
    /// Why an entity is converted.
    public struct Reasons: OptionSet, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// 8-bit octets, for a relay without 8BITMIME (RFC 6152 3).
        public static let eightBit = Reasons(rawValue: 1)
        /// Lines over 998 octets (RFC 5321 4.5.3.1.6).
        public static let longLines = Reasons(rawValue: 2)
        /// NUL octets (RFC 2045 2.7, 2.8).
        public static let nul = Reasons(rawValue: 4)
    }

    /// The converted message, or nil when it cannot be converted (an entity already declared
    /// quoted-printable/base64 that still holds 8-bit octets or NUL, a multipart without
    /// boundary or parts, NUL in a header or inside multipart/signed or multipart/encrypted).
    public static func convert(_ message: [UInt8], for reasons: Reasons = .eightBit) -> [UInt8]? {
        var encoder = DataEncoder(stuffDots: false)
        var normalized = encoder.encode(message)
        encoder.finish(into: &normalized)
        let root = MIMEEntity.parse(normalized)
        var plan = ConversionPlan(bytes: normalized, reasons: reasons)
        guard plan.visit(root, topLevel: true) else { return nil }
        if plan.replacements.isEmpty { return normalized }
        return root.replacingLeaves(in: normalized) { plan.replacements[$0.headerRange.lowerBound] }
    }

    /// True when any octet has the high bit set. Inlinable: specialised in the caller (see
    /// `LineLimit.hasLongLine`).
    @inlinable
    public static func has8Bit<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        bytes.contains { $0 >= 0x80 }
    }

    static func needsConversion(_ body: ArraySlice<UInt8>, _ reasons: Reasons) -> Bool {
        (reasons.contains(.eightBit) && has8Bit(body)) || (reasons.contains(.longLines) && LineLimit.hasLongLine(body))
            || (reasons.contains(.nul) && body.contains(0))
    }
}

/// Which leaves of a message are re-encoded, decided from the top down: an entity whose body
/// needs nothing is left whole, multipart/signed and multipart/encrypted are entered only for
/// 8-bit octets, and what must change but cannot makes the conversion fail.
private struct ConversionPlan {
    let bytes: [UInt8]
    let reasons: EightBitDowngrade.Reasons
    /// The new bytes (header and body) of each leaf to replace, by where its header starts.
    var replacements: [Int: [UInt8]] = [:]

    /// False when the message cannot be converted.
    mutating func visit(_ entity: MIMEEntity, topLevel: Bool) -> Bool {
        // A header field cannot be re-encoded to lose a NUL.
        if reasons.contains(.nul), bytes[entity.headerRange].contains(0) { return false }
        let body = bytes[entity.bodyRange]
        guard EightBitDowngrade.needsConversion(body, reasons) else { return true }
        let eightBitNeeded = reasons.contains(.eightBit) && EightBitDowngrade.has8Bit(body)
        let nulPresent = reasons.contains(.nul) && body.contains(0)
        // What must change, not merely what would be nicer (long lines): failing it fails the message.
        let mustConvert = eightBitNeeded || nulPresent
        let type = entity.contentType
        if type.mediaType == "multipart/signed" || type.mediaType == "multipart/encrypted" {
            if nulPresent { return false }
            if !eightBitNeeded { return true }
        }
        if type.isMultipart || type.isMessage {
            // No parts: no boundary, none found, nested too deep, or a message not 7bit/8bit/binary.
            guard !entity.parts.isEmpty else { return !mustConvert }
            for part in entity.parts where !visit(part, topLevel: false) { return false }
            return true
        }
        guard ["7bit", "8bit", "binary"].contains(entity.transferEncoding) else { return !mustConvert }
        replacements[entity.headerRange.lowerBound] = reencoded(entity, topLevel: topLevel)
        return true
    }

    /// The leaf with its body quoted-printable (text, RFC 2045 6.7) or base64 (RFC 2045 6.8):
    /// its header fields as they were but Content-Transfer-Encoding, the MIME fields added to a
    /// message that had none.
    private func reencoded(_ leaf: MIMEEntity, topLevel: Bool) -> [UInt8] {
        let body = bytes[leaf.bodyRange]
        var out: [UInt8] = []
        for span in HeaderBlock.spans(bytes, range: leaf.headerRange) where !(span.field?.is("Content-Transfer-Encoding") ?? false) {
            out += bytes[span.range]
        }
        if topLevel, !leaf.isMIME {
            let charset = EightBitDowngrade.has8Bit(body) ? "unknown-8bit" : "us-ascii"
            out += Array("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\(charset)\r\n".utf8)
        }
        let isText = leaf.contentType.isText
        out += Array("Content-Transfer-Encoding: \(isText ? "quoted-printable" : "base64")\r\n\r\n".utf8)
        if isText {
            out += QuotedPrintableEncoder.encode(body, protectingLineStarts: false)
        } else {
            out += Base64LineEncoder.encode(body).dropLast(2)  // the line end before a delimiter is the delimiter's
        }
        return out
    }
}
