import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
struct Termination: Equatable, CustomStringConvertible {
    /// The exit status, when it exited.
    var exitStatus: Int32?
    /// The signal that killed it, when it was killed.
    var signal: Int32?

    var description: String {
        if let s = exitStatus { return "exit \(s)" }
        if let s = signal { return "killed by signal \(s)" }
        return "unknown"
    }
}

/// The result of a finished run.
struct RunResult {
    var termination: Termination
    var stdout: [UInt8]
    var stderr: [UInt8]

    /// The exit status, or -1000 - signal when the process was killed (so that an equality
    /// assertion on the status fails with a readable value).
    var status: Int32 { termination.exitStatus ?? (-1000 - (termination.signal ?? 0)) }
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// A child process started with posix_spawn: stdin is a pipe the test writes to, stdout and
/// stderr go to files (so that no reader threads are needed, even for 50 children at once).
/// All descriptors the harness opens are close-on-exec, so one child never holds another's
/// stdin open; signal dispositions and the mask are reset to their defaults in the child.
final class Child {
    let pid: pid_t
    private var stdinFD: Int32
    private let outPath: String
    private let errPath: String
    private(set) var termination: Termination?

    /// Ignore SIGPIPE in the test process: a child that exits before reading all its input
    /// (a usage error, a lone '.') must make our write fail with EPIPE, not kill the tests.
    private static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN); return () }()

    init(_ executable: String, _ arguments: [String], argv0: String? = nil,
         environment: [String: String], outputDir: String) throws {
        _ = Child.ignoreSIGPIPE
        let tag = UUID().uuidString
        outPath = outputDir + "/child-\(tag).out"
        errPath = outputDir + "/child-\(tag).err"

        var pipeFDs: [Int32] = [0, 0]
        // pipe2 is not imported into Swift (_GNU_SOURCE); children are started from one thread
        // at a time here, so setting FD_CLOEXEC right after pipe() leaves no window.
        guard pipe(&pipeFDs) == 0 else { throw HarnessError("pipe: \(errnoText())") }
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let outFD = open(outPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let errFD = open(errPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard outFD >= 0, errFD >= 0 else { throw HarnessError("open output files in \(outputDir): \(errnoText())") }
        defer { close(outFD); close(errFD); close(pipeFDs[0]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outFD, 1)
        posix_spawn_file_actions_adddup2(&actions, errFD, 2)

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([argv0 ?? executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attr, argv, envp)
        guard rc == 0 else {
            close(pipeFDs[1])
            throw HarnessError("posix_spawn \(executable): \(String(cString: strerror(rc)))")
        }
        pid = child
        stdinFD = pipeFDs[1]
    }

    /// Writes to the child's stdin. Returns false when the child stopped reading (EPIPE).
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        guard stdinFD >= 0 else { return false }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(stdinFD, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            off += n
        }
        return true
    }

    @discardableResult
    func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// Closes stdin (end of the message).
    func closeInput() {
        if stdinFD >= 0 { close(stdinFD); stdinFD = -1 }
    }

    func kill(_ sig: Int32) {
        _ = Glibc.kill(pid, sig)
    }

    /// Waits for the child to end (killing it after `timeout` seconds) and collects its output.
    func wait(timeout: Double = 60) -> RunResult {
        closeInput()
        if termination == nil {
            let deadline = Date().addingTimeInterval(timeout)
            var status: Int32 = 0
            var delay: useconds_t = 500
            while true {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid { break }
                if r < 0 && errno != EINTR { break }
                if Date() > deadline {
                    Glibc.kill(pid, SIGKILL)
                    _ = waitpid(pid, &status, 0)
                    break
                }
                usleep(delay)
                delay = min(delay * 2, 20_000)
            }
            // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
            if status & 0x7f == 0 {
                termination = Termination(exitStatus: (status >> 8) & 0xff, signal: nil)
            } else {
                termination = Termination(exitStatus: nil, signal: status & 0x7f)
            }
        }
        let out = (try? readFile(outPath)) ?? []
        let err = (try? readFile(errPath)) ?? []
        unlink(outPath)
        unlink(errPath)
        return RunResult(termination: termination!, stdout: out, stderr: err)
    }

    deinit {
        closeInput()
        if termination == nil {
            Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// Reads a whole file as bytes.
func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw HarnessError("open \(path): \(errnoText())") }
    defer { close(fd) }
    var st = stat()
    fstat(fd, &st)
    var out: [UInt8] = []
    out.reserveCapacity(Int(st.st_size))
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; throw HarnessError("read \(path): \(errnoText())") }
        if n == 0 { return out }
        out.append(contentsOf: chunk[0..<n])
    }
}
