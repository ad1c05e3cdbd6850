import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

final class CertificateStoreTests: XCTestCase {
    /// A store with the lab certificates and CRL.
    func labStore(_ dir: TempDir) throws -> CertificateStore {
        let store = dir.file("store")
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        for name in ["alice.crt", "bob.crt", "carol.crt", "eve.crt", "mallory.crt", "ca.crl"] {
            try FileManager.default.copyItem(atPath: Fixture.lab(name), toPath: store + "/" + name)
        }
        dir.write("store/notes.txt", "not a certificate\n")
        return try CertificateStore(directory: store)
    }

    func select(_ address: String, _ store: CertificateStore) throws -> CertificateStore.Selection {
        store.select(for: address, anchors: TrustSettings(anchors: try Certificate.load(contentsOf: Fixture.lab("ca.crt"))),
                     at: Fixture.labTime)
    }

    func testLoadsCertificatesCRLsAndReportsJunk() throws {
        let store = try labStore(TempDir())
        XCTAssertEqual(store.entries.count, 5)
        XCTAssertEqual(store.crls.count, 1)
        XCTAssertEqual(store.loadErrors.count, 1)
        XCTAssertTrue(store.loadErrors[0].path?.hasSuffix("notes.txt") ?? false)
    }

    func testAddressMatching() throws {
        let alice = try Fixture.cert("alice.crt")
        XCTAssertTrue(CertificateStore.matches(alice, address: "alice@example.test"))
        XCTAssertTrue(CertificateStore.matches(alice, address: "alice@EXAMPLE.Test"), "domain is case-insensitive")
        XCTAssertFalse(CertificateStore.matches(alice, address: "Alice@example.test"), "local part is exact")
        XCTAssertFalse(CertificateStore.matches(alice, address: "alice@example.org"))
        XCTAssertFalse(CertificateStore.matches(alice, address: "alice"))
    }

    func testGoodExpiredRevokedWrongPurpose() throws {
        let store = try labStore(TempDir())
        XCTAssertNotNil(try select("alice@example.test", store).chosen)
        XCTAssertNotNil(try select("carol@example.test", store).chosen, "EC with keyAgreement is usable for ECDH")
        let cases: [(String, CertificateProblem.Kind)] = [("eve@example.test", .expired), ("bob@example.test", .revoked),
                                                          ("mallory@example.test", .wrongPurpose)]
        for (address, kind) in cases {
            let selection = try select(address, store)
            XCTAssertNil(selection.chosen, address)
            XCTAssertEqual(selection.others.count, 1, address)
            XCTAssertTrue(selection.others[0].problems.contains { $0.kind == kind }, "\(address): \(selection.others[0].problems)")
            XCTAssertThrowsError(try selection.certificate()) {
                XCTAssertEqual(($0 as? SMIMEError)?.code, .unusableCertificate)
                XCTAssertTrue("\($0)".contains(kind.rawValue), "\($0)")
            }
        }
        XCTAssertThrowsError(try select("nobody@example.test", store).certificate()) {
            XCTAssertTrue("\($0)".contains("no certificate for nobody@example.test"))
        }
    }

    func testUntrustedChainAndNotYetValid() throws {
        let store = try labStore(TempDir())
        let other = try ThrowawayPKI()
        let foreign = store.select(for: "alice@example.test",
                                   anchors: TrustSettings(anchors: try Certificate.load(contentsOf: other.caCert)),
                                   at: Fixture.labTime)
        XCTAssertEqual(foreign.others.first?.problems.first?.kind, .untrustedChain)
        let early = store.select(for: "alice@example.test",
                                 anchors: TrustSettings(anchors: try Certificate.load(contentsOf: Fixture.lab("ca.crt"))),
                                 at: Date(timeIntervalSince1970: 1_700_000_000))
        XCTAssertTrue(early.others.first?.problems.contains { $0.kind == .notYetValid } ?? false)
    }

    func testNewestValidWins() throws {
        let pki = try ThrowawayPKI()
        let dir = TempDir()
        try FileManager.default.createDirectory(atPath: dir.file("store"), withIntermediateDirectories: true)
        let (older, _) = try pki.issue(name: "dave", keyArgs: ["-newkey", "rsa:2048"], keyUsage: "keyEncipherment", days: 30)
        try FileManager.default.copyItem(atPath: older, toPath: dir.file("store/dave-1.pem"))
        sleep(1)   // a later notBefore
        let (newer, _) = try pki.issue(name: "dave", keyArgs: ["-newkey", "rsa:2048"], keyUsage: "keyEncipherment", days: 30)
        try FileManager.default.copyItem(atPath: newer, toPath: dir.file("store/dave-2.pem"))
        let (signOnly, _) = try pki.issue(name: "dave", keyArgs: ["-newkey", "rsa:2048"], keyUsage: "digitalSignature", days: 30)
        try FileManager.default.copyItem(atPath: signOnly, toPath: dir.file("store/dave-3.pem"))
        let store = try CertificateStore(directory: dir.file("store"))
        let selection = store.select(for: "dave@example.test",
                                     anchors: TrustSettings(anchors: try Certificate.load(contentsOf: pki.caCert)), at: Date())
        XCTAssertEqual(selection.chosen?.entry.path, dir.file("store/dave-2.pem"))
        XCTAssertEqual(selection.others.count, 2)
        XCTAssertTrue(selection.others.contains { $0.isUsable && $0.entry.path.hasSuffix("dave-1.pem") })
        XCTAssertTrue(selection.others.contains { $0.problems.first?.kind == .wrongPurpose })
    }
}
