// Sealmail: compose, protect (S/MIME), send and queue mail from Swift code.
//
// The library face of sealmail: `Mail` composes a message (addresses, text and HTML,
// attachments and inline images, importance, priority, sensitivity, read receipts, DSN,
// extra headers, a signer and encryption certificates); `Mailer` sends it through a relay
// over pooled SMTP connections without blocking Swift's cooperative threads, reporting the
// seed component's events to one observer; `MailSpool` queues it in sealmail's own queue
// format, which `sealmail -q` delivers as well as `Mailer.processQueue`.
//
// RFCs: 5322 (message format), 2045-2047 and 2231 (MIME, encoded words, parameter values),
// 2183 (Content-Disposition), 2387 (multipart/related), 2392 (cid: URLs), 2156 (Importance,
// Priority, Sensitivity), 8098 (Disposition-Notification-To), 3461 (DSN), 5321 (SMTP),
// 8551 (S/MIME 4.0), 5652 (CMS).
@_exported import MailMessage
@_exported import SMIME
@_exported import SMTPProtocol
@_exported import SMTPTransport
