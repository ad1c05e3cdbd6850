#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A `Mail` checked, composed and planned: the copies to send (one for everyone when it is
/// not encrypted; with encryption one for the visible recipients and one per Bcc recipient,
/// each encrypted to its own recipients' certificates and to the certificates that match no
/// recipient), each rendered when it is sent or queued.
struct PreparedMail: Sendable {
    struct Copy: Sendable {
        var recipients: [String]
        var encryptTo: [Certificate]
    }

    let mail: Mail
    let composed: ComposedMail
    let copies: [Copy]

    /// Checks everything before anything is sent: addresses, attachments, the signer, and a
    /// valid certificate for every recipient when encrypting (each recipient without one is
    /// named in the error).
    init(_ mail: Mail, hostname: String, now: Date = Date()) throws {
        let clock = (seconds: Int64(now.timeIntervalSince1970), utcOffset: Self.utcOffset(at: now))
        composed = try ComposedMail(mail, now: clock, hostname: hostname)
        self.mail = mail
        let validator = CertificateValidator(trust: mail.trust)
        if let signer = mail.signer {
            do {
                try validator.check(signer.certificate, for: .signing, at: now, role: "signer")
            } catch let e as SMIMEError {
                throw MailError(.protectionFailed, e.description, underlying: e)
            }
        }
        guard !mail.encryptionCertificates.isEmpty else {
            copies = [Copy(recipients: composed.recipients, encryptTo: [])]
            return
        }
        // By the address's bytes, as MailComposer tells recipients apart (String keys would
        // merge canonically equivalent addresses and give one the other's certificate).
        var chosen: [[UInt8]: Certificate] = [:]
        var problems: [String] = []
        var matched = Set<ObjectIdentifier>()
        for address in composed.recipients {
            let candidates = mail.encryptionCertificates.filter { CertificateStore.matches($0, address: address) }
            candidates.forEach { matched.insert(ObjectIdentifier($0)) }
            let usable = candidates.filter { validator.problems($0, for: .encryption, at: now).isEmpty }
            if let best = usable.max(by: { $0.notAfter < $1.notAfter }) {
                chosen[Array(address.utf8)] = best
            } else if let first = candidates.first {
                let why = validator.problems(first, for: .encryption, at: now).map(\.description).joined(separator: "; ")
                problems.append("<\(address)>: its certificate cannot be used: \(why)")
            } else {
                problems.append("<\(address)>: no certificate with this address among encryptionCertificates")
            }
        }
        guard problems.isEmpty else {
            throw MailError(.missingCertificates, "cannot encrypt for every recipient; nothing was sent:\n" + problems.joined(separator: "\n"))
        }
        // Certificates matching no recipient: encrypt-to-self (the sender's copy), in every copy.
        let extra = mail.encryptionCertificates.filter { !matched.contains(ObjectIdentifier($0)) }
        var copies = [Copy]()
        if !composed.visible.isEmpty {
            copies.append(Copy(recipients: composed.visible, encryptTo: composed.visible.map { chosen[Array($0.utf8)]! } + extra))
        }
        for hidden in composed.hidden {
            copies.append(Copy(recipients: [hidden], encryptTo: [chosen[Array(hidden.utf8)]!] + extra))
        }
        self.copies = copies
    }

    static func utcOffset(at date: Date) -> Int {
        var t = time_t(date.timeIntervalSince1970)
        var local = tm()
        localtime_r(&t, &local)
        return local.tm_gmtoff
    }

    var isProtected: Bool { mail.signer != nil || !mail.encryptionCertificates.isEmpty }

    /// Whether a copy must be rendered to a file (an attachment read from disk, or S/MIME,
    /// which streams from a file): never the whole of a large attachment in memory.
    var rendersToFile: Bool {
        isProtected || mail.attachments.contains { if case .file = $0.content { return true } else { return false } }
    }

    /// Renders `copy` into `output` (a file descriptor), signed and/or encrypted as planned.
    func render(_ copy: Copy, to output: Int32, tmpDir: String) throws {
        guard isProtected else {
            try composed.write { try TempFile.writeAll(output, $0) }
            return
        }
        let plain = try TempFile(in: tmpDir)
        defer { plain.close() }
        try composed.write { try TempFile.writeAll(plain.fd, $0) }
        var protection = Protection(signer: mail.signer, recipients: copy.encryptTo)
        protection.signing.digest = mail.smime.digest
        protection.signing.form = mail.smime.signatureForm
        protection.signing.certificates = mail.smime.includeChain ? .chain : .signer
        protection.encryption.cipher = mail.smime.cipher
        protection.headerProtection = mail.smime.headerProtection
        protection.trust = mail.trust
        do {
            try MessageProtector(protection).protect(messageFD: plain.fd, to: output)
        } catch let e as SMIMEError {
            throw MailError(.protectionFailed, "S/MIME: \(e.description)", underlying: e)
        }
    }

    /// The copy as a message source: in memory when small and simple, else an anonymous file
    /// (closed by the caller through `close`).
    func source(for copy: Copy, tmpDir: String) throws -> (SMTPMessageSource, close: () -> Void) {
        if !rendersToFile {
            var bytes: [UInt8] = []
            try composed.write { bytes += $0 }
            return (.bytes(bytes), {})
        }
        let file = try TempFile(in: tmpDir)
        do {
            try render(copy, to: file.fd, tmpDir: tmpDir)
            let size = lseek(file.fd, 0, SEEK_END)
            guard size >= 0 else { throw MailError(.io, "cannot size the rendered message: \(String(cString: strerror(errno)))") }
            return (.file(descriptor: file.fd, offset: 0, length: Int64(size)), { file.close() })
        } catch {
            file.close()
            throw error
        }
    }

    /// The SMTP envelope of a copy (DSN NOTIFY and RET as the mail asks).
    func envelope(for copy: Copy, size: Int64) -> SMTPEnvelope {
        let notify: DSNNotify? = mail.deliveryNotification.isEmpty ? nil : mail.deliveryNotification
        return SMTPEnvelope(sender: composed.sender, recipients: copy.recipients.map { SMTPRecipient($0, notify: notify) },
                            ret: mail.deliveryNotificationReturn, body: .sevenBit, messageSize: Int(size))
    }
}

/// An anonymous temporary file (created with mkstemp and unlinked at once): nothing to clean
/// up after a crash.
final class TempFile: @unchecked Sendable {
    let fd: Int32
    private var closed = false

    init(in dir: String) throws {
        var template = Array((dir + "/sealmail-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw MailError(.io, "cannot create a temporary file in \(dir): \(String(cString: strerror(errno)))", transient: true)
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        self.fd = fd
    }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    deinit { close() }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw MailError(.io, "cannot write a temporary file: \(String(cString: strerror(errno)))", transient: errno == ENOSPC)
            }
            off += n
        }
    }

    /// `$TMPDIR`, else /tmp.
    static var defaultDirectory: String {
        if let t = getenv("TMPDIR"), t.pointee != 0 { return String(cString: t) }
        return "/tmp"
    }
}
