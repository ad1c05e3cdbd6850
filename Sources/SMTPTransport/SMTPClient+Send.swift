import SMTPProtocol

/// The result of sending one message: per recipient, for the message, and which relay.
public struct SMTPDeliveryResult: Hashable, Sendable {
    /// One result per envelope recipient, in order (accepted / transient / permanent, with the
    /// server's reply verbatim and its enhanced status code).
    public var recipients: [SMTPRecipientResult]
    /// The message as a whole.
    public var message: SMTPOutcome
    /// The relay that answered (`relay=host[ip]:port`).
    public var relay: RelayResult
    /// True when the 8-bit message was converted to 7bit because the relay lacks 8BITMIME.
    public var convertedTo7Bit: Bool
}

extension SMTPClient {
    /// Sends one message over the established session (RFC 5321 3.3): [RSET,] MAIL, RCPT...,
    /// DATA or BDAT, pipelined when offered, all of it within `relay.timeouts.delivery` (and
    /// the caller's deadline, `setDeadline`). Returns per-recipient results; a refusal by the
    /// server is a result, not an error. Throws `SMTPError` when the session fails (connection
    /// lost, timeout, 421, interrupt); the connection is then closed and nothing in this
    /// transaction may be counted as delivered.
    ///
    /// An 8-bit message to a relay without 8BITMIME is converted to 7bit first (RFC 6152 3),
    /// one with lines over 998 octets (`envelope.hasLongLines`, or found in a message given as
    /// bytes) is re-encoded or broken (RFC 5321 4.5.3.1.6), and the parts holding NUL
    /// (`envelope.hasNUL`, or found in a message given as bytes) are re-encoded, or the message
    /// refused (RFC 2045 2.7, 2.8); the message is then read into memory (`MessageConversion`).
    /// Raw 8-bit header fields (flagged, or found in a message given as bytes) go with SMTPUTF8
    /// when the relay offers it, else RFC 2047-encoded (`HeaderDowngrade`, only the header is
    /// read), 8BITMIME or not. A message larger than the relay's SIZE, or one that needs
    /// SMTPUTF8 (an 8-bit address, or an 8-bit header field that cannot be encoded) from a
    /// relay without it, is refused before MAIL.
    public func send(envelope: SMTPEnvelope, message: SMTPMessageSource) throws -> SMTPDeliveryResult {
        guard connection != nil, machine.phase == .ready, let relayResult else {
            throw SMTPError(.invalidState, "not connected", transient: true)
        }
        interrupter.drain()
        operationDeadline = .after(relay.timeouts.delivery)
        var envelope = envelope
        var source = message
        var converted = false
        if envelope.messageSize == nil { envelope.messageSize = Int(clamping: source.length) }
        do {
            let caps = machine.capabilities
            if case .bytes(let bytes) = source {
                // What the submission flags for a queued message, found here for one given as bytes.
                if !envelope.prefersSMTPUTF8 { envelope.prefersSMTPUTF8 = HeaderDowngrade.headerHasEightBit(bytes) }
                if envelope.body == .sevenBit, EightBitDowngrade.has8Bit(bytes) { envelope.body = .eightBitMIME }
            }
            if envelope.prefersSMTPUTF8, !envelope.requestsSMTPUTF8(offered: caps.smtpUTF8) {
                try downgradeHeader(&source, &envelope)
            }
            if case .bytes(let bytes) = source {
                if !envelope.hasLongLines { envelope.hasLongLines = MessageConversion.hasLongLine(bytes) }
                if !envelope.hasNUL { envelope.hasNUL = MessageConversion.hasNUL(bytes) }
            }
            let reasons = MessageConversion.reasons(for: envelope, capabilities: caps)
            if !reasons.isEmpty {
                let result = MessageConversion.convert(try source.readAll(), body: envelope.body, for: reasons)
                converted = result.convertedTo7Bit
                source = .bytes(result.message)
                envelope.body = result.body
                envelope.hasNUL = result.hasNUL
                envelope.messageSize = result.message.count
            }
            let end = try drive(machine.beginTransaction(envelope), body: source)
            guard case .transactionComplete(let result) = end else {
                throw SMTPError(.unexpectedReply, "transaction did not complete", transient: true)
            }
            return SMTPDeliveryResult(recipients: result.recipients, message: result.message,
                                      relay: relayResult, convertedTo7Bit: converted)
        } catch {
            throw abort(error)
        }
    }

