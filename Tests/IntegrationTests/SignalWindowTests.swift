import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM at the exact instants around the queue writer's critical steps. A small LD_PRELOAD
/// library (compiled here with cc) makes one libc call pause for a few seconds and drop a mark
/// file when it starts pausing; the test then sends SIGTERM while sealmail sits in that call.
/// This makes races that a random kill hits a few times in a hundred deterministic.
///
/// The contract (DESIGN.md "Queue"; issue 2): a submission killed at any point leaves no entry,
/// and the exit status tells the truth: 0 only if the message is queued, and a failure status
/// only if it is not (a caller that sees 75 submits again, so a queued message reported as a
/// failure is delivered twice).
final class SignalWindowTests: SealmailTestCase {
    static let shimSource = #"""
    #define _GNU_SOURCE
    #include <dlfcn.h>
    #include <fcntl.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/stat.h>
    #include <unistd.h>

    static void mark(const char *what) {
        const char *m = getenv("SEALMAIL_SHIM_MARK");
        if (!m) return;
        int fd = open(m, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) { (void)!write(fd, what, strlen(what)); close(fd); }
    }

    /* SEALMAIL_SHIM_PAUSE=dirfsync|filefsync|flock selects the call that pauses. */
    static int pausing(const char *what) {
        const char *p = getenv("SEALMAIL_SHIM_PAUSE");
        return p && strcmp(p, what) == 0;
    }

    /* SEALMAIL_SHIM_TRACE=path: append the name of each durability-relevant call. */
    static void trace(const char *what) {
        const char *t = getenv("SEALMAIL_SHIM_TRACE");
        if (!t) return;
        int fd = open(t, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) { (void)!write(fd, what, strlen(what)); (void)!write(fd, "\n", 1); close(fd); }
    }

    static const char *kind_of(int fd) {
        struct stat st;
        if (fstat(fd, &st) != 0) return "badfd";
        return S_ISDIR(st.st_mode) ? "dirfsync" : "filefsync";
    }

    int fsync(int fd) {
        static int (*real)(int);
        if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
        struct stat st;
        if (fstat(fd, &st) == 0) {
            const char *kind = S_ISDIR(st.st_mode) ? "dirfsync" : "filefsync";
            trace(kind);
            if (pausing(kind)) { mark(kind); sleep(5); }
        }
        return real(fd);
    }

    int fdatasync(int fd) {
        static int (*real)(int);
        if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
        trace(kind_of(fd));
        return real(fd);
    }

