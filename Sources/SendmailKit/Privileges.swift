#if canImport(Glibc)
import Glibc
#endif

/// The set-group-ID binary trusts nothing from its caller's environment (DESIGN.md
/// "Security model"): the environment is emptied but for a few harmless variables, inherited
/// file descriptors above stderr are closed (always, set-group-ID or not), and admin
/// operations are limited to root.
enum Privileges {
    /// Variables kept when running set-group-ID: NAME only feeds a display name, which is
    /// encoded; everything else (LD_*, OPENSSL_CONF, SSL_CERT_FILE, TZ, HOSTALIASES,
    /// LOCALDOMAIN, RES_OPTIONS, SEALMAIL_CONFIG is read before: see Runtime) goes.
    static let kept: Set<String> = ["NAME", "SEALMAIL_CONFIG"]

    static var isSetID: Bool { getegid() != getgid() || geteuid() != getuid() }

    static func sanitise() {
        // Descriptors the caller left open must not reach relay connections or children, and
        // the detached deliverer of -odb must not hold them: a caller waiting for their end
        // (Foundation's Process waits on a socket its child inherits) would wait for the whole
        // delivery. sealmail never uses an inherited descriptor above stderr, set-group-ID or not.
        closefrom(3)
        guard isSetID else { return }
        var keep: [(String, String)] = []
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            // The '=' as a byte: with a combining mark after it, it is no Character of its own.
            if let eq = s.utf8.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(s[..<eq])
                if kept.contains(name) { keep.append((name, String(s[s.utf8.index(after: eq)...]))) }
            }
            p += 1
        }
        clearenv()
        for (k, v) in keep { setenv(k, v, 1) }
        setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1)
        setenv("TZ", ":/etc/localtime", 1)
    }

    /// Root, or a user listed in `mailq_users` (or `*`), sees the whole queue and may run it;
    /// others see their own messages only.
    static func mayRunQueue(_ rt: Runtime) -> Bool {
        getuid() == 0 || rt.config.mailqUsers.contains(rt.identity.user) || rt.config.mailqUsers.contains("*")
    }
}
