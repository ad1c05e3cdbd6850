#!/usr/bin/env bash
# The library's Mailer (Sources/Sealmail) under load (issue 13), side by side in one run
# against Postfix's smtp-sink on loopback:
#
#   MailerBench (Sources/MailerBench): N sends of a 2 KB message over 8 pooled connections,
#     as concurrent `Mailer.send` calls of an application (16 at a time)
#   smtp-source -s 8 -d -m N -l 2048: Postfix's SMTP test generator, 8 sessions (the ceiling)
#
# ROUNDS rounds of both, interleaved; messages per second (medians) and the ratio.
# A benchmark, not a test. Environment: MAILER_BENCH (binary; without it a release build is
# made), N (default 10000), ROUNDS (default 3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$ROOT/compat/bench/lib.sh"
N="${N:-10000}"
ROUNDS="${ROUNDS:-3}"
PY=/usr/bin/python3

if [ ! -x /usr/sbin/smtp-sink ] || [ ! -x /usr/sbin/smtp-source ]; then
    export DEBIAN_FRONTEND=noninteractive
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq && apt-get install -y -qq postfix >/dev/null
fi
if [ -z "${MAILER_BENCH:-}" ]; then
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --product MailerBench >&2)
    MAILER_BENCH="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/MailerBench"
fi

WORK="$(mktemp -d /tmp/sealmail-mbench.XXXXXX)"
[ -n "$WORK" ] && [ -d "$WORK" ] || exit 1
SINK_PID=""
cleanup() {
    if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(free_port)"
start_sink "$PORT" 1024

: >"$WORK/times"
for round in $(seq "$ROUNDS"); do
    read -r count seconds accepted < <("$MAILER_BENCH" 127.0.0.1 "$PORT" "$N" 2048 8)
    [ "$accepted" = "$N" ] || { echo "mailer.sh: the Mailer had $accepted of $N accepted" >&2; exit 1; }
    echo "mailer $seconds" >>"$WORK/times"
    s0=$(date +%s.%N)
    /usr/sbin/smtp-source -d -s 8 -m "$N" -l 2048 -M localhost -f sender@example.com -t rcpt@example.com "127.0.0.1:$PORT"
    s1=$(date +%s.%N)
    echo "smtp-source $($PY -c "print($s1 - $s0)")" >>"$WORK/times"
done

echo "$N messages of 2 KB, 8 connections, $ROUNDS rounds interleaved; load: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$WORK/times" "$N" <<'PYEOF'
import statistics, sys
n = int(sys.argv[2])
t = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    t.setdefault(k, []).append(float(v))
rate = {k: n / statistics.median(v) for k, v in t.items()}
print("Mailer (Sources/Sealmail), 8 pooled connections: %6.0f msg/s (median %.2f s)" % (rate["mailer"], statistics.median(t["mailer"])))
print("smtp-source -s 8 -d:                             %6.0f msg/s (median %.2f s)" % (rate["smtp-source"], statistics.median(t["smtp-source"])))
print("Mailer / smtp-source = %.2fx" % (rate["mailer"] / rate["smtp-source"]))
PYEOF
