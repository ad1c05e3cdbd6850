// Golden tables for the address-list grammar: input -> rendered addresses and defects.
// Rendering (see AddressTestSupportTests.swift): `M name="..." <@route:local@domain> comment="..."`,
// `G "name" { M ... | M ... }`, `D defectName@offset`. Offsets are in UTF-8 bytes.
import XCTest
@testable import MailMessage

final class AddressGoldenTests: XCTestCase {
    /// Display names: atoms, quoted-strings with quoted-pairs, obs-phrase dots, RFC 2047 encoded words (RFC 5322 3.2.5, 3.4, 4.4; RFC 2047 5, 6.2).
    func testDisplayNames() { checkGolden(Self.displayNames) }

    /// Comments anywhere, nested, holding specials; a trailing comment as old-style name (RFC 5322 3.2.2).
    func testComments() { checkGolden(Self.comments) }

    /// angle-addr and bare addr-spec, domain literals, quoted local parts (RFC 5322 3.4, 3.4.1).
    func testAngleAndBareAddrSpecs() { checkGolden(Self.angleAndBareAddrSpecs) }

    /// Groups, empty and inside lists (RFC 5322 3.4).
    func testGroups() { checkGolden(Self.groups) }

    /// Every case of this file, for the invariant tests (AddressRangeTests).
    static var all: [Golden] { displayNames + comments + angleAndBareAddrSpecs + groups }
}

