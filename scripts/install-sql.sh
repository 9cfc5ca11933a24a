#!/usr/bin/env bash
# Install PostgreSQL and MariaDB servers from Debian, for the SQL
# credential tests (userdb/) and the farm test (farm/). The tests start
# their own servers in temporary directories; the packages' own services
# are not used (and not started here). Needs root; does nothing when both
# are already installed.
set -euo pipefail
pg() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
maria() { command -v mariadb-install-db >/dev/null 2>&1 && command -v mariadbd >/dev/null 2>&1; }
if pg && maria; then
	echo "sql: $(ls -d /usr/lib/postgresql/*/ | head -1) and $(mariadbd --version | head -1)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-sql: need root to apt-get install postgresql and mariadb-server" >&2
	exit 1
fi
echo "installing postgresql and mariadb-server from Debian..."
start=$(date +%s)
apt-get update -qq
# policy-rc.d 101 keeps the packages from starting their own servers: the
# tests run theirs, and CI has no use for the system ones.
# (Docker images have one already: leave theirs alone.)
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	postgresql mariadb-server >/dev/null
pg && maria || { echo "install-sql: servers still missing after install" >&2; exit 1; }
echo "sql: installed in $(( $(date +%s) - start ))s: $(ls -d /usr/lib/postgresql/*/ | head -1) and $(mariadbd --version | head -1)"
