#!/usr/bin/env bash
# Side-by-side benchmark of msrpd and Kamailio's msrp module: same machine,
# same loopback, same client (`msrpcat bench`), same flags for both relays.
# Raw results go to bench/results/*.jsonl (one JSON line per run); then
# bench/report turns them into BENCHMARKS.md and PNG charts.
#
#   bench/run.sh                 the whole matrix (about 13 minutes)
#   BENCH_GROUPS="small idle" bench/run.sh
#
# Environment (optional):
#   BENCH_GROUPS  which groups to run, of: idle small size large latency scaling
#              (default: all of them)
#   RUNS       runs per cell and relay (default 3; medians are reported)
#   DURATION   length of each throughput run (default 3s)
#   LAT_DURATION  length of each fixed-rate latency run (default 8s)
#   LAT_RATE   total messages/s of the latency cells (default 5000)
#   IDLE_CONNS idle WebSocket connections (default 10000)
#   IDLE_RUNS  idle runs per relay (default RUNS)
#   MSRPCAT    the load client (default: built from ./cmd/msrpcat; if that
#              has no working `bench` yet, FAKE=1 uses bench/fakecat and
#              marks every result as fake)
#   RESULTS    output directory (default bench/results)
#   PROFILE    1 (default) = also run bench/profile.sh at the end
#   TCP_CHILDREN  Kamailio TCP worker processes (default: nproc)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/relays.sh
. "$BENCH_DIR/relays.sh"

RESULTS=${RESULTS:-$BENCH_DIR/results}
RUNS=${RUNS:-3}
DURATION=${DURATION:-3s}
LAT_DURATION=${LAT_DURATION:-8s}
LAT_RATE=${LAT_RATE:-5000}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_RUNS=${IDLE_RUNS:-$RUNS}
ALL_GROUPS="idle small size large latency scaling"
BENCH_GROUPS=${BENCH_GROUPS:-$ALL_GROUPS}
PROFILE=${PROFILE:-1}
MSGS=1000000000 # per run; --duration bounds each run
# Kamailio's TCP workers: one per CPU did best on the 2-core machine
# (start.sh's default is 4).
TCP_CHILDREN=${TCP_CHILDREN:-$(nproc)}
export TCP_CHILDREN

mkdir -p "$RESULTS"
bench_tmp
export BENCH_KEEP_TMP=1 # relays_stop leaves it; cleanup removes it
IDLE_PID=
cleanup() {
	if [ -n "$IDLE_PID" ]; then kill -TERM "$IDLE_PID" 2>/dev/null || true; fi
	relays_stop
	if [ -n "${BENCH_TMP_OWNED:-}" ]; then rm -rf "$BENCH_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
T_START=$(date +%s)

say() { echo "bench: $(date +%T) $*" >&2; }

# --- tools -------------------------------------------------------------
FAKE_RESULTS=false
if [ -z "${MSRPCAT:-}" ]; then
	MSRPCAT=$BENCH_TMP/msrpcat
	(cd "$REPO_DIR" && go build -o "$MSRPCAT" ./cmd/msrpcat)
	if ! "$MSRPCAT" bench --help >/dev/null 2>&1; then
		if [ "${FAKE:-}" = 1 ]; then
			say "msrpcat bench is not there yet: using bench/fakecat (results are FAKE)"
			MSRPCAT=$BENCH_TMP/fakecat
			(cd "$REPO_DIR" && go build -o "$MSRPCAT" ./bench/fakecat)
			FAKE_RESULTS=true
		else
			say "msrpcat bench does not work yet (set FAKE=1 to test the harness with a fake)"
			exit 1
		fi
	fi
fi
IDLE_BIN=$BENCH_TMP/idle
(cd "$REPO_DIR" && go build -o "$IDLE_BIN" ./bench/idle)
build_msrpd
CLK_TCK=$(getconf CLK_TCK)

# --- machine and versions ------------------------------------------------
write_env() {
	ensure_kamailio
	{
		echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "nproc=$(nproc)"
		echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
		echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
		echo "kernel=$(uname -sr)"
		echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
		echo "go=$(go version | awk '{print $3}')"
		echo "kamailio=$(kamailio -v | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p')"
		echo "msrpd_commit=$(cd "$REPO_DIR" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$REPO_DIR" && git diff --quiet HEAD -- relay transport msrp keepalive cmd endpoint 2>/dev/null || echo "+local changes")"
		echo "kamailio_tcp_children=${TCP_CHILDREN:-4}"
		echo "keepalive_s=$WS_KEEPALIVE"
		echo "runs=$RUNS"
		echo "duration=$DURATION"
		echo "lat_duration=$LAT_DURATION"
		echo "lat_rate=$LAT_RATE"
		echo "idle_conns=$IDLE_CONNS"
		echo "fake=$FAKE_RESULTS"
		echo "msrpcat=$MSRPCAT"
	} >"$RESULTS/env.txt"
}