    int link(const char *a, const char *b) {
        static int (*real)(const char *, const char *);
        if (!real) real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "link");
        trace("link");
        return real(a, b);
    }

    int linkat(int d1, const char *a, int d2, const char *b, int flags) {
        static int (*real)(int, const char *, int, const char *, int);
        if (!real) real = (int (*)(int, const char *, int, const char *, int))dlsym(RTLD_NEXT, "linkat");
        trace("link");
        return real(d1, a, d2, b, flags);
    }

    int rename(const char *a, const char *b) {
        static int (*real)(const char *, const char *);
        if (!real) real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
        trace("rename");
        return real(a, b);
    }

    int renameat2(int d1, const char *a, int d2, const char *b, unsigned int flags) {
        static int (*real)(int, const char *, int, const char *, unsigned int);
        if (!real) real = (int (*)(int, const char *, int, const char *, unsigned int))dlsym(RTLD_NEXT, "renameat2");
        trace("rename");
        return real(d1, a, d2, b, flags);
    }

    int flock(int fd, int op) {
        static int (*real)(int, int);
        if (!real) real = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
        if (pausing("flock")) { mark("flock"); sleep(5); }
        return real(fd, op);
    }
    """#

    var shim = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        let compilers: [String] = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"]
        let cc = compilers.first { access($0, X_OK) == 0 }
        guard let cc else { throw XCTSkip("no C compiler to build the LD_PRELOAD shim") }
        let source = dir + "/shim.c"
        shim = dir + "/shim.so"
        try writeText(source, Self.shimSource)
        let r = try Child(cc, ["-shared", "-fPIC", "-O1", "-o", shim, source, "-ldl"],
                          environment: childEnvironment(), outputDir: dir).wait()
        guard r.status == 0 else {
            XCTFail("cannot build the LD_PRELOAD shim with \(cc): \(r.stderrText)")
            throw HarnessError("shim build failed")
        }
    }

    /// Submits a small message with the shim pausing in `call`, sends `sig` once the pause
    /// has begun, and returns the result.
    func submitAndSignal(pausing call: String, _ sig: Int32 = SIGTERM,
                         file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
        let mark = dir + "/mark"
        let child = try startSealmail(["-odq", "-t"], environment: [
            "LD_PRELOAD": shim, "SEALMAIL_SHIM_PAUSE": call, "SEALMAIL_SHIM_MARK": mark,
        ])
        child.write("To: a@x.example\nSubject: signal window\n\nbody\n")
        child.closeInput()
        let deadline = Date().addingTimeInterval(20)
        while access(mark, F_OK) != 0 && Date() < deadline { usleep(2_000) }
        XCTAssertEqual(access(mark, F_OK), 0, "sealmail never reached \(call)", file: file, line: line)
        usleep(50_000)
        child.kill(sig)
        return child.wait()
    }

    /// The commit order of DESIGN.md "Queue": the file is fsync'd, then linked or renamed into
    /// messages/, then messages/ is fsync'd, all before exit 0.
    func testCommitOrderIsFsyncRenameFsyncFolder() throws {
        let tracePath = dir + "/trace"
        let child = try startSealmail(["-odq", "-t"], environment: ["LD_PRELOAD": shim, "SEALMAIL_SHIM_TRACE": tracePath])
        child.write("To: a@x.example\nSubject: order\n\nbody\n")
        let r = child.wait()
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(queuedIDs.count, 1)
        let calls = String(decoding: (try? readFile(tracePath)) ?? [], as: UTF8.self).split(separator: "\n").map(String.init)
        guard let commit = calls.firstIndex(where: { $0 == "link" || $0 == "rename" }) else {
            return XCTFail("no link or rename into messages/: \(calls)")
        }
        XCTAssertTrue(calls[..<commit].contains("filefsync"), "the file must be fsync'd before it is committed: \(calls)")
        XCTAssertTrue(calls[commit...].contains("dirfsync"), "messages/ must be fsync'd after the commit: \(calls)")
    }

    /// Control: killed while fsync'ing the file in tmp/ (before the commit): exit 75, nothing left.
    func testSIGTERMBeforeTheCommitExits75AndLeavesNothing() throws {
        let r = try submitAndSignal(pausing: "filefsync")
        XCTAssertEqual(r.termination, Termination(exitStatus: 75, signal: nil), r.stderrText)
        assertNothingQueued("after SIGTERM during the file's fsync")
    }

    /// Killed while fsync'ing messages/ after the rename (the message is committed): the
    /// status must not say "not queued" for a message that is in the queue.
    func testSIGTERMAfterTheCommitDoesNotReportFailureForAQueuedMessage() throws {
        let r = try submitAndSignal(pausing: "dirfsync")
        let queued = queuedIDs.count == 1
        if queued {
            XCTAssertNotEqual(r.termination, Termination(exitStatus: 75, signal: nil),
                              "the message is in messages/ (\(queuedIDs)) but sealmail exited 75 (temporary failure, "
                              + "the caller will submit it again): \(r.stderrText)")
        } else {
            XCTAssertNotEqual(r.termination.exitStatus, 0, "exit 0 but nothing queued")
        }
        XCTAssertEqual(files(in: tmpDir), [])
    }

    /// Killed right after the file in tmp/ was created (QueueWriter's flock, before the signal
    /// handlers are armed): exit 75 as for any kill during the write, and no tmp/ leftover.
    func testSIGTERMJustAfterTheTmpFileIsCreatedLeavesNothing() throws {
        let r = try submitAndSignal(pausing: "flock")
        XCTAssertEqual(r.termination, Termination(exitStatus: 75, signal: nil), r.stderrText)
        assertNothingQueued("after SIGTERM between creating tmp/ID and arming the signal handlers")
    }
}
