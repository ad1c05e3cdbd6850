#if canImport(Glibc)
import Glibc
#endif

/// The delivery state of one message, `state/ID`, opened by the queue run that holds the
/// message's lock, for the whole of its delivery.
///
/// Recording progress must not fail once a relay has accepted a recipient: a record lost
/// then means the recipient gets the message again at every later run. So the file is
/// reserved (`reserve`) before a delivery attempt that could accept some recipients and not
/// others: created with O_EXCL, sized for the message's recipients and written whole, so its
/// blocks are taken while failing is still harmless (nothing sent yet). Afterwards `record`
/// writes in place into one of its two slots (`SlotLayout`), which needs no new block, and
/// fdatasyncs. The reservation itself is not synced: a message whose recipients are all
/// accepted at once is removed without its state ever being written.
///
/// Version-1 files (one text record, written by earlier builds) are read; the reservation
/// replaces such a file by a version-2 one holding the same state (tmp, sync, rename).
public final class StateFile {
    public let id: String
    /// The state as last read or recorded.
    public private(set) var state: DeliveryState
    let spool: Spool
    let recipientCount: Int
    /// The open file (owned), -1 when there is none.
    private var fd: Int32 = -1
    /// Opened for writing (not so when we may only read it: written by an earlier build as
    /// another user without group write access).
    private var writable = false
    /// The slots of `fd`, when it is a version-2 file.
    private var slots: SlotFile?
    /// Whether the file's name is known to be durable (false from its creation until the
    /// first record has synced the folder too).
    private var nameIsDurable = true
    /// Reserved by this process and never written since: all zeros, fit for reuse.
    private var untouched = false

    static let magic = "sealmail-state 2"
    /// Read at most this much of a version-1 file.
    static let version1Limit = 16 << 20

    /// Whether records can be written in place now.
    public var isReserved: Bool { slots != nil && writable }

    /// What a state file holds.
    enum Content {
        /// An empty file: created, then a crash before its reservation was written.
        case empty
        case version1(DeliveryState)
        case version2(DeliveryState, SlotFile)
    }

    init(spool: Spool, id: String, recipients: Int) throws {
        self.spool = spool
        self.id = id
        recipientCount = recipients
        state = DeliveryState()
        do {
            guard let opened = try spool.openExisting(.state, id, flags: O_RDWR) else { return }
            fd = opened
            writable = true
        } catch let e as QueueError where e.errno == EACCES {
            guard let opened = try spool.openExisting(.state, id, flags: O_RDONLY) else { return }
            fd = opened
        }
        do {
            switch try Self.read(fd: fd, path: path) {
            case .empty: break
            case .version1(let s): state = s
            case .version2(let s, let file): state = s; slots = file
            }
        } catch {
            close(fd)
            fd = -1
            throw error
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Removes the file along with its message (`Spool.remove`): a reservation never written
    /// to is kept for reuse by this process instead.
    func retire() {
        if untouched, fd >= 0, slots?.layout.fileSize == SpareStateFiles.fileSize,
           spool.folders.spares.keep(id, fd: fd, folders: spool.folders) {
            fd = -1
            slots = nil
            return
        }
        spool.removeName(.state, id)
        discard()
    }

    /// Lets go of the file of a message just removed: its last close frees its blocks, which
    /// waits on the filesystem, so it is done in the background (as `QueueLock.unlockRemoved`).
    func discard() {
        guard fd >= 0 else { return }
        slots = nil
        DeferredCloser.shared.close(fd)
        fd = -1
    }

    var path: String { spool.stateDir + "/" + id }

    /// Reads the state file open on `fd`.
    static func read(fd: Int32, path: String) throws -> Content {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw QueueError.system("cannot stat", path: path, errno: errno) }
        let size = Int(st.st_size)
        if size == 0 { return .empty }
        var head = [UInt8](repeating: 0, count: 32)
        let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw QueueError.system("cannot read", path: path, errno: errno) }
        head.removeSubrange(n...)
        if head.starts(with: Array("sealmail-state 1\n".utf8)) {
            guard size <= version1Limit else { throw QueueError(.corrupt, "\(path): a state file of \(size) bytes") }
            var bytes = [UInt8](repeating: 0, count: size)
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            if got < 0 { throw QueueError.system("cannot read", path: path, errno: errno) }
            bytes.removeSubrange(got...)
            return .version1(try DeliveryState.decode(bytes))
        }
        if head.starts(with: Array("sealmail-state ".utf8)) && !head.starts(with: Array((magic + " ").utf8)) {
            throw QueueError(.corrupt, "\(path): a state file of a newer version: upgrade sealmail")
        }
        guard let file = SlotFile.open(fd: fd, path: path, magic: magic, size: size) else {
            throw QueueError(.corrupt, "\(path): not a sealmail state file (\(size) bytes)")
        }
        // No valid slot: reserved, never recorded (or both slots damaged): nothing recorded.
        let state = try file.read().map { DeliveryState.decodeLines($0.split(separator: 10)) } ?? DeliveryState()
        return .version2(state, file)
    }

