#!/usr/bin/env bash
# Start-up of the release sealmail (issue 13), side by side in one run:
#
#   sealmail -bp          (empty queue: the floor of every sendmail call)
#   msmtp --version       (a C program with its TLS library, the issue's peer)
#   /bin/true             (the floor of exec on this machine)
#
# Wall time: hyperfine -N in ROUNDS rounds of all three (so that a noisy minute hurts them
# alike); medians over all runs, and the median over rounds of each round's ratio. Page faults
# (GNU time, minor faults; the same from run to run) and, when valgrind is installed,
# instructions in user space (callgrind, the dynamic loader included) on a copy without debug
# information (valgrind cannot read the toolchain's DWARF 5).
#
# A benchmark, not a test; but `--check FILE` (Tests/run.sh) exits 1 when the ratio to
# /bin/true of the wall time (10th percentiles: what the machine does when nothing else gets in
# the way, steadier than medians on a loaded machine) or of the page faults is more than twice
# the one FILE records.
#
# Environment: SEALMAIL (binary; without it a release build is made), RUNS (per command, default
# 300), ROUNDS (default 10).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNS="${RUNS:-300}"
ROUNDS="${ROUNDS:-10}"
CHECK=""
if [ "${1:-}" = "--check" ]; then CHECK="$2"; fi
PY=/usr/bin/python3

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
[ -n "$CHECK" ] || command -v msmtp >/dev/null || need+=(msmtp)
if [ "${#need[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ -z "${SEALMAIL:-}" ]; then
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --product sealmail >&2)
    SEALMAIL="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/sealmail"
fi

WORK="$(mktemp -d /tmp/sealmail-startup.XXXXXX)"
[ -n "$WORK" ] && [ -d "$WORK" ] || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
printf '%s\n' 'hostname = "host.example.com"' 'domain = "example.com"' "queue_dir = \"$WORK/q\"" \
    'delivery = "queue"' >"$WORK/seal.toml"
SEAL="$SEALMAIL -C $WORK/seal.toml -bp"
[ "$($SEAL)" = "Mail queue is empty" ] || { echo "startup.sh: $SEAL did not list an empty queue" >&2; exit 1; }

names=("sealmail -bp" "/bin/true")
cmds=("$SEAL" "/bin/true")
if [ -z "$CHECK" ] && command -v msmtp >/dev/null; then names+=("msmtp --version"); cmds+=("msmtp --version"); fi

per=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
for round in $(seq "$ROUNDS"); do
    args=()
    for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    hyperfine -N --warmup 5 --runs "$per" --export-json "$WORK/round$round.json" "${args[@]}" >/dev/null 2>&1
done

# Minor page faults, 20 runs each (the median; they vary by a few).
for i in "${!cmds[@]}"; do
    for _ in $(seq 20); do
        /usr/bin/time -f "$i %R" -a -o "$WORK/faults" ${cmds[$i]} >/dev/null 2>&1
    done
done

# Instructions (user space, dynamic loader included), when valgrind is there.
: >"$WORK/instructions"
if [ -z "$CHECK" ] && command -v valgrind >/dev/null; then
    objcopy --strip-debug "$SEALMAIL" "$WORK/sealmail-nodebug"
    for i in "${!cmds[@]}"; do
        cmd="${cmds[$i]}"
        [ "$i" = 0 ] && cmd="$WORK/sealmail-nodebug -C $WORK/seal.toml -bp"
        n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null $cmd 2>&1 >/dev/null | awk '/Collected/ {print $4}')
        echo "$i $n" >>"$WORK/instructions"
    done
fi

echo "sealmail: $SEALMAIL ($(stat -c %s "$SEALMAIL") bytes); $ROUNDS rounds of $per runs each; load: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$WORK" "$ROUNDS" "$CHECK" "${names[@]}" <<'PYEOF'
import json, statistics, sys
work, rounds, check, names = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
times = {n: [] for n in names}
ratios = {n: [] for n in names}
for r in range(1, rounds + 1):
    med = {x["command"]: statistics.median(x["times"]) for x in json.load(open("%s/round%d.json" % (work, r)))["results"]}
    for x in json.load(open("%s/round%d.json" % (work, r)))["results"]:
        times[x["command"]] += x["times"]
    for n in names:
        ratios[n].append(med["sealmail -bp"] / med[n])
faults = {n: [] for n in names}
for line in open(work + "/faults"):
    i, f = line.split()
    faults[names[int(i)]].append(int(f))
instr = {}
for line in open(work + "/instructions"):
    i, n = line.split()
    instr[names[int(i)]] = int(n.replace(",", ""))
print("%-18s %10s %10s %12s %14s" % ("command", "median ms", "min ms", "page faults", "instructions"))
for n in names:
    print("%-18s %10.2f %10.2f %12d %14s" % (n, statistics.median(times[n]) * 1000, min(times[n]) * 1000,
          statistics.median(faults[n]), "{:,}".format(instr[n]) if n in instr else "-"))
def p10(xs):
    return sorted(xs)[len(xs) // 10]
fig = {}
for n in names[1:]:
    short = n.split()[0].split("/")[-1]
    print("sealmail -bp / %-16s time %.2fx (median of the rounds' ratios), %.2fx (10th percentiles); page faults %.2fx"
          % (short, statistics.median(ratios[n]), p10(times["sealmail -bp"]) / p10(times[n]),
             statistics.median(faults["sealmail -bp"]) / statistics.median(faults[n])))
    # The guard's figures: the 10th percentile, as what this machine does when nothing else
    # gets in the way (medians move with the load by 2x and more); faults do not move.
    fig["time_vs_" + short] = p10(times["sealmail -bp"]) / p10(times[n])
    fig["faults_vs_" + short] = statistics.median(faults["sealmail -bp"]) / statistics.median(faults[n])
if check:
    recorded = {}
    for line in open(check):
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            recorded[parts[0]] = float(parts[1])
    bad = [k for k in ("time_vs_true", "faults_vs_true") if fig[k] > 2 * recorded[k]]
    for k in ("time_vs_true", "faults_vs_true"):
        print("check %-15s %.2f (recorded %.2f, limit %.2f)" % (k, fig[k], recorded[k], 2 * recorded[k]))
    if bad:
        print("start-up regressed past twice the recorded figure: " + ", ".join(bad))
        sys.exit(1)
PYEOF
