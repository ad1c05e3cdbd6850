// Golden tables for the address-list grammar, part 2: obsolete forms, unqualified names, 8-bit,
// control characters and garbage. Same rendering as AddressGoldenTests.swift.
// Rendering (see AddressTestSupportTests.swift): `M name="..." <@route:local@domain> comment="..."`,
// `G "name" { M ... | M ... }`, `D defectName@offset`. Offsets are in UTF-8 bytes.
import XCTest
@testable import MailMessage

final class AddressGoldenRecoveryTests: XCTestCase {
    /// Obsolete forms real mail still has (RFC 5322 4.4): obs-route, obs-local-part, obs-domain, obs-addr-list.
    func testObsoleteForms() { checkGolden(Self.obsoleteForms) }

    /// Unqualified mailboxes as cron, logwatch and friends write them.
    func testUnqualified() { checkGolden(Self.unqualified) }

    /// UTF-8 display names, local parts and domains (RFC 6532 3.2): accepted, recorded.
    func testEightBit() { checkGolden(Self.eightBit) }

    /// CR, LF, NUL: always a defect, never part of an addr-spec (STYLE.md rule 3).
    func testControlCharacters() { checkGolden(Self.controlCharacters) }

    /// Garbage: the parser recovers, records, and skips what it cannot understand.
    func testGarbage() { checkGolden(Self.garbage) }

    /// Every case of this file, for the invariant tests (AddressRangeTests).
    static var all: [Golden] { obsoleteForms + unqualified + eightBit + controlCharacters + garbage }
}

