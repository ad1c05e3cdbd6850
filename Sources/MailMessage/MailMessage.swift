/// MailMessage: the RFC 5322 / MIME message model. No IO: it takes bytes and returns values.
///
/// RFCs: 5322 (message format, address grammar incl. the obsolete syntax of section 4),
/// 2045-2047 (MIME, encoded words), 2183 and 2231 (MIME parameters), 6532 (8-bit headers,
/// recorded as defects here), 4648 (base64).
///
/// The one implementation in the package of each of: the header parser (`HeaderBlockParser`,
/// `HeaderBlock.parse`, `HeaderBlock.spans`), MIME parameters (`ContentType`,
/// `ContentDisposition`), the MIME walker (`MIMEEntity`, delimiter lines included), the
/// transfer encodings (`Base64`, `Base64LineEncoder`, `QuotedPrintableEncoder`,
/// `QuotedPrintableDecoder`, `CRLFLineEnds`, all `BodyEncoder`s) and the generator
/// (`MIMEGenerator`). SMTPProtocol (the 8BITMIME and SMTPUTF8 downgrades, SASL), SMIME (the
/// canonicaliser) and Sealmail build on them.
///
/// Known divergences: header field bodies are kept as raw bytes and only unfolded or
/// re-folded on request, so that what a caller wrote reaches the relay unchanged; a parse
/// never throws, it records `MessageDefect`s (CPython's `email` habit).
public enum MailMessageModule {}
