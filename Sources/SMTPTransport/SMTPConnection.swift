import MailMessage
import SMTPProtocol

/// One connection to a relay: the socket, TLS once started, the reply parser and the trace.
/// Bytes go out whole; replies come in through the incremental parser (never "one read is
/// one reply").
final class SMTPConnection {
    let socket: TCPSocket
    private(set) var tls: TLSConnection?
    private var parser = ReplyParser()
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    private let trace: ((SMTPTraceDirection, String) -> Void)?

    /// `received`: bytes of the server's that arrived before (a proxy's read past its answer).
    init(socket: TCPSocket, received: [UInt8] = [], trace: ((SMTPTraceDirection, String) -> Void)?) {
        self.socket = socket
        self.trace = trace
        parser.feed(received)
    }

    /// Starts TLS on the socket (implicit TLS, or after 220 to STARTTLS).
    func startTLS(context: TLSContext, settings: SMTPTLSSettings, serverName: String, deadline: Deadline) throws {
        guard !parser.hasBufferedBytes else {
            // RFC 3207 6 / CVE-2011-0411: bytes sent before the handshake must not be trusted.
            throw SMTPError(.unexpectedReply, "the server sent data after its STARTTLS reply", transient: true)
        }
        tls = try TLSConnection(context: context, socket: socket, settings: settings,
                                serverName: serverName, deadline: deadline)
    }

    /// Writes bytes, tracing `lines` (already redacted).
    func write(_ bytes: [UInt8], traceLines: [String], deadline: Deadline, what: String) throws {
        if let trace { for line in traceLines { trace(.sent, line) } }
        try bytes.withUnsafeBytes { buffer in
            if let tls {
                try tls.write(buffer, until: deadline, what: what)
            } else {
                try socket.write(buffer, until: deadline, what: what)
            }
        }
    }

    /// Reads one complete reply.
    func readReply(deadline: Deadline, what: String) throws -> SMTPReply {
        while true {
            do {
                if let reply = try parser.next() {
                    if let trace { for line in TextLines.lines(of: reply.verbatim) { trace(.received, line) } }
                    return reply
                }
            } catch let error as ReplyParseError {
                throw SMTPError(.malformedReply, "malformed reply during \(what): \(error)", transient: true)
            }
            let n: Int
            if let tls {
                n = try tls.read(into: &readBuffer, until: deadline, what: what)
            } else {
                n = try socket.read(into: &readBuffer, until: deadline, what: what)
            }
            if n == 0 {
                throw SMTPError(.connectionClosed, "the server closed the connection during \(what)", transient: true)
            }
            parser.feed(readBuffer[0..<n])
        }
    }

    /// Sends close_notify when TLS is up (the socket closes when this object goes).
    func shutdown() {
        tls?.shutdown()
    }
}
