/// sendmail's command line as a value: a pure parse of argv with sendmail's own syntax (not
/// ArgumentParser's): glued or separate arguments (`-fuser`, `-f user`), clustered flags
/// (`-ti`), `-o` and `-O` options (`-oi`, `-odq`, `-o i`), `-q` with an optional glued
/// argument (`-q`, `-q30m`, `-qIid`), and `--` to end the options. Options and recipients may
/// be mixed, as with glibc's getopt, which Postfix and Sendmail use on Linux.
///
/// The flag table follows Postfix's sendmail(1) (../shared/reference/peers.md section 1);
/// every flag is accepted with Postfix's meaning or accepted and ignored with a note under -v;
/// anything else is a usage error (exit 64) naming the flag.
public struct SendmailOptions: Equatable, Sendable {
    /// What the invocation asks for.
    public enum Mode: Equatable, Sendable {
        /// Deliver a message read from stdin (`-bm`, the default).
        case deliver
        /// List the queue (`-bp`, `mailq`).
        case listQueue
        /// Check the aliases file (`-bi`, `-I`, `newaliases`).
        case initAliases
        /// SMTP on stdin and stdout (`-bs`).
        case smtpOnStdio
        /// Verify recipients without sending (`-bv`).
        case verify
        /// Run the queue (`-q`, `-qINTERVAL`, `-qI…`, `-qR…`, `-qS…`).
        case runQueue(QueueRun)
    }

    /// A `-q` request.
    public struct QueueRun: Equatable, Sendable {
        /// Seconds between runs for `-q30m`; nil for a single run.
        public var interval: Int?
        /// `-qI` queue id substring, `-qR` recipient substring, `-qS` sender substring.
        public var idFilter: String?
        public var recipientFilter: String?
        public var senderFilter: String?
        public init(interval: Int? = nil, idFilter: String? = nil, recipientFilter: String? = nil, senderFilter: String? = nil) {
            self.interval = interval; self.idFilter = idFilter
            self.recipientFilter = recipientFilter; self.senderFilter = senderFilter
        }
    }

    /// RFC 3461 NOTIFY (`-N`).
    public enum Notify: Equatable, Sendable {
        case never
        case on(success: Bool, delay: Bool, failure: Bool)
    }

    public var mode: Mode = .deliver
    /// `-t`: take recipients from the header (added to argv recipients, as Postfix does).
    public var extractRecipients = false
    /// `-i` / `-oi`: a lone `.` does not end the input.
    public var ignoreDots = false
    /// `-f` / `-r`: the envelope sender as given (validated later); "" for a null sender.
    public var sender: String?
    /// `-F`: the full name for a From: header we add.
    public var fullName: String?
    /// `-od…`: delivery mode; nil means the config's `delivery`.
    public var deliveryMode: DeliveryModeFlag?
    /// `-N`, `-R`, `-V`: DSN parameters (RFC 3461).
    public var notify: Notify?
    public var ret: String?
    public var envid: String?
    /// `-B`: 7BIT or 8BITMIME.
    public var bodyType: String?
    /// `-C FILE`: the config file.
    public var configPath: String?
    /// `-v` count.
    public var verbose = 0
    /// `-n`: no alias expansion.
    public var noAliases = false
    /// `-oe?`: error mode letter (m, p, q, w, e): accepted, reported through the exit status.
    public var errorMode: Character?
    /// Recipients from argv, each possibly a comma-separated list.
    public var recipients: [String] = []
    /// Notes for -v about flags accepted and ignored (e.g. "-X /tmp/x ignored: ...").
    public var notes: [String] = []
    /// `-X FILE` given (never written): logged as a warning, since PHP applications are attacked through it.
    public var ignoredLogFile: String?

    /// `-odb`, `-odi`, `-odq` (and `-odd`, deferred, which is queue-only).
    public enum DeliveryModeFlag: String, Equatable, Sendable {
        case background = "b", interactive = "i", queue = "q"
    }

    public init() {}
}

/// A usage error: exit 64 with this message.
public struct UsageError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
