import Foundation
import XCTest
import PeerTestSupport

/// A CA made with the openssl CLI for cases the lab PKI does not cover (RSA-PSS, P-384).
final class ThrowawayPKI {
    let dir = TempDir()
    var caCert: String { dir.file("ca.crt") }
    var caKey: String { dir.file("ca.key") }

    init() throws {
        let r = try sh(["openssl", "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey,
                         "-out", caCert, "-days", "3650", "-subj", "/O=Throwaway/CN=Throwaway CA",
                         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        guard r.status == 0 else { throw XCTSkip("openssl req failed: \(r.stderr)") }
    }

    /// Issues an S/MIME certificate for `name@example.test`; returns (cert path, key path).
    func issue(name: String, keyArgs: [String], keyUsage: String, eku: String = "emailProtection",
               days: Int = 365) throws -> (String, String) {
        let key = dir.file("\(name).key"), csr = dir.file("\(name).csr"), cert = dir.file("\(name).crt")
        let ext = dir.write("\(name).ext", """
            keyUsage=critical,\(keyUsage)
            extendedKeyUsage=\(eku)
            subjectAltName=email:\(name)@example.test
            """)
        let req = try sh(["openssl", "req", "-new"] + keyArgs + ["-nodes", "-keyout", key, "-out", csr,
                                                                  "-subj", "/O=Throwaway/CN=\(name)"])
        XCTAssertEqual(req.status, 0, req.stderr)
        let sign = try sh(["openssl", "x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-CAcreateserial",
                            "-out", cert, "-days", String(days), "-sha256", "-extfile", ext])
        XCTAssertEqual(sign.status, 0, sign.stderr)
        return (cert, key)
    }
}
