"""The differential corpus: (argv, stdin) cases run through Postfix's sendmail and sealmail.

Imported by differential.py. Each case is a `Case(name, argv, stdin, note)`; `argv` is what
follows the program name (both programs get exactly the same argv, after "-odi"), `stdin` the
bytes written to the program, then EOF.

Two parts:
  * HAND: hand-written edge cases, one idea each (syntax of addresses, header-less input,
    Resent- blocks, Bcc, 8-bit, long lines, lone dots, CR/LF mixes, empty input, huge headers,
    flag syntax, the exact invocations of the real callers);
  * MATRIX: a set of base messages crossed with a matrix of flags
    (-t, -i, -oi, -f, -F, -r, -N, -R, -V, -B, with and without argv recipients).
The corpus is deterministic (no randomness, no clock), so a difference is reproducible by name.
"""

from dataclasses import dataclass, field


@dataclass
class Case:
    name: str
    argv: list
    stdin: bytes
    note: str = ''
    tags: set = field(default_factory=set)
    pf_argv: list = None   # Postfix's argv when it must differ to mean the same (see KNOWN-DIFFERENCES)


def lf(text):
    """A message written with \\n line ends, as bytes (UTF-8)."""
    return text.encode('utf-8')


def crlf(text):
    return text.replace('\n', '\r\n').encode('utf-8')


# ---------------------------------------------------------------------------------------------
# Base messages (also used by the matrix)

BASE = {
    'plain': lf('From: Alice Example <alice@example.org>\n'
                'To: Bob <bob@example.net>\n'
                'Subject: plain message\n'
                'Date: Mon, 02 Jan 2023 10:00:00 +0000\n'
                'Message-ID: <plain.1@example.org>\n'
                '\n'
                'Hello Bob,\n\nthis is a plain message.\n'),
    'to-cc-bcc': lf('From: alice@example.org\n'
                    'To: to1@example.net, "Two, Person" <to2@example.net>\n'
                    'Cc: cc1@example.net\n'
                    'Bcc: bcc1@example.net,\n'
                    '  bcc2@example.net\n'
                    'Subject: to cc bcc\n'
                    '\n'
                    'body\n'),
    'bare-mailx': lf('To: ops@example.net\n'
                     'Subject: no From, Date or Message-ID\n'
                     'MIME-Version: 1.0\n'
                     'Content-Type: text/plain; charset="UTF-8"\n'
                     'Content-Transfer-Encoding: 8bit\n'
                     '\n'
                     'disk is 91% full\n'),
    'no-headers': lf('just a body line\nand another\n'),
    'resent': lf('Resent-From: fwd@example.org\n'
                 'Resent-To: rto@example.net\n'
                 'Resent-Cc: rcc@example.net\n'
                 'Resent-Bcc: rbcc@example.net\n'
                 'From: orig@example.org\n'
                 'To: origto@example.net\n'
                 'Subject: resent\n'
                 'Date: Mon, 02 Jan 2023 10:00:00 +0000\n'
                 'Message-ID: <resent.1@example.org>\n'
                 '\n'
                 'forwarded body\n'),
    'lone-dot': lf('To: dots@example.net\n'
                   'Subject: dots\n'
                   '\n'
                   'before\n'
                   '.\n'
                   'after the lone dot\n'
                   '..two dots\n'
                   '.leading dot\n'),
    'crlf': crlf('To: crlf@example.net\n'
                 'Subject: CRLF input\n'
                 '\n'
                 'line one\n'
                 '.\n'
                 'line three\n'),
    'php-mixed': (b'To: php@example.net\r\n'
                  b'Subject: PHP mixed\r\n'
                  b'From: web@example.org\r\n'
                  b'X-Mailer: PHP/8.2\r\n'
                  b'\r\n'
                  b'line1\nline2\n.\nend\r\n'),
    'eightbit': lf('To: utf8@example.net\n'
                   'Subject: caf\u00e9 \u00fcber \u65e5\u672c\n'
                   'Content-Type: text/plain; charset=utf-8\n'
                   '\n'
                   'Gr\u00fc\u00dfe aus K\u00f6ln \u2014 \u65e5\u672c\u8a9e\n'),
    'long-line': lf('To: long@example.net\n'
                    'Subject: long body line\n'
                    '\n'
                    + 'x' * 1500 + '\nshort\n'),
    'empty-body': lf('To: empty@example.net\n'
                     'Subject: empty body\n'
                     '\n'),
    'odd-addresses': lf('From: "Doe, John (Jr.)" <john.doe@example.org>\n'
                        'To: undisclosed-recipients:;\n'
                        'Cc: team: a@example.net, "b c"@example.net;, d@example.net (comment)\n'
                        'Subject: odd address syntax\n'
                        '\n'
                        'groups, quoted local parts, comments\n'),
    'unqualified': lf('From: root\n'
                      'To: root, postmaster\n'
                      'Cc: webmaster@otherhost\n'
                      'Subject: unqualified addresses\n'
                      '\n'
                      'local names\n'),
}

