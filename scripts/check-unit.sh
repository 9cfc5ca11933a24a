#!/usr/bin/env bash
# Check contrib/msrpd.service with `systemd-analyze verify`: any warning
# (an unknown key, a bad value) fails, not only errors. The unit's
# ExecStart names /usr/local/bin/msrpd, which verify wants to exist, so a
# copy pointing at a freshly built msrpd is checked. Without
# systemd-analyze the check is skipped loudly, or fails when
# MSRPD_SYSTEMD=1 (CI sets it; scripts/install-systemd.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v systemd-analyze >/dev/null 2>&1; then
	if [ "${MSRPD_SYSTEMD:-}" = 1 ]; then
		echo "check-unit: systemd-analyze missing (MSRPD_SYSTEMD=1)" >&2
		exit 1
	fi
	echo "*** check-unit: SKIPPED, no systemd-analyze (scripts/install-systemd.sh installs it) ***"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/msrpd" ./cmd/msrpd
sed "s|/usr/local/bin/msrpd|$tmp/msrpd|" contrib/msrpd.service >"$tmp/msrpd.service"
if ! out=$(systemd-analyze verify "$tmp/msrpd.service" 2>&1) || [ -n "$out" ]; then
	echo "check-unit: contrib/msrpd.service:" >&2
	echo "$out" | sed "s|$tmp/||g" >&2
	exit 1
fi
echo "check-unit: contrib/msrpd.service verified"
