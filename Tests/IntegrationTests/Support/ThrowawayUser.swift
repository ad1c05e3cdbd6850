import Foundation
import PeerTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A local user made for a test class (useradd, with a group of the same name; no home,
/// no login shell) and removed afterwards (userdel). Sender authorisation and the sign
/// rules' `users` are about who submits, and the tests run as root, so sealmail is started
/// as this user through setpriv (real and effective IDs, its groups from /etc/group).
final class ThrowawayUser {
    let name: String
    let uid: uid_t
    let gid: gid_t

    /// - Throws: `PeerUnavailable` when not root or without useradd/setpriv.
    init() throws {
        guard getuid() == 0 else { throw PeerUnavailable("making a throwaway user needs root") }
        for tool in ["/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/bin/setpriv"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw PeerUnavailable("\(tool) is missing (Debian packages passwd, util-linux)")
        }
        let candidate = "sm-e2e-\(getpid() % 100_000)-\(UInt16.random(in: 0...UInt16.max))"
        let r = try sh(["/usr/sbin/useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin",
                        "--comment", "sealmail policy test", candidate])
        guard r.status == 0, let pw = getpwnam(candidate) else { throw HarnessError("useradd \(candidate): \(r.stderr)") }
        name = candidate
        uid = pw.pointee.pw_uid
        gid = pw.pointee.pw_gid
    }

    /// Removes the user and its group.
    func remove() {
        _ = try? sh(["/usr/sbin/userdel", name])
    }

    /// The command prefix that runs a program as this user.
    var prefix: [String] { ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--"] }
}
