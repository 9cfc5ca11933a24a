#!/usr/bin/env bash
# A/B comparison of two msrpd binaries' memory per idle connection: each
# run starts one relay with the flags of bench/relays.sh, opens CONNS
# authenticated WebSocket clients (bench/idle), waits 25 s and prints the
# growth of the relay's VmRSS per connection. Runs alternate (A B, then
# B A, ...) and the medians come last: single runs move by about half a
# kilobyte (how much freed heap is still resident depends on when the GC
# last ran).
#
#   bench/idle-ab.sh OLD_MSRPD NEW_MSRPD
#
# Environment (optional): RUNS (default 4), CONNS (default 10000).
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 OLD_MSRPD NEW_MSRPD" >&2
	exit 2
fi
RUNS=${RUNS:-4}
CONNS=${CONNS:-10000}
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d)
RELAY=
CLIENT=
cleanup() {
	[ -n "$CLIENT" ] && kill "$CLIENT" 2>/dev/null || true
	[ -n "$RELAY" ] && kill "$RELAY" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
(cd "$REPO_DIR" && go build -o "$TMP/idle" ./bench/idle)

# free_port prints a port nothing listens on.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# one BIN: bytes of RSS per idle connection.
one() {
	local port base rss i
	port=$(free_port)
	"$1" --tcp 127.0.0.1:0 --ws "127.0.0.1:$port" --realm 127.0.0.1 \
		--user alice:alicepw --user bob:bobpw --log-level warn --max-connections 30000 \
		--ping-interval 20s --forward-chunk 64KiB --max-chunk 16MiB >"$TMP/relay.log" 2>&1 &
	RELAY=$!
	sleep 2
	base=$(awk '/^VmRSS/ {print $2}' "/proc/$RELAY/status")
	"$TMP/idle" --relay "ws://127.0.0.1:$port/" --conns "$CONNS" --ping-interval 20s >"$TMP/idle.out" 2>&1 &
	CLIENT=$!
	for i in $(seq 1 600); do
		grep -q '^ready' "$TMP/idle.out" && break
		sleep 0.1
	done
	grep -q '^ready' "$TMP/idle.out" || { echo "idle client did not get ready against $1" >&2; exit 1; }
	sleep 25
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$RELAY/status")
	kill "$CLIENT" "$RELAY"
	wait "$CLIENT" "$RELAY" 2>/dev/null || true
	CLIENT= RELAY=
	echo $(((rss - base) * 1024 / CONNS))
}

: >"$TMP/A"
: >"$TMP/B"
for run in $(seq 1 "$RUNS"); do
	order="A B"
	[ $((run % 2)) -eq 0 ] && order="B A"
	for side in $order; do
		bin=$1
		[ "$side" = B ] && bin=$2
		n=$(one "$bin")
		echo "$side run $run: $n bytes RSS per idle connection"
		echo "$n" >>"$TMP/$side"
	done
done
median() { sort -n "$1" | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
echo
echo "medians over $RUNS runs of $CONNS idle WebSocket connections:"
echo "A: $(median "$TMP/A") bytes RSS per connection ($1)"
echo "B: $(median "$TMP/B") bytes RSS per connection ($2)"
