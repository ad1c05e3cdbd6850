import XCTest
import SMTPProtocol
@testable import SMTPTransport

/// The SASL mechanisms that need crypto, against their RFC test vectors, with the OpenSSL
/// primitives the client really uses.
final class CryptoVectorTests: XCTestCase {
    private let crypto = OpenSSLCrypto()

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func testPrimitives() {
        // RFC 4231 test case 2, RFC 2202 test case 2, FIPS 180-2 "abc".
        XCTAssertEqual(hex(crypto.hmacSHA256(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(hex(crypto.hmacMD5(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))),
                       "750c783e6ab0b503eaa86e310a5db738")
        XCTAssertEqual(hex(crypto.sha256(Array("abc".utf8))),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(crypto.randomBytes(16)?.count, 16)
        XCTAssertNotEqual(crypto.randomBytes(16), crypto.randomBytes(16))
    }

    /// RFC 2195 section 2 example.
    func testCRAMMD5Vector() throws {
        var client = SASLClient(mechanism: .cramMD5,
                                credentials: SASLCredentials(username: "tim", secret: Array("tanstaaftanstaaf".utf8)),
                                crypto: crypto, clientNonce: "")
        XCTAssertNil(try client.initialResponse())
        let response = try client.respond(to: Array("<1896.697170952@postoffice.reston.mci.net>".utf8))
        XCTAssertEqual(String(decoding: response, as: UTF8.self), "tim b913a602c7eda7a495b4e6e7334d3890")
    }

    /// RFC 7677 section 3 example, including the server signature check.
    func testSCRAMSHA256Vector() throws {
        var client = SASLClient(mechanism: .scramSHA256,
                                credentials: SASLCredentials(username: "user", secret: Array("pencil".utf8)),
                                crypto: crypto, clientNonce: "rOprNGfwEbeRWgbNEkqO")
        XCTAssertEqual(String(decoding: try XCTUnwrap(try client.initialResponse()), as: UTF8.self),
                       "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let final = try client.respond(to: Array("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".utf8))
        XCTAssertEqual(String(decoding: final, as: UTF8.self),
                       "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        XCTAssertFalse(client.mayComplete)
        XCTAssertEqual(try client.respond(to: Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8)), [])
        XCTAssertTrue(client.mayComplete)
    }

    func testSCRAMRejectsAForgedServerSignature() throws {
        var client = SASLClient(mechanism: .scramSHA256,
                                credentials: SASLCredentials(username: "user", secret: Array("pencil".utf8)),
                                crypto: crypto, clientNonce: "rOprNGfwEbeRWgbNEkqO")
        _ = try client.initialResponse()
        _ = try client.respond(to: Array("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".utf8))
        XCTAssertThrowsError(try client.respond(to: Array("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8)))
        XCTAssertFalse(client.mayComplete)
        var other = SASLClient(mechanism: .scramSHA256,
                               credentials: SASLCredentials(username: "user", secret: Array("pencil".utf8)),
                               crypto: crypto, clientNonce: "abc")
        _ = try other.initialResponse()
        XCTAssertThrowsError(try other.respond(to: Array("r=abcd,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999".utf8)), "iteration bound")
        XCTAssertThrowsError(try other.respond(to: Array("r=abcd,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1".utf8)), "no third step after an error")
    }

    func testFingerprintParsing() {
        XCTAssertEqual(SMTPTLSSettings.fingerprint(hex: String(repeating: "AB:", count: 31) + "AB")?.count, 32)
        XCTAssertNil(SMTPTLSSettings.fingerprint(hex: "AB:CD"))
    }
}
