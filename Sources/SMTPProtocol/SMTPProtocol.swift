/// SMTPProtocol: the SMTP client protocol without IO.
///
/// Everything here takes bytes or values and returns values or actions; the socket, TLS, the
/// clock, randomness and cryptographic primitives come in from outside (SMTPTransport).
///
/// Contents, one responsibility per file:
/// - `SMTPReply`, `ReplyParser`: replies and the incremental reply parser (RFC 5321 4.2,
///   RFC 3463 enhanced status codes, RFC 2034).
/// - `SMTPCommand`: the command encoder; every argument is checked where it is built
///   (RFC 5321 4.1, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 3030 BDAT/BINARYMIME, RFC 6531
///   SMTPUTF8, RFC 3461 DSN with xtext, RFC 4954 AUTH, RFC 3207 STARTTLS).
/// - `SMTPCapabilities`: the EHLO keywords (RFC 5321 4.1.1.1, RFC 2920, RFC 4954 incl. the
///   obsolete `AUTH=` form).
/// - `SASL*`: PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195),
///   SCRAM-SHA-256 (RFC 5802, RFC 7677) and XOAUTH2 (Google's profile); crypto is injected
///   through `SMTPCryptoPrimitives` so this module has no crypto dependency; base64 is
///   MailMessage's `Base64`.
/// - `DataEncoder`: line-end normalisation and dot-stuffing, streaming, the only place either
///   happens (RFC 5321 4.5.2, 2.3.8), and BDAT chunk framing (RFC 3030).
/// - `EightBitDowngrade`: 8bit to quoted-printable conversion for relays without 8BITMIME
///   (RFC 6152 section 3, RFC 2045 6.7), and for lines over 998 octets and for NUL octets
///   (RFC 2045 2.7, 2.8), over MailMessage's MIME walker and encoders.
/// - `MessageConversion`: what the client does to a message before DATA and why (8BITMIME
///   missing, lines over 998 octets, RFC 5321 4.5.3.1.6, NUL), and the last-resort line breaking.
/// - `HeaderDowngrade`: raw 8-bit header fields as RFC 2047 encoded words for a relay without
///   SMTPUTF8 (RFC 6531 3.5), or the names of those that cannot be encoded (the message is
///   then refused for that relay).
/// - `ProxyCodecs`, `ProxyHandshake`: the proxy handshakes a connection may start with, as
///   encoders, incremental parsers and a state machine: SOCKS5 (RFC 1928) with
///   username/password (RFC 1929), SOCKS4a, HTTP CONNECT (RFC 9110 9.3.6, RFC 9112 framing,
///   Basic credentials RFC 7617).
/// - `SMTPClientStateMachine`: the client dialogue as a value type whose `mutating func`s return
///   `SMTPClientAction`s (greeting, EHLO/HELO, STARTTLS, AUTH, MAIL/RCPT/DATA or BDAT with
///   RFC 2920 pipelining in groups bounded by `SMTPPipeliningWindow`, RSET, VRFY/EXPN/raw
///   commands, QUIT).
///
/// Known divergences:
/// - Stray CR and stray LF in message data are both turned into CRLF line ends (Postfix does
///   this for stray LF; for stray CR we do the same rather than pass it through, so no bare CR
///   ever reaches the wire).
/// - Lines longer than 998 octets: a single-part body (or a MIME leaf) is re-encoded as
///   quoted-printable (base64 for non-text) where its transfer encoding allows; other lines
///   are broken as Postfix breaks them (headers: CRLF + space, bodies: CRLF), which changes
///   the text by a line break. Parts of multipart/signed are never re-encoded.
/// - 8-bit header fields to a relay without SMTPUTF8 are encoded (Postfix sends them raw);
///   a field RFC 2047 cannot encode (an 8-bit address, Received, Message-ID...) makes the
///   message refused for that relay rather than sent raw.
/// - The 8BITMIME downgrade leaves the 8-bit header fields of MIME parts alone (as Postfix
///   does); only bodies of text/* parts (quoted-printable) and other leaf parts (base64) are
///   converted.
/// - Replies whose lines end in a bare LF are accepted (lenient, like Postfix).
public enum SMTPProtocolModule {}
