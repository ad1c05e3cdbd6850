import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import MailPolicy
import SendmailKit

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the config file.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report every problem in the config, with line numbers.")
        @OptionGroup var options: ConfigOption

        func run() throws {
            let rt = try options.runtime()
            Stdout.write("\(rt.configPath): OK (\(rt.config.relays.count) relay(s), queue \(rt.config.queueDir), hostname \(rt.hostname), domain \(rt.domain))\n")
        }
    }
}
