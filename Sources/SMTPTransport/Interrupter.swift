import Glibc

/// A self-pipe that wakes any poll(2) of the client from another thread (`SMTPClient.interrupt()`).
final class Interrupter: @unchecked Sendable {
    let readFD: Int32
    private let writeFD: Int32

    /// Without a pipe (pipe2 failed: no descriptors left) interrupts do nothing; poll(2)
    /// ignores the negative descriptor.
    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 {
            fds = [-1, -1]
        } else {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        if readFD >= 0 { close(readFD) }
        if writeFD >= 0 { close(writeFD) }
    }

    /// Thread-safe: makes the current (or next) wait fail with `.interrupted`.
    func trigger() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    /// Forgets interrupts that arrived while nothing was waiting.
    func drain() {
        guard readFD >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readFD, &buffer, buffer.count) > 0 {}
    }
}