    /// Re-encodes the 8-bit header fields for a relay without SMTPUTF8 (`HeaderDowngrade`);
    /// when one cannot be, the envelope says the message needs SMTPUTF8, and why, so that the
    /// state machine refuses it (RFC 6531 3.5: no 8-bit header octet leaves without SMTPUTF8).
    private func downgradeHeader(_ source: inout SMTPMessageSource, _ envelope: inout SMTPEnvelope) throws {
        var unencodable: [String] = []
        if let downgraded = try source.replacingHeader({ header in
            let result = HeaderDowngrade.downgrade(header)
            unencodable = result.unencodable
            return result.header
        }) {
            source = downgraded
            envelope.messageSize = Int(clamping: source.length)
        } else {
            unencodable = ["a header of more than 16 MiB"]
        }
        guard !unencodable.isEmpty else { return }
        envelope.requiresSMTPUTF8 = true
        envelope.smtpUTF8Reason = "8-bit octets that RFC 2047 cannot encode, in "
            + unencodable.joined(separator: ", ")
    }

    /// Streams the message data and returns the final reply (or a refused BDAT chunk's).
    func sendBody(_ source: SMTPMessageSource, framing: SMTPBodyFraming, on conn: SMTPConnection) throws -> SMTPReply {
        let total = source.length
        var sent: Int64 = 0
        let progress = observers.transfer
        progress?(SMTPTransferProgress(bytesSent: 0, totalBytes: total))
        switch framing {
        case .dotStuffed:
            var encoder = DataEncoder(stuffDots: true)
            var out: [UInt8] = []
            try source.forEachBlock { block in
                encoder.encode(block, into: &out)
                sent += Int64(block.count)
                if out.count >= 64 * 1024 {
                    try conn.write(out, traceLines: [], deadline: limit(relay.timeouts.dataBlock), what: "message data")
                    out.removeAll(keepingCapacity: true)
                    progress?(SMTPTransferProgress(bytesSent: sent, totalBytes: total))
                }
            }
            encoder.finish(into: &out)
            try conn.write(out, traceLines: ["(message data, \(total) octets)", "."],
                           deadline: limit(relay.timeouts.dataBlock), what: "message data")
            progress?(SMTPTransferProgress(bytesSent: sent, totalBytes: total))
            return try readReply(conn, .dataTermination)
        case .chunked(let binary):
            var encoder = DataEncoder(stuffDots: false)
            var framer = BDATFramer()
            var refused: SMTPReply?
            // Non-final chunks wait for their reply; a refusal ends the data (RFC 3030 4).
            func sendFrames(_ frames: [[UInt8]]) throws {
                for frame in frames where refused == nil {
                    try conn.write(frame, traceLines: ["BDAT \(framer.chunkSize)"],
                                   deadline: limit(relay.timeouts.dataBlock), what: "message data")
                    let reply = try readReply(conn, .command)
                    if !reply.isPositive { refused = reply }
                }
            }
            try source.forEachBlock { block in
                guard refused == nil else { return }
                let data = binary ? Array(block) : encoder.encode(block)
                sent += Int64(block.count)
                try sendFrames(framer.append(data))
                progress?(SMTPTransferProgress(bytesSent: sent, totalBytes: total))
            }
            if !binary, refused == nil { try sendFrames(framer.append(encoder.finish())) }
            if let refused { return refused }
            let last = framer.finish()
            let header = last.prefix { $0 != 0x0D }
            try conn.write(last, traceLines: [String(decoding: header, as: UTF8.self)],
                           deadline: limit(relay.timeouts.dataBlock), what: "message data")
            progress?(SMTPTransferProgress(bytesSent: sent, totalBytes: total))
            return try readReply(conn, .dataTermination)
        }
    }
}
