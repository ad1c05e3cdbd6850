#!/usr/bin/env bash
# Peak RSS of `sealmail -odq -t` queueing a 64 MiB message (issue 2: memory must not grow
# with the message; target < 32 MiB). Measured with GNU time's "Maximum resident set size".
# A benchmark, not a test; exits 1 when the target is missed.
#
# Environment:
#   SEALMAIL        use this sealmail binary instead of building one
#   SCRATCH_PATH    swift build --scratch-path for the release build (default: .build)
#   TARGET_MIB      the target (default 32)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET_MIB="${TARGET_MIB:-32}"

if [ ! -x /usr/bin/time ] || ! command -v python3 >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq time python3 >/dev/null
fi

if [ -z "${SEALMAIL:-}" ]; then
    echo "building sealmail (release, static Swift stdlib)..." >&2
    scratch=()
    [ -n "${SCRATCH_PATH:-}" ] && scratch=(--scratch-path "$SCRATCH_PATH")
    (cd "$ROOT" && swift build -c release --static-swift-stdlib "${scratch[@]}" --product sealmail >&2)
    SEALMAIL="$(cd "$ROOT" && swift build -c release --static-swift-stdlib "${scratch[@]}" --show-bin-path)/sealmail"
fi
[ -x "$SEALMAIL" ] || { echo "no sealmail binary at $SEALMAIL" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sealmail-mem.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

cat >"$WORK/sealmail.toml" <<EOF
hostname = "host.example.com"
domain = "example.com"
queue_dir = "$WORK/q"
delivery = "queue"
EOF

# 64 MiB of body: 1 Mi lines of 63 characters + LF, after a short header.
python3 - "$WORK/message" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"To: rcpt@example.com\nFrom: sender@example.com\nSubject: 64 MiB\n\n")
    line = b"." * 55 + b"\n"
    chunk = b"".join(b"%08x" % i + line for i in range(1 << 14))
    for _ in range(64):
        f.write(chunk)
EOF

measure() {  # $1 = label, rest = command; stdin from the message
    local label="$1"; shift
    /usr/bin/time -v -o "$WORK/time.txt" "$@" <"$WORK/message" >/dev/null
    local kb
    kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")"
    local secs
    secs="$(awk -F': ' '/Elapsed \(wall clock\) time/ {print $2}' "$WORK/time.txt")"
    printf '%-44s peak RSS %7.1f MiB  (%s kB, wall %s)\n' "$label" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')" "$kb" "$secs"
    echo "$kb" >"$WORK/last_kb"
}

echo "sealmail: $SEALMAIL"
echo "message:  $(stat -c %s "$WORK/message") bytes"
measure "sealmail -bp (empty queue: start-up floor)" "$SEALMAIL" -C "$WORK/sealmail.toml" -bp
measure "sealmail -odq -t < 64 MiB message" "$SEALMAIL" -C "$WORK/sealmail.toml" -odq -t
kb="$(cat "$WORK/last_kb")"
queued="$(ls "$WORK/q/messages")"
size="$(awk '/^summary/ { sub("size=", "", $2); print $2 + 0 }' "$WORK/q/messages/$queued")"
echo "queued $queued: summary size=$size"
if [ "$kb" -lt $((TARGET_MIB * 1024)) ]; then
    echo "target < $TARGET_MIB MiB: met"
else
    echo "target < $TARGET_MIB MiB: NOT met"
    exit 1
fi