extension AddressGoldenRecoveryTests {
    static let obsoleteForms: [Golden] = [
        Golden("<@route:user@host>", [
            "M <@route:user@host>",
            "D obsoleteSyntax@1",
        ]),
        Golden("<@a,@b:user@c>", [
            "M <@a,@b:user@c>",
            "D obsoleteSyntax@1",
        ]),
        Golden("Name <@a, @b:user@c>", [
            #"M name="Name" <@a,@b:user@c>"#,
            "D obsoleteSyntax@6",
        ]),
        Golden("<,@a,,@b:user@c>", [
            "M <@a,@b:user@c>",
            "D obsoleteSyntax@1",
        ]),
        Golden("Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example", [
            #"M name="Mary Smith" <@node.test:mary@example.net>"#,
            "M <jdoe@test.example>",
            "D obsoleteSyntax@12",
            "D emptyElement@42",
            "D obsoleteSyntax@55",
        ]),
        Golden("john . doe @ example . com", [
            "M <john.doe@example.com>",
            "D obsoleteSyntax@5",
            "D obsoleteSyntax@21",
        ]),
        Golden("john(x).doe@example.com", [
            "M <john.doe@example.com>",
            "D obsoleteSyntax@7",
        ]),
        Golden(#"john."doe smith"@x"#, [
            #"M <"john.doe smith"@x>"#,
            "D obsoleteSyntax@5",
        ]),
        Golden(#""john".doe@x"#, [
            "M <john.doe@x>",
            "D obsoleteSyntax@0",
        ]),
        Golden("a@b,,c@d", [
            "M <a@b>",
            "M <c@d>",
            "D emptyElement@4",
        ]),
        Golden("a@b, c@d,", [
            "M <a@b>",
            "M <c@d>",
            "D emptyElement@8",
        ]),
        Golden(",a@b", [
            "M <a@b>",
            "D emptyElement@0",
        ]),
        Golden("a@b,\t", [
            "M <a@b>",
            "D emptyElement@3",
        ]),
        Golden(" , ", [
            "D emptyElement@1",
        ]),
        Golden("john..doe@x", [
            #"M <"john..doe"@x>"#,
            "D invalidCharacter@5",
        ]),
        Golden("john.@x", [
            #"M <"john."@x>"#,
            "D invalidCharacter@4",
        ]),
        Golden(".john@x", [
            #"M <".john"@x>"#,
            "D invalidCharacter@0",
        ]),
        Golden("a@b..c", [
            "M <a@b..c>",
            "D invalidCharacter@4",
        ]),
        Golden("a@b.", [
            "M <a@b.>",
            "D invalidCharacter@3",
        ]),
    ]

    static let unqualified: [Golden] = [
        Golden("root", [
            "M <root>",
        ]),
        Golden("root (Cron Daemon)", [
            #"M <root> comment="Cron Daemon""#,
        ]),
        Golden("Logwatch", [
            "M <Logwatch>",
        ]),
        Golden("<root>", [
            "M <root>",
        ]),
        Golden("<root> (Cron Daemon)", [
            #"M <root> comment="Cron Daemon""#,
        ]),
        Golden("Cron Daemon <root>", [
            #"M name="Cron Daemon" <root>"#,
        ]),
        Golden("root, admin@example.com, <www-data>", [
            "M <root>",
            "M <admin@example.com>",
            "M <www-data>",
        ]),
        Golden("john.doe", [
            "M <john.doe>",
        ]),
        Golden(#""john doe""#, [
            #"M <"john doe">"#,
        ]),
    ]

    static let eightBit: [Golden] = [
        Golden("Jörg Müller <joerg@example.de>", [
            #"M name="Jörg Müller" <joerg@example.de>"#,
            "D eightBitInAddress@1",
            "D eightBitInAddress@7",
        ]),
        Golden(#""Jörg" <jörg@example.de>"#, [
            #"M name="Jörg" <jörg@example.de>"#,
            "D eightBitInAddress@2",
            "D eightBitInAddress@10",
        ]),
        Golden("José <josé@exämple.com>", [
            #"M name="José" <josé@exämple.com>"#,
            "D eightBitInAddress@3",
            "D eightBitInAddress@10",
            "D eightBitInAddress@15",
        ]),
        Golden("用户@例子.广告", [
            "M <用户@例子.广告>",
            "D eightBitInAddress@0",
            "D eightBitInAddress@7",
            "D eightBitInAddress@14",
        ]),
    ]

    static let controlCharacters: [Golden] = [
        Golden("a@b\nBcc: x", [
            "M <a@b>",
            "D invalidCharacter@3",
            "D trailingGarbage@4",
        ]),
        Golden("a@b\r\nBcc: x", [
            "M <a@b>",
            "D invalidCharacter@3",
            "D invalidCharacter@4",
            "D trailingGarbage@5",
        ]),
        Golden("a\nb@c", [
            "D invalidCharacter@1",
            "D invalidCharacter@2",
        ]),
        Golden("\"a\rb\"@c", [
            "D invalidCharacter@2",
        ]),
        Golden("\"Name\nBcc: x\" <a@b>", [
            #"M name="Name Bcc: x" <a@b>"#,
            "D invalidCharacter@5",
        ]),
        Golden("a@b\0", [
            "M <a@b>",
            "D invalidCharacter@3",
        ]),
        Golden("a@b (x\ny)", [
            #"M <a@b> comment="x y""#,
            "D invalidCharacter@6",
        ]),
        Golden("Name\0 <a@b>", [
            #"M name="Name" <a@b>"#,
            "D invalidCharacter@4",
        ]),
        Golden("<a\r@b>", [
            "D invalidCharacter@2",
        ]),
        Golden("a@[1.2\n.3.4]", [
            "D invalidCharacter@6",
        ]),
    ]

    static let garbage: [Golden] = [
        Golden("<<<", [
            "D invalidCharacter@1",
        ]),
        Golden(">>>", [
            "D invalidCharacter@0",
        ]),
        Golden("@@", [
            "D missingLocalPart@0",
        ]),
        Golden(#""unterminated"#, [
            "D unterminatedQuotedString@0",
        ]),
        Golden("Name <a@b", [
            #"M name="Name" <a@b>"#,
            "D unterminatedAngleAddr@5",
        ]),
        Golden("Name <a@b c>, d@e", [
            "M <d@e>",
            "D invalidCharacter@10",
        ]),
        Golden("John Smith", [
            "D missingAddrSpec@0",
        ]),
        Golden("John Smith@x", [
            "D invalidCharacter@5",
        ]),
        Golden("a@", [
            "D missingDomain@1",
        ]),
        Golden("a@, b@c", [
            "M <b@c>",
            "D missingDomain@1",
        ]),
        Golden("<>", [
            "D missingLocalPart@1",
        ]),
        Golden("<@example.com>", [
            "D missingLocalPart@13",
        ]),
        Golden("@example.com", [
            "D missingLocalPart@0",
        ]),
        Golden("a@b <c@d>", [
            "M <a@b>",
            "D trailingGarbage@4",
        ]),
        Golden("a@b c@d, e@f", [
            "M <a@b>",
            "M <e@f>",
            "D trailingGarbage@4",
        ]),
        Golden(")a@b", [
            "D invalidCharacter@0",
        ]),
        Golden("a@b)", [
            "M <a@b>",
            "D trailingGarbage@3",
        ]),
        Golden("<a@b>>", [
            "M <a@b>",
            "D trailingGarbage@5",
        ]),
        Golden("a@b:c", [
            "M <a@b>",
            "D trailingGarbage@3",
        ]),
        Golden("a;b@c", [
            "M <a>",
            "D trailingGarbage@1",
        ]),
        Golden("<a@b>;", [
            "M <a@b>",
            "D trailingGarbage@5",
        ]),
        Golden("a@@b", [
            "D missingDomain@1",
        ]),
        Golden("a@b@c", [
            "M <a@b>",
            "D trailingGarbage@3",
        ]),
        Golden("<a@b@c>", [
            "D invalidCharacter@4",
        ]),
        Golden("<a@b><c@d>", [
            "M <a@b>",
            "D trailingGarbage@5",
        ]),
        Golden(#"\a@b"#, [
            "D invalidCharacter@0",
        ]),
        Golden(#"a@"b""#, [
            "D missingDomain@1",
        ]),
        Golden("<@a:>", [
            "D obsoleteSyntax@1",
            "D missingLocalPart@4",
        ]),
        Golden("<@a x:b@c>, d@e", [
            "M <d@e>",
            "D invalidCharacter@4",
        ]),
    ]
}
