#!/usr/bin/env bash
# Install Kamailio's MSRP and WebSocket modules from Debian, for the interop
# tests (endpoint/kamailio_test.go) and the side-by-side benchmarks. Needs
# root; does nothing when they are already installed.
set -euo pipefail
have() {
	command -v kamailio >/dev/null 2>&1 || return 1
	for m in msrp.so websocket.so xhttp.so; do
		[ -n "$(find /usr/lib -path "*kamailio/modules/$m" 2>/dev/null | head -1)" ] || return 1
	done
}
if have; then
	echo "kamailio: $(kamailio -v | head -1)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-kamailio: need root to apt-get install kamailio" >&2
	exit 1
fi
echo "installing kamailio packages from Debian..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	kamailio kamailio-websocket-modules kamailio-tls-modules >/dev/null
have || { echo "install-kamailio: modules still missing after install" >&2; exit 1; }
echo "kamailio: $(kamailio -v | head -1)"
