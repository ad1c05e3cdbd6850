import XCTest
import MailPolicy
import SMIME

/// The config reader checks digest and cipher names against its own lists (MailPolicy does
/// not link the S/MIME engine): they must be the engine's, spelling variants included, or a
/// config that passes would fail at the first signed message (or a good one be refused).
final class AlgorithmNamesTests: XCTestCase {
    func testTheConfigsNamesAreTheEngines() {
        XCTAssertEqual(Set(SMIMEConfig.digests.all), Set(DigestAlgorithm.allCases.map(\.rawValue)))
        XCTAssertEqual(Set(SMIMEConfig.ciphers.all), Set(ContentCipher.allCases.map(\.rawValue)))
        for name in ["sha256", "SHA-384", "Sha-512", "sha1", "SHA-1", "md5", "sha-224", "sha3-256"] {
            let configTakes = SMIMEConfig.digests.all.contains(SMIMEConfig.digests.normalise(name))
            XCTAssertEqual(configTakes, (try? DigestAlgorithm(name: name)) != nil, name)
        }
        for name in ["aes-256-cbc", "AES-128-GCM", "aes-192-cbc", "des-ede3-cbc", "aes256"] {
            let configTakes = SMIMEConfig.ciphers.all.contains(SMIMEConfig.ciphers.normalise(name))
            XCTAssertEqual(configTakes, (try? ContentCipher(name: name)) != nil, name)
        }
    }
}