    /// Makes sure that later records can be written in place: creates and reserves the file
    /// (no sync), or replaces a version-1 or unwritable one by a reserved file holding the
    /// current state (synced). Throws when the space cannot be had: the caller must then not
    /// attempt delivery.
    public func reserve() throws {
        guard !isReserved else { return }
        let layout = SlotLayout(magic: Self.magic, payload: DeliveryState.reservedPayload(recipients: recipientCount))
        if fd < 0 || (slots == nil && writable && isEmpty) {
            if fd >= 0 {  // empty, left by a crash: made again
                close(fd)
                fd = -1
                spool.removeName(.state, id)
            }
            if layout.fileSize == SpareStateFiles.fileSize, let spare = try spool.folders.spares.take(as: id, folders: spool.folders) {
                slots = SlotFile.open(fd: spare, path: path, magic: Self.magic, size: layout.fileSize)
                fd = spare
            } else {
                let created = try spool.createNew(.state, id, flags: O_RDWR, mode: 0o660)
                _ = fchmod(created, 0o660)  // group-writable whatever the umask: any queue run may record
                do {
                    slots = try SlotFile.reserve(fd: created, path: path, layout: layout)
                } catch {
                    close(created)
                    spool.removeName(.state, id)
                    throw error
                }
                fd = created
            }
            writable = true
            nameIsDurable = false
            untouched = true
            return
        }
        // Replace the old file: build the new one in tmp/, holding the current state, durably.
        let name = id + ".state"
        let tmpPath = spool.tmpDir + "/" + name
        spool.removeName(.tmp, name)  // a leftover of a crash, or anything put there: a name only
        let created = try spool.createNew(.tmp, name, flags: O_RDWR, mode: 0o660)
        _ = fchmod(created, 0o660)
        do {
            let file = try SlotFile.reserve(fd: created, path: tmpPath, layout: layout)
            guard let payload = state.encodeLines(capacity: layout.capacity) else {
                throw QueueError(.corrupt, "\(path): the state does not fit its reservation")
            }
            try file.write(payload)
            if renameat(try spool.folders.fd(.tmp), name, try spool.folders.fd(.state), id) != 0 {
                throw QueueError.system("cannot replace", path: path, errno: errno)
            }
            try spool.syncFolder(.state)
            close(fd)
            fd = created
            writable = true
            slots = file
        } catch {
            close(created)
            spool.removeName(.tmp, name)
            throw error
        }
    }

    private var isEmpty: Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && st.st_size == 0
    }

    /// Records `new` in place (reserving first if needed) and makes it durable. After a
    /// reservation, this needs no space.
    public func record(_ new: DeliveryState) throws {
        try reserve()
        guard let slots else { return }
        guard let payload = new.encodeLines(capacity: slots.layout.capacity) else {
            throw QueueError(.corrupt, "\(path): the state of \(new.recipients.count) recipients does not fit its reservation")
        }
        untouched = false
        try slots.write(payload)
        if !nameIsDurable {
            try spool.syncFolder(.state)
            nameIsDurable = true
        }
        state = new
    }
}

extension Spool {
    /// Opens a message's delivery state for its delivery (the caller holds the message's
    /// lock). `recipients` is the envelope's count, which sizes a reservation.
    public func openState(_ id: String, recipients: Int) throws -> StateFile {
        guard QueueID.isValid(id) else { throw QueueError(.notFound, "\(id): not a queue id") }
        return try StateFile(spool: self, id: id, recipients: recipients)
    }

    /// The delivery state, or a fresh one when none was written yet (mailq, sealctl): reads only.
    public func state(_ id: String) throws -> DeliveryState {
        guard QueueID.isValid(id) else { throw QueueError(.notFound, "\(id): not a queue id") }
        guard let fd = try openExisting(.state, id, flags: O_RDONLY) else { return DeliveryState() }
        defer { close(fd) }
        switch try StateFile.read(fd: fd, path: stateDir + "/" + id) {
        case .empty: return DeliveryState()
        case .version1(let s): return s
        case .version2(let s, _): return s
        }
    }

    /// Records a message's state (reserving its file first if needed): for tools and tests;
    /// a queue run keeps its `StateFile` open instead.
    public func writeState(_ id: String, _ state: DeliveryState) throws {
        let count = try envelope(id).0.recipients.count
        try openState(id, recipients: count).record(state)
    }
}
