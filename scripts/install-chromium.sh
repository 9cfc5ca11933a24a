#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (web/browser_test.go).
# Needs root; does nothing when chromium is already installed. Prints how
# long the install took (it counts toward CI's time budget).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
	echo "chromium: $(chromium --version 2>/dev/null | head -1)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-chromium: need root to apt-get install chromium" >&2
	exit 1
fi
start=$(date +%s)
echo "installing chromium from Debian..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null 2>&1 || { echo "install-chromium: chromium still missing after install" >&2; exit 1; }
echo "chromium: $(chromium --version 2>/dev/null | head -1), installed in $(($(date +%s) - start)) s"