# --- /proc measurements -------------------------------------------------
relay_pids() { # msrpd|kamailio
	if [ "$1" = msrpd ]; then echo "$MSRPD_PID"; else kamailio_pids; fi
}
sum_status_kb() { # FIELD PIDS...: sum a /proc/PID/status field (kB)
	local f=$1 p s=0 v
	shift
	for p in "$@"; do
		v=$(awk -v f="$f:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		s=$((s + ${v:-0}))
	done
	echo $s
}
sum_pss_kb() { # PIDS...: sum of Pss from smaps_rollup (kB)
	local p s=0 v
	for p in "$@"; do
		v=$(awk '$1 == "Pss:" {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
		s=$((s + ${v:-0}))
	done
	echo $s
}
sum_ticks() { # PIDS...: utime+stime in clock ticks
	local p s=0 v
	for p in "$@"; do
		# fields after "(comm)": state is $1, utime $12, stime $13
		v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)
		s=$((s + ${v:-0}))
	done
	echo $s
}

# cpu_busy prints the machine's CPU use in % over 0.5 s (all cores = 100).
cpu_busy() {
	local a b
	a=$(head -1 /proc/stat)
	sleep 0.5
	b=$(head -1 /proc/stat)
	echo "$a" "$b" | awk '{
		idle1 = $5 + $6; tot1 = 0; for (i = 2; i <= 11; i++) tot1 += $i
		idle2 = $16 + $17; tot2 = 0; for (i = 13; i <= 22; i++) tot2 += $i
		if (tot2 == tot1) { print 0; exit }
		printf "%d\n", 100 * (1 - (idle2 - idle1) / (tot2 - tot1))
	}'
}

# wait_quiet waits (up to QUIET_WAIT s) until other work on the machine
# (other people's tests: the machine is shared) uses under QUIET_PCT % of
# the CPUs while our relays idle, and prints the last reading.
QUIET_PCT=${QUIET_PCT:-15}
QUIET_WAIT=${QUIET_WAIT:-20}
wait_quiet() {
	local busy i
	for i in $(seq 1 $((QUIET_WAIT * 2))); do
		busy=$(cpu_busy)
		[ "$busy" -lt "$QUIET_PCT" ] && break
		[ "$i" = 1 ] && say "machine busy ($busy %), waiting up to ${QUIET_WAIT}s for quiet"
	done
	echo "$busy"
}

alive() { # msrpd|kamailio
	if [ "$1" = msrpd ]; then
		kill -0 "${MSRPD_PID:-0}" 2>/dev/null
	else
		[ -n "${KAM_PID:-}" ] && kill -0 "$KAM_PID" 2>/dev/null
	fi
}
restart() { # msrpd|kamailio
	if [ "$1" = msrpd ]; then msrpd_stop; msrpd_start; else kamailio_stop; kamailio_start; fi
}
ensure_alive() {
	local r
	for r in msrpd kamailio; do
		if ! alive $r; then
			say "$r is not running (crashed?); restarting it"
			echo "{\"event\":\"restart\",\"relay_name\":\"$r\",\"at\":\"$CUR_CELL\"}" >>"$RESULTS/events.jsonl"
			restart $r
		fi
	done
}

