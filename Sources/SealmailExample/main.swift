// The program of Sealmail's getting-started article (and of issue 12's contract), as written.
// Run it in a folder holding logo.png, report.pdf and alice.crt/.key, bob.crt, carol.crt,
// audit.crt, with an SMTP server on 127.0.0.1:2525 (Tests/SealmailTests/ExampleProgramTests
// does exactly that, with aiosmtpd).
import Sealmail

var mail = Mail(from: "Alice Example <alice@example.com>", subject: "Quarterly report – Grüße")
mail.to = ["Bob <bob@partner.example>"]
mail.cc = ["carol@partner.example"]
mail.bcc = ["audit@example.com"]
mail.replyTo = ["help@example.com"]
mail.text = "Hello Bob,\nthe report is attached.\n"
let logo = try mail.embed(file: "logo.png")              // inline part; returns its Content-ID
mail.html = "<p>Hello Bob,</p><img src=\"cid:\(logo)\">"  // text + html: multipart/alternative
try mail.attach(file: "report.pdf")                      // read in pieces when sent, never whole
mail.attach(Array("a,b\n1,2\n".utf8), filename: "data.csv", contentType: "text/csv")
mail.importance = .high                                  // Importance: high
mail.priority = .urgent                                  // Priority: urgent, X-Priority: 1
mail.sensitivity = .companyConfidential                  // Sensitivity: Company-Confidential
mail.readReceiptTo = "alice@example.com"                 // Disposition-Notification-To (RFC 8098)
mail.deliveryNotification = [.success, .failure]         // DSN NOTIFY on every RCPT (RFC 3461)
mail.returnPath = "bounces@example.com"                  // MAIL FROM; default: the From address
try mail.addHeader("X-Ticket", "42")                     // CR, LF or NUL: throws

mail.signer = try SigningIdentity.loadPEM(certificate: "alice.crt", key: "alice.key")
mail.encryptionCertificates = try Certificate.load(contentsOf: "bob.crt")
    + Certificate.load(contentsOf: "carol.crt") + Certificate.load(contentsOf: "audit.crt")

let relay = SMTPRelay(host: "127.0.0.1", port: 2525, tls: .none, heloName: "client.example.com")
let mailer = Mailer(relay: relay, maxConnections: 4) { event in
    if case .trace(let direction, let line) = event { print(direction, line) }
}
let report = try await mailer.send(mail)
for r in report.recipients { print(r.address, r.status, r.reply) }   // status: .accepted/.deferred/.refused

let spool = try MailSpool(directory: "/tmp/example-queue")
let id = try spool.enqueue(mail)
let run = try await mailer.processQueue(spool)
print(id, run.delivered, run.deferred, run.bounced)
