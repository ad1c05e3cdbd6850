#if canImport(Glibc)
import Glibc
#endif

/// The IO of a file in the two-slot layout (`SlotLayout`): reserving it (every byte written
/// once, so its blocks are allocated), reading the newest valid record, and writing a new one
/// in place with fdatasync. Works on a descriptor its owner keeps open and closes.
final class SlotFile {
    let fd: Int32
    let path: String
    let layout: SlotLayout
    /// The slot holding the newest valid record, nil when none is valid (never written).
    private(set) var newest: Int?
    private(set) var sequence: UInt64 = 0

    private init(fd: Int32, path: String, layout: SlotLayout) {
        self.fd = fd; self.path = path; self.layout = layout
    }

    /// Reserves a file just created (empty): writes all of it, zeros, so that its blocks
    /// are taken now. Does not sync (a reservation lost in a crash is made again).
    static func reserve(fd: Int32, path: String, layout: SlotLayout) throws -> SlotFile {
        let file = SlotFile(fd: fd, path: path, layout: layout)
        let zeros = [UInt8](repeating: 0, count: min(layout.fileSize, 64 << 10))
        var offset = 0
        while offset < layout.fileSize {
            let n = min(zeros.count, layout.fileSize - offset)
            try file.writeAll(zeros[0..<n], at: offset)
            offset += n
        }
        return file
    }

    /// The record in `fd` (a regular file already checked); nil when the file does not have
    /// the size of a slot file.
    static func open(fd: Int32, path: String, magic: String, size: Int) -> SlotFile? {
        guard let layout = SlotLayout(magic: magic, fileSize: size) else { return nil }
        return SlotFile(fd: fd, path: path, layout: layout)
    }

    /// The newest valid payload, or nil when no slot holds a valid record.
    func read() throws -> [UInt8]? {
        var candidates: [(slot: Int, sequence: UInt64, length: Int, crc: UInt32)] = []
        for slot in 0..<2 {
            let head = try readBytes(at: slot * layout.slotSize, count: SlotLayout.headerSize)
            if let h = layout.header(head[...]) { candidates.append((slot, h.sequence, h.length, h.crc)) }
        }
        sequence = candidates.map(\.sequence).max() ?? 0
        for c in candidates.sorted(by: { $0.sequence > $1.sequence }) {
            let payload = try readBytes(at: c.slot * layout.slotSize + SlotLayout.headerSize, count: c.length)
            if payload.count == c.length, layout.verify(sequence: c.sequence, payload: payload[...], crc: c.crc) {
                newest = c.slot
                return payload
            }
        }
        newest = nil
        return nil
    }

    /// Writes `payload` into the slot that does not hold the newest record, then fdatasync:
    /// the file's size and blocks do not change, so this needs no space.
    func write(_ payload: [UInt8], sync: Bool = true) throws {
        let slot = newest == 0 ? 1 : 0
        let next = sequence + 1
        try writeAll(layout.encode(sequence: next, payload: payload)[...], at: slot * layout.slotSize)
        if sync && fdatasync(fd) != 0 { throw QueueError.system("cannot sync", path: path, errno: errno) }
        newest = slot
        sequence = next
    }

    private func writeAll(_ bytes: ArraySlice<UInt8>, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw QueueError.system("cannot write", path: path, errno: errno)
            }
            done += n
        }
    }

    private func readBytes(at offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw QueueError.system("cannot read", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        out.removeSubrange(done...)
        return out
    }
}