# --- idle connections ---------------------------------------------------
idle_run() { # RELAY RUN
	local relay=$1 run=$2 url base_rss base_pss rss pss t0 t1 t2 ready done_line i
	restart "$relay"
	sleep 2
	local busy
	busy=$(wait_quiet)
	if [ "$relay" = msrpd ]; then url=$MSRPD_WS_URL; else url=$KAM_WS_URL; fi
	# shellcheck disable=SC2046
	set -- $(relay_pids "$relay")
	base_rss=$(sum_status_kb VmRSS "$@")
	base_pss=$(sum_pss_kb "$@")
	"$IDLE_BIN" --relay "$url" --conns "$IDLE_CONNS" --ping-interval "${WS_KEEPALIVE}s" \
		>"$BENCH_TMP/idle.out" 2>"$BENCH_TMP/idle.err" &
	local ipid=$!
	IDLE_PID=$ipid
	ready=
	for i in $(seq 1 1800); do
		ready=$(sed -n 's/^ready //p' "$BENCH_TMP/idle.out")
		[ -n "$ready" ] && break
		kill -0 $ipid 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$ready" ]; then
		say "idle client against $relay did not get ready"
		kill -TERM $ipid 2>/dev/null || true
		wait $ipid 2>/dev/null || true
		ready=null
	fi
	sleep 5
	# shellcheck disable=SC2046
	set -- $(relay_pids "$relay")
	t0=$(sum_ticks "$@")
	sleep 10
	t1=$(sum_ticks "$@")
	sleep 10
	t2=$(sum_ticks "$@")
	# shellcheck disable=SC2046
	set -- $(relay_pids "$relay")
	rss=$(sum_status_kb VmRSS "$@")
	pss=$(sum_pss_kb "$@")
	kill -TERM $ipid 2>/dev/null || true
	wait $ipid 2>/dev/null || true
	IDLE_PID=
	done_line=$(sed -n 's/^done //p' "$BENCH_TMP/idle.out")
	printf '{"group":"idle","relay_name":"%s","run":%d,"conns":%d,"procs":%d,"rss_base_kb":%d,"rss_kb":%d,"pss_base_kb":%d,"pss_kb":%d,"ticks":[%d,%d,%d],"clk_tck":%d,"busy_before_pct":%d,"client_ready":%s,"client_done":%s}\n' \
		"$relay" "$run" "$IDLE_CONNS" "$#" "$base_rss" "$rss" "$base_pss" "$pss" "$t0" "$t1" "$t2" "$CLK_TCK" "$busy" \
		"$ready" "${done_line:-null}" >>"$RESULTS/idle.jsonl"
	say "idle $relay run $run: rss $base_rss -> $rss kB, pss $base_pss -> $pss kB, cpu ticks $t0 $t1 $t2; client $ready"
}

group_idle() {
	local run
	rm -f "$RESULTS/idle.jsonl"
	CUR_CELL=idle
	for run in $(seq 1 "$IDLE_RUNS"); do
		if [ $((run % 2)) = 1 ]; then
			idle_run msrpd "$run"; idle_run kamailio "$run"
		else
			idle_run kamailio "$run"; idle_run msrpd "$run"
		fi
	done
	# fresh relays for what follows
	restart msrpd
	restart kamailio
}

# --- throughput and latency ---------------------------------------------
# cell GROUP NAME TRANSPORT "RELAYS" DURATION MSRPCAT-BENCH-FLAGS...
cell() {
	local group=$1 name=$2 transport=$3 relays=$4 dur=$5 run relay order url rc json load busy rt0 rt1 ccpu
	shift 5
	CUR_CELL=$name
	for run in $(seq 1 "$RUNS"); do
		order=$relays
		if [ $((run % 2)) = 0 ]; then order=$(echo "$relays" | tr ' ' '\n' | tac | tr '\n' ' '); fi
		for relay in $order; do
			ensure_alive
			case $relay/$transport in
			msrpd/ws) url=$MSRPD_WS_URL ;;
			msrpd/tcp) url=$MSRPD_TCP_URL ;;
			kamailio/ws) url=$KAM_WS_URL ;;
			kamailio/tcp) url=$KAM_TCP_URL ;;
			esac
			rc=0
			busy=$(wait_quiet)
			load="$(cut -d' ' -f1-3 /proc/loadavg), busy before $busy %"
			# CPU used by the relay (all its processes) and by the client
			# during the run, from /proc and the shell's `times`.
			# shellcheck disable=SC2046
			rt0=$(sum_ticks $(relay_pids "$relay"))
			times >"$BENCH_TMP/times0"
			timeout --kill-after=10 $((${dur%s} + 90)) \
				"$MSRPCAT" bench --relay "$url" --user alice:alicepw --user2 bob:bobpw \
				"$@" --duration "$dur" --drain-timeout 3s --json \
				>"$BENCH_TMP/bench.out" 2>"$BENCH_TMP/bench.err" || rc=$?
			times >"$BENCH_TMP/times1"
			# shellcheck disable=SC2046
			rt1=$(sum_ticks $(relay_pids "$relay"))
			ccpu=$(awk 'FNR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); t[FILENAME] = u[1] * 60 + u[2] + s[1] * 60 + s[2] }
				END { printf "%.2f", t[ARGV[2]] - t[ARGV[1]] }' "$BENCH_TMP/times0" "$BENCH_TMP/times1")
			json=$(grep '^{' "$BENCH_TMP/bench.out" | tail -1 || true)
			[ -n "$json" ] || json=null
			printf '{"group":"%s","cell":"%s","transport":"%s","relay_name":"%s","run":%d,"rc":%d,"fake":%s,"loadavg":"%s","relay_cpu_s":%s,"client_cpu_s":%s,"args":"%s","result":%s}\n' \
				"$group" "$name" "$transport" "$relay" "$run" "$rc" "$FAKE_RESULTS" "$load" \
				"$(awk -v a="$rt0" -v b="$rt1" -v h="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / h }')" "$ccpu" \
				"$* --duration $dur --drain-timeout 3s" "$json" \
				>>"$RESULTS/$group.jsonl"
			if [ "$rc" != 0 ]; then
				say "$name $relay run $run: exit $rc: $(tail -c 300 "$BENCH_TMP/bench.err" | tr '\n' ' ')"
			fi
			say "$name $relay run $run: $json"
		done
	done
}

