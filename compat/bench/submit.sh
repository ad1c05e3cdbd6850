#!/usr/bin/env bash
# Submission latency, side by side in one hyperfine run (issue 2; method of
# ../shared/reference/baselines.md "How the peers were run"):
#
#   sealmail -odq -t < 2 KB message      (release build, -static-swift-stdlib; queue only)
#   Postfix sendmail -C DIR -t < message (drops into a private maildrop, no daemon)
#   msmtp -C FILE -t < message           (sends to smtp-sink on 127.0.0.1)
#
# Prints the medians and the ratios of the peers to sealmail. This is a benchmark, not a
# test: the figures move by ±12% between runs on the shared 2-vCPU machine, so compare the
# ratios from one run, not absolute figures across days.
#
# Environment:
#   SEALMAIL        use this sealmail binary instead of building one
#   SCRATCH_PATH    swift build --scratch-path for the release build (default: .build)
#   RUNS, WARMUP    hyperfine runs per command (default 100) and warm-up runs (default 10)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$ROOT/compat/bench/lib.sh"
RUNS="${RUNS:-100}"
WARMUP="${WARMUP:-10}"

need_install=()
command -v hyperfine >/dev/null || need_install+=(hyperfine)
command -v msmtp >/dev/null || need_install+=(msmtp)
{ [ -x /usr/sbin/smtp-sink ] && [ -x /usr/sbin/postdrop ]; } || need_install+=(postfix)
command -v python3 >/dev/null || need_install+=(python3)
if [ "${#need_install[@]}" -gt 0 ]; then
    echo "installing: ${need_install[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Postfix without a daemon or a configuration (as the baselines were measured).
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq "${need_install[@]}" >/dev/null
fi
# Postfix's sendmail (once sealmail is installed as /usr/sbin/sendmail, install.sh has diverted
# Postfix's to sendmail.sealmail-orig).
POSTFIX_SENDMAIL=""
for candidate in /usr/sbin/sendmail.postfix /usr/sbin/sendmail.sealmail-orig /usr/sbin/sendmail; do
    if [ -x "$candidate" ] && grep -qa postdrop "$candidate"; then POSTFIX_SENDMAIL="$candidate"; break; fi
done
[ -n "$POSTFIX_SENDMAIL" ] || { echo "Postfix's sendmail not found (is /usr/sbin/sendmail another MTA?)" >&2; exit 1; }

if [ -z "${SEALMAIL:-}" ]; then
    echo "building sealmail (release, static Swift stdlib)..." >&2
    scratch=()
    [ -n "${SCRATCH_PATH:-}" ] && scratch=(--scratch-path "$SCRATCH_PATH")
    (cd "$ROOT" && swift build -c release --static-swift-stdlib "${scratch[@]}" --product sealmail >&2)
    SEALMAIL="$(cd "$ROOT" && swift build -c release --static-swift-stdlib "${scratch[@]}" --show-bin-path)/sealmail"
fi
[ -x "$SEALMAIL" ] || { echo "no sealmail binary at $SEALMAIL" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sealmail-bench.XXXXXX")"
SINK_PID=""
cleanup() {
    if [ -n "$SINK_PID" ]; then
        kill "$SINK_PID" 2>/dev/null || true
        wait "$SINK_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The 2 KB message (2048 bytes, LF line ends, as callers write it).
python3 - "$WORK/message" <<'EOF'
import sys
head = ("From: Bench Sender <sender@example.com>\nTo: rcpt@example.com\n"
        "Subject: submission benchmark\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=us-ascii\n\n")
body = ""
i = 0
while len(head) + len(body) < 2048:
    body += "line %04d of a two kilobyte message body, plain ASCII text.....\n" % i
    i += 1
msg = (head + body)[:2047] + "\n"
open(sys.argv[1], "w").write(msg)
EOF

# sealmail: its own config and queue.
cat >"$WORK/sealmail.toml" <<EOF
hostname = "host.example.com"
domain = "example.com"
queue_dir = "$WORK/sealq"
delivery = "queue"
EOF

# Postfix's sendmail dropping into a private queue (no daemon): maildrop postfix:postdrop 1730.
mkdir -p "$WORK/pfconf" "$WORK/pfq/maildrop" "$WORK/pfq/public"
cat >"$WORK/pfconf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $WORK/pfq
myhostname = host.example.com
mydomain = example.com
EOF
chown postfix:postdrop "$WORK/pfq/maildrop" "$WORK/pfq/public"
chmod 1730 "$WORK/pfq/maildrop"
chmod 710 "$WORK/pfq/public"
# A main.cf younger than 2 s makes Postfix doze in 300 ms steps.
touch -d '5 minutes ago' "$WORK/pfconf/main.cf"

# msmtp to smtp-sink on loopback.
PORT="$(free_port)"
start_sink "$PORT" 256
cat >"$WORK/msmtprc" <<EOF
account default
host 127.0.0.1
port $PORT
from sender@example.com
tls off
auth off
EOF
chmod 600 "$WORK/msmtprc"

# Each command once, so a broken setup fails here and not as a silent fast error in hyperfine.
"$SEALMAIL" -C "$WORK/sealmail.toml" -odq -t <"$WORK/message"
"$POSTFIX_SENDMAIL" -C "$WORK/pfconf" -t <"$WORK/message" 2>/dev/null
msmtp -C "$WORK/msmtprc" -t <"$WORK/message"

# hyperfine -N (no shell to calibrate away: that subtraction is noise of the size of these
# commands) with each command exec'd by sh for its stdin; the floor (sh exec'ing /bin/true)
# is measured alongside.
SEAL_CMD="sh -c 'exec $SEALMAIL -C $WORK/sealmail.toml -odq -t < $WORK/message'"
PF_CMD="sh -c 'exec $POSTFIX_SENDMAIL -C $WORK/pfconf -t < $WORK/message'"
MS_CMD="sh -c 'exec msmtp -C $WORK/msmtprc -t < $WORK/message'"
FLOOR_CMD="sh -c 'exec /bin/true < $WORK/message'"

echo "sealmail: $SEALMAIL ($(stat -c %s "$SEALMAIL") bytes)"
echo "message:  $(stat -c %s "$WORK/message") bytes"
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORK/result.json" \
    -n "sealmail -odq -t" "$SEAL_CMD" \
    -n "postfix sendmail -t (maildrop)" "$PF_CMD" \
    -n "msmtp -t (smtp-sink)" "$MS_CMD" \
    -n "floor: sh, exec /bin/true" "$FLOOR_CMD"

python3 - "$WORK/result.json" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: r["median"] * 1000 for r in results}
seal = med["sealmail -odq -t"]
print()
print("%-32s %10s %10s" % ("command", "median ms", "vs sealmail"))
for r in results:
    m = r["median"] * 1000
    print("%-32s %10.2f %9.2fx" % (r["command"], m, m / seal))
print("sealmail -odq / postfix sendmail = %.2fx; / msmtp = %.2fx"
      % (seal / med["postfix sendmail -t (maildrop)"], seal / med["msmtp -t (smtp-sink)"]))
EOF
echo "queued: sealmail $(ls "$WORK/sealq/messages" | wc -l), postfix maildrop $(ls "$WORK/pfq/maildrop" | wc -l)"
