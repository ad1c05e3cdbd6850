#if canImport(Glibc)
import Glibc
#endif

/// Why the last queue run stopped early, kept in `queue_dir/run-status` so that mailq can
/// show it as the delay reason of the messages it did not try: when the disk is full, no
/// message's own state can say so. The file is created (and its blocks reserved) when the
/// queue is prepared, and written in place (`SlotLayout`), so writing it needs no space.
/// Not synced: it only explains; what was delivered is in each message's state.
public struct RunStop: Equatable, Sendable {
    /// When the run stopped, microseconds since the epoch.
    public var micros: UInt64
    public var reason: String
    public init(micros: UInt64, reason: String) { self.micros = micros; self.reason = reason }
}

extension Spool {
    static let runStatusName = "run-status"
    static let runStatusMagic = "sealmail-run 1"
    static var runStatusLayout: SlotLayout { SlotLayout(magic: runStatusMagic, payload: 2048) }

    /// Creates the run-status file when it is missing (reserved, as any slot file).
    func createRunStatus() {
        guard let root = try? folders.fd(.root) else { return }
        var st = stat()
        if fstatat(root, Self.runStatusName, &st, AT_SYMLINK_NOFOLLOW) == 0 { return }
        guard let fd = try? createNew(.root, Self.runStatusName, flags: O_RDWR, mode: 0o660) else { return }
        defer { close(fd) }
        _ = fchmod(fd, 0o660)
        if (try? SlotFile.reserve(fd: fd, path: rootPath(Self.runStatusName), layout: Self.runStatusLayout)) == nil {
            removeName(.root, Self.runStatusName)
        }
    }

    private func rootPath(_ name: String) -> String { root + "/" + name }

    /// Why the last queue run stopped early; nil when it did not (or nothing is recorded).
    public func lastRunStop() -> RunStop? {
        guard let fd = (try? openExisting(.root, Self.runStatusName, flags: O_RDONLY)) ?? nil else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0,
              let file = SlotFile.open(fd: fd, path: rootPath(Self.runStatusName), magic: Self.runStatusMagic, size: Int(st.st_size)),
              let payload = try? file.read() else { return nil }
        let words = payload.split(separator: 32, maxSplits: 2)
        guard words.count == 3, String(decoding: words[0], as: UTF8.self) == "stopped",
              let micros = UInt64(String(decoding: words[1], as: UTF8.self)) else { return nil }
        return RunStop(micros: micros, reason: RecordText.decode(bytes: words[2]))
    }

    /// Records that a queue run stopped early (or, with nil, that the last one did not), in
    /// place. Throws when the file is missing or cannot be written.
    public func recordRunStop(_ stop: RunStop?) throws {
        guard let fd = try openExisting(.root, Self.runStatusName, flags: O_RDWR) else {
            throw QueueError(.notFound, "\(rootPath(Self.runStatusName)): missing")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0,
              let file = SlotFile.open(fd: fd, path: rootPath(Self.runStatusName), magic: Self.runStatusMagic, size: Int(st.st_size))
        else { throw QueueError(.corrupt, "\(rootPath(Self.runStatusName)): not a run-status file") }
        _ = try? file.read()  // finds the newest slot, so that it is not the one overwritten
        let text = stop.map { "stopped \($0.micros) " + RecordText.encode($0.reason, limit: file.layout.capacity - 40) } ?? "completed"
        try file.write(Array(text.utf8), sync: false)
    }
}
