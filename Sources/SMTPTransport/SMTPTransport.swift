/// SMTPTransport: the IO side of sealmail's SMTP engine.
///
/// `SMTPClient` connects to a relay (`SMTPRelay`) over TCP (IPv4/IPv6, non-blocking connect
/// with a deadline, TCP_NODELAY), optionally with TLS through the system OpenSSL 3 (the
/// `sm_tls_` functions of CMailShim), and drives `SMTPClientStateMachine` from SMTPProtocol.
///
/// RFCs: RFC 5321 (SMTP; 4.5.3.2 timeouts), RFC 3207 (STARTTLS), RFC 8314 (implicit TLS),
/// RFC 6125 (host-name verification, through OpenSSL's X509_check_host/ip), RFC 4954 (AUTH),
/// RFC 2920 (PIPELINING, in bounded groups), RFC 3030 (CHUNKING), RFC 6152 (8BITMIME, with
/// the downgrade of SMTPProtocol's `EightBitDowngrade`), RFC 1870 (SIZE), RFC 3461 (DSN),
/// RFC 6531 (SMTPUTF8: required for internationalised addresses, preferred for 8-bit header
/// fields, which go encoded to a relay without it, or not at all), RFC 5321 4.5.3.1.6 (no
/// line over 998 octets in DATA), RFC 2045 2.7/2.8 (no NUL in DATA).
///
/// Time: each wait (a whole reply, a whole write) has its RFC 5321 4.5.3.2 timeout; each
/// operation (`connect`, `send`) is bounded as a whole by `SMTPTimeouts.delivery`, and a caller
/// can bound everything with `SMTPClient.setDeadline`.
///
/// Proxies (`SMTPRelay.proxy`, `SMTPProxy`): SOCKS5 (RFC 1928) with username/password
/// (RFC 1929), the relay's name resolved here (`socks5`, each address tried in turn) or by the
/// proxy (`socks5h`); SOCKS4a; HTTP CONNECT (RFC 9110 9.3.6) with Basic credentials
/// (RFC 7617). The handshake (SMTPProtocol's `ProxyHandshake`) runs after the TCP connect to
/// the proxy and before the greeting, within the connect timeout; TLS then runs through the
/// tunnel with SNI and verification against the relay's name.
///
/// Known divergences and limits:
/// - Name resolution uses getaddrinfo(3), and a relay secret may come from a command: neither
///   can be bounded by the deadlines (sealmail -odi has a watchdog for them).
/// - Proxies: no GSSAPI for SOCKS5 (RFC 1961), no TLS to the proxy itself (`https://`
///   proxies), no Digest or NTLM for HTTP proxies; proxy credentials travel in clear to the
///   proxy (as those protocols send them).
/// - On first use the process ignores SIGPIPE (if it was at its default), so that a peer
///   closing the connection turns into an error instead of killing the process (OpenSSL
///   writes to the socket with write(2)).
/// - The library never prints and never exits; every failure is an `SMTPError`.
public enum SMTPTransportModule {}
