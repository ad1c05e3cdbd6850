/// The layout of a record kept in place in a file reserved once (no IO here): two slots of
/// equal size, each a 64-byte text header then a payload. The header reads
/// `MAGIC SEQUENCE LENGTH CRC` (decimal sequence number and payload length, the CRC-32 of the
/// two numbers and the payload in hex), padded with spaces to 63 bytes and a newline.
///
/// A writer fills the slot that does not hold the newest record and syncs it; a reader takes
/// the valid slot with the higher sequence number. A write torn by a crash damages only the
/// slot being written, so the previous record stays readable; and since the file's blocks were
/// written once when it was reserved, no later write needs a new block (a full disk cannot
/// stop it on a filesystem that overwrites in place: ext4, XFS, tmpfs). Slots are 4096-byte
/// aligned so that a torn sector holds part of one slot only.
struct SlotLayout: Equatable {
    static let headerSize = 64
    static let alignment = 4096

    /// The first word of each header, with the format version (e.g. `sealmail-state 2`).
    let magic: String
    /// Bytes per slot, header included; a multiple of `alignment`.
    let slotSize: Int

    /// The payload bytes a slot holds.
    var capacity: Int { slotSize - Self.headerSize }
    /// The size of the reserved file.
    var fileSize: Int { 2 * slotSize }

    /// The layout whose slots hold `payload` bytes.
    init(magic: String, payload: Int) {
        self.magic = magic
        let need = Self.headerSize + max(payload, 0)
        slotSize = (need + Self.alignment - 1) / Self.alignment * Self.alignment
    }

    /// The layout of an existing file of `fileSize` bytes; nil when no layout has that size.
    init?(magic: String, fileSize: Int) {
        guard fileSize > 0, fileSize % (2 * Self.alignment) == 0 else { return nil }
        self.magic = magic
        slotSize = fileSize / 2
    }

    /// The bytes to write at the start of a slot: the header, then the payload.
    /// - Precondition: `payload.count <= capacity`.
    func encode(sequence: UInt64, payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= capacity, "slot payload over capacity")
        let numbers = Array("\(sequence) \(payload.count)".utf8)
        let crc = CRC32.checksum(payload, CRC32.checksum(numbers))
        var header = Array("\(magic) \(sequence) \(payload.count) \(Self.hex(crc))".utf8)
        header += [UInt8](repeating: 32, count: Self.headerSize - 1 - header.count)
        header.append(10)
        return header + payload
    }

    /// A slot's header, when it is well formed: its sequence number and payload length.
    func header(_ bytes: ArraySlice<UInt8>) -> (sequence: UInt64, length: Int, crc: UInt32)? {
        guard bytes.count >= Self.headerSize, bytes[bytes.startIndex + Self.headerSize - 1] == 10 else { return nil }
        let line = bytes[bytes.startIndex..<(bytes.startIndex + Self.headerSize - 1)]
        let words = line.split(separator: 32)
        guard words.count == 5, String(decoding: words[0] + [32] + words[1], as: UTF8.self) == magic,
              let seq = UInt64(String(decoding: words[2], as: UTF8.self)),
              let length = Int(String(decoding: words[3], as: UTF8.self)), length >= 0, length <= capacity,
              words[4].count == 8, let crc = UInt32(String(decoding: words[4], as: UTF8.self), radix: 16)
        else { return nil }
        return (seq, length, crc)
    }

    /// Whether `payload` is what a header with these values was written with.
    func verify(sequence: UInt64, payload: ArraySlice<UInt8>, crc: UInt32) -> Bool {
        let numbers = Array("\(sequence) \(payload.count)".utf8)
        return CRC32.checksum(payload, CRC32.checksum(numbers)) == crc
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}

/// CRC-32 (IEEE 802.3, the polynomial of zlib and PNG), to tell a whole slot from a torn one.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC of `bytes`, continuing from `previous` (the CRC of what came before).
    static func checksum<C: Collection>(_ bytes: C, _ previous: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        var c = ~previous
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }
}
