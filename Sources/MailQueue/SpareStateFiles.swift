#if canImport(Glibc)
import Glibc
#endif
import CMailShim

/// Reserved state files kept for reuse by one process, so that a queue run does not create,
/// fill and delete a state file for every message it delivers at once to all its recipients.
/// A reservation that was never written to (all its recipients accepted) is moved back to
/// `tmp/spare-PID-N` instead of being removed, its descriptor kept open, and the next
/// reservation of the same size moves it to `state/ID` (a rename that never replaces): two
/// renames instead of a create, a write of its blocks, a close and an unlink (measured here:
/// about 14 µs against 30 to 60 µs per message).
///
/// Only files whose slots were never written are kept, so a spare holds zeros only. Spares
/// left by a process that died are ordinary old files in tmp/, removed by the sweep.
final class SpareStateFiles: @unchecked Sendable {
    /// The size of the files kept (the reservation of a message of up to 9 recipients).
    static let fileSize = SlotLayout(magic: StateFile.magic, payload: DeliveryState.reservedPayload(recipients: 1)).fileSize
    /// At most this many are kept (about the number of a run's parallel deliveries).
    private let limit = 16
    private var spares: [(name: String, fd: Int32)] = []
    private var counter = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Moves a spare to `state/ID`: its descriptor, or nil when there is none (or it could
    /// not be moved). Throws `.unsafe` when something already has that name.
    func take(as id: String, folders: SpoolFolders) throws -> Int32? {
        pthread_mutex_lock(mutex)
        let spare = spares.popLast()
        pthread_mutex_unlock(mutex)
        guard let spare else { return nil }
        let tmp = try folders.fd(.tmp), state = try folders.fd(.state)
        if sm_file_rename_noreplace(tmp, spare.name, state, id) == 0 { return spare.fd }
        let e = errno
        close(spare.fd)
        unlinkat(tmp, spare.name, 0)
        if e == EEXIST { throw QueueError(.unsafe, "\(folders.path(.state))/\(id) exists already: refused", errno: e) }
        return nil  // (swept meanwhile, or no RENAME_NOREPLACE here): a new file is made
    }

    /// Keeps `state/ID` (open on `fd`, never written since its reservation) for reuse.
    /// False when it is not kept (the caller then removes it and closes `fd`).
    func keep(_ id: String, fd: Int32, folders: SpoolFolders) -> Bool {
        pthread_mutex_lock(mutex)
        guard spares.count < limit else { pthread_mutex_unlock(mutex); return false }
        counter += 1
        let name = "spare-\(getpid())-\(counter)"
        pthread_mutex_unlock(mutex)
        guard let tmp = try? folders.fd(.tmp), let state = try? folders.fd(.state),
              sm_file_rename_noreplace(state, id, tmp, name) == 0 else { return false }
        pthread_mutex_lock(mutex)
        spares.append((name, fd))
        pthread_mutex_unlock(mutex)
        return true
    }

    /// Removes the spares (at the end of a queue run).
    func release(folders: SpoolFolders) {
        pthread_mutex_lock(mutex)
        let all = spares
        spares = []
        pthread_mutex_unlock(mutex)
        let tmp = try? folders.fd(.tmp)
        for spare in all {
            if let tmp { unlinkat(tmp, spare.name, 0) }
            DeferredCloser.shared.close(spare.fd)
        }
    }
}

extension Spool {
    /// Removes the reserved state files this process kept for reuse; a queue run calls this
    /// when it ends.
    public func releaseSpareStateFiles() {
        folders.spares.release(folders: folders)
    }
}
