import Foundation

/// Test utilities for the real peers the test suite runs on 127.0.0.1 and in temporary
/// folders (DESIGN.md "Tests"): programs no one here wrote, started by pid and stopped by pid
/// (`PeerProcess`), a tool runner (`sh`), the other S/MIME implementations as readers and
/// writers (a throwaway gpgsm home `GpgSM`, an NSS database `NSS`, Bouncy Castle
/// `BouncyCastle`), and the minimal MIME splitting and framing the CMS tools need
/// (`MIMESplit`, `MIMEWrap`). Shared by the test targets, so that each concern
/// has one place; it does not import XCTest (the release build builds every target), so a
/// missing peer is `PeerUnavailable`, which the tests turn into XCTSkip.

/// A peer program the test needs is not installed.
public struct PeerUnavailable: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public enum Peers {
    /// The Python with Debian's python3-aiosmtpd (the pyenv python3 on PATH may lack it).
    public static let python = "/usr/bin/python3"

    /// Throws `PeerUnavailable` unless `python` can import `module`.
    public static func requirePythonModule(_ module: String, package: String) throws {
        guard FileManager.default.isExecutableFile(atPath: python),
              (try? sh([python, "-c", "import \(module)"]))?.status == 0 else {
            throw PeerUnavailable("\(python) cannot import \(module) (Debian package \(package))")
        }
    }

    /// Throws `PeerUnavailable` unless `program` runs with `arguments` (e.g. `--version`).
    public static func requireProgram(_ program: String, _ arguments: [String], package: String) throws {
        guard (try? sh([program] + arguments))?.status == 0 else {
            throw PeerUnavailable("\(program) is not installed (Debian package \(package))")
        }
    }

    /// Lines for `openssl x509 -extfile` (last in the file: it ends with its own sections)
    /// that give a certificate an SMIMECapabilities extension (RFC 4262) announcing RSAES-OAEP
    /// and AES-256-CBC: a recipient whose client says it opens OAEP.
    public static let oaepCapabilitiesExtension = """
        1.2.840.113549.1.9.15=ASN1:SEQUENCE:caps
        [caps]
        oaep = SEQUENCE:oaep
        cbc = SEQUENCE:cbc
        [oaep]
        algorithm = OID:1.2.840.113549.1.1.7
        [cbc]
        algorithm = OID:2.16.840.1.101.3.4.1.42

        """
}