extension AddressGoldenTests {
    static let displayNames: [Golden] = [
        Golden("John Doe <jd@example.com>", [
            #"M name="John Doe" <jd@example.com>"#,
        ]),
        Golden(#""Doe, John" <jd@example.com>, other@x.org"#, [
            #"M name="Doe, John" <jd@example.com>"#,
            "M <other@x.org>",
        ]),
        Golden(#""Joe \"JD\" Q" <a@b>"#, [
            #"M name="Joe "JD" Q" <a@b>"#,
        ]),
        Golden(#""Giant; \"Big\" Box" <sysservices@example.net>"#, [
            #"M name="Giant; "Big" Box" <sysservices@example.net>"#,
        ]),
        Golden("John Q. Public <jqp@x>", [
            #"M name="John Q. Public" <jqp@x>"#,
            "D obsoleteSyntax@6",
        ]),
        Golden("Joe Q. Public <john.q.public@example.com>", [
            #"M name="Joe Q. Public" <john.q.public@example.com>"#,
            "D obsoleteSyntax@5",
        ]),
        Golden(" spaced   name    <a@b>  ", [
            #"M name="spaced name" <a@b>"#,
        ]),
        Golden(#""  spaced   quoted  " <a@b>"#, [
            #"M name="spaced quoted" <a@b>"#,
        ]),
        Golden(#""name"<a@b>"#, [
            #"M name="name" <a@b>"#,
        ]),
        Golden("a<b@c>", [
            #"M name="a" <b@c>"#,
        ]),
        Golden(#""" <a@b>"#, [
            "M <a@b>",
        ]),
        Golden("ABC <abc@DEF.example>", [
            #"M name="ABC" <abc@DEF.example>"#,
        ]),
        Golden("[External] John <j@x>", [
            #"M name="[External] John" <j@x>"#,
            "D invalidCharacter@0",
        ]),
        Golden("=?utf-8?q?Jos=C3=A9?= Smith <js@x>", [
            #"M name="José Smith" <js@x>"#,
        ]),
        Golden("=?utf-8?b?Sm9zw6k=?= =?utf-8?q?_Smith?= <js@x>", [
            #"M name="José Smith" <js@x>"#,
        ]),
        Golden("=?utf-8?q?a?= b =?utf-8?q?c?= <x@y>", [
            #"M name="a b c" <x@y>"#,
        ]),
        Golden("=?utf-8?q?a?=  =?utf-8?q?b?= <x@y>", [
            #"M name="ab" <x@y>"#,
        ]),
        Golden("=?utf-8?q?=E6=97?= =?utf-8?q?=A5?= <x@y>", [
            #"M name="日" <x@y>"#,
        ]),
        Golden("=?utf-8?q?Doe,_John?= <jd@x>", [
            #"M name="Doe, John" <jd@x>"#,
        ]),
        Golden("=?utf-8?q?x?=<a@b>", [
            #"M name="x" <a@b>"#,
        ]),
        Golden(#""=?utf-8?q?Jos=C3=A9?=" <js@x>"#, [
            #"M name="José" <js@x>"#,
        ]),
        Golden("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>", [
            #"M name="Keld Jørn Simonsen" <keld@dkuug.dk>"#,
        ]),
        Golden("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>", [
            #"M name="André Pirard" <PIRARD@vm1.ulg.ac.be>"#,
        ]),
        Golden("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", [
            #"M name="Keith Moore" <moore@cs.utk.edu>"#,
        ]),
        Golden("=?iso-8859-15?q?=A4uro?= <e@x>", [
            #"M name="€uro" <e@x>"#,
        ]),
        Golden("=?windows-1252?q?=93quoted=94?= <q@x>", [
            #"M name="“quoted”" <q@x>"#,
        ]),
        Golden("=?utf-8?B?5pel5pys6Kqe?= <j@x>", [
            #"M name="日本語" <j@x>"#,
        ]),
        Golden("=?utf-8*en?q?hello?= <x@y>", [
            #"M name="hello" <x@y>"#,
        ]),
        Golden("=?koi8-r?b?5MXS?= <k@x>", [
            #"M name="=?koi8-r?b?5MXS?=" <k@x>"#,
            "D encodedWordNotDecoded@0",
        ]),
        Golden("=?utf-8?b?!!!?= <x@y>", [
            #"M name="=?utf-8?b?!!!?=" <x@y>"#,
            "D encodedWordNotDecoded@0",
        ]),
        Golden("=?utf-8?x?hello?= <x@y>", [
            #"M name="=?utf-8?x?hello?=" <x@y>"#,
        ]),
        Golden(#"Mixed "quoted part" =?utf-8?q?and_encoded?= atoms <m@x>"#, [
            #"M name="Mixed quoted part and encoded atoms" <m@x>"#,
        ]),
    ]

    static let comments: [Golden] = [
        Golden(#"Pete(A nice \) chap) <pete(his account)@silly.test(his host)>"#, [
            #"M name="Pete" <pete@silly.test>"#,
        ]),
        Golden("John (the man) Doe <jd@x> (trailing)", [
            #"M name="John Doe" <jd@x>"#,
        ]),
        Golden("a@b (c <d> @e, f; g:)", [
            #"M <a@b> comment="c <d> @e, f; g:""#,
        ]),
        Golden("a@b (nested (comment) here), c@d", [
            #"M <a@b> comment="nested (comment) here""#,
            "M <c@d>",
        ]),
        Golden("(a (b (c) d) e) x@y", [
            "M <x@y>",
        ]),
        Golden("Name (comment) <a@b>, (only comment) c@d", [
            #"M name="Name" <a@b>"#,
            "M <c@d>",
        ]),
        Golden("c@d (first) (second)", [
            #"M <c@d> comment="first second""#,
        ]),
        Golden("<a@b> (=?utf-8?q?Jos=C3=A9?=)", [
            #"M <a@b> comment="José""#,
        ]),
        Golden("<a@b>(x),<c@d>(y)", [
            #"M <a@b> comment="x""#,
            #"M <c@d> comment="y""#,
        ]),
        Golden("a@b (unterminated", [
            #"M <a@b> comment="unterminated""#,
            "D unterminatedComment@4",
        ]),
        Golden("(unterminated", [
            "D unterminatedComment@0",
        ]),
    ]

    static let angleAndBareAddrSpecs: [Golden] = [
        Golden("a@b", [
            "M <a@b>",
        ]),
        Golden("<a@b>", [
            "M <a@b>",
        ]),
        Golden("a@b, <c@d>, E <e@f>", [
            "M <a@b>",
            "M <c@d>",
            #"M name="E" <e@f>"#,
        ]),
        Golden("user+tag@example.com", [
            "M <user+tag@example.com>",
        ]),
        Golden("o'brien@example.ie", [
            "M <o'brien@example.ie>",
        ]),
        Golden("a@b\t,\tc@d", [
            "M <a@b>",
            "M <c@d>",
        ]),
        Golden("user@[192.0.2.1]", [
            "M <user@[192.0.2.1]>",
        ]),
        Golden("user@[IPv6:2001:db8::1]", [
            "M <user@[IPv6:2001:db8::1]>",
        ]),
        Golden("user@[ 192.0.2.1 ]", [
            "M <user@[192.0.2.1]>",
        ]),
        Golden("Name <user@[192.0.2.1]>", [
            #"M name="Name" <user@[192.0.2.1]>"#,
        ]),
        Golden("user@[192.0.2.1", [
            "D unterminatedDomainLiteral@5",
        ]),
        Golden(#""john..doe"@example.com"#, [
            #"M <"john..doe"@example.com>"#,
        ]),
        Golden(#""a b"@c"#, [
            #"M <"a b"@c>"#,
        ]),
        Golden(#""john"@example.com"#, [
            "M <john@example.com>",
        ]),
        Golden(#""user@host"@example.com"#, [
            #"M <"user@host"@example.com>"#,
        ]),
        Golden(#""\"quoted\""@x"#, [
            #"M <"\"quoted\""@x>"#,
        ]),
        Golden(#""a\\b"@x"#, [
            #"M <"a\\b"@x>"#,
        ]),
        Golden(#"""@x"#, [
            #"M <""@x>"#,
        ]),
    ]

    static let groups: [Golden] = [
        Golden("undisclosed-recipients:;", [
            #"G "undisclosed-recipients" {}"#,
        ]),
        Golden("Undisclosed recipients: ;", [
            #"G "Undisclosed recipients" {}"#,
        ]),
        Golden(#"Friends: a@b, "C D" <c@d>;"#, [
            #"G "Friends" { M <a@b> | M name="C D" <c@d> }"#,
        ]),
        Golden(#"x@y, Friends: a@b, "C D" <c@d>;, z@w"#, [
            "M <x@y>",
            #"G "Friends" { M <a@b> | M name="C D" <c@d> }"#,
            "M <z@w>",
        ]),
        Golden("A Group(Some people):Chris Jones <c@(Chris's host.)public.example>, joe@example.org, John <jdoe@one.test> (my dear friend); (the end of the group)", [
            #"G "A Group" { M name="Chris Jones" <c@public.example> | M <joe@example.org> | M name="John" <jdoe@one.test> }"#,
        ]),
        Golden("(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;", [
            #"G "Hidden recipients" {}"#,
        ]),
        Golden("Friends: a@b, c@d", [
            #"G "Friends" { M <a@b> | M <c@d> }"#,
            "D unterminatedGroup@7",
        ]),
        Golden("Group:;, a@b", [
            #"G "Group" {}"#,
            "M <a@b>",
        ]),
        Golden("Group: a@b,;", [
            #"G "Group" { M <a@b> }"#,
            "D emptyElement@10",
        ]),
        Golden("Group:,a@b;", [
            #"G "Group" { M <a@b> }"#,
            "D emptyElement@6",
        ]),
        Golden("Group:a@b;c@d", [
            #"G "Group" { M <a@b> }"#,
            "D trailingGarbage@10",
        ]),
        Golden(": a@b;", [
            #"G "" { M <a@b> }"#,
            "D missingDisplayName@0",
        ]),
        Golden("A: B: c@d;;", [
            #"G "A" {}"#,
            "D nestedGroup@4",
            "D trailingGarbage@10",
        ]),
        Golden("Re: x <a@b>", [
            #"G "Re" { M name="x" <a@b> }"#,
            "D unterminatedGroup@2",
        ]),
    ]
}
