/// SMTPTestSupport: an in-process scripted SMTP server for fault injection (RFC 5321 server
/// side, just enough of it), on 127.0.0.1 and an ephemeral port, recording every byte it
/// receives. Reusable by any test target: create a `ScriptedSMTPServer` with a
/// `ScriptedSMTPServer.Script`, point a client at `port`, inspect `connections` and
/// `messages`, call `stop()` (also done in deinit).
///
/// Divergence: the server speaks no real TLS (this target does not link OpenSSL); STARTTLS
/// can be answered with `.replyThenGarbage` to make the client's handshake fail. Real TLS is
/// tested against aiosmtpd.
public enum SMTPTestSupportModule {}

/// What the server does when a command (or event) comes.
public enum ScriptStep: Sendable, Hashable {
    /// Sends the reply; lines separated by "\n" get CRLF each (give "250-a\n250 b").
    case reply(String)
    /// Sends these bytes exactly (malformed replies, bare LF...).
    case raw([UInt8])
    /// Closes the connection without answering.
    case drop
    /// Sends the reply, then closes the connection (e.g. `354` then a drop during the data).
    case replyThenDrop(String)
    /// Waits `seconds`, then sends the reply.
    case slow(String, seconds: Double)
    /// Sends the pieces one by one (raw, no CRLF added), `seconds` apart: a reply split
    /// across reads at arbitrary places.
    case split([String], seconds: Double)
    /// Never answers (the client's timeout must fire); the connection stays open.
    case silent
    /// Sends the reply, then non-TLS garbage in place of a TLS handshake, then closes.
    case replyThenGarbage(String)
}
