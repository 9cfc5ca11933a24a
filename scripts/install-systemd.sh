#!/usr/bin/env bash
# Install Debian's systemd for `systemd-analyze verify` of
# contrib/msrpd.service (scripts/check-unit.sh). Needs root; does nothing
# when systemd-analyze is there.
set -euo pipefail
if command -v systemd-analyze >/dev/null 2>&1; then
	echo "systemd-analyze: $(systemd-analyze --version | head -1)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-systemd: need root to apt-get install systemd" >&2
	exit 1
fi
echo "installing systemd from Debian..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
command -v systemd-analyze >/dev/null 2>&1 || { echo "install-systemd: systemd-analyze still missing after install" >&2; exit 1; }
echo "systemd-analyze: $(systemd-analyze --version | head -1)"
