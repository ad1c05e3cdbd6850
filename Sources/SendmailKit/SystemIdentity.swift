#if canImport(Glibc)
import Glibc
#endif

/// Who is submitting and where: facts read from the system once per run.
public struct SystemIdentity: Sendable {
    public var uid: UInt32
    public var user: String
    /// GECOS full name (first comma field, `&` replaced by the capitalised login name).
    public var gecosName: String?
    /// gethostname(2) as it is.
    public var nodeName: String

    public init(uid: UInt32, user: String, gecosName: String? = nil, nodeName: String) {
        self.uid = uid; self.user = user; self.gecosName = gecosName; self.nodeName = nodeName
    }

    /// Reads the real uid's passwd entry and the host name.
    public static func current() throws -> SystemIdentity {
        let uid = getuid()
        guard let pw = getpwuid(uid) else {
            throw SubmissionError(.noUser, "no login name for user ID \(uid)")
        }
        let user = String(cString: pw.pointee.pw_name)
        var gecos: String?
        if let g = pw.pointee.pw_gecos {
            let full = String(cString: g)
            var first = String(full.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            if first.contains(Character("&")) {
                first = first.replacingAll("&", with: user.prefix(1).uppercased() + user.dropFirst())
            }
            if !first.isEmpty { gecos = first }
        }
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count - 1)
        return SystemIdentity(uid: uid, user: user, gecosName: gecos, nodeName: String(cString: buf))
    }

    /// The FQDN: the node name if it has a dot, else its canonical name from the resolver
    /// (/etc/hosts first), else the node name. Only called when the config has no hostname.
    public func fullyQualifiedHostName() -> String {
        if nodeName.contains(Character(".")) { return nodeName }
        var hints = addrinfo()
        hints.ai_flags = AI_CANONNAME
        hints.ai_family = AF_UNSPEC
        var res: UnsafeMutablePointer<addrinfo>?
        if getaddrinfo(nodeName, nil, &hints, &res) == 0, let r = res {
            defer { freeaddrinfo(r) }
            if let c = r.pointee.ai_canonname {
                let name = String(cString: c)
                if name.contains(Character(".")) { return name }
            }
        }
        return nodeName
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        var out = ""
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