RCPT = 'rcpt@example.net'


def hand_cases():
    c = []

    def add(name, argv, stdin, note='', tags=(), pf_argv=None):
        c.append(Case('hand/' + name, list(argv), stdin, note, set(tags), pf_argv))

    # --- input framing -------------------------------------------------------------------
    add('empty-input', [RCPT], b'', 'zero bytes on stdin')
    add('only-newline', [RCPT], b'\n', 'a single empty line')
    add('headers-no-body-no-eol', [RCPT], b'Subject: x', 'header without final newline')
    add('headers-no-blank', [RCPT], lf('Subject: x\nTo: a@example.net\n'), 'no blank line, no body')
    add('body-no-eol', [RCPT], b'Subject: x\n\nlast line without newline', 'no final newline')
    add('blank-first', [RCPT], lf('\nbody only, header empty\n'), 'empty header block')
    add('no-headers', [RCPT], BASE['no-headers'], 'text that is not a header')
    add('continuation-first', [RCPT], lf(' folded first line\nSubject: x\n\nbody\n'),
        'input starts with a continuation line')
    add('not-a-header-mid', [RCPT], lf('Subject: x\nthis is not a header\nTo: y@example.net\n\nbody\n'),
        'a non-header line ends the header')
    add('space-before-colon', [RCPT], lf('Subject : spaced\nX-Y:no-space\n\nbody\n'))
    add('empty-subject', [RCPT], lf('Subject:\nX-Empty: \n\nbody\n'))
    add('mbox-from-line', [RCPT], lf('From someone@example.org Mon Jan  2 10:00:00 2023\nSubject: mbox\n\nbody\n'),
        'leading UNIX From_ line')
    add('header-8bit-name', [RCPT], lf('X-Caf\u00e9: v\nSubject: x\n\nbody\n'), '8-bit in a field name')

    # --- dots ----------------------------------------------------------------------------
    add('dot-first-line', [RCPT], lf('.\nafter\n'), 'lone dot as the first line, no -i')
    add('dot-first-line-i', ['-i', RCPT], lf('.\nafter\n'))
    add('dot-body-no-i', [RCPT], BASE['lone-dot'], 'lone dot ends input without -i')
    add('dot-body-i', ['-i', RCPT], BASE['lone-dot'])
    add('dot-body-oi', ['-oi', RCPT], BASE['lone-dot'])
    add('dot-crlf-no-i', [RCPT], crlf('Subject: d\n\na\n.\nb\n'), '".\\r\\n" without -i')
    add('dot-space', [RCPT], lf('Subject: d\n\na\n. \nb\n'), '". " is not a lone dot')
    add('dot-in-header', [RCPT], lf('Subject: d\n.\n\nbody\n'), 'lone dot inside the header block')
    add('dot-last-no-eol', ['-i', RCPT], b'Subject: d\n\nbody\n.', 'final "." without newline')
    add('oi-false', ['-oifalse', RCPT], BASE['lone-dot'], '-oi with an explicit false')

    # --- line ends -----------------------------------------------------------------------
    add('crlf', ['-i', RCPT], BASE['crlf'])
    add('crlf-no-i', [RCPT], BASE['crlf'])
    add('php-mixed', ['-t', '-i'], BASE['php-mixed'], 'PHP 8: CRLF header, LF body')
    add('bare-cr-body', ['-i', RCPT], b'Subject: cr\n\nbare\rCR inside\nend\n')
    add('bare-cr-header', ['-i', RCPT], b'Subject: bare\rCR\n\nbody\n')
    add('cr-cr-lf', ['-i', RCPT], b'Subject: crcrlf\r\r\n\r\r\nbody\r\r\n')
    add('lf-cr', ['-i', RCPT], b'Subject: lfcr\n\rbody\n\r\n')
    add('trailing-cr-eof', ['-i', RCPT], b'Subject: x\n\nbody\r')
    add('only-cr', ['-i', RCPT], b'Subject: x\r\rbody\r')
    add('nul-body', ['-i', RCPT], b'Subject: nul\n\nbefore\x00after\n')
    add('nul-header', ['-i', RCPT], b'Subject: n\x00ul\n\nbody\n')
    add('ctrl-chars', ['-i', RCPT], b'Subject: ctl\x01\x7f\n\nbody\x0b\x0c\x1b[0m\n')
    add('trailing-whitespace', ['-i', RCPT], b'Subject: ws \t\n\nline with spaces   \nline with tab\t\n')

    # --- long lines and big headers --------------------------------------------------------
    add('body-998', ['-i', RCPT], lf('Subject: 998\n\n' + 'a' * 998 + '\n'))
    add('body-999', ['-i', RCPT], lf('Subject: 999\n\n' + 'b' * 999 + '\n'))
    add('body-2500', ['-i', RCPT], BASE['long-line'])
    add('body-5000-8bit', ['-i', RCPT], lf('Subject: long 8bit\n\n' + '\u00e9' * 2500 + '\n'))
    add('header-long-words', ['-i', RCPT], lf('Subject: ' + ' '.join(['word%d' % i for i in range(400)]) + '\n\nbody\n'),
        'a 3 KB Subject with spaces')
    add('header-long-nospace', ['-i', RCPT], lf('X-Long: ' + 'z' * 1500 + '\n\nbody\n'),
        'a 1.5 KB header value without white space')
    add('many-headers', ['-i', RCPT], lf(''.join('X-H%03d: value %d\n' % (i, i) for i in range(600)) + '\nbody\n'),
        '600 header fields')
    add('huge-folded-header', ['-i', RCPT],
        lf('X-Huge: start\n' + ''.join('  continuation %05d\n' % i for i in range(4000)) + 'Subject: after\n\nbody\n'),
        'one field of ~90 KB, folded')
    add('huge-header-over-limit', ['-i', RCPT],
        lf('X-Huge: start\n' + ''.join('  continuation line number %06d\n' % i for i in range(4000)) + 'Subject: after huge\n\nbody\n'),
        'one field of ~140 KB: over Postfix\'s header_size_limit (102400)')
    add('long-to-header', ['-t', '-i'],
        lf('To: ' + ', '.join('user%03d@example.net' % i for i in range(60)) + '\nSubject: 60 in To\n\nbody\n'))
    add('many-argv', ['-i'] + ['argv%03d@example.net' % i for i in range(60)], lf('Subject: 60 argv\n\nbody\n'),
        'more recipients than smtp_destination_recipient_limit (50)')
    add('big-body', ['-i', RCPT], lf('Subject: big\n\n' + ('0123456789' * 7 + '\n') * 20000),
        '1.4 MB body')

    # --- 8-bit ---------------------------------------------------------------------------
    add('8bit-utf8', ['-i', RCPT], BASE['eightbit'])
    add('8bit-latin1', ['-i', RCPT], b'Subject: caf\xe9\n\nK\xf6ln\n')
    add('8bit-invalid-utf8', ['-i', RCPT], b'Subject: bad \xff\xfe\n\n\xc3\x28 invalid\n')
    add('8bit-B8', ['-i', '-B8BITMIME', RCPT], BASE['eightbit'])
    add('8bit-B7', ['-i', '-B', '7BIT', RCPT], BASE['eightbit'], '-B 7BIT with 8-bit content')
    add('7bit-B8', ['-i', '-B', '8BITMIME', RCPT], BASE['plain'])
    add('B-bad', ['-i', '-B', 'BINARYMIME', RCPT], BASE['plain'], 'an unsupported body type')
    add('encoded-word-subject', ['-i', RCPT], lf('Subject: =?UTF-8?B?Y2Fmw6k=?= and =?ISO-8859-1?Q?K=F6ln?=\n\nbody\n'))
    add('cte-8bit-declared', ['-i', RCPT], lf('MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n'
                                              'Content-Transfer-Encoding: 8bit\nSubject: s\n\nplain ascii body\n'))
    add('mime-multipart', ['-i', RCPT], lf(
        'MIME-Version: 1.0\nSubject: attachment\nContent-Type: multipart/mixed; boundary="BOUND"\n\n'
        'preamble\n--BOUND\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n'
        'h\u00e9llo\n--BOUND\nContent-Type: application/octet-stream; name="a.bin"\n'
        'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="a.bin"\n\n'
        'AAECAwQFBgcICQ==\n--BOUND--\nepilogue\n'))
    add('utf8-recipient', ['-i', 'j\u00fcrgen@example.net'], lf('Subject: SMTPUTF8\n\nbody\n'),
        'a UTF-8 local part on argv')
    add('utf8-header-address', ['-t', '-i'], lf('To: j\u00fcrgen@b\u00fccher.example\nSubject: EAI\n\nbody\n'),
        'a UTF-8 address in To with -t')

    # --- addresses on argv ---------------------------------------------------------------
    add('argv-unqualified', ['-i', 'root'], BASE['plain'])
    add('argv-otherhost', ['-i', 'user@otherhost'], BASE['plain'], 'dotless domain')
    add('argv-vm', ['-i', 'root@vm'], BASE['plain'], 'this host\'s short name')
    add('argv-localhost', ['-i', 'root@localhost'], BASE['plain'])
    add('argv-trailing-dot', ['-i', 'user@example.net.'], BASE['plain'])
    add('argv-uppercase', ['-i', 'User@EXAMPLE.NET'], BASE['plain'])
    add('argv-plus', ['-i', 'user+tag@example.net'], BASE['plain'])
    add('argv-angle', ['-i', '<angle@example.net>'], BASE['plain'])
    add('argv-display-name', ['-i', 'Joe User <joe@example.net>'], BASE['plain'])
    add('argv-list-one-word', ['-i', 'a@example.net, b@example.net'], BASE['plain'])
    add('argv-list-comma-nospace', ['-i', 'a@example.net,b@example.net'], BASE['plain'])
    add('argv-quoted-local', ['-i', '"john doe"@example.net'], BASE['plain'])
    add('argv-ip-literal', ['-i', 'user@[127.0.0.1]'], BASE['plain'])
    add('argv-route', ['-i', '<@relay.example:user@example.net>'], BASE['plain'], 'obsolete source route')
    add('argv-comment', ['-i', 'user@example.net (Some User)'], BASE['plain'])
    add('argv-duplicates', ['-i', 'dup@example.net', 'dup@example.net', 'DUP@example.net', 'dup@EXAMPLE.NET'], BASE['plain'])
    add('argv-after-dashdash', ['-i', '--', 'after@example.net'], BASE['plain'])
    add('argv-dash-recipient', ['-i', '--', '-dash@example.net'], BASE['plain'], 'recipient starting with "-"')
    add('argv-empty-string', ['-i', ''], BASE['plain'], 'an empty recipient word')
    add('argv-at-only', ['-i', '@example.net'], BASE['plain'])
    add('argv-two-at', ['-i', 'a@b@example.net'], BASE['plain'])
    add('argv-group', ['-i', 'grp: a@example.net, b@example.net;'], BASE['plain'])
    add('argv-percent', ['-i', 'user%other.example@example.net'], BASE['plain'])
    add('argv-bang', ['-i', 'host!user'], BASE['plain'], 'UUCP bang path')
    add('missing-argument', ['-t', '-i', '-f'], BASE['plain'], '-f without its argument')
    add('argv-options-after', ['after-rcpt@example.net', '-i'], BASE['lone-dot'],
        'an option after the recipient (getopt permutation)', pf_argv=['-i', 'after-rcpt@example.net'])

    # --- header recipients (-t) ---------------------------------------------------------
    add('t-to-cc-bcc', ['-t', '-i'], BASE['to-cc-bcc'])
    add('t-plus-argv', ['-t', '-i', 'argv@example.net'], BASE['to-cc-bcc'], 'union of argv and header')
    add('t-argv-also-in-header', ['-t', '-i', 'to1@example.net'], BASE['to-cc-bcc'])
    add('t-bcc-only', ['-t', '-i'], lf('Bcc: hidden@example.net\nSubject: bcc only\n\nbody\n'))
    add('t-no-recipients', ['-t', '-i'], lf('Subject: nobody\n\nbody\n'), 'no recipient header')
    add('t-empty-to', ['-t', '-i'], lf('To:\nSubject: empty To\n\nbody\n'))
    add('t-group-empty', ['-t', '-i'], BASE['odd-addresses'])
    add('t-unqualified', ['-t', '-i'], BASE['unqualified'])
    add('t-folded-to', ['-t', '-i'], lf('To: first@example.net,\n\tsecond@example.net,\n  third@example.net\nSubject: folded\n\nbody\n'))
    add('t-two-to-fields', ['-t', '-i'], lf('To: one@example.net\nTo: two@example.net\nSubject: two To\n\nbody\n'))
    add('t-lowercase-names', ['-t', '-i'], lf('to: lower@example.net\ncc: lowercc@example.net\nbcc: lowerbcc@example.net\nSubject: s\n\nbody\n'))
    add('t-resent', ['-t', '-i'], BASE['resent'], 'Resent- block: only its recipients')
    add('t-resent-plus-argv', ['-t', '-i', 'argv@example.net'], BASE['resent'])
    add('t-resent-two-blocks', ['-t', '-i'], lf(
        'Resent-From: second@example.org\nResent-To: second-to@example.net\n'
        'Resent-Date: Tue, 03 Jan 2023 10:00:00 +0000\n'
        'Resent-From: first@example.org\nResent-To: first-to@example.net\n'
        'From: o@example.org\nTo: o-to@example.net\nSubject: two resent blocks\n\nbody\n'))
    add('t-resent-only-from', ['-t', '-i'], lf('Resent-From: r@example.org\nTo: plainto@example.net\nSubject: s\n\nbody\n'),
        'Resent- header without Resent-To')
    add('resent-no-t', ['-i', RCPT], BASE['resent'], 'Resent- block without -t')
    add('bcc-no-t', ['-i', RCPT], BASE['to-cc-bcc'], 'Bcc is removed without -t too')
    add('t-bad-address', ['-t', '-i'], lf('To: <unterminated@example.net\nSubject: s\n\nbody\n'))
    add('t-address-with-semicolon', ['-t', '-i'], lf('To: a@example.net; b@example.net\nSubject: s\n\nbody\n'),
        'Outlook-style ";" separator')
    add('t-local-and-vm', ['-t', '-i'], lf('To: root@vm, admin@localhost\nSubject: s\n\nbody\n'))
    add('return-path-dropped', ['-i', RCPT], lf('Return-Path: <rp@example.org>\nContent-Length: 5\nSubject: s\n\nbody\n'))
    add('received-in-input', ['-i', RCPT], lf('Received: from a by b; Mon, 02 Jan 2023 10:00:00 +0000\nSubject: s\n\nbody\n'))
    add('delivered-to-in-input', ['-i', RCPT], lf('Delivered-To: x@example.net\nX-Original-To: y@example.net\nSubject: s\n\nbody\n'))

    # --- header completion ---------------------------------------------------------------
    add('no-from', ['-i', RCPT], BASE['bare-mailx'])
    add('sender-no-from', ['-i', RCPT], lf('Sender: s@example.org\nSubject: s\n\nbody\n'))
    add('from-unqualified', ['-i', RCPT], lf('From: root\nSubject: s\n\nbody\n'))
    add('from-cron-style', ['-i', RCPT], lf('From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@vm> ls\n\nout\n'))
    add('from-logwatch', ['-t'], lf('To: root\nFrom: Logwatch\nSubject: Logwatch for vm (Linux)\n\nreport\n'))
    add('from-vm', ['-i', RCPT], lf('From: root@vm\nSubject: s\n\nbody\n'))
    add('from-multiple', ['-i', RCPT], lf('From: a@example.org, b@example.org\nSender: a@example.org\nSubject: s\n\nbody\n'))
    add('reply-to-unqualified', ['-i', RCPT], lf('From: a@example.org\nReply-To: helpdesk\nSubject: s\n\nbody\n'))
    add('date-present', ['-i', RCPT], lf('Date: Mon, 02 Jan 2023 10:00:00 +0000\nSubject: s\n\nbody\n'))
    add('msgid-present', ['-i', RCPT], lf('Message-Id: <given@example.org>\nSubject: s\n\nbody\n'))
    add('msgid-lowercase', ['-i', RCPT], lf('message-id: <lower@example.org>\ndate: Mon, 02 Jan 2023 10:00:00 +0000\nfrom: l@example.org\n\nbody\n'))

    # --- flags ---------------------------------------------------------------------------
    for i, (flags, note) in enumerate([
            (['-f', 'env@example.org'], ''), (['-fglued@example.org'], 'glued'),
            (['-r', 'r@example.org'], '-r'), (['-f', ''], 'null sender'), (['-f', '<>'], 'null sender <>'),
            (['-f', 'bounce'], 'unqualified'), (['-f', '<angle@example.org>'], ''),
            (['-f', 'root@vm'], 'mailutils style'), (['-f', 'a@example.org, b@example.org'], 'two addresses'),
            (['-f', 'Name <n@example.org>'], 'a display name'),
            (['-F', 'Full Name'], 'no From in input'), (['-F', 'J\u00fcrgen M\u00fcller'], 'UTF-8 name'),
            (['-F', 'Doe, John'], 'comma'), (['-F', 'Quote " Paren ('], 'specials'),
            (['-F', ''], 'empty name'), (['-FCronDaemon'], 'glued'),
            (['-N', 'never'], ''), (['-N', 'success,delay,failure'], ''), (['-N', 'SUCCESS'], 'upper case'),
            (['-N', 'bogus'], 'invalid'), (['-N', 'never,success'], 'never with others'),
            (['-R', 'full'], ''), (['-R', 'hdrs'], ''), (['-R', 'headers'], ''), (['-R', 'bogus'], 'invalid'),
            (['-V', 'envid-123'], ''), (['-V', 'a+b=c'], 'xtext specials'),
            (['-oem'], ''), (['-oeq'], ''), (['-oep'], ''), (['-odb'], ''), (['-odq'], 'queue only'),
            (['-om'], ''), (['-oXfoo'], 'unknown -o'), (['-Ofoo=bar'], ''), (['-h', '5'], ''), (['-L', 'tag'], ''),
            (['-G'], ''), (['-U'], ''), (['-Am'], ''), (['-Ac'], ''), (['-bm'], ''), (['-m'], ''),
            (['-c'], ''), (['-x'], ''), (['-p', 'smtp'], ''), (['-v'], 'verbose once'),
            (['-n'], 'Postfix: fatal'), (['-X', '/tmp/sealmail-compat-x.log'], 'log-file injection'),
            (['-XV'], 'VERP'), (['-bt'], ''), (['-bv'], ''), (['-qSfoo'], ''), (['-Z'], 'unknown flag'),
            (['--bogus'], 'unknown long flag'),
            (['-ti'], 'clustered'), (['-it'], 'clustered'),
    ]):
        tags = {'flags'}
        argv = ['-i'] + flags + [RCPT]
        add('flag-%02d%s' % (i, ''.join(flags)[:24].replace('/', '_').replace(' ', '_')), argv,
            BASE['bare-mailx'] if flags[0].startswith('-F') else BASE['plain'], note, tags)

    # --- the real callers' invocations (from peers.md section 4) ---------------------------
    add('caller-bsd-mailx', ['-i', '-t'], lf(
        'To: a@example.net, b@example.net\nCc: c@example.net\nBcc: d@example.net\nSubject: S\n'
        'MIME-Version: 1.0\nContent-Type: text/plain; charset="UTF-8"\nContent-Transfer-Encoding: 8bit\n\nbody\n'))
    add('caller-mailutils', ['-oi', '-f', 'root@vm', '-t'], lf(
        'Subject: hello\nTo: <a@example.net>,<b@example.net>\nUser-Agent: mail (GNU Mailutils 3.15)\n'
        'Date: Mon, 02 Jan 2023 10:00:00 +0000\n\nbody\n'))
    add('caller-s-nail', ['-i', '--', 'a@example.net', 'bcc@example.net'], lf(
        'Date: Mon, 02 Jan 2023 10:00:00 +0000\nTo: a@example.net\nSubject: s-nail\n'
        'User-Agent: s-nail v14.9.24\n\nbody\n'))
    add('caller-cron', ['-FCronDaemon', '-i', '-B8BITMIME', '-oem', 'root'], lf(
        'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@vm> echo hi\nMIME-Version: 1.0\n'
        'Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n'
        'X-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/root>\nX-Cron-Env: <LOGNAME=root>\n\nhi\n'))
    add('caller-php', ['-t', '-i', '-fbounce@example.org'], BASE['php-mixed'])
    add('caller-php-injection', ['-t', '-i', '-f', 'a@example.org', '-X/tmp/sealmail-compat-pwn.php'],
        BASE['php-mixed'], 'PHP additional_params injection')
    add('caller-git', ['-i', 'to@example.net', 'cc@example.net'], lf(
        'From: Dev <dev@example.org>\nTo: to@example.net\nCc: cc@example.net\nSubject: [PATCH] fix\n'
        'Date: Mon, 02 Jan 2023 10:00:00 +0000\nMessage-ID: <20230102.1-1-dev@example.org>\n'
        'X-Mailer: git-send-email 2.39.5\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\n\n'
        '---\n a | 1 +\n.\n'))
    add('caller-logwatch', ['-t'], lf(
        'To: root\nFrom: Logwatch\nSubject: Logwatch for vm (Linux)\nAuto-Submitted: auto-generated\n'
        'Precedence: bulk\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\n'
        'Content-Type: text/plain; charset="UTF-8"\n\n #### Logwatch 7.7 ####\n.\nafter dot\n'))
    add('caller-unattended-upgrades', ['-oi', '-t'], lf(
        'Subject: unattended-upgrades result\nFrom: root\nTo: root\nAuto-Submitted: auto-generated\n'
        'Content-Type: text/plain; charset="utf-8"\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n'
        'Unattended upgrade result: All upgrades installed=0A\n'))
    add('caller-atd', ['-i', 'root'], lf('Subject: Output from your job        3\nTo: root\n\nout\n'))
    add('caller-mdadm', ['-t'], lf('From: vm monitoring <root@vm>\nTo: root\nSubject: Fail event on /dev/md0:vm\n\nbody\n'))
    add('caller-openbsd-cron', ['-FCronDaemon', '-odi', '-oem', '-oi', '-t'],
        lf('From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@vm> x\n\nout\n'))
    return c


