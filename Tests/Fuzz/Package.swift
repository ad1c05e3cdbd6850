// swift-tools-version:6.0
// libFuzzer harnesses for sealmail's parsers of untrusted input (issue 11, "Fuzzing, kept").
// A package of its own so the root package stays free of sanitizer flags: build and run with
// ../fuzz.sh, which builds with `-sanitize=fuzzer,address` (README.md here says why each flag).
// One executable per parser; each exports `LLVMFuzzerTestOneInput`, and its `main` runs
// libFuzzer's driver on it, so it only links with `-sanitize=fuzzer`.
import PackageDescription

let swift5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

/// A harness: `LLVMFuzzerTestOneInput` and an `@main` that hands it to libFuzzer's driver.
func harness(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies, swiftSettings: swift5)
}

let package = Package(
    name: "sealmail-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "sealmail", path: "../..")],
    targets: [
        // libFuzzer's LLVMFuzzerRunDriver, declared for Swift.
        .target(name: "CFuzzerDriver"),
        // The driver call, input slicing and the property check shared by the harnesses.
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"], swiftSettings: swift5),
        harness("fuzz-header", [.product(name: "MailMessage", package: "sealmail"),
                                .product(name: "SendmailKit", package: "sealmail")]),
        harness("fuzz-address", [.product(name: "MailMessage", package: "sealmail")]),
        harness("fuzz-reply", [.product(name: "SMTPProtocol", package: "sealmail")]),
        harness("fuzz-proxy", [.product(name: "SMTPProtocol", package: "sealmail")]),
        harness("fuzz-config", [.product(name: "MailPolicy", package: "sealmail")]),
        harness("fuzz-aliases", [.product(name: "MailPolicy", package: "sealmail")]),
        harness("fuzz-recipients", [.product(name: "MailMessage", package: "sealmail"),
                                    .product(name: "MailQueue", package: "sealmail"),
                                    .product(name: "SendmailKit", package: "sealmail")]),
    ]
)
