import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

/// The options that select constructs beyond the defaults: key transport per certificate
/// (from a certificate's SMIMECapabilities extension, RFC 4262), and the combination OpenSSL
/// 3.0 cannot stream (opaque RSASSA-PSS) signs now that the content is encapsulated after signing.
final class ConstructOptionsTests: XCTestCase {
    /// A certificate of the throwaway CA whose SMIMECapabilities list RSAES-OAEP and AES-256-CBC.
    func oaepCertificate(_ pki: ThrowawayPKI) throws -> (String, String) {
        let ext = pki.dir.write("o-caps.ext", """
            keyUsage=critical,keyEncipherment
            extendedKeyUsage=emailProtection
            subjectAltName=email:o@example.test

            """ + Peers.oaepCapabilitiesExtension)
        let key = pki.dir.file("o.key"), csr = pki.dir.file("o.csr"), cert = pki.dir.file("o.crt")
        XCTAssertEqual(try sh(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                               "-subj", "/CN=o"]).status, 0)
        let signed = try sh(["openssl", "x509", "-req", "-in", csr, "-CA", pki.caCert, "-CAkey", pki.caKey, "-CAcreateserial",
                             "-days", "30", "-extfile", ext, "-out", cert])
        XCTAssertEqual(signed.status, 0, signed.stderr)
        return (cert, key)
    }

    func testSMIMECapabilitiesOfACertificate() throws {
        let pki = try ThrowawayPKI()
        let cert = try Certificate.load(contentsOf: oaepCertificate(pki).0)[0]
        XCTAssertEqual(cert.smimeCapabilities, ["1.2.840.113549.1.1.7", "2.16.840.1.101.3.4.1.42"])
        XCTAssertTrue(cert.advertisesOAEP)
        let bob = try Fixture.cert("bob.crt")
        XCTAssertEqual(bob.smimeCapabilities, [])
        XCTAssertFalse(bob.advertisesOAEP)
        XCTAssertEqual(DERCapabilities.oids([0x30, 0x05, 0x30, 0x03, 0x06, 0x01]), [], "truncated: nothing, no crash")
        XCTAssertEqual(DERCapabilities.dotted([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x07]), "1.2.840.113549.1.1.7")
    }

    /// One message, two RSA recipients: `.asAdvertised` gives OAEP to the certificate that
    /// asks for it only; a per-certificate override beats the default. Both decrypt (openssl).
    func testKeyTransportPerCertificate() throws {
        let pki = try ThrowawayPKI()
        let (oCert, oKey) = try oaepCertificate(pki)
        let (bCert, bKey) = try pki.issue(name: "b", keyArgs: ["-newkey", "rsa:2048"], keyUsage: "keyEncipherment")
        let o = try Certificate.load(contentsOf: oCert)[0], b = try Certificate.load(contentsOf: bCert)[0]
        let cases: [(RSAKeyTransport, [String: RSAKeyTransport], oaep: Int)] = [
            (.asAdvertised, [:], 1), (.pkcs1v15, [:], 0), (.pkcs1v15, [b.sha256Fingerprint: .oaep], 1), (.oaep, [:], 2),
            (.oaep, [o.sha256Fingerprint: .pkcs1v15], 1),
        ]
        for (transport, overrides, oaepCount) in cases {
            let options = (transport, overrides)
            let dir = TempDir()
            var p = Protection(recipients: [o, b])
            p.encryption.rsaKeyTransport = options.0
            p.encryption.rsaKeyTransportByCertificate = options.1
            _ = try protect(InteropTests.plainMessage, p, in: dir)
            let printed = try sh(["openssl", "cms", "-cmsout", "-print", "-in", dir.file("out.eml")]).out
            XCTAssertEqual(printed.components(separatedBy: "rsaesOaep").count - 1, oaepCount, "\(options)")
            for (cert, key) in [(oCert, oKey), (bCert, bKey)] {
                XCTAssertEqual(try opensslDecrypt(dir.file("out.eml"), cert: cert, key: key).status, 0, "\(options) \(cert)")
            }
        }
        XCTAssertTrue(RSAKeyTransport.asAdvertised.usesOAEP(for: o))
        XCTAssertFalse(RSAKeyTransport.asAdvertised.usesOAEP(for: b))
    }

    /// Opaque signed-data with RSASSA-PSS: the SignedData is built detached and the content
    /// encapsulated afterwards (as DER), so OpenSSL 3.0's streaming encoder, which fails on an
    /// encapsulated PSS signature ("illegal zero content"), is not in the way; openssl
    /// verifies it. Inside an encryption the signature is detached, and PSS works there too.
    func testOpaquePSSSigns() throws {
        let dir = TempDir()
        var p = Protection(signer: try Fixture.alice())
        p.now = { Fixture.labTime }
        p.signing.form = .opaque
        p.signing.rsaScheme = .pss
        _ = try protect(InteropTests.plainMessage, p, in: dir)
        let verified = try opensslVerify(dir.file("out.eml"))
        XCTAssertEqual(verified.status, 0, verified.stderr)
        let printed = try sh(["openssl", "cms", "-cmsout", "-print", "-in", dir.file("out.eml")]).out
        XCTAssertTrue(printed.contains("rsassaPss"), "RSASSA-PSS in the SignerInfo")
        p.recipients = [try Fixture.cert("bob.crt")]
        _ = try protect(InteropTests.plainMessage, p, in: dir, name: "enc.eml")
        let dec = try opensslDecrypt(dir.file("enc.eml"), cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
        XCTAssertEqual(dec.status, 0, dec.stderr)
        dir.write("inner.eml", Array(dec.stdout))
        XCTAssertEqual(try opensslVerify(dir.file("inner.eml")).status, 0)
    }
}