# ---------------------------------------------------------------------------------------------
# The matrix: base messages x flag sets

FLAG_SETS = [
    ('argv', [RCPT]),
    ('t', ['-t']),
    ('t+argv', ['-t', 'extra@example.net']),
    ('i', ['-i', RCPT]),
    ('oi', ['-oi', RCPT]),
    ('ti', ['-t', '-i']),
    ('f', ['-f', 'sender@example.org', RCPT]),
    ('r-unqual', ['-r', 'sender', RCPT]),
    ('F', ['-F', 'Some Body', RCPT]),
    ('N+R+V', ['-N', 'success,failure', '-R', 'hdrs', '-V', 'ENV-1', RCPT]),
    ('B8', ['-B', '8BITMIME', '-i', RCPT]),
    ('t-null-sender', ['-t', '-i', '-f', '<>']),
    ('none', ['-i']),
]

MATRIX_BASES = ['plain', 'to-cc-bcc', 'bare-mailx', 'no-headers', 'resent', 'lone-dot', 'crlf',
                'php-mixed', 'eightbit', 'long-line', 'empty-body', 'odd-addresses', 'unqualified']


def matrix_cases():
    out = []
    for base in MATRIX_BASES:
        for fname, flags in FLAG_SETS:
            out.append(Case('matrix/%s/%s' % (base, fname), list(flags), BASE[base], '', {'matrix'}))
    return out


def corpus():
    cases = hand_cases() + matrix_cases()
    names = [c.name for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, dup
    return cases
