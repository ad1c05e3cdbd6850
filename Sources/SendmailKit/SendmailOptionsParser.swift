import MailMessage

extension SendmailOptions {
    /// Letters that take an argument (glued or the next word), as in Postfix's option string
    /// `A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx`; `q` is handled apart (glued only).
    /// Arrays, not Sets: the first Set of a type costs the runtime a scan of every protocol
    /// conformance in the program (a tenth of a start-up; compat/bench/startup.sh).
    static let lettersWithArgument: [Character] = ["A", "B", "C", "F", "L", "N", "O", "R", "V", "X",
                                                   "b", "e", "f", "h", "o", "p", "r"]
    static let lettersWithoutArgument: [Character] = ["G", "I", "U", "c", "i", "m", "n", "t", "v", "x"]

    /// Parses argv (without argv[0]). `programName` is argv[0]'s last component, which selects
    /// `mailq` (= -bp) and `newaliases` (= -bi) behaviour.
    /// - Throws: `UsageError` naming the flag for anything sendmail's grammar or Postfix's
    ///   sendmail would not accept.
    public static func parse(_ args: [String], programName: String = "sendmail") throws -> SendmailOptions {
        var o = SendmailOptions()
        switch programName {
        case "mailq": o.mode = .listQueue
        case "newaliases": o.mode = .initAliases
        default: break
        }
        var i = 0
        var optionsEnded = false
        while i < args.count {
            let arg = args[i]
            i += 1
            // Bytes, not Characters: "-" and a combining mark are one Character, and such a
            // word must not pass for a recipient (Sendmail reads every word starting with '-'
            // as options).
            if optionsEnded || arg.utf8.first != UInt8(ascii: "-") || arg == "-" {
                o.recipients.append(arg)
                continue
            }
            if arg == "--" { optionsEnded = true; continue }
            if arg.hasPrefix("--") { throw UsageError("unknown option \(arg)") }
            var letters = Substring(arg.utf8.dropFirst())
            while let letter = letters.first {
                letters = letters.dropFirst()
                if letter == "q" {
                    try o.applyQueue(String(letters))
                    break
                }
                if lettersWithArgument.contains(letter) {
                    let value: String
                    if !letters.isEmpty {
                        value = String(letters)
                    } else if i < args.count {
                        value = args[i]
                        i += 1
                    } else {
                        throw UsageError("option -\(letter) requires an argument")
                    }
                    try o.apply(letter, value)
                    break
                }
                guard lettersWithoutArgument.contains(letter) else {
                    throw UsageError("unknown option -\(letter)" + (arg.count > 2 ? " (in \(arg))" : ""))
                }
                o.apply(letter)
            }
        }
        return o
    }

    mutating func apply(_ letter: Character) {
        switch letter {
        case "t": extractRecipients = true
        case "i": ignoreDots = true
        case "v": verbose += 1
        case "n": noAliases = true
        case "I": mode = .initAliases
        case "G": notes.append("-G (gateway submission) accepted and ignored")
        case "U": notes.append("-U (initial user submission) accepted and ignored")
        case "c", "m", "x": notes.append("-\(letter) accepted and ignored")
        default: break
        }
    }

    mutating func apply(_ letter: Character, _ value: String) throws {
        switch letter {
        case "f", "r":
            try Self.rejectLineBreaks(value, flag: "-\(letter)")
            sender = value
        case "F":
            try Self.rejectLineBreaks(value, flag: "-F")
            fullName = value
        case "C":
            try Self.rejectLineBreaks(value, flag: "-C")
            configPath = value
        case "B":
            switch value.uppercased() {
            case "7BIT", "8BITMIME": bodyType = value.uppercased()
            default: throw UsageError("-B \(value): the body type must be 7BIT or 8BITMIME")
            }
        case "N":
            notify = try Self.parseNotify(value)
        case "R":
            switch value.lowercased() {
            case "full": ret = "FULL"
            case "hdrs", "headers": ret = "HDRS"
            default: throw UsageError("-R \(value): the return type must be full or hdrs")
            }
        case "V":
            guard !value.isEmpty, value.utf8.count <= 100,
                  value.utf8.allSatisfy({ $0 >= 33 && $0 <= 126 }) else {
                throw UsageError("-V: the envelope id must be 1 to 100 printable ASCII characters")
            }
            envid = value
        case "X":
            ignoredLogFile = value
            notes.append("-X \(value) ignored: sealmail never writes a traffic log named by its caller")
        case "b":
            try applyMode(value)
        case "o":
            try applyOption(value)
        case "O":
            notes.append("-O \(value) accepted and ignored")
        case "A":
            notes.append("-A\(value) accepted and ignored")
        case "L":
            notes.append("-L \(value) accepted and ignored (the syslog ident comes from the config)")
        case "h":
            notes.append("-h \(value) (hop count) accepted and ignored")
        case "p":
            notes.append("-p \(value) accepted and ignored")
        case "e":
            notes.append("-e\(value) accepted and ignored")
        default:
            throw UsageError("unknown option -\(letter)")
        }
    }

