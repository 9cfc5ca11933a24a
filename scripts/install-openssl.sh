#!/usr/bin/env bash
# Install the openssl command from Debian, for the test that runs the
# README's TLS lab (cmd/msrpcat TestREADMELab). Needs root; does nothing
# when openssl is already installed.
set -euo pipefail
if command -v openssl >/dev/null 2>&1; then
	echo "openssl: $(openssl version)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-openssl: need root to apt-get install openssl" >&2
	exit 1
fi
echo "installing openssl from Debian..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
command -v openssl >/dev/null 2>&1 || { echo "install-openssl: still missing after install" >&2; exit 1; }
echo "openssl: $(openssl version)"
