#!/usr/bin/env bash
# Start msrpd and Kamailio's msrp module side by side on loopback, on free
# ports, with the same users (alice/alicepw, bob/bobpw, realm 127.0.0.1),
# and stop both reliably.
#
# Run:    bench/relays.sh [COMMAND [ARGS...]]
#         starts both relays, exports the variables below, runs COMMAND (or,
#         without one, prints the addresses and waits for Ctrl-C), then
#         stops both relays, also on error or signal.
# Source: . bench/relays.sh   (defines the functions, starts nothing)
#
# Exported once started:
#   MSRPD_PID MSRPD_WS_URL MSRPD_TCP_URL MSRPD_WS_PORT MSRPD_TCP_PORT
#   KAM_PID   KAM_WS_URL   KAM_TCP_URL   KAM_WS_PORT   KAM_TCP_PORT  KAM_RUN_DIR
#   (URLs in msrpcat form: ws://127.0.0.1:PORT/ and msrp://127.0.0.1:PORT;tcp)
#
# Environment (optional):
#   BENCH_TMP      scratch directory (default: a new mktemp -d)
#   MSRPD_BIN      msrpd binary to run (default: built from this tree)
#   MSRPD_EXTRA    extra msrpd flags (word-split)
#   KAM_DIR        directory of start.sh/stop.sh/kamailio.cfg
#                  (default: testdata/kamailio-msrp, a copy of ../shared/peers/kamailio)
#   TCP_CHILDREN   Kamailio TCP worker processes (default 4, as start.sh)
#   KAM_SHM_MB     Kamailio shared memory in MB (default 2048: each
#                  connection holds a 64 KiB read buffer in shm)
#   WS_KEEPALIVE   seconds idle before either relay pings (default 20)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
KAM_DIR=${KAM_DIR:-$REPO_DIR/testdata/kamailio-msrp}
BIND_IP=127.0.0.1
REALM=127.0.0.1
WS_KEEPALIVE=${WS_KEEPALIVE:-20}

log() { echo "relays: $*" >&2; }

# free_port VAR sets VAR to a TCP port nobody listens on and no earlier
# call handed out, below the ephemeral range so that client sockets never
# take it.
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 10000))
		case " ${USED_PORTS:-} " in *" $p "*) continue ;; esac
		if ! ss -Hltn "sport = :$p" | grep -q .; then
			USED_PORTS="${USED_PORTS:-} $p"
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
	log "no free port found"
	return 1
}