    mutating func applyMode(_ value: String) throws {
        switch value {
        case "m": mode = .deliver
        case "p": mode = .listQueue
        case "s": mode = .smtpOnStdio
        case "v": mode = .verify
        case "i": mode = .initAliases
        case "d", "D", "l":
            throw UsageError("-b\(value) is not supported: sealmail runs no daemon (queue runs come from its timer: sealmail -q)")
        default:
            throw UsageError("-b\(value) is not supported")
        }
    }

    /// `-oX…`: `-oi`, `-od{b,i,q,d}`, `-oe{m,p,q,w,e}`; other sendmail options are ignored.
    mutating func applyOption(_ value: String) throws {
        guard let first = value.first else { throw UsageError("option -o requires an argument") }
        let rest = value.dropFirst()
        switch first {
        case "i":
            if rest.isEmpty || rest == "true" || rest == "True" { ignoreDots = true }
            else if rest == "false" || rest == "False" { ignoreDots = false }
            else { notes.append("-o\(value) accepted and ignored") }
        case "d":
            switch rest {
            case "b": deliveryMode = .background
            case "i": deliveryMode = .interactive
            case "q", "d": deliveryMode = .queue
            default: throw UsageError("-od\(rest): the delivery mode must be b, i or q")
            }
        case "e":
            guard rest.count == 1, let m = rest.first, "mpqwe".contains(m) else {
                throw UsageError("-oe\(rest): the error mode must be m, p, q, w or e")
            }
            errorMode = m
            // Postfix's sendmail ignores the error mode too: errors go to standard error and
            // into the exit status, and a bounce for what fails later.
            notes.append("-oe\(m) accepted and ignored: errors are reported on standard error and by the exit status")
        default:
            notes.append("-o\(value) accepted and ignored")
        }
    }

    /// `-q`, `-q30m`, `-qIid`, `-qRsite`, `-qSsender`, `-qf`, `-qp30m`.
    mutating func applyQueue(_ value: String) throws {
        var run = QueueRun()
        if value.isEmpty || value == "f" {
            // one run in the foreground
        } else if let first = value.first, first.isNumber || first == "p" {
            let spec = first == "p" ? String(value.dropFirst()) : value
            guard let seconds = Self.parseQueueInterval(spec.isEmpty ? "30m" : spec) else {
                throw UsageError("-q\(value): not a queue interval (examples: -q30m, -q1h)")
            }
            run.interval = seconds
        } else {
            let kind = value.first!
            let filter = String(value.dropFirst())
            guard "IRS".contains(kind) else {
                if kind == "!" { throw UsageError("-q\(value): negated queue filters are not supported") }
                throw UsageError("-q\(value) is not supported (use -q, -qINTERVAL, -qI, -qR or -qS)")
            }
            guard !filter.isEmpty else { throw UsageError("-q\(kind) needs a value, as in -q\(kind)example") }
            switch kind {
            case "I": run.idFilter = filter
            case "R": run.recipientFilter = filter
            case "S": run.senderFilter = filter
            default: throw UsageError("-q\(value) is not supported (use -q, -qINTERVAL, -qI, -qR or -qS)")
            }
        }
        mode = .runQueue(run)
    }

    /// sendmail's queue interval: digits with an optional unit (s, m, h, d, w); minutes by default.
    static func parseQueueInterval(_ spec: String) -> Int? {
        var total = 0
        var number = 0
        var haveDigits = false
        for c in spec {
            if let d = c.wholeNumberValue, c.isASCII {
                number = number * 10 + d
                if number > 10_000_000 { return nil }
                haveDigits = true
                continue
            }
            guard haveDigits else { return nil }
            switch c {
            case "s": total += number
            case "m": total += number * 60
            case "h": total += number * 3600
            case "d": total += number * 86400
            case "w": total += number * 604800
            default: return nil
            }
            number = 0
            haveDigits = false
        }
        if haveDigits { total += number * 60 }
        return total > 0 ? total : nil
    }

    static func parseNotify(_ value: String) throws -> Notify {
        let words = value.lowercased().split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingBlanks() }
        if words == ["never"] { return .never }
        var s = false, d = false, f = false
        for w in words {
            switch w {
            case "success": s = true
            case "delay": d = true
            case "failure": f = true
            case "never": throw UsageError("-N \(value): never cannot be combined with other values")
            default: throw UsageError("-N \(value): \"\(w)\" is not one of never, success, delay, failure")
            }
        }
        return .on(success: s, delay: d, failure: f)
    }

    static func rejectLineBreaks(_ value: String, flag: String) throws {
        if value.utf8.contains(where: { $0 == 10 || $0 == 13 || $0 == 0 }) {
            throw UsageError("\(flag): the value must not contain a line break or NUL")
        }
    }
}
