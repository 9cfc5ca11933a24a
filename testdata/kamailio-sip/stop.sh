#!/bin/sh
# Stop the Kamailio started by start.sh (only the pid in its pid file).
RUN_DIR=${RUN_DIR:-/tmp/kamailio-sip}
PIDFILE=$RUN_DIR/kamailio.pid
if [ ! -s "$PIDFILE" ]; then
	echo "no pid file $PIDFILE" >&2
	exit 0
fi
PID=$(cat "$PIDFILE")
if kill -0 "$PID" 2>/dev/null; then
	kill "$PID"
	i=0
	while kill -0 "$PID" 2>/dev/null && [ $i -lt 50 ]; do i=$((i+1)); sleep 0.1; done
	if kill -0 "$PID" 2>/dev/null; then
		echo "pid $PID still alive after 5 s, sending KILL" >&2
		kill -9 "$PID"
	fi
	echo "stopped kamailio pid $PID"
else
	echo "pid $PID not running"
fi
rm -f "$PIDFILE"
