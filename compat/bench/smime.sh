#!/usr/bin/env bash
# S/MIME throughput and memory (issue 4), side by side in one run on the same 100 MB message:
#
#   sealmail -odq with a policy that signs / encrypts / signs then encrypts (the whole
#   submission: read, canonicalise, CMS streamed, queue file fsync'd)
#   vs `openssl cms -sign -stream`, `openssl cms -encrypt -stream`, and the two piped,
#   each followed by an fsync
#
# Prints seconds, MB/s, peak RSS and CPU seconds (user + system; GNU time) for each, and the
# ratios. A benchmark, not a test.
# Environment: SEALMAIL (binary), SIZE_MB (default 100), PKI (default: the lab PKI in
# ../shared/reference/smime-vectors/lab/pki), DIR (where the message, the queues and the
# outputs go; default /tmp; /dev/shm for tmpfs: no disk in the way), SEALMAIL_BASELINE
# (another sealmail binary, say a build of the previous commit, run the same way in the same
# run for a before/after).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SIZE_MB="${SIZE_MB:-100}"
PKI="${PKI:-$ROOT/../shared/reference/smime-vectors/lab/pki}"
PY=/usr/bin/python3
[ -x /usr/bin/time ] || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }

if [ -z "${SEALMAIL:-}" ]; then
    (cd "$ROOT" && swift build -c release --static-swift-stdlib >&2)
    SEALMAIL="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/sealmail"
fi
WORK="$(mktemp -d "${DIR:-/tmp}/sealmail-sbench.XXXXXX")"
[ -n "$WORK" ] && [ -d "$WORK" ] || exit 1
trap 'rm -rf "$WORK"' EXIT

$PY -c '
import sys
size = int(sys.argv[2]) * 1000 * 1000
line = "a line of text in a large message, to be signed and encrypted, 0123456789.\n"
with open(sys.argv[1], "w") as f:
    f.write("From: bob@example.test\nTo: alice@example.test\nSubject: big\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n")
    n = 0
    while n < size:
        f.write(line); n += len(line)
' "$WORK/message" "$SIZE_MB"
mkdir -p "$WORK/certs"
cp "$PKI/alice.crt" "$WORK/certs/"
# sealmail refuses a private key others may read (FileTrust): its own copy, mode 0600.
install -m 600 "$PKI/bob.key" "$WORK/bob.key"
BASELINE="${SEALMAIL_BASELINE:-}"
for mode in sign encrypt both; do
    for q in q base-q; do
    {
        printf '%s\n' 'hostname = "host.example.test"' 'domain = "example.test"' "queue_dir = \"$WORK/$q-$mode\"" 'delivery = "queue"'
        printf '%s\n' '[smime]' "certificates = \"$WORK/certs\"" "trust_anchors = \"$PKI/ca.crt\""
        if [ "$mode" != encrypt ]; then
            printf '%s\n' '[[smime.sign]]' 'from = ["*@example.test"]' "certificate = \"$PKI/bob.crt\"" "key = \"$WORK/bob.key\"" 'users = ["*"]'
        fi
        if [ "$mode" != sign ]; then
            printf '%s\n' '[[smime.encrypt]]' 'to = ["alice@example.test"]' 'mode = "required"'
        fi
    } >"$WORK/$q-$mode.toml"
    done
done

RUNS="${RUNS:-5}"
# Each command RUNS times, the commands interleaved (so that a noisy minute hurts all of them
# alike); the median time, the largest peak RSS and the median CPU time are reported (on a
# loaded machine the CPU time is the steadier figure).
# The peers as issue 13 names them: openssl in its default text mode, which makes the
# content's line ends CRLF as sealmail does (RFC 8551 3.1.1; the same work). With -binary
# (rows 6 and 7) openssl signs the file's LF bytes as they are, which is less work and not a
# canonical text entity: shown for reference.
names=("sealmail -odq (sign)" "sealmail -odq (encrypt)" "sealmail -odq (both)" "openssl cms sign|encrypt -stream + fsync"
       "openssl cms -sign -stream + fsync" "openssl cms -encrypt -stream + fsync"
       "openssl -sign -binary|encrypt + fsync" "openssl cms -sign -binary + fsync")
