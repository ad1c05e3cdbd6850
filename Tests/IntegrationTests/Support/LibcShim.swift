import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A small LD_PRELOAD library (compiled by the test with cc) that makes one libc call pause
/// for a few seconds (dropping a mark file when it starts), fail, or be traced. Tests then
/// send a signal while sealmail sits in that call, or watch a failure at an exact step:
/// races that a random kill hits a few times in a hundred become deterministic.
///
/// Environment of the child: SEALMAIL_SHIM_PAUSE (dirfsync, filefsync, flock, link,
/// faillink), SEALMAIL_SHIM_MARK (the mark file), SEALMAIL_SHIM_TRACE (a file listing the
/// durability-relevant calls in order), SEALMAIL_SHIM_LINK_N (which link call).
enum LibcShim {
    static let source = #"""
    #define _GNU_SOURCE
    #include <dlfcn.h>
    #include <errno.h>
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

    /* SEALMAIL_SHIM_PAUSE=dirfsync|filefsync|flock|link|faillink selects the call that pauses (or fails). */
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

    /* SEALMAIL_SHIM_LINK_N=n: the n-th link (1-based) is the one that "link" pauses in and
       that "faillink" makes fail with ENOSPC (SEALMAIL_SHIM_PAUSE=link|faillink). */
    static int links_seen;
    static int link_hook(void) {
        trace("link");
        links_seen++;
        const char *n = getenv("SEALMAIL_SHIM_LINK_N");
        if (n && atoi(n) != links_seen) return 0;
        if (pausing("link")) { mark("link"); sleep(5); }
        if (pausing("faillink")) { mark("faillink"); errno = ENOSPC; return -1; }
        return 0;
    }

    int link(const char *a, const char *b) {
        static int (*real)(const char *, const char *);
        if (!real) real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "link");
        if (link_hook() != 0) return -1;
        return real(a, b);
    }

    int linkat(int d1, const char *a, int d2, const char *b, int flags) {
        static int (*real)(int, const char *, int, const char *, int);
        if (!real) real = (int (*)(int, const char *, int, const char *, int))dlsym(RTLD_NEXT, "linkat");
        if (link_hook() != 0) return -1;
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


    /// Compiles the shim into `dir` and returns its path; skips the test without a compiler.
    static func build(in dir: String) throws -> String {
        let compilers: [String] = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"]
        guard let cc = compilers.first(where: { access($0, X_OK) == 0 }) else {
            throw XCTSkip("no C compiler to build the LD_PRELOAD shim")
        }
        let sourcePath = dir + "/shim.c", shim = dir + "/shim.so"
        guard FileManager.default.createFile(atPath: sourcePath, contents: Data(source.utf8)) else {
            throw HarnessError("cannot write \(sourcePath)")
        }
        let r = try Child(cc, ["-shared", "-fPIC", "-O1", "-o", shim, sourcePath, "-ldl"],
                          environment: ProcessInfo.processInfo.environment, outputDir: dir).wait()
        guard r.status == 0 else {
            XCTFail("cannot build the LD_PRELOAD shim with \(cc): \(r.stderrText)")
            throw HarnessError("shim build failed")
        }
        return shim
    }
}
