// swift-tools-version:6.0
// sealmail: a drop-in /usr/sbin/sendmail with S/MIME policy, its own SMTP engine and a durable queue.
// Target layout and dependency direction: ../shared/DESIGN.md ("Package layout"); dependencies point
// downwards only, and the core targets (MailMessage, SMTPProtocol, MailPolicy) do no IO.
import PackageDescription

let swift5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

// OpenSSL stays the system's shared libssl and libcrypto (Debian's security updates reach it).
// On x86-64 Linux they are loaded on the first call of one of their functions, through the
// stubs of Sources/CMailShim/openssl_stubs.S, and not by the dynamic loader at every start
// (about 40% of the instructions of `sealmail -bp`); elsewhere they are linked as usual.
#if os(Linux) && arch(x86_64)
let lazyOpenSSL = true
#else
let lazyOpenSSL = false
#endif

// How the release programs are linked, for their start-up (compat/bench/startup.sh; Tests/run.sh
// guards it): GNU ld, for DT_RELR (relative relocations packed: the table shrinks from 0.9 MB
// to 8 KB) and for a static libstdc++ (its 1,700 symbol bindings at every start were a fifth
// of the instructions; Build/static-libstdc++/libstdc++.so is a linker script naming
// libstdc++.a); no dynamic export table (nothing looks symbols up in the program, and the Swift
// runtime's dladdr at start scanned its 6,800 entries). Still a PIE.
let startupLinking: [LinkerSetting] = [
    .unsafeFlags(["-use-ld=bfd",
                  "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                  "-L", Context.packageDirectory + "/Build/static-libstdc++",
                  "-Xlinker", "--no-export-dynamic"],
                 .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
    name: "sealmail",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sealmail", targets: ["sealmail"]),
        .executable(name: "sealctl", targets: ["sealctl"]),
        .library(name: "MailMessage", targets: ["MailMessage"]),
        .library(name: "SMTPProtocol", targets: ["SMTPProtocol"]),
        .library(name: "SMTPTransport", targets: ["SMTPTransport"]),
        .library(name: "SMIME", targets: ["SMIME"]),
        .library(name: "MailQueue", targets: ["MailQueue"]),
        .library(name: "MailPolicy", targets: ["MailPolicy"]),
        // The library face: compose, protect, send and queue mail from Swift code.
        .library(name: "Sealmail", targets: ["Sealmail"]),
        // A scripted SMTP server (fault injection: drops, 4xx/5xx at any step, slow replies)
        // for applications' own tests of code that sends mail.
        .library(name: "SMTPTestSupport", targets: ["SMTPTestSupport"]),
        // For Tests/Fuzz (its header harness runs SubmissionRules.finalHeader), not an API promise.
        .library(name: "SendmailKit", targets: ["SendmailKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C: the system OpenSSL 3 and a narrow shim over its macros and BIO plumbing.
        // Its module map links nothing: CMailShim does (or loads them, see lazyOpenSSL).
        .systemLibrary(name: "COpenSSL", pkgConfig: lazyOpenSSL ? nil : "openssl",
                       providers: [.apt(["libssl-dev"])]),
        .target(name: "CMailShim", dependencies: ["COpenSSL"],
                cSettings: lazyOpenSSL ? [.define("SEALMAIL_LAZY_OPENSSL")] : [],
                linkerSettings: lazyOpenSSL ? [.linkedLibrary("dl")]
                                            : [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),

        // Core, no IO.
        .target(name: "MailMessage", swiftSettings: swift5),
        .target(name: "SMTPProtocol", dependencies: ["MailMessage"], swiftSettings: swift5),
        .target(name: "MailPolicy",
                dependencies: ["MailMessage", .product(name: "TOMLKit", package: "TOMLKit")],
                swiftSettings: swift5),

        // IO.
        .target(name: "SMTPTransport", dependencies: ["MailMessage", "SMTPProtocol", "CMailShim"], swiftSettings: swift5),
        .target(name: "SMIME", dependencies: ["MailMessage", "CMailShim"], swiftSettings: swift5),
        .target(name: "MailQueue", dependencies: ["MailMessage", "SMTPProtocol", "CMailShim"], swiftSettings: swift5),
        .target(name: "Sealmail",
                dependencies: ["MailMessage", "SMTPProtocol", "SMTPTransport", "SMIME", "MailQueue"],
                swiftSettings: swift5),
        .target(name: "SendmailKit",
                dependencies: ["MailMessage", "MailPolicy", "MailQueue", "SMTPProtocol", "SMTPTransport", "SMIME"],
                swiftSettings: swift5),
        .target(name: "SealctlKit",
                dependencies: ["SendmailKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                swiftSettings: swift5),

        // Executables: a main.swift of a few lines each.
        .executableTarget(name: "sealmail", dependencies: ["SendmailKit"], exclude: ["man"], swiftSettings: swift5,
                          linkerSettings: startupLinking),
        .executableTarget(name: "sealctl", dependencies: ["SealctlKit"], swiftSettings: swift5,
                          linkerSettings: startupLinking),
        // The getting-started program of the Sealmail documentation, compiled as written.
        .executableTarget(name: "SealmailExample", dependencies: ["Sealmail"], swiftSettings: swift5),
        // One large signed and encrypted message through the library, printing its peak memory.
        .executableTarget(name: "SealmailLargeSend", dependencies: ["Sealmail"], swiftSettings: swift5),
        // The Mailer under load, for compat/bench/mailer.sh (not installed).
        .executableTarget(name: "MailerBench", dependencies: ["Sealmail"], swiftSettings: swift5),

        // Test utilities shipped as their own target (an in-process scripted SMTP server).
        .target(name: "SMTPTestSupport", dependencies: ["SMTPProtocol"], swiftSettings: swift5),
        // Real peers for the tests (aiosmtpd, gpgsm, openssl, NSS, Bouncy Castle): started and stopped by pid.
        .target(name: "PeerTestSupport", swiftSettings: swift5),

        .testTarget(name: "MailMessageTests", dependencies: ["MailMessage"], exclude: ["Fixtures"], swiftSettings: swift5),
        .testTarget(name: "SMTPProtocolTests", dependencies: ["SMTPProtocol"], swiftSettings: swift5),
        .testTarget(name: "SMTPTransportTests",
                    dependencies: ["SMTPTransport", "SMTPTestSupport", "PeerTestSupport"], swiftSettings: swift5),
        .testTarget(name: "SMIMETests", dependencies: ["SMIME", "PeerTestSupport"], swiftSettings: swift5),
        .testTarget(name: "MailQueueTests", dependencies: ["MailQueue"], swiftSettings: swift5),
        .testTarget(name: "MailPolicyTests", dependencies: ["MailPolicy"], swiftSettings: swift5),
        .testTarget(name: "SendmailKitTests", dependencies: ["SendmailKit"], swiftSettings: swift5),
        .testTarget(name: "DeliveryTests",
                    dependencies: ["SendmailKit", "SMTPTestSupport"], swiftSettings: swift5),
        .testTarget(name: "SealmailTests", dependencies: ["Sealmail", "PeerTestSupport", "SMTPTestSupport"], swiftSettings: swift5),
        .testTarget(name: "IntegrationTests",
                    dependencies: ["SendmailKit", "SMTPTestSupport", "PeerTestSupport"], swiftSettings: swift5),
    ]
)
