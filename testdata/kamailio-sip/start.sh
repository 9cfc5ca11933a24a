#!/bin/sh
# Start Kamailio 5.6 as the SIP registrar/proxy of kamailio.cfg beside this
# script (Digest users U / U+"pw", registrations in memory). Run as root on
# Debian bookworm; installs the kamailio package when it is missing.
#
# Environment (all optional):
#   BIND_IP=127.0.0.1 SIP_PORT=5060 DOMAIN=msrpd.test DBGLVL=1
#   RUN_DIR=/tmp/kamailio-sip   (pid file, log, ctl socket)
#   FOREGROUND=1                run in the foreground (Ctrl-C stops it)
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
BIND_IP=${BIND_IP:-127.0.0.1}
SIP_PORT=${SIP_PORT:-5060}
DOMAIN=${DOMAIN:-msrpd.test}
DBGLVL=${DBGLVL:-1}
RUN_DIR=${RUN_DIR:-/tmp/kamailio-sip}
PIDFILE=$RUN_DIR/kamailio.pid
LOG=$RUN_DIR/kamailio.log

if ! command -v kamailio >/dev/null 2>&1; then
	echo "installing kamailio..." >&2
	apt-get update >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y kamailio >/dev/null
fi

mkdir -p "$RUN_DIR"
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
	echo "kamailio already running, pid $(cat "$PIDFILE") (run stop.sh first)" >&2
	exit 1
fi
rm -f "$PIDFILE" "$RUN_DIR/ctl.sock"

set -- -f "$HERE/kamailio.cfg" -P "$PIDFILE" -m 64 -M 8 -E -DD \
	-A "BIND_IP=$BIND_IP" -A "SIP_PORT=$SIP_PORT" -A "DOMAIN=\"$DOMAIN\"" \
	-A "DBGLVL=$DBGLVL" -A "CTL_SOCK=\"unix:$RUN_DIR/ctl.sock\""

kamailio "$@" -c >/dev/null 2>"$RUN_DIR/check.log" || {
	cat "$RUN_DIR/check.log" >&2; echo "config check failed" >&2; exit 1; }

print_addrs() {
	echo "SIP registrar/proxy (Kamailio $(kamailio -v | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p')):"
	echo "  sip      : sip:$BIND_IP:$SIP_PORT (udp and tcp), domain $DOMAIN"
	echo "  auth     : digest realm=\"$DOMAIN\", users alice/alicepw bob/bobpw (any U / Upw)"
	echo "  pid file : $PIDFILE   log: $LOG"
	echo "  kamcmd -s unix:$RUN_DIR/ctl.sock ul.dump"
}

if [ -n "${FOREGROUND:-}" ]; then
	print_addrs
	exec kamailio "$@"
fi

nohup kamailio "$@" >"$LOG" 2>&1 &
i=0
while [ $i -lt 50 ]; do
	if [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
		if command -v ss >/dev/null 2>&1; then
			ss -ltn 2>/dev/null | grep -q ":$SIP_PORT " && break
		else
			sleep 1; break
		fi
	fi
	i=$((i+1)); sleep 0.1
done
if ! [ -s "$PIDFILE" ] || ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
	echo "kamailio failed to start; log follows" >&2
	tail -30 "$LOG" >&2
	exit 1
fi
print_addrs
