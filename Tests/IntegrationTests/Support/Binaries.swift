import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finds the built `sealmail` and `sealctl` executables.
///
/// SwiftPM puts the test bundle (on Linux an executable, `sealmailPackageTests.xctest`) in the
/// same build products folder as the package's executables, whatever the scratch path is
/// (`.build/debug`, `.build-it/debug`, `.build/release` ...). So the folder of the running
/// test executable is tried first, then the bundles XCTest loaded (macOS), then
/// `<package root>/.build/{debug,release}` found from this file's path. The environment
/// variable `SEALMAIL_TEST_BIN_DIR` overrides all of them.
enum Binaries {
    /// The folder holding both executables, or nil with the places that were searched.
    static let located: (dir: String?, searched: [String]) = locate()

    static var sealmail: String { (located.dir ?? "/nonexistent") + "/sealmail" }
    static var sealctl: String { (located.dir ?? "/nonexistent") + "/sealctl" }

    static var missingMessage: String {
        "cannot find the sealmail and sealctl executables (build them with `swift build`); searched: "
            + located.searched.joined(separator: ", ")
    }

    private static func locate() -> (String?, [String]) {
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["SEALMAIL_TEST_BIN_DIR"], !dir.isEmpty {
            candidates.append(dir)
        }
        if let exe = resolvedPath("/proc/self/exe") {
            candidates.append(parent(exe))
        }
        if let exe = Bundle.main.executablePath {
            candidates.append(parent(resolvedPath(exe) ?? exe))
        }
        if let arg0 = CommandLine.arguments.first, arg0.contains("/") {
            candidates.append(parent(resolvedPath(arg0) ?? arg0))
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(parent(bundle.bundlePath))
        }
        if let root = packageRoot() {
            for sub in [".build/debug", ".build/release"] { candidates.append(root + "/" + sub) }
        }
        var seen = Set<String>()
        candidates = candidates.filter { seen.insert($0).inserted }
        for dir in candidates where isExecutable(dir + "/sealmail") && isExecutable(dir + "/sealctl") {
            return (dir, candidates)
        }
        return (nil, candidates)
    }

    /// The package root: the nearest folder above this file that holds Package.swift.
    private static func packageRoot(file: String = #filePath) -> String? {
        var dir = parent(file)
        while dir != "/" && !dir.isEmpty {
            if access(dir + "/Package.swift", F_OK) == 0 { return dir }
            dir = parent(dir)
        }
        return nil
    }

    private static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func resolvedPath(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    private static func isExecutable(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }
}
