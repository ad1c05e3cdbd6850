#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CFuzzerDriver

/// Runs libFuzzer on `test` with this process's arguments (`-runs=`, corpus folders, ...) and
/// exits with its status. A harness's `@main` calls it: SwiftPM links its own `main` into an
/// executable (an alias of the module's entry point), which keeps libFuzzer's `main` out, so
/// the entry point must start the driver itself.
public func runLibFuzzer(_ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, test))
}
