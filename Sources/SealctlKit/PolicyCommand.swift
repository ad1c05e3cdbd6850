import ArgumentParser
import Foundation
import MailPolicy
import SendmailKit

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Show what the S/MIME policy does with a message.", subcommands: [Explain.self])

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The plan for a message: its copies, who is in each, signed by which certificate, encrypted to which certificates; or the refusal and why.")
        @OptionGroup var options: ConfigOption
        @Option(help: "The From address.") var from: String
        // `--to a b` as DESIGN.md writes it (`--to B…`), and `--to a --to b`.
        @Option(parsing: .upToNextOption, help: "Recipients in To or Cc (one or more; repeatable).") var to: [String] = []
        @Option(parsing: .upToNextOption, help: "Hidden recipients, Bcc (one or more; repeatable).") var bcc: [String] = []
        @Option(help: "The envelope sender (default: the From address).") var sender: String?
        @Option(help: "The submitting local user (default: root).") var user: String = "root"
        @Option(help: "The Subject (for secure_tag: a tagged Subject makes every recipient required).") var subject: String?

        func run() throws {
            let rt = try options.runtime()
            guard !(to.isEmpty && bcc.isEmpty) else { throw ValidationError("give at least one --to or --bcc") }
            let input = PolicyInput(from: from, sender: sender ?? from,
                                    recipients: to.map { PolicyRecipient($0) } + bcc.map { PolicyRecipient($0, hidden: true) },
                                    user: user, groups: PolicyExplanation.groups(of: user), subject: subject)
            let (text, refusal) = PolicyExplanation.explain(input, runtime: rt)
            Stdout.write(text)
            // The status sealmail would exit with for this message.
            if let refusal { throw ExitWithCode(code: ExitCodes.code(for: refusal).rawValue) }
        }
    }
}
