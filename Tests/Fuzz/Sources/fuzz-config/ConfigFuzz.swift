import FuzzSupport
import MailMessage
import MailPolicy

/// The config reader: `ConfigParser.parse` of TOML text (TOMLKit's toml++ underneath, then
/// sealmail's typed reader and its line locator), as `sealctl config check` and every
/// submission run it on /etc/sealmail/sealmail.toml.
///
/// Input: the file's bytes (decoded as UTF-8 with replacement, as the config loader does).
/// Properties: no abort inside toml++ (its assertions are on in every SwiftPM build); a NUL
/// byte is never accepted (TOMLKit passes the text on as a C string); a failure names at least one problem, each with a line inside the file when it
/// has one; a success carries no control character but tab in the strings that reach a
/// command line or the wire (relay host, user, hostname, domain).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    let text = String(decoding: bytes, as: UTF8.self)
    let lineCount = max(1, TextLines.split(bytes).count + 1)
    let result = ConfigParser.parse(text, path: "fuzz.toml")
    if bytes.contains(0), case .success = result { require(false, "a config with a NUL byte was accepted (cut short)") }
    switch result {
    case .failure(let errors):
        require(!errors.diagnostics.isEmpty, "a failure without a diagnostic")
        for d in errors.diagnostics {
            if let line = d.line { require((1...lineCount).contains(line), "diagnostic on line \(line) of \(lineCount - 1): \(d)") }
        }
    case .success(let config):
        func clean(_ s: String?, _ what: String) {
            guard let s else { return }
            // The reader's rule (Reader.string): no control character; a tab is allowed.
            require(!s.utf8.contains { ($0 < 32 && $0 != 9) || $0 == 127 }, "\(what) with a control character: \(show(Array(s.utf8)))")
        }
        clean(config.hostname, "hostname")
        clean(config.domain, "domain")
        for relay in config.relays {
            require(!relay.host.isEmpty, "a relay without a host")
            clean(relay.host, "relay host")
            clean(relay.user, "relay user")
            require(relay.line.map { (1...lineCount).contains($0) } ?? true, "relay on line \(relay.line!)")
        }
    }
    return 0
}

/// libFuzzer's driver on `fuzzConfig`.
@main enum FuzzConfigMain {
    static func main() { runLibFuzzer(fuzzConfig) }
}