warmup() {
	local r
	CUR_CELL=warmup
	for r in "$MSRPD_WS_URL" "$KAM_WS_URL" "$MSRPD_TCP_URL" "$KAM_TCP_URL"; do
		timeout 60 "$MSRPCAT" bench --relay "$r" --user alice:alicepw --user2 bob:bobpw \
			--pairs 10 --messages $MSGS --size 200 --chunk 2048 --window 32 --duration 1s --json \
			>/dev/null 2>&1 || say "warm-up against $r failed"
	done
}

both="msrpd kamailio"
group_small() {
	rm -f "$RESULTS/small.jsonl"
	local t
	for t in ws tcp; do
		cell small "small-$t" $t "$both" "$DURATION" \
			--pairs 10 --messages $MSGS --size 200 --chunk 2048 --window 32
	done
}
group_size() {
	rm -f "$RESULTS/size.jsonl"
	local t s
	for t in ws tcp; do
		for s in 2048 8192; do
			cell size "size$s-$t" $t "$both" "$DURATION" \
				--pairs 10 --messages $MSGS --size $s --chunk $s --window 32
		done
	done
}
group_large() {
	rm -f "$RESULTS/large.jsonl"
	local t
	for t in tcp ws; do
		cell large "large8k-$t" $t "$both" "$DURATION" \
			--pairs 4 --messages $MSGS --size 1048576 --chunk 8192 --window 32
		cell large "large64k-$t" $t "msrpd" "$DURATION" \
			--pairs 4 --messages $MSGS --size 1048576 --chunk 65536 --window 32
	done
}
group_latency() {
	rm -f "$RESULTS/latency.jsonl"
	local t
	for t in ws tcp; do
		cell latency "latency-$t" $t "$both" "$LAT_DURATION" \
			--pairs 10 --messages $MSGS --size 200 --chunk 2048 --window 32 --rate "$LAT_RATE"
	done
}
group_scaling() {
	rm -f "$RESULTS/scaling.jsonl"
	local k
	for k in 1 10 100 1000; do
		cell scaling "scaling$k-ws" ws "$both" "$DURATION" \
			--pairs $k --messages $MSGS --size 200 --chunk 2048 --window 32
	done
}

write_env
relays_start
rm -f "$RESULTS/events.jsonl"
CUR_CELL=start
for g in $ALL_GROUPS; do
	case " $BENCH_GROUPS " in *" $g "*) ;; *) continue ;; esac
	say "group $g"
	if [ "$g" != idle ] && [ -z "${WARMED:-}" ]; then warmup; WARMED=1; fi
	"group_$g"
done
relays_stop

if [ "$PROFILE" = 1 ] && [ "$FAKE_RESULTS" = false ]; then
	say "profiling msrpd"
	MSRPCAT=$MSRPCAT RESULTS=$RESULTS BENCH_TMP='' "$BENCH_DIR/profile.sh" || say "profile.sh failed"
fi
say "done in $(($(date +%s) - T_START)) s; results in $RESULTS"
