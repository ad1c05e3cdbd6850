/// Something wrong or unusual found in a message. Parsers record these instead of failing;
/// the submission decides which are fatal, which are repaired and which only logged.
public enum MessageDefect: Equatable, Sendable {
    /// A leading mbox `From ` line, dropped (Postfix's sendmail does the same).
    case mboxFromLineDropped
    /// The first line was not a header field, so the whole input is body.
    case noHeaderBlock
    /// The header block ended with a line that is neither a field nor blank; it starts the body.
    case headerBlockEndedByNonHeader(line: Int)
    /// A header field holds 8-bit bytes (RFC 6532 needs SMTPUTF8, or RFC 2047 encoding).
    case eightBitHeader(name: String)
    /// A NUL byte in the header block or body (must be made safe before transport).
    case nulByte(inHeaders: Bool)
    /// A line longer than 998 octets without its CRLF (RFC 5322 2.1.1).
    case lineTooLong(inHeaders: Bool, length: Int)
    /// A bare CR inside a line, replaced by a space (Postfix's cleanup_replace_stray_cr_lf).
    case strayCarriageReturn
    /// A header field name with white space before the colon (RFC 5322 4.5 obsolete syntax).
    case obsoleteFieldName(name: String)
}
