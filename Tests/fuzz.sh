#!/usr/bin/env bash
# The fuzz harnesses of Tests/Fuzz (issue 11): builds them with libFuzzer and AddressSanitizer,
# then runs each from its seed corpus and dictionary for FUZZ_SECONDS (default 60). Fails on
# any crash, broken property, leak, timeout or memory blow-up; the input that did it is kept
# in Tests/Fuzz/artifacts/ (ignored by git) and printed in base64, so a CI log is enough to
# reproduce it.
#
#   Tests/fuzz.sh                          every harness, 60 s each (about 6 min plus the build)
#   Tests/fuzz.sh header reply             some of them
#   FUZZ_SECONDS=600 Tests/fuzz.sh         longer (0: build only)
#   FUZZ_RUNS=10000000 Tests/fuzz.sh config    a number of inputs instead of a time
#   FUZZ_ARGS="-jobs=1 -workers=1"         more libFuzzer flags
#   FUZZ_CORPUS=/var/tmp/sealmail-fuzz     keep what the runs find in FUZZ_CORPUS/NAME and start
#                                          from it the next time (a long run in several sittings)
#
# Reproduce a finding: base64 -d > crash <<< '...'; then, with the environment set below,
#   Tests/Fuzz/.build/release/fuzz-NAME crash
# Harnesses: header, address, reply, proxy, config, aliases, recipients (Tests/Fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fuzz=$root/Tests/Fuzz
all=(header address reply proxy config aliases recipients)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for name in "${names[@]}"; do
    [[ " ${all[*]} " == *" $name "* ]] || { echo "Tests/fuzz.sh: no harness '$name' (${all[*]})" >&2; exit 64; }
done

# Swift code gets -sanitize=fuzzer,address from swiftc; C and C++ (CMailShim, TOMLKit's
# toml++) are instrumented only through -Xcc, which -Xswiftc does not reach.
flags=(-c release -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address)
# lld links without gold's "cannot export local symbol __asan_..." warnings.
if command -v ld.lld >/dev/null; then flags+=(-Xswiftc -use-ld=lld); fi
echo "Tests/fuzz.sh: building the harnesses"
start=$(date +%s)
mkdir -p "$fuzz/.build"
# SwiftPM plans this package again only when its manifest changes: a file added to or removed
# from the root package's Sources/ (a path dependency here) was left out of the incremental
# build ("cannot find 'X' in scope"). A changed list of source files touches the manifest.
list="$fuzz/.build/root-sources.list"
sources=$(cd "$root" && find Sources -type f | LC_ALL=C sort)
if [ "$sources" != "$(cat "$list" 2>/dev/null)" ]; then
    touch "$fuzz/Package.swift"
    printf '%s\n' "$sources" >"$list"
fi
if ! swift build --package-path "$fuzz" --scratch-path "$fuzz/.build" "${flags[@]}" >"$fuzz/.build/fuzz-build.log" 2>&1; then
    tail -40 "$fuzz/.build/fuzz-build.log" >&2
    echo "Tests/fuzz.sh: the build failed" >&2
    exit 1
fi
bin=$(swift build --package-path "$fuzz" --scratch-path "$fuzz/.build" "${flags[@]}" --show-bin-path)
echo "Tests/fuzz.sh: built in $(( $(date +%s) - start )) s"
# FUZZ_SECONDS=0: build only (libFuzzer would read -max_total_time=0 as "no limit").
if [ -z "${FUZZ_RUNS:-}" ] && [ "${FUZZ_SECONDS:-60}" = 0 ]; then exit 0; fi

# Swift's crash backtracer would inspect memory after a finding and raise a second,
# misleading ASan report; libFuzzer prints the stack itself.
export SWIFT_BACKTRACE=enable=no
# No allocation stacks in AddressSanitizer's reports (it still finds every error; the input,
# printed below, reproduces it with full stacks): 1.4x the inputs per second.
export ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=0}"
export LSAN_OPTIONS="suppressions=$fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && command -v llvm-symbolizer >/dev/null; then
    export ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
fi

work=$(mktemp -d /tmp/sealmail-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$fuzz/artifacts"
failed=0
for name in "${names[@]}"; do
    stamp=$(date -u +%Y%m%dT%H%M%S)
    prefix="$fuzz/artifacts/$name-$stamp-"
    args=(-max_len=4096 -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=4096 -print_final_stats=1
          -artifact_prefix="$prefix")
    [ -f "$fuzz/dict/$name.dict" ] && args+=(-dict="$fuzz/dict/$name.dict")
    # TOMLKit leaks on every parse (lsan.supp): LeakSanitizer would then check the whole heap
    # after every input, 40 times slower; FUZZ_ARGS=-detect_leaks=1 turns it back on.
    [ "$name" = config ] && args+=(-detect_leaks=0)
    if [ -n "${FUZZ_RUNS:-}" ]; then args+=(-runs="$FUZZ_RUNS"); else args+=(-max_total_time="${FUZZ_SECONDS:-60}"); fi
    # New inputs go to a scratch corpus (first folder, or FUZZ_CORPUS/NAME, kept); the
    # committed seeds are only read.
    corpus="$work/$name"
    [ -n "${FUZZ_CORPUS:-}" ] && corpus="$FUZZ_CORPUS/$name"
    mkdir -p "$corpus"
    log="$work/$name.log"
    start=$(date +%s)
    set +e
    # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
    (cd "$work" && "$bin/fuzz-$name" "${args[@]}" ${FUZZ_ARGS:-} "$corpus" "$fuzz/corpus/$name") >"$log" 2>&1
    status=$?
    set -e
    seconds=$(( $(date +%s) - start ))
    # With -jobs, the output of the fuzzing process is in fuzz-N.log.
    for jobLog in "$work"/fuzz-*.log; do [ -f "$jobLog" ] && cat "$jobLog" >>"$log" && rm -f "$jobLog"; done
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    artifacts=("$prefix"*)
    if [ "$status" -eq 0 ] && [ ! -e "${artifacts[0]}" ]; then
        echo "Tests/fuzz.sh: fuzz-$name: ${runs:-?} inputs in $seconds s, no crash (corpus: $(ls "$corpus" | wc -l) inputs${FUZZ_CORPUS:+, kept in $corpus})"
        continue
    fi
    failed=1
    echo "Tests/fuzz.sh: fuzz-$name FAILED (exit $status) after ${runs:-?} inputs in $seconds s" >&2
    grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse)' "$log" | tail -60 >&2
    for artifact in "${artifacts[@]}"; do
        [ -e "$artifact" ] || continue
        echo "Tests/fuzz.sh: artifact $artifact ($(wc -c <"$artifact") bytes), base64:" >&2
        base64 -w 76 "$artifact" >&2
    done
done
exit $failed