# wait_listen PORT PID: wait up to 10 s until PORT listens while PID lives.
wait_listen() {
	local port=$1 pid=$2
	for _ in $(seq 1 100); do
		if ss -Hltn "sport = :$port" | grep -q .; then return 0; fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

bench_tmp() {
	if [ -z "${BENCH_TMP:-}" ]; then
		BENCH_TMP=$(mktemp -d /tmp/msrpd-bench.XXXXXX)
		BENCH_TMP_OWNED=1
	fi
	mkdir -p "$BENCH_TMP"
	export BENCH_TMP
}

ensure_kamailio() {
	local need=0 m
	command -v kamailio >/dev/null 2>&1 || need=1
	for m in msrp.so websocket.so xhttp.so; do
		[ -n "$(find /usr/lib -path "*kamailio/modules/$m" 2>/dev/null | head -1)" ] || need=1
	done
	if [ $need = 1 ]; then
		log "installing kamailio kamailio-websocket-modules kamailio-tls-modules from Debian"
		apt-get update >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
			kamailio kamailio-websocket-modules kamailio-tls-modules >/dev/null
	fi
}

build_msrpd() {
	bench_tmp
	if [ -z "${MSRPD_BIN:-}" ]; then
		MSRPD_BIN=$BENCH_TMP/msrpd
		(cd "$REPO_DIR" && go build -o "$MSRPD_BIN" ./cmd/msrpd)
	fi
	export MSRPD_BIN
}

msrpd_start() {
	build_msrpd
	free_port MSRPD_TCP_PORT
	free_port MSRPD_WS_PORT
	# shellcheck disable=SC2086
	"$MSRPD_BIN" --tcp "$BIND_IP:$MSRPD_TCP_PORT" --ws "$BIND_IP:$MSRPD_WS_PORT" \
		--realm "$REALM" --user alice:alicepw --user bob:bobpw \
		--log-level warn --max-connections 30000 \
		--ping-interval "${WS_KEEPALIVE}s" --forward-chunk 64KiB --max-chunk 16MiB \
		${MSRPD_EXTRA:-} >"$BENCH_TMP/msrpd.log" 2>&1 &
	MSRPD_PID=$!
	if ! wait_listen "$MSRPD_TCP_PORT" "$MSRPD_PID" || ! wait_listen "$MSRPD_WS_PORT" "$MSRPD_PID"; then
		log "msrpd did not start; log follows"
		tail -20 "$BENCH_TMP/msrpd.log" >&2
		return 1
	fi
	MSRPD_WS_URL="ws://$BIND_IP:$MSRPD_WS_PORT/"
	MSRPD_TCP_URL="msrp://$BIND_IP:$MSRPD_TCP_PORT;tcp"
	export MSRPD_PID MSRPD_TCP_PORT MSRPD_WS_PORT MSRPD_WS_URL MSRPD_TCP_URL
	log "msrpd pid $MSRPD_PID: $MSRPD_WS_URL $MSRPD_TCP_URL"
}

msrpd_stop() {
	local pid=${MSRPD_PID:-}
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			log "msrpd pid $pid still alive after 5 s, sending KILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
	MSRPD_PID=
}

kamailio_start() {
	bench_tmp
	ensure_kamailio
	free_port KAM_TCP_PORT
	free_port KAM_WS_PORT
	KAM_RUN_DIR=$BENCH_TMP/kamailio
	mkdir -p "$KAM_RUN_DIR"
	RUN_DIR=$KAM_RUN_DIR BIND_IP=$BIND_IP REALM=$REALM MSRP_PORT=$KAM_TCP_PORT WS_PORT=$KAM_WS_PORT \
		WS_KEEPALIVE=$WS_KEEPALIVE TCP_CHILDREN=${TCP_CHILDREN:-4} TCP_MAX_CONNECTIONS=30000 \
		SHM_MB=${KAM_SHM_MB:-2048} DBGLVL=0 \
		sh "$KAM_DIR/start.sh" >"$BENCH_TMP/kamailio-start.log" 2>&1 || {
		log "kamailio did not start; log follows"
		cat "$BENCH_TMP/kamailio-start.log" >&2
		tail -20 "$KAM_RUN_DIR/kamailio.log" >&2 2>/dev/null || true
		return 1
	}
	KAM_PID=$(cat "$KAM_RUN_DIR/kamailio.pid")
	if ! wait_listen "$KAM_WS_PORT" "$KAM_PID"; then
		log "kamailio does not listen on $KAM_WS_PORT"
		return 1
	fi
	KAM_WS_URL="ws://$BIND_IP:$KAM_WS_PORT/"
	KAM_TCP_URL="msrp://$BIND_IP:$KAM_TCP_PORT;tcp"
	export KAM_PID KAM_TCP_PORT KAM_WS_PORT KAM_WS_URL KAM_TCP_URL KAM_RUN_DIR
	log "kamailio pid $KAM_PID: $KAM_WS_URL $KAM_TCP_URL"
}

kamailio_stop() {
	[ -n "${KAM_RUN_DIR:-}" ] || return 0
	if [ -s "$KAM_RUN_DIR/kamailio.pid" ]; then
		RUN_DIR=$KAM_RUN_DIR sh "$KAM_DIR/stop.sh" >/dev/null 2>&1 || true
	fi
	# stop.sh signals the main process only; wait for its children too.
	if [ -n "${KAM_PID:-}" ]; then
		for _ in $(seq 1 50); do
			[ -z "$(kamailio_pids)" ] && break
			sleep 0.1
		done
	fi
	KAM_PID=
}

# kamailio_pids prints the main Kamailio pid and its children's.
kamailio_pids() {
	[ -n "${KAM_PID:-}" ] || return 0
	kill -0 "$KAM_PID" 2>/dev/null || return 0
	echo "$KAM_PID"
	ps -o pid= --ppid "$KAM_PID" | tr -d ' '
}

relays_start() {
	msrpd_start
	kamailio_start
}

relays_stop() {
	msrpd_stop
	kamailio_stop
	if [ -n "${BENCH_TMP_OWNED:-}" ] && [ -z "${BENCH_KEEP_TMP:-}" ]; then
		rm -rf "$BENCH_TMP"
	fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	trap 'relays_stop; [ -z "${SLEEP_PID:-}" ] || kill "$SLEEP_PID" 2>/dev/null || true' EXIT
	trap 'exit 130' INT TERM
	relays_start
	if [ $# -gt 0 ]; then
		"$@"
	else
		cat <<EOF
msrpd    pid $MSRPD_PID   ws $MSRPD_WS_URL   tcp $MSRPD_TCP_URL
kamailio pid $KAM_PID   ws $KAM_WS_URL   tcp $KAM_TCP_URL
users alice/alicepw bob/bobpw, realm $REALM; Ctrl-C stops both
EOF
		while :; do
			sleep 3600 &
			SLEEP_PID=$!
			wait "$SLEEP_PID" || true
		done
	fi
fi
