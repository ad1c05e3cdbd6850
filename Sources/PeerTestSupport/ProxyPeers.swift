import Foundation

/// The proxies the tests tunnel SMTP through, programs no one here wrote, started on
/// 127.0.0.1 and stopped by pid: Debian's `microsocks` (SOCKS5, RFC 1929 username/password)
/// and `tinyproxy` (HTTP CONNECT; package tinyproxy-bin, the program without the daemon's
/// service).
public enum ProxyPeers {
    /// Debian package microsocks.
    public static let microsocks = "/usr/bin/microsocks"
    /// Debian package tinyproxy-bin (or tinyproxy).
    public static let tinyproxy = "/usr/bin/tinyproxy"

    /// Starts microsocks on a free port of 127.0.0.1, requiring `user`/`password` when given.
    /// - Throws: `PeerUnavailable` when microsocks is not installed.
    public static func startMicrosocks(user: String? = nil, password: String? = nil) throws -> PeerProcess {
        guard FileManager.default.isExecutableFile(atPath: microsocks) else {
            throw PeerUnavailable("\(microsocks) is not installed (Debian package microsocks)")
        }
        let port = PeerProcess.freePort()
        var arguments = ["-i", "127.0.0.1", "-p", String(port)]
        if let user, let password { arguments += ["-u", user, "-P", password] }
        return try PeerProcess(executable: microsocks, arguments: arguments, port: port)
    }

    /// Starts tinyproxy in the foreground (`-d -c FILE`) on a free port of 127.0.0.1,
    /// allowing CONNECT only to `connectPorts`, with Basic credentials when given. Its config
    /// and log go to `directory`.
    /// - Throws: `PeerUnavailable` when tinyproxy is not installed.
    public static func startTinyproxy(directory: String, connectPorts: [UInt16],
                                      basicAuth: (user: String, password: String)? = nil) throws -> PeerProcess {
        guard FileManager.default.isExecutableFile(atPath: tinyproxy) else {
            throw PeerUnavailable("\(tinyproxy) is not installed (Debian package tinyproxy-bin)")
        }
        let port = PeerProcess.freePort()
        var config = """
        Port \(port)
        Listen 127.0.0.1
        Timeout 30
        MaxClients 20
        LogLevel Info
        LogFile "\(directory)/tinyproxy-\(port).log"

        """
        for allowed in connectPorts { config += "ConnectPort \(allowed)\n" }
        if let basicAuth { config += "BasicAuth \(basicAuth.user) \(basicAuth.password)\n" }
        let path = "\(directory)/tinyproxy-\(port).conf"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return try PeerProcess(executable: tinyproxy, arguments: ["-d", "-c", path], port: port)
    }
}
