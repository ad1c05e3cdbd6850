import FuzzSupport
import MailMessage
import MailPolicy

/// The aliases file (`AliasTable`: parse, newaliases' check, expansion with `:include:`).
///
/// Input: the file's bytes; the file of any `:include:` is the same text again, so includes,
/// loops through them and the depth bounds are reached too.
/// Properties: names are non-empty, lower case, without white space, `@` or `,`; no target is
/// empty or carries a line break; every line number is inside the file; an expansion ends
/// (bounded depth and size) and yields no line break in what it delivers to.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAliases(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).bytes
    let text = String(decoding: bytes, as: UTF8.self)
    let lineCount = TextLines.split(bytes).count
    let table = AliasTable.parse(text)
    for (name, targets) in table.entries {
        require(!name.isEmpty && name == name.lowercased(), "alias name \(show(Array(name.utf8)))")
        require(!name.utf8.contains { $0 <= 32 || $0 == 64 || $0 == 44 }, "alias name \(show(Array(name.utf8)))")
        require(!targets.isEmpty, "alias \(name) without targets")
        for t in targets {
            require(!t.isEmpty && !t.utf8.contains { $0 == 10 || $0 == 13 }, "alias \(name): target \(show(Array(t.utf8)))")
        }
        require(table.lines[name].map { (1...lineCount).contains($0) } ?? false, "alias \(name) without a line in the file")
    }
    let include: (String) -> String? = { _ in text }
    for d in table.check(include: include) {
        if let line = d.line { require((1...max(1, lineCount)).contains(line), "diagnostic on line \(line) of \(lineCount): \(d)") }
    }
    for name in table.entries.keys.sorted().prefix(8) {
        let e = table.expand(name, include: include)
        for out in e.localUsers + e.addresses {
            require(!out.isEmpty && !out.utf8.contains { $0 == 10 || $0 == 13 }, "\(name) expands to \(show(Array(out.utf8)))")
        }
    }
    return 0
}

/// libFuzzer's driver on `fuzzAliases`.
@main enum FuzzAliasesMain {
    static func main() { runLibFuzzer(fuzzAliases) }
}
