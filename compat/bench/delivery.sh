#!/usr/bin/env bash
# Delivery benchmarks of issue 3, side by side in one run against Postfix's smtp-sink on
# loopback (method of ../shared/reference/baselines.md):
#
#  1. one message per process, as cron and PHP call it (hyperfine, medians):
#       sealmail -odi -t  (queue with fsync, deliver, wait)     vs  msmtp -t
#       sealmail -odb -t  (what the caller waits for)           vs  Postfix sendmail -t (maildrop)
#  2. a queue run of N queued messages (default 10000) to smtp-sink: messages per second,
#     against msmtp sending them one process each (a sample of 300), against Postfix's own
#     queue (a private instance: N messages put in through its smtpd with defer_transports =
#     smtp, then defer_transports emptied and `postqueue -f`, timed until the queue is empty:
#     qmgr and smtp with default settings) and against `smtp-source -s 8 -d` (the ceiling of
#     this machine), in QROUNDS rounds of the three (medians).
#
# A benchmark, not a test: compare ratios from one run.
# Environment: SEALMAIL (binary to use; sealctl beside it), SCRATCH_PATH, RUNS (default 60),
# N (default 10000), QROUNDS (rounds of the queue runs, default 3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$ROOT/compat/bench/lib.sh"
RUNS="${RUNS:-60}"
N="${N:-10000}"
QROUNDS="${QROUNDS:-3}"
PY=/usr/bin/python3

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
    scratch=()
    [ -n "${SCRATCH_PATH:-}" ] && scratch=(--scratch-path "$SCRATCH_PATH")
    (cd "$ROOT" && swift build -c release --static-swift-stdlib "${scratch[@]}" >&2)
    bin="$(cd "$ROOT" && swift build -c release --static-swift-stdlib "${scratch[@]}" --show-bin-path)"
    SEALMAIL="$bin/sealmail"
fi
SEALCTL="$(dirname "$SEALMAIL")/sealctl"

