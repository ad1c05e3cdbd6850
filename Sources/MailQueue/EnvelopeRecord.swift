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
    /// Works on the bytes (one String per value, none per line): a queue run decodes one record
    /// per message, and the String-per-line version was a sixth of its CPU.
    static func decode(_ bytes: [UInt8]) throws -> (QueuedEnvelope, messageOffset: Int) {
        var lines: [ArraySlice<UInt8>] = []
        var offset = 0
        var found = false
        var start = 0
        while start < bytes.count, let nl = bytes[start...].firstIndex(of: 10) {
            let line = bytes[start..<nl]
            start = nl + 1
            if line.elementsEqual("message".utf8) { offset = start; found = true; break }
            lines.append(line)
        }
        guard found, let first = lines.first else { throw QueueError(.corrupt, "queue file has no envelope record") }
        let magicParts = first.split(separator: 32)
        guard magicParts.count == 2, magicParts[0].elementsEqual(magic.utf8), let version = Int(text(magicParts[1])) else {
            throw QueueError(.corrupt, "not a sealmail queue file")
        }
        guard version <= QueuedEnvelope.currentVersion else {
            throw QueueError(.corrupt, "queue file version \(version) is newer than this sealmail (\(QueuedEnvelope.currentVersion))")
        }
        var e = QueuedEnvelope(id: "", arrivalMicros: 0, sender: "", recipients: [], uid: 0, user: "")
        e.version = version
        for line in lines.dropFirst() {
            let space = line.firstIndex(of: 32) ?? line.endIndex
            let key = text(line[line.startIndex..<space])
            let value = space < line.endIndex ? line[(space + 1)...] : line[line.endIndex...]
            switch key {
            case "id": e.id = text(value)
            case "arrival": e.arrivalMicros = UInt64(text(value)) ?? 0
            case "summary": decodeSummary(value, into: &e)
            case "uid": e.uid = UInt32(text(value)) ?? 0
            case "user": e.user = RecordText.decode(bytes: value)
            case "sender": e.sender = value.elementsEqual("<>".utf8) ? "" : RecordText.decode(bytes: value)
            case "ret": e.ret = text(value)
            case "envid": e.envid = RecordText.decode(bytes: value)
            case "message-id": e.messageID = RecordText.decode(bytes: value)
            case "rcpt":
                let fields = value.split(separator: 32)
                guard let addr = fields.first else { continue }
                var r = QueuedRecipient(address: RecordText.decode(bytes: addr))
                for f in fields.dropFirst() {
                    if f.starts(with: "orcpt=".utf8) { r.original = RecordText.decode(bytes: f.dropFirst(6)) }
                    if f.starts(with: "notify=".utf8) { r.notify = text(f.dropFirst(7)) }
                    if f.elementsEqual("local=1".utf8) { r.local = true }
                    if f.starts(with: "error=".utf8) { r.error = RecordText.decode(bytes: f.dropFirst(6)) }
                }
                e.recipients.append(r)
            default:
                break  // fields added by later versions of the same major format are skipped
            }
        }
        guard QueueID.isValid(e.id), !e.recipients.isEmpty else { throw QueueError(.corrupt, "queue file envelope is incomplete") }
        return (e, offset)
    }

    /// The `key=value` fields of the summary line; keys it does not know are skipped.
    private static func decodeSummary(_ value: ArraySlice<UInt8>, into e: inout QueuedEnvelope) {
        for field in value.split(separator: 32) {
            guard let eq = field.firstIndex(of: 61) else { continue }
            let k = text(field[field.startIndex..<eq])
            let v = field[(eq + 1)...]
            let on = v.elementsEqual("1".utf8)
            switch k {
            case "size": e.size = Int64(text(v)) ?? 0
            case "body": e.bodyType = BodyType(rawValue: text(v)) ?? .eightBitMIME
            case "nul": e.hasNUL = on
            case "long": e.hasLongLines = on
            case "utf8": e.smtputf8 = on
            case "hdr8": e.eightBitHeader = on  // absent before: false
            default: break
            }
        }
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
}
