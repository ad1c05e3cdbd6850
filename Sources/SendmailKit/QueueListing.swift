#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailQueue

/// One queued message as mailq shows it.
public struct QueueEntry: Sendable {
    public var envelope: QueuedEnvelope
    public var state: DeliveryState
    public var locked: Bool
    /// Why the last queue run did not try this message or record its attempt (it stopped
    /// early: a full disk), when that is more recent than the message's own recorded attempt.
    public var notTried: String?

    /// Recipients still to deliver, with the reason of their last deferral (or why they
    /// were not tried).
    public var pendingRecipients: [(address: String, reason: String?)] {
        state.pending(of: envelope).map { i in
            (envelope.recipients[i].address, notTried ?? state.recipients[i]?.reason)
        }
    }

    /// Postfix's queue names: active while a runner holds it, deferred after a failed attempt.
    public var queueName: String {
        if locked { return "active" }
        return state.attempts > 0 ? "deferred" : "incoming"
    }
}

/// Reads the queue for mailq and `sealctl queue list`, and formats it as Postfix does
/// (showq's layout for `mailq`, `postqueue -j`'s fields for JSON).
public enum QueueListing {
    /// Every readable entry, oldest first; entries the caller may not see are left out.
    /// - Parameter visibleTo: when set, only messages submitted by this uid are listed.
    public static func entries(_ spool: Spool, visibleTo uid: UInt32?) throws -> (entries: [QueueEntry], problems: [String]) {
        var out: [QueueEntry] = []
        var problems: [String] = []
        let stop = spool.lastRunStop()
        for id in try spool.list() {
            do {
                let (env, _) = try spool.envelope(id)
                if let uid, env.uid != uid { continue }
                var state = DeliveryState()
                do { state = try spool.state(id) } catch { problems.append("\(id): \(error)") }
                if state.isFinished(of: env) { continue }  // (a message waiting for its bounce is listed)
                var entry = QueueEntry(envelope: env, state: state, locked: spool.isLocked(id))
                if let stop, env.arrivalMicros < stop.micros, (state.lastAttemptMicros ?? 0) < stop.micros {
                    entry.notTried = "the last queue run stopped: " + stop.reason
                }
                out.append(entry)
            } catch let e as QueueError where e.code == .notFound {
                continue  // delivered while we looked
            } catch let e as QueueError where e.code == .permission && uid != nil {
                continue  // not readable by this caller: not theirs, and its id is not theirs to learn
            } catch {
                problems.append("\(id): \(error)")
            }
        }
        return (out, problems)
    }

    /// `mailq` output, in the layout of Postfix's showq.
    public static func mailq(_ entries: [QueueEntry], utcOffset: Int) -> String {
        if entries.isEmpty { return "Mail queue is empty\n" }
        var out = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
        var totalBytes: Int64 = 0
        for e in entries {
            let env = e.envelope
            totalBytes += env.size
            let idStatus = env.id + (e.locked ? "*" : " ")
            let stamp = MessageDate.mailqStamp(epochSeconds: env.arrivalSeconds, utcOffset: utcOffset)
            out += pad(idStatus, 11) + " " + leftPad(String(env.size), 7) + " " + pad(stamp, 20) + " "
                + (env.sender.isEmpty ? "MAILER-DAEMON" : env.sender) + "\n"
            var lastReason: String?
            for (address, reason) in e.pendingRecipients {
                if let reason, reason != lastReason {
                    // showq_compat.c: printf("%*s(%s)\n", 76 - strlen(reason), "", reason)
                    let r = oneLine(reason)
                    out += String(repeating: " ", count: max(0, 76 - r.utf8.count)) + "(\(r))\n"
                    lastReason = reason
                }
                out += String(repeating: " ", count: 41) + address + "\n"
            }
            out += "\n"
        }
        let kbytes = totalBytes / 1024  // rounded down, as Postfix's showq
        out += "-- \(kbytes) Kbytes in \(entries.count) Request\(entries.count == 1 ? "" : "s").\n"
        return out
    }

    /// One JSON object per line with `postqueue -j`'s fields.
    public static func json(_ entries: [QueueEntry]) -> String {
        var out = ""
        for e in entries {
            let env = e.envelope
            var line = "{\"queue_name\": \(JSON.string(e.queueName)), \"queue_id\": \(JSON.string(env.id)), "
            line += "\"arrival_time\": \(env.arrivalSeconds), \"message_size\": \(env.size), "
            line += "\"forced_expire\": false, \"sender\": \(JSON.string(env.sender)), \"recipients\": ["
            line += e.pendingRecipients.map { r in
                var o = "{\"address\": \(JSON.string(r.address))"
                if let reason = r.reason { o += ", \"delay_reason\": \(JSON.string(reason))" }
                return o + "}"
            }.joined(separator: ", ")
            line += "]}\n"
            out += line
        }
        return out
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
    static func leftPad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
    static func oneLine(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 32 ? " " : $0 }))
    }
}

/// Minimal JSON string encoding (RFC 8259 7).
public enum JSON {
    public static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7f {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
