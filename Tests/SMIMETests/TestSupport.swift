import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

/// Paths, processes and fixtures shared by the SMIME tests.
enum Fixture {
    /// shared/reference/smime-vectors, beside the package (CI) or under /work (sessions).
    static let vectors: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for candidate in [root.deletingLastPathComponent().appendingPathComponent("shared").path, "/work/shared"] {
            let path = candidate + "/reference/smime-vectors"
            if FileManager.default.fileExists(atPath: path + "/lab/pki/ca.crt") { return path }
        }
        return nil
    }()

    static func lab(_ name: String) throws -> String {
        guard let vectors else { throw XCTSkip("smime-vectors not found") }
        return vectors + "/lab/pki/" + name
    }

    static func rfc9216(_ name: String) throws -> String {
        guard let vectors else { throw XCTSkip("smime-vectors not found") }
        return vectors + "/rfc9216/" + name
    }

    /// A fixed time inside the lab PKI's validity and its CRL's (2026-12-01T00:00:00Z).
    static let labTime = Date(timeIntervalSince1970: 1_796_083_200)
    static var labEpoch: String { String(Int(labTime.timeIntervalSince1970)) }

    static func alice() throws -> SigningIdentity {
        try SigningIdentity.loadPEM(certificate: lab("alice.crt"), key: lab("alice.key"))
    }

    static func cert(_ name: String) throws -> Certificate {
        try Certificate.load(contentsOf: lab(name))[0]
    }

    static func labTrust(crl: Bool = true) throws -> TrustSettings {
        try TrustSettings.load(anchorFiles: [lab("ca.crt")], crlFiles: crl ? [lab("ca.crl")] : [])
    }
}

/// Protects `message` (written to a temp file) and returns the output bytes.
func protect(_ message: String, _ protection: Protection, in dir: TempDir, name: String = "out.eml") throws -> [UInt8] {
    try protect(bytes: Array(message.utf8), protection, in: dir, name: name)
}

func protect(bytes: [UInt8], _ protection: Protection, in dir: TempDir, name: String = "out.eml") throws -> [UInt8] {
    let input = dir.write("in-" + name, bytes)
    let outPath = dir.file(name)
    let fd = open(outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    defer { close(fd) }
    try MessageProtector(protection).protect(messageAt: input, to: fd)
    return dir.read(name)
}

/// Asserts every line ends in CRLF, is under 998 octets, and the bytes are 7-bit.
func assertWireSafe(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
    var lineLength = 0
    for (i, b) in bytes.enumerated() {
        if b == 0x0A {
            XCTAssertTrue(i > 0 && bytes[i - 1] == 0x0D, "bare LF at \(i)", file: file, line: line)
            if i == 0 || bytes[i - 1] != 0x0D { return }
            lineLength = 0
            continue
        }
        if b == 0x0D && (i + 1 >= bytes.count || bytes[i + 1] != 0x0A) {
            XCTFail("bare CR at \(i)", file: file, line: line); return
        }
        if b >= 0x80 || b == 0 { XCTFail("8-bit or NUL byte at \(i)", file: file, line: line); return }
        lineLength += 1
        if lineLength > 998 { XCTFail("line over 998 octets at \(i)", file: file, line: line); return }
    }
    XCTAssertTrue(bytes.suffix(2) == [0x0D, 0x0A], "output does not end in CRLF", file: file, line: line)
}

/// openssl cms -verify with the lab CA and the S/MIME signing purpose; returns the content.
func opensslVerify(_ path: String, ca: String? = nil, crl: Bool = false, extra: [String] = []) throws -> Run {
    var args = ["openssl", "cms", "-verify", "-in", path, "-CAfile", try ca ?? Fixture.lab("ca.crt"),
                "-purpose", "smimesign", "-attime", Fixture.labEpoch]
    if crl { args += ["-CRLfile", try Fixture.lab("ca.crl"), "-crl_check"] }
    return try sh(args + extra)
}

/// openssl cms -decrypt with a recipient's key; returns the decrypted entity.
func opensslDecrypt(_ path: String, cert: String, key: String) throws -> Run {
    try sh(["openssl", "cms", "-decrypt", "-in", path, "-recip", cert, "-inkey", key, "-binary"])
}

extension GpgSM {
    /// gpgsm trusting `ca` (the lab CA by default), its clock at the lab time; the test is
    /// skipped when gpgsm is not installed.
    static func lab(trusting ca: String? = nil) throws -> GpgSM {
        do {
            return try GpgSM(trusting: ca ?? Fixture.lab("ca.crt"), fakedTime: "20261201T000000")
        } catch let e as PeerUnavailable {
            throw XCTSkip(e.description)
        }
    }
}
