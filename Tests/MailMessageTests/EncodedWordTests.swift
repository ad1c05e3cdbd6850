// RFC 2047 encoded words: decoding tables (including RFC 2047 section 8's examples) and encoding of
// display names, with the 75-character limit and round trips through the address parser.
import XCTest
@testable import MailMessage

final class EncodedWordTests: XCTestCase {
    func testDecodeGolden() {
        let cases: [(String, String, leftEncoded: Bool)] = [
            ("plain text", "plain text", false),
            ("=?utf-8?q?Jos=C3=A9?=", "José", false),
            ("=?UTF-8?Q?Jos=c3=a9?=", "José", false),
            ("=?utf-8?b?Sm9zw6k=?=", "José", false),
            ("=?utf-8?b?Sm9zw6k?=", "José", false),                  // missing padding tolerated
            ("=?utf-8?q?a_b?=", "a b", false),
            ("=?utf-8?q?=ZZ?=", "=ZZ", false),                         // lone '=' kept
            ("=?utf-8?q??=", "", false),
            ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab", false),            // RFC 2047 6.2
            ("=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b", false),
            ("=?utf-8?q?=E6=97?= =?utf-8?q?=A5?=", "日", false),       // a character split across words
            ("=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", "éé", false),  // different charsets, joined
            ("foo=?utf-8?q?x?=bar", "fooxbar", false),                 // lenient, as CPython
            ("=?ISO-8859-15?Q?=A4?=", "€", false),
            ("=?windows-1252?q?=80=93=94=81?=", "€“”\u{FFFD}", false),
            ("=?us-ascii?q?a=E9?=", "a\u{FFFD}", false),
            ("=?latin1?q?caf=E9?=", "café", false),
            ("=?utf-8*en-us?q?hello?=", "hello", false),                // RFC 2231 5 language
            ("=?koi8-r?b?5MXS?=", "=?koi8-r?b?5MXS?=", true),
            ("=?utf-8?b?!!!?=", "=?utf-8?b?!!!?=", true),
            ("a =?x-unknown?q?b?= c", "a =?x-unknown?q?b?= c", true),
            ("=?utf-8?x?nope?=", "=?utf-8?x?nope?=", false),            // not an encoded word
            ("=?utf-8?q?has space?=", "=?utf-8?q?has space?=", false),  // not an encoded word
            // RFC 2047 section 8
            ("(=?ISO-8859-1?Q?a?=)", "(a)", false),
            ("(=?ISO-8859-1?Q?a?= b)", "(a b)", false),
            ("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)", false),
            ("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)", false),
            ("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)", false),
            ("(=?ISO-8859-1?Q?a_b?=)", "(a b)", false),
            ("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a =?ISO-8859-2?Q?_b?=)", true),
            ("=?US-ASCII?Q?Keith_Moore?=", "Keith Moore", false),
            ("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=", "Keld Jørn Simonsen", false),
            ("=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard", false),
        ]
        for (input, expected, leftEncoded) in cases {
            let result = EncodedWord.decodeReporting(input)
            XCTAssertEqual(result.text, expected, input.debugDescription)
            XCTAssertEqual(result.leftEncoded, leftEncoded, input.debugDescription)
            XCTAssertEqual(EncodedWord.decode(input), expected, input.debugDescription)
        }
    }

    func testEncodePhraseGolden() {
        let cases: [(String, String)] = [
            ("John", "John"),
            ("John Doe", "John Doe"),
            ("o'brien", "o'brien"),
            ("Doe, John", #""Doe, John""#),
            (#"John "JD" Doe"#, #""John \"JD\" Doe""#),
            (#"back\slash"#, #""back\\slash""#),
            ("John Q. Public", #""John Q. Public""#),
            ("  two  spaces ", #""  two  spaces ""#),
            ("", #""""#),
            ("a\r\nBcc: x", #""a  Bcc: x""#),                 // controls become spaces, never a line break
            ("José", "=?UTF-8?B?Sm9zw6k=?="),                  // B: 8 characters, Q: 9
            ("José Smith", "=?UTF-8?Q?Jos=C3=A9_Smith?="),      // Q: 15 characters, B: 16
            ("日本語", "=?UTF-8?B?5pel5pys6Kqe?="),              // B is shorter
            ("a_b=c?é and some more ascii text", "=?UTF-8?Q?a=5Fb=3Dc=3F=C3=A9_and_some_more_ascii_text?="),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(EncodedWord.encodePhrase(input), expected, input.debugDescription)
        }
    }

    /// ASCII that a decoder would take for an encoded word is encoded, so it reads back as itself.
    func testEncodePhraseProtectsEncodedWordLookalikes() {
        for text in ["=?utf-8?q?x?=", "a =?koi8-r?b?5MXS?= b", "x=?iso-8859-2?q?y?="] {
            let encoded = EncodedWord.encodePhrase(text)
            XCTAssertTrue(encoded.hasPrefix("=?UTF-8?"), encoded)
            XCTAssertEqual(EncodedWord.decode(encoded), text)
        }
        XCTAssertEqual(EncodedWord.encodePhrase("a=?b"), "a=?b")      // atext, and no encoded word
    }

    /// Long names: several words, each at most 75 characters (RFC 2047 2), each holding whole characters.
    func testEncodePhraseSplitsLongText() {
        let texts = [
            String(repeating: "é", count: 200),
            String(repeating: "日本語", count: 40),
            String(repeating: "Grüße aus Köln ", count: 20) + "🎉👩‍👩‍👧",
        ]
        for text in texts {
            let encoded = EncodedWord.encodePhrase(text)
            let words = encoded.split(separator: " ")
            XCTAssertGreaterThan(words.count, 1)
            for word in words {
                XCTAssertLessThanOrEqual(word.utf8.count, 75, String(word))
                XCTAssertTrue(word.hasPrefix("=?UTF-8?") && word.hasSuffix("?="), String(word))
                // Each word decodes on its own to valid UTF-8 (no character split across words).
                XCTAssertFalse(EncodedWord.decode(String(word)).contains("\u{FFFD}"), String(word))
            }
            XCTAssertEqual(EncodedWord.decode(encoded), text)
        }
    }

    /// encodePhrase then the address parser gives back the display name.
    func testRoundTripThroughAddressParser() {
        let names = ["John", "Doe, John", #"John "JD" Doe"#, "John Q. Public", "José Smith", "日本語 テスト",
                     "Müller, Jörg (Köln)", "a<b>@c;d:e", "=?utf-8?q?x?=", "Ünïcödé " + String(repeating: "ß", count: 80)]
        for name in names {
            let header = EncodedWord.encodePhrase(name) + " <a@b>"
            let list = AddressParser.parseList(header)
            XCTAssertEqual(list.mailboxes.first?.displayName, name, header)
            XCTAssertEqual(list.defects, [], header)
        }
    }
}
