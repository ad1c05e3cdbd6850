/// The text form of a `QueuedEnvelope` at the head of a queue file (versioned, line based,
/// values percent-encoded). The `summary` line has a fixed width so that it can be filled in
/// with pwrite once the message has been read, before the file is committed.
enum EnvelopeRecord {
    static let magic = "sealmail-queue"
    /// Room for the summary's keys and for a few more later (a reader skips keys it does not
    /// know, so adding one keeps the record version; records of width 72 read the same).
    static let summaryWidth = 96

    /// The record up to and including the `message` line, and the byte offset of the summary line.
    static func encode(_ e: QueuedEnvelope) -> (bytes: [UInt8], summaryOffset: Int) {
        var head = "\(magic) \(e.version)\n"
        head += "id \(e.id)\n"
        head += "arrival \(e.arrivalMicros)\n"
        let summaryOffset = head.utf8.count
        var text = head + summaryLine(e) + "\n"
        text += "uid \(e.uid)\n"
        text += "user \(RecordText.encode(e.user))\n"
        text += "sender \(e.sender.isEmpty ? "<>" : RecordText.encode(e.sender))\n"
        if let r = e.ret { text += "ret \(r)\n" }
        if let v = e.envid { text += "envid \(RecordText.encode(v))\n" }
        if let m = e.messageID { text += "message-id \(RecordText.encode(m))\n" }
        for r in e.recipients {
            var line = "rcpt \(RecordText.encode(r.address))"
            if let o = r.original { line += " orcpt=\(RecordText.encode(o))" }
            if let n = r.notify { line += " notify=\(n)" }
            if r.local { line += " local=1" }
            if let err = r.error { line += " error=\(RecordText.encode(err))" }
            text += line + "\n"
        }
        text += "message\n"
        return (Array(text.utf8), summaryOffset)
    }

    /// `summary size=… body=… nul=… long=… utf8=… hdr8=…`, padded to a fixed width.
    static func summaryLine(_ e: QueuedEnvelope) -> String {
        var size = String(e.size)
        size = String(repeating: "0", count: max(0, 20 - size.count)) + size
        var line = "summary size=\(size) body=\(e.bodyType.rawValue) nul=\(e.hasNUL ? 1 : 0) long=\(e.hasLongLines ? 1 : 0) utf8=\(e.smtputf8 ? 1 : 0)"
        line += " hdr8=\(e.eightBitHeader ? 1 : 0)"
        line += String(repeating: " ", count: max(0, summaryWidth - line.utf8.count))
        return line
    }

    /// Parses a record from the start of a queue file; returns it and where the message starts.
    static func decode(_ bytes: [UInt8]) throws -> (QueuedEnvelope, messageOffset: Int) {
        var lines: [Substring] = []
        var offset = 0
        var found = false
        var start = 0
        for (i, b) in bytes.enumerated() where b == 10 {
            let line = Substring(String(decoding: bytes[start..<i], as: UTF8.self))
            start = i + 1
            if line == "message" { offset = start; found = true; break }
            lines.append(line)
        }
        guard found, let first = lines.first else { throw QueueError(.corrupt, "queue file has no envelope record") }
        let magicParts = first.split(separator: " ")
        guard magicParts.count == 2, magicParts[0] == Substring(magic), let version = Int(magicParts[1]) else {
            throw QueueError(.corrupt, "not a sealmail queue file")
        }
        guard version <= QueuedEnvelope.currentVersion else {
            throw QueueError(.corrupt, "queue file version \(version) is newer than this sealmail (\(QueuedEnvelope.currentVersion))")
        }
        var e = QueuedEnvelope(id: "", arrivalMicros: 0, sender: "", recipients: [], uid: 0, user: "")
        e.version = version
        for line in lines.dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0]
            let value = parts.count > 1 ? parts[1] : ""
            switch key {
            case "id": e.id = String(value)
            case "arrival": e.arrivalMicros = UInt64(value) ?? 0
            case "summary":
                for field in value.split(separator: " ") {
                    let kv = field.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2 else { continue }
                    switch kv[0] {
                    case "size": e.size = Int64(kv[1]) ?? 0
                    case "body": e.bodyType = BodyType(rawValue: String(kv[1])) ?? .eightBitMIME
                    case "nul": e.hasNUL = kv[1] == "1"
                    case "long": e.hasLongLines = kv[1] == "1"
                    case "utf8": e.smtputf8 = kv[1] == "1"
                    case "hdr8": e.eightBitHeader = kv[1] == "1"  // absent before: false
                    default: break
                    }
                }
            case "uid": e.uid = UInt32(value) ?? 0
            case "user": e.user = RecordText.decode(value)
            case "sender": e.sender = value == "<>" ? "" : RecordText.decode(value)
            case "ret": e.ret = String(value)
            case "envid": e.envid = RecordText.decode(value)
            case "message-id": e.messageID = RecordText.decode(value)
            case "rcpt":
                let fields = value.split(separator: " ")
                guard let addr = fields.first else { continue }
                var r = QueuedRecipient(address: RecordText.decode(addr))
                for f in fields.dropFirst() {
                    if f.hasPrefix("orcpt=") { r.original = RecordText.decode(f.dropFirst(6)) }
                    if f.hasPrefix("notify=") { r.notify = String(f.dropFirst(7)) }
                    if f == "local=1" { r.local = true }
                    if f.hasPrefix("error=") { r.error = RecordText.decode(f.dropFirst(6)) }
                }
                e.recipients.append(r)
            default:
                break  // fields added by later versions of the same major format are skipped
            }
        }
        guard QueueID.isValid(e.id), !e.recipients.isEmpty else { throw QueueError(.corrupt, "queue file envelope is incomplete") }
        return (e, offset)
    }
}
