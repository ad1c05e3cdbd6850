#if canImport(Glibc)
import Glibc
#endif
import SealctlKit

exit(Sealctl.run(Array(CommandLine.arguments.dropFirst())))
