import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import MailPolicy
import MailQueue
import SendmailKit

/// `sealctl`: the administrator's tool (DESIGN.md "Command line").
public struct Sealctl: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sealctl",
        abstract: "Look into and manage sealmail's queue, config and S/MIME policy.",
        subcommands: [QueueCommand.self, ConfigCommand.self, PolicyCommand.self, CertCommand.self, SmimeCommand.self])

    public init() {}

    /// Runs sealctl and returns its exit status (sysexits for our own errors).
    public static func run(_ arguments: [String]) -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return 0
        } catch let e as ExitWithCode {
            return e.code
        } catch {
            let code = exitCode(for: error)
            let usage = SendmailKit.ExitCode.usage.rawValue
            if code.rawValue == 0 || code.rawValue == usage || code.rawValue == 1 {
                // ArgumentParser's own help and usage errors (its 1 is a usage error too).
                let message = fullMessage(for: error)
                if !message.isEmpty { (code.rawValue == 0 ? Stdout.write : Stderr.write)(message + "\n") }
                return code.rawValue == 1 ? usage : code.rawValue
            }
            return code.rawValue
        }
    }
}

/// An exit status chosen by a subcommand after it printed its own messages.
struct ExitWithCode: Error { var code: Int32 }

/// `-C FILE`, shared by every subcommand (and `SEALMAIL_CONFIG`, as for sealmail).
struct ConfigOption: ParsableArguments {
    @Option(name: .customShort("C"), help: "The config file (default: $SEALMAIL_CONFIG or /etc/sealmail/sealmail.toml).")
    var config: String?

    /// The runtime of the config; `checkingFiles: false` leaves the files it names to the
    /// caller (`config check` lists their problems instead of stopping at them).
    func runtime(checkingFiles: Bool = true) throws -> Runtime {
        do {
            return try Runtime.load(configOption: config, verbose: false, checkingFiles: checkingFiles)
        } catch {
            for line in "\(error)".split(separator: "\n") { Stderr.write("sealctl: \(line)\n") }
            throw ExitWithCode(code: ExitCodes.code(for: error).rawValue)
        }
    }
}

/// Prints an error and exits with the code of our error table.
func fail(_ error: Error) -> ExitWithCode {
    Stderr.write("sealctl: \(error)\n")
    return ExitWithCode(code: ExitCodes.code(for: error).rawValue)
}
