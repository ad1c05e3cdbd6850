#!/usr/bin/env bash
# Every benchmark of this folder, one after the other, on one release build: the figures of
# the README's Benchmarks table (about five minutes on the project's machine). Each script's
# output goes to OUT/NAME.log (default: a new folder under /tmp), with the time and the load
# average before it; a summary of the ratios is printed at the end. A benchmark, not a test.
# Environment: SEALMAIL (binary; without it a release build is made), OUT.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -z "${SEALMAIL:-}" ]; then
    (cd "$ROOT" && swift build -c release --static-swift-stdlib >&2) || exit 1
    SEALMAIL="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/sealmail"
fi
export SEALMAIL MAILER_BENCH="${MAILER_BENCH:-$(dirname "$SEALMAIL")/MailerBench}"
OUT="${OUT:-$(mktemp -d /tmp/sealmail-bench.XXXXXX)}"
mkdir -p "$OUT"
echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'); logs in $OUT"
run() {  # NAME LOG [VAR=VALUE...]
    local name=$1 log=$2; shift 2
    echo "== $name $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT/$log.log"
    env "$@" bash "$ROOT/compat/bench/$name.sh" >>"$OUT/$log.log" 2>&1
    echo "== exit $?" >>"$OUT/$log.log"
}
run startup startup
run submit submit
run mailer mailer
run memory memory
run smime smime-tmpfs DIR=/dev/shm
run smime smime-disk
run delivery delivery
grep -h -E "^== |/ |x$|= [0-9.]+x?$|msg/s|peak RSS|target" "$OUT"/*.log
