/// MailQueue: the durable spool (DESIGN.md "Queue"): queue ids, the on-disk record of each
/// message, locks, delivery state and retry schedule.
///
/// A queued message is one file, `messages/ID`: a versioned envelope record in text, the line
/// `message`, then the message bytes exactly as DATA will send them (CRLF line ends; dot
/// stuffing happens on the wire). It is written in `tmp/`, fsync'd, renamed into
/// `messages/` without replacing anything, and the folder is fsync'd: that rename is the commit
/// point. The file is never rewritten; delivery progress lives in `state/ID` (reserved before
/// a delivery that may be partial, then written in place in one of two slots: `StateFile`), so
/// a crash at any instant leaves a message either absent or deliverable, and a full disk cannot
/// stop a delivery's outcome from being recorded. Every file operation is made relative to the
/// folders' held descriptors and never follows a link (`SpoolFolders`).

/// The body type of a queued message, for BODY= (RFC 6152, RFC 3030).
public enum BodyType: String, Sendable {
    case sevenBit = "7bit"
    case eightBitMIME = "8bitmime"
    case binary = "binary"
}

/// One recipient of a queued message.
public struct QueuedRecipient: Equatable, Sendable {
    /// The address to send RCPT TO for (already qualified, after aliases).
    public var address: String
    /// The address as the submitter gave it (for ORCPT and bounces), when it differs.
    public var original: String?
    /// RFC 3461 NOTIFY values (`never`, or some of success, delay, failure); nil = default.
    public var notify: String?
    /// A local mailbox (`address` is then the login name), delivered to the mail spool.
    public var local: Bool
    /// A reason this recipient cannot be delivered, found at submission (an alias loop, a
    /// program or file target); delivery fails it at once with this reason.
    public var error: String?

    public init(address: String, original: String? = nil, notify: String? = nil, local: Bool = false, error: String? = nil) {
        self.address = address; self.original = original; self.notify = notify; self.local = local; self.error = error
    }
}

/// Everything about a queued message but its bytes. Written once, when it is queued.
public struct QueuedEnvelope: Equatable, Sendable {
    /// The record format version written by this build.
    public static let currentVersion = 1

    public var version = QueuedEnvelope.currentVersion
    public var id: String
    /// Arrival, microseconds since the epoch.
    public var arrivalMicros: UInt64
    /// The envelope sender; "" for the null sender `<>`.
    public var sender: String
    public var recipients: [QueuedRecipient]
    /// The submitting user.
    public var uid: UInt32
    public var user: String
    /// RFC 3461 RET (FULL or HDRS) and ENVID.
    public var ret: String?
    public var envid: String?
    public var bodyType: BodyType = .sevenBit
    /// RFC 6531: the envelope or header holds non-ASCII addresses.
    public var smtputf8 = false
    /// The header holds 8-bit octets (raw UTF-8 fields, RFC 6532): SMTPUTF8 is requested when
    /// the relay offers it (RFC 6531 3.4); without it the message still goes (not required).
    public var eightBitHeader = false
    /// The message holds NUL bytes or lines over 998 octets: it must be encoded before relay.
    public var hasNUL = false
    public var hasLongLines = false
    /// Message bytes (after `message` line).
    public var size: Int64 = 0
    /// The Message-ID, for logs.
    public var messageID: String?

    public init(id: String, arrivalMicros: UInt64, sender: String, recipients: [QueuedRecipient], uid: UInt32, user: String) {
        self.id = id; self.arrivalMicros = arrivalMicros; self.sender = sender
        self.recipients = recipients; self.uid = uid; self.user = user
    }

    public var arrivalSeconds: Int64 { Int64(arrivalMicros / 1_000_000) }
}

/// Percent-encoding for record values: anything at or below space, `%`, and DEL or above.
enum RecordText {
    static func encode(_ s: String) -> String {
        var out: [UInt8] = []
        for b in s.utf8 {
            if b <= 32 || b == 37 || b >= 127 {
                out.append(37)
                out.append(hex(b >> 4)); out.append(hex(b & 15))
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The encoding of `s`, at most `limit` bytes: when it is longer, its head (cut at a
    /// character boundary) followed by `...`.
    static func encode(_ s: String, limit: Int) -> String {
        let full = encode(s)
        guard full.utf8.count > limit else { return full }
        let room = max(0, limit - 3)
        var out: [UInt8] = []
        var characterStart = 0
        var cutInCharacter = false
        for b in s.utf8 {
            let continuation = b & 0xC0 == 0x80
            if !continuation { characterStart = out.count }
            let escaped = b <= 32 || b == 37 || b >= 127
            if out.count + (escaped ? 3 : 1) > room { cutInCharacter = continuation; break }
            if escaped { out += [37, hex(b >> 4), hex(b & 15)] } else { out.append(b) }
        }
        if cutInCharacter { out.removeSubrange(characterStart...) }
        if limit >= 3 { out += [46, 46, 46] }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode<S: StringProtocol>(_ s: S) -> String {
        decode(bytes: Array(s.utf8)[...])
    }

    static func decode(bytes u: ArraySlice<UInt8>) -> String {
        guard u.contains(37) else { return String(decoding: u, as: UTF8.self) }
        var out: [UInt8] = []
        let u = Array(u)
        var i = 0
        while i < u.count {
            if u[i] == 37, i + 2 < u.count, let h = unhex(u[i + 1]), let l = unhex(u[i + 2]) {
                out.append(h << 4 | l); i += 3
            } else {
                out.append(u[i]); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ v: UInt8) -> UInt8 { v < 10 ? 48 + v : 55 + v }
    static func unhex(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}
