#if canImport(Glibc)
import Glibc
#endif
import SendmailKit

exit(SendmailCommand.main(CommandLine.arguments))
