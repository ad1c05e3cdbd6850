import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One connection of the scripted server: reads command lines, answers from the script.
struct ScriptedSession {
    let fd: Int32
    let index: Int
    let server: ScriptedSMTPServer
    private var buffer: [UInt8] = []
    private var open = true

    init(fd: Int32, index: Int, server: ScriptedSMTPServer) {
        self.fd = fd
        self.index = index
        self.server = server
    }

    mutating func run() {
        perform(server.nextStep("GREETING") ?? .reply("220 scripted.test ESMTP ready"))
        var inAuth = false
        while open, let line = readLine() {
            let text = String(decoding: line, as: UTF8.self)
            let verb = inAuth ? "AUTHDATA" : (text.split(separator: " ").first.map { $0.uppercased() } ?? "")
            let lastChunk = verb == "BDAT" ? readChunk(text) : false
            let step = server.nextStep(verb) ?? defaultStep(verb, text, lastChunk: lastChunk)
            let sentCode = perform(step)
            inAuth = sentCode == "334"
            if !open { return }
            switch verb {
            case "DATA" where sentCode == "354":
                guard let data = readData() else { return }
                server.recordMessage(data)
                perform(server.nextStep(".") ?? .reply("250 2.0.0 Ok: queued as SCRIPTED"))
            case "QUIT" where sentCode == "221":
                return
            default:
                break
            }
        }
    }

    /// Reads a BDAT chunk (RFC 3030 2) whatever the script answers; true for the LAST one.
    private mutating func readChunk(_ line: String) -> Bool {
        let parts = line.split(separator: " ")
        let size = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let last = parts.count > 2 && parts[2].uppercased() == "LAST"
        bdatMessage.append(contentsOf: readExactly(size))
        if last {
            server.recordMessage(bdatMessage)
            bdatMessage = []
        }
        return last
    }

    private mutating func defaultStep(_ verb: String, _ line: String, lastChunk: Bool) -> ScriptStep {
        switch verb {
        case "EHLO": return .reply(server.ehloReply)
        case "HELO": return .reply("250 scripted.test")
        case "MAIL", "RCPT", "RSET", "NOOP": return .reply("250 2.0.0 Ok")
        case "DATA": return .reply("354 End data with <CR><LF>.<CR><LF>")
        case "BDAT":
            return .reply(lastChunk ? "250 2.0.0 Ok: queued as SCRIPTED" : "250 2.0.0 chunk received")
        case "QUIT": return .reply("221 2.0.0 Bye")
        case "VRFY": return .reply("252 2.0.0 Cannot VRFY user")
        case "EXPN": return .reply("250-first@scripted.test\n250 second@scripted.test")
        case "AUTH": return .reply("235 2.7.0 Authentication successful")
        case "AUTHDATA": return .reply("235 2.7.0 Authentication successful")
        case "STARTTLS": return .reply("454 4.7.0 TLS not available")
        default: return .reply("502 5.5.2 Error: command not recognized")
        }
    }

    private var bdatMessage: [UInt8] = []

    /// Performs a step; returns the reply code it sent ("" when none).
    @discardableResult
    private mutating func perform(_ step: ScriptStep) -> String {
        switch step {
        case .reply(let text):
            send(Self.lines(text))
            return String(text.prefix(3))
        case .raw(let bytes):
            send(bytes)
            return String(decoding: bytes.prefix(3), as: UTF8.self)
        case .drop:
            open = false
            return ""
        case .replyThenDrop(let text):
            send(Self.lines(text))
            open = false
            return String(text.prefix(3))
        case .slow(let text, let seconds):
            usleep(useconds_t(seconds * 1_000_000))
            send(Self.lines(text))
            return String(text.prefix(3))
        case .split(let pieces, let seconds):
            for piece in pieces where !server.isStopped {
                send(Array(piece.utf8))
                usleep(useconds_t(seconds * 1_000_000))
            }
            return String(pieces.joined().prefix(3))
        case .silent:
            return ""
        case .replyThenGarbage(let text):
            send(Self.lines(text))
            _ = readSome()
            send(Array("this is not a TLS handshake\r\n".utf8))
            open = false
            return String(text.prefix(3))
        }
    }

    private static func lines(_ text: String) -> [UInt8] {
        text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { Array($0.utf8) + [0x0D, 0x0A] }
    }

    private func send(_ bytes: [UInt8]) {
        let interval = server.secondsPerReplyOctet
        if interval > 0 {
            for byte in bytes {
                guard !server.isStopped, Glibc.send(fd, [byte], 1, Int32(MSG_NOSIGNAL)) == 1 else { return }
                usleep(useconds_t(interval * 1_000_000))
            }
            return
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    private mutating func readSome() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { open = false; return false }
        server.record(chunk[0..<n], connection: index)
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// A line without its CRLF (or LF).
    private mutating func readLine() -> [UInt8]? {
        while true {
            if let lf = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[0..<lf])
                buffer.removeSubrange(0...lf)
                if line.last == 0x0D { line.removeLast() }
                return line
            }
            guard readSome() else { return nil }
        }
    }

    private mutating func readExactly(_ count: Int) -> [UInt8] {
        while buffer.count < count {
            guard readSome() else { break }
        }
        let n = min(count, buffer.count)
        let out = Array(buffer[0..<n])
        buffer.removeSubrange(0..<n)
        return out
    }

    /// The data up to the CRLF.CRLF terminator (RFC 5321 4.1.1.4), terminator excluded.
    private mutating func readData() -> [UInt8]? {
        var data: [UInt8] = []
        while true {
            guard var line = readRawLine() else { return nil }
            if line == [0x2E, 0x0D, 0x0A] { return data }
            data.append(contentsOf: line)
            line.removeAll()
        }
    }

    private mutating func readRawLine() -> [UInt8]? {
        while true {
            if let lf = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[0...lf])
                buffer.removeSubrange(0...lf)
                return line
            }
            guard readSome() else { return nil }
        }
    }
}
