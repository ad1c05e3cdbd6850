import Foundation
import XCTest
import PeerTestSupport

/// Signing and encryption stream (issue 12): a 1 GiB attachment goes signed and encrypted
/// through the library (Sources/SealmailLargeSend, a process of its own so that its peak
/// memory is its own) with a peak RSS under 64 MiB, to Postfix's smtp-sink, which writes what
/// it receives to disk; `openssl cms` decrypts and verifies it and the attachment's digest is
/// the original's, and gpgsm verifies the signature.
///
/// `swift test` runs it with 64 MiB and the debug build; Tests/run.sh runs it again with
/// SEALMAIL_LARGE_MIB=1024 and SEALMAIL_LARGE_TOOL pointing at the release build.
final class LargeMessageTests: XCTestCase {
    static let sinkBinary = "/usr/sbin/smtp-sink"
    static var tool: String {
        if let t = ProcessInfo.processInfo.environment["SEALMAIL_LARGE_TOOL"], !t.isEmpty { return t }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("SealmailLargeSend").path
    }

    func testOneGibibyteAttachmentStreams() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.tool) else { throw XCTSkip("no SealmailLargeSend") }
        guard FileManager.default.isExecutableFile(atPath: Self.sinkBinary) else { throw XCTSkip("no smtp-sink (postfix)") }
        let mib = Int(ProcessInfo.processInfo.environment["SEALMAIL_LARGE_MIB"] ?? "") ?? 64
        let pki = try TestPKI()
        defer { pki.remove() }
        let dir = pki.dir
        let dumps = dir + "/dumps"
        try FileManager.default.createDirectory(atPath: dumps, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        chmod(dumps, 0o777)

        // The attachment: random bytes (nothing compressible or repetitive), written by head.
        let attachment = dir + "/big.bin"
        _ = try TestPKI.run("/bin/sh", ["-c", "head -c \(mib)M /dev/urandom > '\(attachment)'"])
        let originalDigest = try sha256(attachment)

        let port = PeerProcess.freePort()
        let sink = try PeerProcess(executable: Self.sinkBinary,
                                   arguments: ["-u", "nobody", "-d", dumps + "/%M.", "127.0.0.1:\(port)", "16"], port: port)
        defer { sink.stop() }
        let output = try TestPKI.run(Self.tool, ["\(port)", attachment, pki.cert("alice"), pki.key("alice"), pki.cert("bob"), dir])
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("accepted 1"), "\(lines)")
        let rss = try XCTUnwrap(lines.first { $0.hasPrefix("peak_rss_kib ") }.flatMap { Int($0.dropFirst(13)) })
        XCTAssertLessThan(rss, 64 * 1024, "peak RSS \(rss / 1024) MiB sending a \(mib) MiB attachment signed and encrypted")
        try? FileManager.default.removeItem(atPath: attachment)

        // smtp-sink's dump: X-* envelope lines, then the message as received.
        let dumped = try XCTUnwrap(FileManager.default.subpathsOfDirectory(atPath: dumps).first { !$0.hasSuffix("/") && $0.contains(".") })
        let received = dumps + "/" + dumped
        let inner = dir + "/inner.eml", content = dir + "/content.eml"
        try pki.openssl(["cms", "-decrypt", "-in", received, "-recip", pki.cert("bob"), "-inkey", pki.key("bob"), "-out", inner])
        try? FileManager.default.removeItem(atPath: received)
        try pki.openssl(["cms", "-verify", "-in", inner, "-CAfile", pki.caCert, "-purpose", "smimesign", "-out", content])

        // The attachment decoded from the verified content, in a stream, and the signature
        // checked by gpgsm over the signed part's exact bytes.
        let script = #"""
        import base64, hashlib, sys
        inner, content, out = sys.argv[1], sys.argv[2], sys.argv[3]
        def attachment_digest(path):
            h = hashlib.sha256(); state = 0
            with open(path, "rb") as f:
                for line in f:
                    if state == 0 and line.lower().startswith(b"content-disposition: attachment"):
                        state = 1
                    elif state == 1 and line.strip() == b"":
                        state = 2
                    elif state == 2:
                        if line.startswith(b"--"):
                            break
                        h.update(base64.b64decode(line.strip()))
            return h.hexdigest()
        print(attachment_digest(content))
        # multipart/signed: the first part's bytes (between the first delimiter line and the
        # CRLF before the second) and the signature part's base64.
        with open(inner, "rb") as f:
            boundary = None
            for line in f:
                if b"boundary=" in line:
                    boundary = line.split(b"boundary=")[1].strip().strip(b'"').split(b'"')[0].split(b";")[0]
                if boundary and line.rstrip(b"\r\n") == b"--" + boundary:
                    break
            with open(out + ".content", "wb") as c:
                prev = None
                for line in f:
                    if line.rstrip(b"\r\n") == b"--" + boundary:
                        if prev is not None:
                            c.write(prev[:-2] if prev.endswith(b"\r\n") else prev.rstrip(b"\n"))
                        break
                    if prev is not None:
                        c.write(prev)
                    prev = line
            sig = b""; body = False
            for line in f:
                if line.rstrip(b"\r\n").startswith(b"--" + boundary):
                    break
                if body:
                    sig += line.strip()
                elif line.strip() == b"":
                    body = True
            open(out + ".sig", "wb").write(base64.b64decode(sig))
        """#
        let py = String(decoding: try TestPKI.run(Peers.python, ["-c", script, inner, content, dir + "/split"]), as: UTF8.self)
        XCTAssertEqual(py.trimmingCharacters(in: .whitespacesAndNewlines), originalDigest, "the attachment arrives intact")
        do {
            let gpg = try GpgSM(trusting: pki.caCert)
            let run = try gpg.verifyFiles(signature: dir + "/split.sig", content: dir + "/split.content")
            XCTAssertEqual(run.status, 0, run.out + run.stderr)
            XCTAssertTrue(run.out.contains("[GNUPG:] GOODSIG"), run.out)
        } catch let e as PeerUnavailable {
            throw XCTSkip(e.description)
        }
    }

    func sha256(_ path: String) throws -> String {
        String(decoding: try TestPKI.run("/usr/bin/sha256sum", [path]).prefix(64), as: UTF8.self)
    }
}
