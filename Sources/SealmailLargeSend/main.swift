// Sends one message with a large attachment, signed and encrypted, through the Sealmail
// library, and prints the process's peak resident memory: the streaming check of issue 12
// (a 1 GiB attachment signed and encrypted in under 64 MiB), used by
// Tests/SealmailTests/LargeMessageTests and compat/bench.
//
//   SealmailLargeSend PORT ATTACHMENT SIGNER.crt SIGNER.key RECIPIENT.crt [TMPDIR]
//
// Prints `accepted <n>` and `peak_rss_kib <n>`; exits 1 on any error.
#if canImport(Glibc)
import Glibc
#endif
import Sealmail

/// This program's peak resident set (VmHWM of /proc/self/status), in KiB. Not getrusage's
/// ru_maxrss: Linux carries that across execve, so a child spawned by a large process (the
/// test runner) would report its parent's size.
func peakRSSKiB() -> Int {
    guard let f = fopen("/proc/self/status", "r") else { return -1 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), f) != nil {
        let text = String(cString: line)
        if text.hasPrefix("VmHWM:") {
            return Int(text.dropFirst(6).filter { $0 >= "0" && $0 <= "9" }) ?? -1
        }
    }
    return -1
}

let args = CommandLine.arguments
guard args.count >= 6, let port = UInt16(args[1]) else {
    print("usage: SealmailLargeSend PORT ATTACHMENT SIGNER.crt SIGNER.key RECIPIENT.crt [TMPDIR]")
    exit(64)
}
do {
    var mail = Mail(from: "Alice <alice@example.com>", subject: "large attachment")
    mail.to = ["bob@partner.example"]
    mail.text = "The file is attached.\n"
    try mail.attach(file: args[2], contentType: "application/octet-stream")
    mail.signer = try SigningIdentity.loadPEM(certificate: args[3], key: args[4])
    mail.encryptionCertificates = try Certificate.load(contentsOf: args[5])
    var relay = SMTPRelay(host: "127.0.0.1", port: port, tls: .none, heloName: "client.example.com")
    relay.timeouts = .all(600)
    let mailer = Mailer(relay: relay, maxConnections: 1, temporaryDirectory: args.count > 6 ? args[6] : nil)
    let report = try await mailer.send(mail)
    await mailer.close()
    print("accepted \(report.recipients.filter { $0.status == .accepted }.count)")
    print("peak_rss_kib \(peakRSSKiB())")
} catch {
    print("error: \(error)")
    exit(1)
}
