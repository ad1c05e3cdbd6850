#!/usr/bin/env bash
# S/MIME throughput and memory (issue 4), side by side in one run on the same 100 MB message:
#
#   sealmail -odq with a policy that signs / encrypts / signs then encrypts (the whole
#   submission: read, canonicalise, CMS streamed, queue file fsync'd)
#   vs `openssl cms -sign -stream | openssl cms -encrypt -stream` followed by an fsync
#
# Prints seconds, MB/s and peak RSS (GNU time) for each. A benchmark, not a test.
# Environment: SEALMAIL (binary), SIZE_MB (default 100), PKI (default: the lab PKI in
# ../shared/reference/smime-vectors/lab/pki).
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
WORK="$(mktemp -d /tmp/sealmail-sbench.XXXXXX)"
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
for mode in sign encrypt both; do
    {
        printf '%s\n' 'hostname = "host.example.test"' 'domain = "example.test"' "queue_dir = \"$WORK/q-$mode\"" 'delivery = "queue"'
        printf '%s\n' '[smime]' "certificates = \"$WORK/certs\"" "trust_anchors = \"$PKI/ca.crt\""
        if [ "$mode" != encrypt ]; then
            printf '%s\n' '[[smime.sign]]' 'from = ["*@example.test"]' "certificate = \"$PKI/bob.crt\"" "key = \"$PKI/bob.key\"" 'users = ["*"]'
        fi
        if [ "$mode" != sign ]; then
            printf '%s\n' '[[smime.encrypt]]' 'to = ["alice@example.test"]' 'mode = "required"'
        fi
    } >"$WORK/$mode.toml"
done

measure() {  # name, command...
    local name=$1; shift
    sync
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@"
    read -r secs kib <"$WORK/time"
    $PY -c 'import sys; s=float(sys.argv[2]); print("%-40s %7.2f s %8.1f MB/s %8.1f MiB peak RSS" % (sys.argv[1], s, float(sys.argv[3]) / s, int(sys.argv[4]) / 1024))' \
        "$name" "$secs" "$SIZE_MB" "$kib"
}

echo "message: $(stat -c %s "$WORK/message") bytes; sealmail: $SEALMAIL"
for mode in sign encrypt both; do
    measure "sealmail -odq ($mode)" sh -c "$SEALMAIL -C $WORK/$mode.toml -odq -t < $WORK/message"
done
measure "openssl cms sign|encrypt -stream + fsync" sh -c \
    "openssl cms -sign -stream -binary -md sha256 -signer $PKI/bob.crt -inkey $PKI/bob.key -in $WORK/message \
     | openssl cms -encrypt -stream -aes-256-cbc -out $WORK/openssl.out $PKI/alice.crt && sync -d $WORK/openssl.out"
for mode in sign encrypt both; do
    n=$(ls "$WORK/q-$mode/messages" | wc -l)
    [ "$n" -ge 1 ] || { echo "sealmail ($mode) queued nothing" >&2; exit 1; }
done
