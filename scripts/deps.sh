#!/usr/bin/env bash
# Installs what building, testing, the demo and the benchmark need (Debian 12). Idempotent: does
# nothing when every package is already there. Uses sudo only when not root.
set -euo pipefail

packages=(postgresql-15 postgresql-server-dev-15 libpq-dev libpqxx-dev libgtest-dev cmake g++ make python3 clang libclang-rt-14-dev
          libboost1.81-dev python3-psycopg2)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# server-dev and the server must be the same minor version (the server module's ABI).
server=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)
dev=$(dpkg-query -W -f='${Version}' postgresql-server-dev-15 2>/dev/null || true)
if [ "${#missing[@]}" -eq 0 ] && [ "$server" = "$dev" ]; then
    exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
echo "installing: ${packages[*]}"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
