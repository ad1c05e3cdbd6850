#if canImport(Glibc)
import Glibc
#endif

/// A committed queue file, `messages/ID`, split into its parts: the envelope record (text
/// lines up to the line `message`) and the message bytes exactly as they will be sent.
struct QueuedMessage {
    let id: String
    let raw: [UInt8]
    /// The record's lines, `sealmail-queue 1` first, without the `message` line.
    let record: [String]
    /// Everything after the `message` line.
    let message: [UInt8]
    /// The header block (up to and including the CRLF of its last field; without the
    /// blank line) and the body (after the blank line).
    let header: [UInt8]
    let body: [UInt8]

    init(path: String) throws {
        id = String(path.split(separator: "/").last ?? "")
        raw = try readFile(path)
        let marker = Array("\nmessage\n".utf8)
        guard let r = raw.firstRange(of: marker) else {
            throw HarnessError("\(path): no `message` line in the queue file")
        }
        record = String(decoding: raw[..<r.lowerBound], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        message = Array(raw[r.upperBound...])
        if let blank = message.firstRange(of: Array("\r\n\r\n".utf8)) {
            header = Array(message[..<(blank.lowerBound + 2)])
            body = Array(message[blank.upperBound...])
        } else {
            header = message
            body = []
        }
    }

    /// The value of the first record line with this key (`sender`, `uid`, ...).
    func value(_ key: String) -> String? {
        for line in record where line.hasPrefix(key + " ") { return String(line.dropFirst(key.count + 1)) }
        return nil
    }

    var sender: String? { value("sender") }

    /// The `rcpt` lines without the keyword (`ADDRESS [orcpt=…] [notify=…]`).
    var recipientLines: [String] { record.filter { $0.hasPrefix("rcpt ") }.map { String($0.dropFirst(5)) } }

    /// Envelope recipient addresses in order.
    var recipients: [String] { recipientLines.map { String($0.split(separator: " ").first ?? "") } }

    /// `summary size=… body=… nul=… long=… utf8=…` as a dictionary.
    var summary: [String: String] {
        var out: [String: String] = [:]
        for item in (value("summary") ?? "").split(separator: " ") {
            let kv = item.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
        }
        return out
    }

    var headerText: String { String(decoding: header, as: UTF8.self) }
    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Header fields in order as (name, value): folding removed (CRLF before white space),
    /// the single space after the colon removed.
    var fields: [(name: String, value: String)] {
        var out: [(String, String)] = []
        var current: [UInt8] = []
        func flush() {
            guard !current.isEmpty else { return }
            if let colon = current.firstIndex(of: 58) {
                let name = String(decoding: current[..<colon], as: UTF8.self)
                var v = Array(current[(colon + 1)...])
                if v.first == 32 { v.removeFirst() }
                out.append((name, String(decoding: v, as: UTF8.self)))
            }
            current = []
        }
        var i = 0
        let h = header
        while i < h.count {
            if h[i] == 13, i + 1 < h.count, h[i + 1] == 10 {
                let next = i + 2
                if next < h.count, h[next] == 32 || h[next] == 9 {
                    i = next  // folded: drop the CRLF, keep the white space
                    continue
                }
                flush()
                i = next
                continue
            }
            current.append(h[i])
            i += 1
        }
        flush()
        return out
    }

    /// Values of every field with this name (case-insensitive), unfolded.
    func fields(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map { $0.value }
    }

    /// The header's field names in order.
    var fieldNames: [String] { fields.map { $0.name } }
}

/// Whether every CR is followed by LF and every LF preceded by CR: the only line end is CRLF.
func hasOnlyCRLFLineEnds(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBufferPointer { b in
        let n = b.count
        var i = 0
        while i < n {
            let c = b[i]
            if c == 13 {
                if i + 1 >= n || b[i + 1] != 10 { return false }
                i += 2
                continue
            }
            if c == 10 { return false }
            i += 1
        }
        return true
    }
}

/// Byte-for-byte equality through memcmp (fast even in a debug build, for 64 MiB).
func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in
        a.isEmpty || memcmp(pa.baseAddress!, pb.baseAddress!, a.count) == 0
    } }
}

/// Whether `needle` occurs in `haystack`.
func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    haystack.firstRange(of: needle) != nil
}

func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
    contains(haystack, Array(needle.utf8))
}
