#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A temporary directory removed at deinit.
public final class TempDir {
    public let path: String
    public init() {
        path = NSTemporaryDirectory() + "smime-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { if ProcessInfo.processInfo.environment["SMIME_KEEP"] == nil { try? FileManager.default.removeItem(atPath: path) } }

    public func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) -> String {
        FileManager.default.createFile(atPath: file(name), contents: Data(bytes))
        return file(name)
    }

    @discardableResult
    public func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    public func read(_ name: String) -> [UInt8] { Array(FileManager.default.contents(atPath: file(name)) ?? Data()) }
}

/// The result of a child process.
public struct Run {
    public let status: Int32
    public let stdout: Data
    public let stderr: String
    public var out: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs a program (found on PATH) to completion.
@discardableResult
public func sh(_ args: [String], stdin: Data? = nil, env: [String: String] = [:], cwd: String? = nil) throws -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = args
    var environment = ProcessInfo.processInfo.environment
    environment.merge(env) { $1 }
    process.environment = environment
    if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = inPipe
    try process.run()
    if let stdin { inPipe.fileHandleForWriting.write(stdin) }
    try inPipe.fileHandleForWriting.close()
    final class Box: @unchecked Sendable { var data = Data() }
    let outBox = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { outBox.data = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let errData = errPipe.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let outData = outBox.data
    process.waitUntilExit()
    return Run(status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
}
