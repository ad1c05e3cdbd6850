/// MailMessage: the RFC 5322 / MIME message model. No IO: it takes bytes and returns values.
///
/// RFCs: 5322 (message format, address grammar incl. the obsolete syntax of section 4),
/// 2045-2047 (MIME, encoded words), 6532 (8-bit headers, recorded as defects here).
///
/// Known divergences: header field bodies are kept as raw bytes and only unfolded or
/// re-folded on request, so that what a caller wrote reaches the relay unchanged; a parse
/// never throws, it records `MessageDefect`s (CPython's `email` habit).
public enum MailMessageModule {}
