#!/usr/bin/env bash
# The test command of README.md (and what CI runs): installs what the tests need from
# Debian, builds, and runs every test:
#   1. swift test: unit, integration (the built binaries), delivery against a scripted server,
#      aiosmtpd and smtp-sink, S/MIME checked by openssl and gpgsm; then Tests/fuzz.sh (the
#      parsers under libFuzzer, 60 s each);
#   2. as root: the drop-in suites, on one release build: compat/run (real callers, and the
#      differential against Postfix) and Tests/install/run.sh (install.sh for real, privileges).
# Servers the tests use are started and stopped by the tests themselves, on 127.0.0.1.
# SEALMAIL_SKIP_SYSTEM_TESTS=1 runs only step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step's line says how long the run has taken so far (CI's time budget).
started=$(date +%s)
step() { echo "Tests/run.sh: [$(( $(date +%s) - started )) s] $*"; }

need=()
# microsocks and tinyproxy-bin: the SOCKS5 and HTTP CONNECT proxies of the proxy tests
# (tinyproxy-bin is the program alone; the tinyproxy package would also start a daemon);
# bsd-mailx: the mail(1) of Tests/install/run.sh (mail -s to send, mail -f to read an mbox);
# libnss3-tools (cmsutil: Thunderbird's S/MIME engine) and Bouncy Castle with javax.mail and a JDK
# (Tests/peers/BCPeer.java): the S/MIME readers and writers beside openssl and gpgsm;
# hyperfine and time: the start-up guard (compat/bench/startup.sh --check).
for pkg in libssl-dev libbsd-dev pkg-config openssl gpgsm python3-aiosmtpd postfix gcc microsocks tinyproxy-bin bsd-mailx \
           libnss3-tools libbcprov-java libbcpkix-java libbcmail-java libmail-java default-jdk-headless hyperfine time; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "Tests/run.sh: missing packages (${need[*]}); run as root or install them" >&2
        exit 1
    fi
    step "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Postfix only for its smtp-sink and its sendmail (compared with ours): no daemon, no config.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${need[@]}"
fi

step "debug build"
swift build --build-tests
step "swift test"
set +e
swift test --skip-build 2>&1 | tee /tmp/sealmail-swift-test.log | grep -vE "^Test Case '.*' (started|passed)"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
    echo "Tests/run.sh: swift test failed ($status)" >&2
    exit "$status"
fi

# The parsers of untrusted input under libFuzzer and AddressSanitizer, 60 s each
# (FUZZ_SECONDS; SEALMAIL_SKIP_FUZZ=1 skips): any crash, leak or broken property fails the run.
if [ -z "${SEALMAIL_SKIP_FUZZ:-}" ]; then
    step "Tests/fuzz.sh"
    if ! bash Tests/fuzz.sh; then
        echo "Tests/run.sh: Tests/fuzz.sh failed" >&2
        exit 1
    fi
fi

if [ "$(id -u)" -ne 0 ] || [ -n "${SEALMAIL_SKIP_SYSTEM_TESTS:-}" ]; then
    echo "Tests/run.sh: drop-in suites skipped (they need root; SEALMAIL_SKIP_SYSTEM_TESTS)"
    exit 0
fi

step "release build for the drop-in suites"
swift build -c release --static-swift-stdlib
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
failed=0
# sendmail starts once per message: it must not carry Foundation's CoreFoundation and ICU
# half (about 50 MB and milliseconds of start-up). Only FoundationEssentials is allowed; a
# String API that resolves to Foundation's (e.g. contains("..") on a String) brings it back.
if [ "$(nm "$bin/sealmail" | grep -c -e __CFInitialize -e icudt)" != 0 ]; then
    echo "Tests/run.sh: sealmail links CoreFoundation/ICU (see Tests/run.sh)" >&2
    failed=1
fi
# Start-up (issue 13): libssl and libcrypto are loaded on first use and libstdc++ is linked in
# (Package.swift), so the dynamic loader maps none of them for `sealmail -bp`; and start-up
# stays within twice its recorded ratio to /bin/true (Tests/startup-figures.txt).
if [ "$(uname -m)" = x86_64 ] && readelf -d "$bin/sealmail" | grep -E "NEEDED.*(libssl|libcrypto|libstdc)"; then
    echo "Tests/run.sh: sealmail loads the libraries above at start (see Package.swift, lazyOpenSSL and startupLinking)" >&2
    failed=1
fi
step "start-up guard (compat/bench/startup.sh --check)"
if ! SEALMAIL="$bin/sealmail" bash compat/bench/startup.sh --check Tests/startup-figures.txt; then
    echo "Tests/run.sh: sealmail's start-up regressed (compat/bench/startup.sh)" >&2
    failed=1
fi
# The library streams: a 1 GiB attachment signed and encrypted in under 64 MiB (release build;
# swift test ran the same check with 64 MiB on the debug build).
step "1 GiB signed and encrypted through the library"
if ! SEALMAIL_LARGE_MIB=1024 SEALMAIL_LARGE_TOOL="$bin/SealmailLargeSend" \
        swift test --skip-build --filter SealmailTests.LargeMessageTests 2>&1 | grep -E "error|passed|failed|skipped"; then
    echo "Tests/run.sh: the 1 GiB check failed" >&2
    failed=1
fi
for suite in compat/run Tests/install/run.sh; do
    [ -x "$suite" ] || continue
    step "$suite"
    if ! SEALMAIL_COMPAT_BIN="$bin/sealmail" SWIFT_SCRATCH=.build "$suite"; then
        echo "Tests/run.sh: $suite failed" >&2
        failed=1
    fi
done
step "done (failures: $failed)"
exit $failed
