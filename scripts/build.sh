#!/usr/bin/env bash
# Installs dependencies, builds and installs the extension, builds the CMake targets (unit and
# integration tests, benchmark driver). Shared by scripts/demo.sh, scripts/test.sh and bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
sudo=""
if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
make -s -j2
$sudo make -s install >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 -- --no-print-directory >/dev/null
