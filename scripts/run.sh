#!/usr/bin/env bash
# run.sh - install what is missing, build, and start smtp-mimic.
#
# With no arguments: the default profile (standard) on 127.0.0.1:2525,
# accepted mail in ./spool. Any arguments go to smtp-mimic itself, e.g.
#   scripts/run.sh --profile esa
#   scripts/run.sh --profile exchange2013 --listen 127.0.0.1:2526
# Then, from another terminal: swaks --server 127.0.0.1:2525 --to you@lab.test
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh" "$top/build"
exec "$top/build/smtp-mimic" "$@"
