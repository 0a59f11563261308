#!/usr/bin/env bash
# build.sh - configure and build smtp-mimic into a build directory.
# usage: scripts/build.sh [BUILD_DIR [extra cmake args...]]
# Default BUILD_DIR is build/ (RelWithDebInfo). Used by run.sh and test.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-"$top/build"}
shift || true
cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)" -- --no-print-directory