WORK="$(mktemp -d /tmp/sealmail-dbench.XXXXXX)"
[ -n "$WORK" ] && [ -d "$WORK" ] || exit 1
SINK_PID=""
PF_INSTANCE=""
cleanup() {
    if [ -n "$PF_INSTANCE" ]; then postfix -c "$PF_INSTANCE" stop >/dev/null 2>&1 || true; fi
    if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

$PY -c '
import sys
head = "From: Bench <sender@example.com>\nTo: rcpt@example.com\nSubject: delivery benchmark\n\n"
body = "".join("line %04d of a two kilobyte message body, plain ASCII text.....\n" % i for i in range(40))
open(sys.argv[1], "w").write((head + body)[:2047] + "\n")
' "$WORK/message"

PORT="$(free_port)"
start_sink "$PORT" 1024

printf '%s\n' 'hostname = "host.example.com"' 'domain = "example.com"' "queue_dir = \"$WORK/q\"" \
    'max_connections = 8' '[[relay]]' 'host = "127.0.0.1"' "port = $PORT" 'tls = "none"' >"$WORK/seal.toml"
printf '%s\n' 'account default' 'host 127.0.0.1' "port $PORT" 'from sender@example.com' 'tls off' 'auth off' >"$WORK/msmtprc"
chmod 600 "$WORK/msmtprc"
mkdir -p "$WORK/pfconf" "$WORK/pfq/maildrop" "$WORK/pfq/public"
printf 'compatibility_level = 3.6\nqueue_directory = %s\nmyhostname = host.example.com\n' "$WORK/pfq" >"$WORK/pfconf/main.cf"
chown postfix:postdrop "$WORK/pfq/maildrop" "$WORK/pfq/public" 2>/dev/null || true
chmod 1730 "$WORK/pfq/maildrop"
chmod 710 "$WORK/pfq/public"
touch -d '5 minutes ago' "$WORK/pfconf/main.cf"

S="$SEALMAIL -C $WORK/seal.toml"
$S -odi -t <"$WORK/message"
[ -z "$(ls "$WORK/q/messages")" ] || { echo "sealmail -odi did not deliver" >&2; exit 1; }
# hyperfine -N (no shell to calibrate away: that subtraction is noise of the size of these
# commands) with each command exec'd by sh for its stdin; the floor (sh exec'ing /bin/true)
# is measured alongside.
cmds=(-n "sealmail -odi -t" "sh -c 'exec $S -odi -t < $WORK/message'"
      -n "msmtp -t" "sh -c 'exec msmtp -C $WORK/msmtprc -t < $WORK/message'"
      -n "sealmail -odb -t" "sh -c 'exec $S -odb -t < $WORK/message'")
if [ -n "$POSTFIX_SENDMAIL" ]; then
    cmds+=(-n "postfix sendmail -t" "sh -c 'exec $POSTFIX_SENDMAIL -C $WORK/pfconf -t < $WORK/message'")
fi
cmds+=(-n "floor: sh, exec /bin/true" "sh -c 'exec /bin/true < $WORK/message'")
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$WORK/one.json" "${cmds[@]}" >&2
sleep 1
"$SEALCTL" queue flush -C "$WORK/seal.toml" >/dev/null  # whatever -odb children left

M=300
m0=$(date +%s.%N)
for _ in $(seq $M); do msmtp -C "$WORK/msmtprc" -t <"$WORK/message"; done
m1=$(date +%s.%N)

# Postfix's own queue: a private instance (its own config and queue folders under $WORK, no
# listener but an smtpd on a free loopback port to fill it), relaying to the same sink.
PFI=""
if [ "$(id -u)" = 0 ] && command -v postfix >/dev/null; then
    PFI="$WORK/pfi"
    mkdir -p "$PFI/conf" "$PFI/q" "$PFI/data"
    chown postfix "$PFI/data"
    chmod 711 "$WORK"  # Postfix's daemons (user postfix) reach their queue through it
    IN="$(free_port)"
    # Debian's master.cf without its port-25 listener and its pipe transports, plus the smtpd.
    awk '/^[^ \t#]/ { skip = ($2 == "inet" || $8 == "pipe") } !skip' /etc/postfix/master.cf >"$PFI/conf/master.cf"
    echo "127.0.0.1:$IN inet n - n - - smtpd" >>"$PFI/conf/master.cf"
    printf '%s\n' 'compatibility_level = 3.6' "queue_directory = $PFI/q" "data_directory = $PFI/data" \
        'myhostname = host.example.com' 'mydestination =' 'mynetworks = 127.0.0.0/8' 'inet_interfaces = loopback-only' \
        'inet_protocols = ipv4' "relayhost = [127.0.0.1]:$PORT" 'defer_transports = smtp' \
        "maillog_file_prefixes = $PFI" "maillog_file = $PFI/maillog" 'smtp_tls_security_level = none' \
        'alias_maps =' 'alias_database =' >"$PFI/conf/main.cf"
    postfix -c "$PFI/conf" start >/dev/null 2>&1 || { echo "delivery.sh: the private Postfix did not start ($PFI/maillog)" >&2; exit 1; }
    PF_INSTANCE="$PFI/conf"
    wait_port "$IN"
fi
postfix_set() {  # $1: defer_transports
    postconf -c "$PFI/conf" -e "defer_transports = $1" && postfix -c "$PFI/conf" reload >/dev/null 2>&1
    sleep 2
}

# The queue runs, QROUNDS rounds of the three (medians reported): sealmail's queue filled with
# -odq then flushed; smtp-source; Postfix's queue filled (deferred) then flushed.
: >"$WORK/runs"
for round in $(seq "$QROUNDS"); do
    echo "round $round: queueing $N messages (sealmail -odq)..." >&2
    for _ in $(seq "$N"); do $S -odq -t <"$WORK/message"; done
    t0=$(date +%s.%N)
    "$SEALCTL" queue flush -C "$WORK/seal.toml" >"$WORK/flush.out"
    t1=$(date +%s.%N)
    left=$(ls "$WORK/q/messages" | wc -l)
    [ "$left" = 0 ] || { echo "delivery.sh: $left messages left in sealmail's queue" >&2; exit 1; }
    echo "sealmail $t0 $t1" >>"$WORK/runs"
    s0=$(date +%s.%N)
    /usr/sbin/smtp-source -d -s 8 -m "$N" -l 2048 -M localhost -f sender@example.com -t rcpt@example.com "127.0.0.1:$PORT"
    s1=$(date +%s.%N)
    echo "smtp-source $s0 $s1" >>"$WORK/runs"
    [ -n "$PFI" ] || continue
    echo "round $round: queueing $N messages in Postfix's queue (deferred)..." >&2
    [ "$round" = 1 ] || postfix_set smtp
    /usr/sbin/smtp-source -s 8 -m "$N" -l 2048 -M localhost -f sender@example.com -t rcpt@example.com "127.0.0.1:$IN"
    for _ in $(seq 600); do
        [ "$(find "$PFI/q/deferred" -type f | wc -l)" -ge "$N" ] \
            && [ -z "$(find "$PFI/q/incoming" "$PFI/q/active" "$PFI/q/maildrop" -type f -print -quit)" ] && break
        sleep 0.5
    done
    postfix_set ""
    p0=$(date +%s.%N)
    postqueue -c "$PFI/conf" -f
    while [ -n "$(find "$PFI/q/deferred" "$PFI/q/active" "$PFI/q/incoming" -type f -print -quit)" ]; do sleep 0.02; done
    p1=$(date +%s.%N)
    sent=$(grep -c "status=sent" "$PFI/maillog" || true)
    [ "$sent" = $((N * round)) ] || { echo "delivery.sh: Postfix sent $sent of $((N * round)) ($PFI/maillog)" >&2; exit 1; }
    echo "postfix $p0 $p1" >>"$WORK/runs"
done

$PY -c '
import json, sys
res = {r["command"]: r["median"] * 1000 for r in json.load(open(sys.argv[1]))["results"]}
import statistics
n, m0, m1, m = map(float, sys.argv[3:7])
runs = {}
for line in open(sys.argv[2]):
    k, a, b = line.split()
    runs.setdefault(k, []).append(n / (float(b) - float(a)))
med = {k: statistics.median(v) for k, v in runs.items()}
each = lambda k: ", ".join("%.0f" % r for r in runs[k])
print("one message per process (hyperfine medians, ms):")
for k, v in res.items():
    print("  %-24s %8.2f" % (k, v))
print("  sealmail -odi / msmtp            = %.3fx" % (res["sealmail -odi -t"] / res["msmtp -t"]))
if "postfix sendmail -t" in res:
    print("  sealmail -odb / postfix sendmail = %.3fx" % (res["sealmail -odb -t"] / res["postfix sendmail -t"]))
rate, ceiling = med["sealmail"], med["smtp-source"]
print("queue runs of %d messages, %d rounds (medians; each round in brackets):" % (n, len(runs["sealmail"])))
print("  sealmail queue run (sealctl queue flush): %6.0f msg/s  [%s]" % (rate, each("sealmail")))
print("  smtp-source -s 8 -d (the ceiling):        %6.0f msg/s  [%s]" % (ceiling, each("smtp-source")))
if "postfix" in med:
    print("  Postfix queue (postqueue -f):             %6.0f msg/s  [%s]" % (med["postfix"], each("postfix")))
print("msmtp, one process per message (%d): %.0f msg/s" % (m, m / (m1 - m0)))
if "postfix" in med:
    print("queue run / Postfix queue = %.2fx" % (rate / med["postfix"]))
print("queue run / smtp-source = %.2f" % (rate / ceiling))
' "$WORK/one.json" "$WORK/runs" "$N" "$m0" "$m1" "$M"