cmds=()
for mode in sign encrypt both; do
    cmds+=("$SEALMAIL -C $WORK/q-$mode.toml -odq -t < $WORK/message")
done
sign="openssl cms -sign -stream -md sha256 -signer $PKI/bob.crt -inkey $PKI/bob.key -in $WORK/message"
encrypt="openssl cms -encrypt -stream -aes-256-cbc -out $WORK/openssl.out"
cmds+=("$sign | $encrypt $PKI/alice.crt && sync -d $WORK/openssl.out")
cmds+=("$sign -out $WORK/openssl.out && sync -d $WORK/openssl.out")
cmds+=("$encrypt -in $WORK/message $PKI/alice.crt && sync -d $WORK/openssl.out")
cmds+=("$sign -binary | $encrypt $PKI/alice.crt && sync -d $WORK/openssl.out")
cmds+=("$sign -binary -out $WORK/openssl.out && sync -d $WORK/openssl.out")
if [ -n "$BASELINE" ]; then
    for mode in sign encrypt both; do
        names+=("baseline -odq ($mode)")
        cmds+=("$BASELINE -C $WORK/base-q-$mode.toml -odq -t < $WORK/message")
    done
fi
: >"$WORK/times"
for run in $(seq "$RUNS"); do
    for i in "${!cmds[@]}"; do
        # Untimed: the previous output goes first (removing 137 MB takes a while).
        case $i in 0) rm -rf "$WORK"/q-sign/messages/* ;; 1) rm -rf "$WORK"/q-encrypt/messages/* ;;
                   2) rm -rf "$WORK"/q-both/messages/* ;; 3|4|5|6|7) rm -f "$WORK/openssl.out" ;;
                   *) rm -rf "$WORK"/base-q-*/messages/* ;; esac
        sync
        /usr/bin/time -f "$i %e %M %U %S" -a -o "$WORK/times" sh -c "${cmds[$i]}"
    done
done

echo "message: $(stat -c %s "$WORK/message") bytes; sealmail: $SEALMAIL; $RUNS runs each, interleaved"
$PY - "$WORK/times" "$SIZE_MB" "${names[@]}" <<'PYEOF'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip() and l.split()[0].isdigit()]
size = float(sys.argv[2]); names = sys.argv[3:]
med = {}
for i, name in enumerate(names):
    t = [float(r[1]) for r in rows if int(r[0]) == i]
    rss = max(int(r[2]) for r in rows if int(r[0]) == i)
    cpu = statistics.median(float(r[3]) + float(r[4]) for r in rows if int(r[0]) == i)
    med[i] = statistics.median(t)
    print("%-42s %7.2f s %8.1f MB/s %8.1f MiB peak RSS %6.2f s CPU" % (name, med[i], size / med[i], rss / 1024, cpu))
print("sealmail (both) / openssl pipeline = %.2fx (aim 0.7x)" % (med[2] / med[3]))
print("sealmail (sign) / openssl cms -sign = %.2fx (aim 0.5x)" % (med[0] / med[4]))
print("sealmail (encrypt) / openssl cms -encrypt = %.2fx (aim 0.5x)" % (med[1] / med[5]))
print("for reference, against -binary: both %.2fx, sign %.2fx" % (med[2] / med[6], med[0] / med[7]))
for i in range(8, len(names)):
    print("%s / %s = %.2fx" % (names[i - 8], names[i], med[i - 8] / med[i]))
PYEOF
for mode in sign encrypt both; do
    n=$(ls "$WORK/q-$mode/messages" | wc -l)
    [ "$n" -ge 1 ] || { echo "sealmail ($mode) queued nothing" >&2; exit 1; }
done
