#!/usr/bin/env bash
# A/B comparison of two msrpd binaries on the large-transfer cells: both
# relays run side by side on loopback, the same msrpcat drives them, and
# the runs alternate (A B, then B A, ...) so that a machine shared with
# other work treats both alike. For each run it prints the delivered
# throughput and the relay's own CPU time (from /proc), and at the end the
# medians: MB/s, and MB relayed per second of relay CPU (the figure a busy
# machine disturbs least).
#
#   bench/ab.sh OLD_MSRPD NEW_MSRPD
#
# Environment (optional):
#   MSRPCAT   the load client (default: built from this tree)
#   RUNS      runs per cell and relay (default 5)
#   DURATION  length of each run (default 3s)
#   CELLS     cells to run, of: large64k-ws large64k-tcp large8k-ws
#             large8k-tcp (default: large64k-ws large64k-tcp)
#   PAIRS     sender/receiver pairs (default 4)
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 OLD_MSRPD NEW_MSRPD" >&2
	exit 2
fi
BIN_A=$1
BIN_B=$2
RUNS=${RUNS:-5}
DURATION=${DURATION:-3s}
CELLS=${CELLS:-large64k-ws large64k-tcp}
PAIRS=${PAIRS:-4}
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${MSRPCAT:-}" ]; then
	MSRPCAT=$TMP/msrpcat
	(cd "$REPO_DIR" && go build -o "$MSRPCAT" ./cmd/msrpcat)
fi
CLK_TCK=$(getconf CLK_TCK)

# start NAME BIN: run BIN on free ports; sets NAME_PID, NAME_WS, NAME_TCP.
start() {
	local name=$1 bin=$2 log=$TMP/$1.log
	"$bin" --tcp 127.0.0.1:0 --ws 127.0.0.1:0 --realm 127.0.0.1 \
		--user alice:alicepw --user bob:bobpw --log-level info \
		--max-connections 30000 --forward-chunk 64KiB --max-chunk 16MiB 2>"$log" &
	local pid=$!
	PIDS+=("$pid")
	local tcp="" ws=""
	for _ in $(seq 1 100); do
		tcp=$(sed -n 's/.*listening tcp on \([0-9.:]*\);.*/\1/p' "$log" | head -1)
		ws=$(sed -n 's/.*listening ws on \([0-9.:]*\);.*/\1/p' "$log" | head -1)
		[ -n "$tcp" ] && [ -n "$ws" ] && break
		sleep 0.1
	done
	if [ -z "$tcp" ] || [ -z "$ws" ]; then
		echo "ab: $bin did not start:" >&2
		cat "$log" >&2
		exit 1
	fi
	printf -v "${name}_PID" '%s' "$pid"
	printf -v "${name}_WS" 'ws://%s/' "$ws"
	printf -v "${name}_TCP" 'msrp://%s;tcp' "$tcp"
}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run NAME CELL: one msrpcat run against relay NAME; prints
# "NAME CELL MB/s relay-cpu-s MB-per-relay-cpu-s".
run() {
	local name=$1 cell=$2 url chunk pid t0 t1 out
	case $cell in
	*-ws) url=${name}_WS ;;
	*) url=${name}_TCP ;;
	esac
	url=${!url}
	case $cell in
	large64k-*) chunk=65536 ;;
	large8k-*) chunk=8192 ;;
	esac
	pid=${name}_PID
	pid=${!pid}
	t0=$(ticks "$pid")
	out=$("$MSRPCAT" bench --relay "$url" --user alice:alicepw --user2 bob:bobpw \
		--pairs "$PAIRS" --messages 1000000000 --size 1048576 --chunk "$chunk" --window 32 \
		--duration "$DURATION" --drain-timeout 3s --json 2>"$TMP/bench.err" | grep '^{' | tail -1) || true
	t1=$(ticks "$pid")
	if [ -z "$out" ]; then
		echo "ab: $name $cell failed: $(tail -c 300 "$TMP/bench.err")" >&2
		return
	fi
	python3 -c '
import json, sys
r = json.loads(sys.argv[1])
if r.get("lost") or r.get("corrupted"):
    print("ab: lost or corrupted messages:", r, file=sys.stderr)
cpu = (int(sys.argv[5]) - int(sys.argv[4])) / int(sys.argv[6])
mb = r["mb_per_sec"] * r["seconds"]
print(sys.argv[2], sys.argv[3], "%.1f" % r["mb_per_sec"], "%.2f" % cpu, "%.1f" % (mb / cpu if cpu else 0))
' "$out" "$name" "$cell" "$t0" "$t1" "$CLK_TCK"
}

start A "$BIN_A"
start B "$BIN_B"
echo "A = $BIN_A ($A_WS $A_TCP)"
echo "B = $BIN_B ($B_WS $B_TCP)"
echo "relay cell MB/s relay-cpu-s MB/relay-cpu-s"
for cell in $CELLS; do
	for i in $(seq 1 "$RUNS"); do
		if [ $((i % 2)) = 1 ]; then order="A B"; else order="B A"; fi
		for name in $order; do
			run "$name" "$cell" | tee -a "$TMP/results"
		done
	done
done
echo
echo "medians over $RUNS runs ($DURATION each, $PAIRS pairs, 1 MiB messages):"
python3 - "$TMP/results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, cell, mbs, cpu, eff = line.split()
    rows.setdefault((cell, name), []).append((float(mbs), float(eff)))
for cell in sorted({c for c, _ in rows}):
    for name in ("A", "B"):
        rs = rows.get((cell, name), [])
        if not rs:
            continue
        mbs = statistics.median(r[0] for r in rs)
        eff = statistics.median(r[1] for r in rs)
        print(f"{cell:14} {name}: {mbs:8.1f} MB/s   {eff:8.1f} MB per relay-CPU-second")
EOF
