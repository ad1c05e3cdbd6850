#!/usr/bin/env bash
# Delivery benchmarks of issue 3, side by side in one run against Postfix's smtp-sink on
# loopback (method of ../shared/reference/baselines.md):
#
#  1. one message per process, as cron and PHP call it (hyperfine, medians):
#       sealmail -odi -t  (queue with fsync, deliver, wait)     vs  msmtp -t
#       sealmail -odb -t  (what the caller waits for)           vs  Postfix sendmail -t (maildrop)
#  2. a queue run of N queued messages (default 10000) to smtp-sink: messages per second,
#     against msmtp sending them one process each (a sample of 300) and against
#     `smtp-source -s 8 -d` (the ceiling of this machine).
#
# A benchmark, not a test: compare ratios from one run.
# Environment: SEALMAIL (binary to use), SCRATCH_PATH, RUNS (default 60), N (default 10000).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNS="${RUNS:-60}"
N="${N:-10000}"

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v msmtp >/dev/null || need+=(msmtp)
[ -x /usr/sbin/smtp-sink ] || need+=(postfix)
if [ "${#need[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
POSTFIX_SENDMAIL=""
for c in /usr/sbin/sendmail.postfix /usr/sbin/sendmail.sealmail-orig /usr/sbin/sendmail; do
    if [ -x "$c" ] && grep -qa postdrop "$c"; then POSTFIX_SENDMAIL="$c"; break; fi
done

if [ -z "${SEALMAIL:-}" ]; then
    scratch=(); [ -n "${SCRATCH_PATH:-}" ] && scratch=(--scratch-path "$SCRATCH_PATH")
    (cd "$ROOT" && swift build -c release --static-swift-stdlib "${scratch[@]}" >&2)
    bin="$(cd "$ROOT" && swift build -c release --static-swift-stdlib "${scratch[@]}" --show-bin-path)"
    SEALMAIL="$bin/sealmail"; SEALCTL="$bin/sealctl"
else
    SEALCTL="$(dirname "$SEALMAIL")/sealctl"
fi

WORK="$(mktemp -d /tmp/sealmail-dbench.XXXXXX)"
SINK_PID=""
cleanup() { [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

/usr/bin/python3 - "$WORK/message" <<'PY'
import sys
head = "From: Bench <sender@example.com>\nTo: rcpt@example.com\nSubject: delivery benchmark\n\n"
body = "".join("line %04d of a two kilobyte message body, plain ASCII text.....\n" % i for i in range(40))
open(sys.argv[1], "w").write((head + body)[:2047] + "\n")
PY
PORT="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
/usr/sbin/smtp-sink -u nobody "127.0.0.1:$PORT" 1024 & SINK_PID=$!
for _ in $(seq 100); do /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),0.2).close()" 2>/dev/null && break; sleep 0.05; done

cat >"$WORK/seal.toml" <<EOF
hostname = "host.example.com"
domain = "example.com"
queue_dir = "$WORK/q"
max_connections = 8
[[relay]]
host = "127.0.0.1"
port = $PORT
tls = "none"
