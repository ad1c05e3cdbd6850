import MailMessage

/// The AUTH exchange (RFC 4954 4, 6).
extension SMTPClientStateMachine {
    mutating func startAuth() -> SMTPClientAction {
        guard configuration.auth != .none else {
            phase = .ready
            return .ready
        }
        guard let credentials = configuration.credentials else {
            return fail(.authUnavailable, nil, "AUTH is configured but no credentials were given", transient: false)
        }
        guard isEncrypted || configuration.allowPlaintextAuth else {
            return fail(.plaintextAuthRefused, nil,
                        "refusing to send credentials over an unencrypted connection", transient: false)
        }
        var offered = capabilities.authMechanisms
        if crypto == nil {
            offered.removeAll { $0 == SASLMechanism.cramMD5.rawValue || $0 == SASLMechanism.scramSHA256.rawValue }
        }
        guard let mechanism = configuration.auth.select(offered: offered,
                                                        secretIsOAuthToken: credentials.secretIsOAuthToken),
              let crypto = crypto ?? (Self.needsCrypto(configuration.auth) ? nil : NoCrypto()) else {
            let list = capabilities.authMechanisms.joined(separator: " ")
            return fail(.authUnavailable, nil,
                        "no usable SASL mechanism offered (server offers: \(list.isEmpty ? "none" : list))",
                        transient: true)
        }
        var client = SASLClient(mechanism: mechanism, credentials: credentials, crypto: crypto,
                                clientNonce: clientNonce)
        let initial: [UInt8]?
        do {
            initial = try client.initialResponse()
        } catch {
            return fail(.saslFailed, nil, "\(error)", transient: false)
        }
        sasl = client
        saslError = nil
        phase = .auth
        let text = initial.map { $0.isEmpty ? "=" : Base64.encode($0) }
        do {
            let bytes = try SMTPCommand.auth(mechanism.rawValue, initialResponse: text)
            let trace = "AUTH \(mechanism.rawValue)" + (text == nil ? "" : " <redacted>")
            return .send(Self.output(bytes, trace: trace), .command)
        } catch {
            return fail(.invalidArgument, nil, "\(error)", transient: false)
        }
    }

    mutating func receiveAuth(_ reply: SMTPReply) -> SMTPClientAction {
        guard var client = sasl else { return fail(.invalidState, reply, "AUTH state lost", transient: false) }
        if let error = saslError {
            // The reply to our "*" cancellation (RFC 4954 4): report our own reason.
            return fail(.saslFailed, reply, error.reason, transient: false)
        }
        if reply.code == 235 {
            guard client.mayComplete else {
                return fail(.saslFailed, reply,
                            "the server accepted SCRAM authentication without proving it knows the password",
                            transient: false)
            }
            authenticatedMechanism = client.mechanism
            sasl = nil
            phase = .ready
            return .ready
        }
        if reply.code == 334 {
            let challengeText = reply.lines.first?.trimmingSpaces ?? ""
            do {
                guard let challenge = Base64.decode(challengeText) else {
                    throw SASLError(reason: "the server's SASL challenge is not base64")
                }
                let response = try client.respond(to: challenge)
                sasl = client
                let bytes = try SMTPCommand.saslResponse(Base64.encode(response))
                return .send(Self.output(bytes, trace: "<redacted>"), .command)
            } catch let error as SASLError {
                saslError = error
                sasl = client
                return .send(Self.output(Array("*\r\n".utf8)), .command)
            } catch {
                return fail(.invalidArgument, nil, "\(error)", transient: false)
            }
        }
        if reply.code == 421 { return closing(reply) }
        // Authentication failures are soft, as Postfix's smtp_sasl_auth_soft_bounce: a wrong
        // password is a configuration problem to fix, not a reason to bounce the mail.
        return fail(.authRejected, reply, "authentication failed", transient: true)
    }

    private static func needsCrypto(_ mode: SMTPAuthMode) -> Bool {
        switch mode {
        case .mechanism(.cramMD5), .mechanism(.scramSHA256): return true
        case .none, .auto, .mechanism(.plain), .mechanism(.login), .mechanism(.xoauth2): return false
        }
    }
}

/// Stand-in crypto when none was injected; never reached because CRAM-MD5 and SCRAM are
/// filtered out of the selection without real primitives.
private struct NoCrypto: SMTPCryptoPrimitives {
    func hmacMD5(key: [UInt8], data: [UInt8]) -> [UInt8] { [] }
    func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] { [] }
    func sha256(_ data: [UInt8]) -> [UInt8] { [] }
    func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] { [] }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
