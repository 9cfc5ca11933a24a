#!/usr/bin/env bash
# CPU-profile msrpd's relay under benchmark load: bench/msrpd-pprof (the
# relay with net/http/pprof on loopback) is driven by `msrpcat bench` with
# the cells of bench/run.sh, and a 10 s CPU profile is taken in the middle
# of each load. Writes bench/results/profile-CELL.{pb.gz,txt} (flat and
# cumulative top functions) and profile-CELL.json (the load's result).
# Cell idle-heap instead holds IDLE_CONNS idle WebSocket clients (bench/idle)
# and takes a heap profile (in-use bytes) and the runtime's MemStats.
#
#   bench/profile.sh                   all profiled cells
#   CELLS="small-ws" bench/profile.sh
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/relays.sh
. "$BENCH_DIR/relays.sh"
RESULTS=${RESULTS:-$BENCH_DIR/results}
CELLS=${CELLS:-"small-ws small-tcp large64k-tcp idle-heap"}
IDLE_CONNS=${IDLE_CONNS:-10000}
mkdir -p "$RESULTS"
bench_tmp

PPROF_PID=
cleanup() {
	if [ -n "$PPROF_PID" ] && kill -0 "$PPROF_PID" 2>/dev/null; then
		kill -TERM "$PPROF_PID" 2>/dev/null || true
		wait "$PPROF_PID" 2>/dev/null || true
	fi
	if [ -n "${BENCH_TMP_OWNED:-}" ]; then rm -rf "$BENCH_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${MSRPCAT:-}" ]; then
	MSRPCAT=$BENCH_TMP/msrpcat
	(cd "$REPO_DIR" && go build -o "$MSRPCAT" ./cmd/msrpcat)
fi
BIN=$BENCH_TMP/msrpd-pprof
(cd "$REPO_DIR" && go build -o "$BIN" ./bench/msrpd-pprof)
IDLE_BIN=$BENCH_TMP/idle
(cd "$REPO_DIR" && go build -o "$IDLE_BIN" ./bench/idle)

# idle_heap: heap profile of the relay holding IDLE_CONNS idle clients.
idle_heap() {
	local base rss
	base=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$PPROF_PID/status")
	"$IDLE_BIN" --relay "ws://127.0.0.1:$WS_PORT/" --conns "$IDLE_CONNS" >"$BENCH_TMP/idle.out" 2>&1 &
	local ipid=$!
	for _ in $(seq 1 1800); do
		grep -q '^ready' "$BENCH_TMP/idle.out" && break
		sleep 0.1
	done
	sleep 10
	rss=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$PPROF_PID/status")
	curl -sS -o "$RESULTS/profile-idle-heap.pb.gz" "http://127.0.0.1:$PPROF_PORT/debug/pprof/heap?gc=1"
	curl -sS -o "$BENCH_TMP/heap.txt" "http://127.0.0.1:$PPROF_PORT/debug/pprof/heap?debug=1"
	curl -sS -o "$BENCH_TMP/goroutine.txt" "http://127.0.0.1:$PPROF_PORT/debug/pprof/goroutine?debug=1"
	kill -TERM $ipid 2>/dev/null || true
	wait $ipid 2>/dev/null || true
	{
		echo "# idle-heap: $IDLE_CONNS idle WebSocket clients (bench/idle), heap profile after GC"
		echo "# client: $(sed -n 's/^ready //p' "$BENCH_TMP/idle.out"); relay VmRSS $base -> $rss kB; $(head -1 "$BENCH_TMP/goroutine.txt")"
		echo "## memstats"
		grep -E '^# (HeapAlloc|HeapSys|HeapInuse|HeapIdle|HeapReleased|Stack|MSpan|MCache|BuckHashSys|Sys|GCSys|OtherSys|NextGC|NumGC) ' "$BENCH_TMP/heap.txt" | sed 's/^# //'
		echo "## flat"
		go tool pprof -top -sample_index=inuse_space -nodecount=25 "$BIN" "$RESULTS/profile-idle-heap.pb.gz" 2>/dev/null
		echo "## cumulative"
		go tool pprof -top -cum -sample_index=inuse_space -nodecount=30 "$BIN" "$RESULTS/profile-idle-heap.pb.gz" 2>/dev/null
	} >"$RESULTS/profile-idle-heap.txt"
}

free_port TCP_PORT
free_port WS_PORT
free_port PPROF_PORT
"$BIN" --tcp "127.0.0.1:$TCP_PORT" --ws "127.0.0.1:$WS_PORT" --pprof "127.0.0.1:$PPROF_PORT" \
	>"$BENCH_TMP/pprof.log" 2>&1 &
PPROF_PID=$!
wait_listen "$TCP_PORT" $PPROF_PID
wait_listen "$WS_PORT" $PPROF_PID
wait_listen "$PPROF_PORT" $PPROF_PID

for c in $CELLS; do
	if [ "$c" = idle-heap ]; then
		echo "profile: $c" >&2
		idle_heap
		continue
	fi
	case $c in
	small-ws) url="ws://127.0.0.1:$WS_PORT/" flags="--pairs 10 --size 200 --chunk 2048 --window 32" ;;
	small-tcp) url="msrp://127.0.0.1:$TCP_PORT;tcp" flags="--pairs 10 --size 200 --chunk 2048 --window 32" ;;
	large64k-tcp) url="msrp://127.0.0.1:$TCP_PORT;tcp" flags="--pairs 4 --size 1048576 --chunk 65536 --window 32" ;;
	large64k-ws) url="ws://127.0.0.1:$WS_PORT/" flags="--pairs 4 --size 1048576 --chunk 65536 --window 32" ;;
	large8k-tcp) url="msrp://127.0.0.1:$TCP_PORT;tcp" flags="--pairs 4 --size 1048576 --chunk 8192 --window 32" ;;
	*) echo "profile: unknown cell $c" >&2; exit 2 ;;
	esac
	echo "profile: $c" >&2
	# shellcheck disable=SC2086
	timeout 120 "$MSRPCAT" bench --relay "$url" --user alice:alicepw --user2 bob:bobpw \
		$flags --messages 1000000000 --duration 14s --json \
		>"$RESULTS/profile-$c.json" 2>"$BENCH_TMP/bench.err" &
	load=$!
	sleep 2
	curl -sS -o "$RESULTS/profile-$c.pb.gz" \
		"http://127.0.0.1:$PPROF_PORT/debug/pprof/profile?seconds=10"
	wait $load || echo "profile: load for $c exited $?: $(tail -c 300 "$BENCH_TMP/bench.err")" >&2
	{
		echo "# $c: $flags over $url"
		echo "# load result: $(cat "$RESULTS/profile-$c.json")"
		echo "## flat"
		go tool pprof -top -nodecount=30 "$BIN" "$RESULTS/profile-$c.pb.gz" 2>/dev/null
		echo "## cumulative"
		go tool pprof -top -cum -nodecount=40 "$BIN" "$RESULTS/profile-$c.pb.gz" 2>/dev/null
	} >"$RESULTS/profile-$c.txt"
done
echo "profile: wrote $RESULTS/profile-*.txt" >&2
