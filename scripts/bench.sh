#!/usr/bin/env bash
# bench.sh - benchmark smtp-mimic against Postfix's smtp-sink (and openssl
# s_server for TLS) in one run, and write a Markdown table and a PNG plot.
#
# usage: scripts/bench.sh [--smoke] [--binary FILE] [--out DIR] [--runs N]
#                         [--only plain,transcript,http,spool,tls,starttls,idle,latency]
#                         [--idle 1000,10000,30000] [--workers-sweep]
#
#   --only LIST    measure only these figure groups (default all); in
#                  "transcript" both contenders are smtp-mimic, with and
#                  without --transcript FILE (ratio = with/without).
#                  In "http" both are smtp-mimic too, with --http and one
#                  SSE subscriber reading /api/v1/events, and without.
#   --smoke        tiny counts, a few seconds: proves every measurement path
#                  (and the plot) still runs; the numbers mean nothing.
#                  tests/blackbox/bench/test_bench_smoke.py runs this.
#   --binary FILE  measure this smtp-mimic instead of building one
#                  (default: a Release build in build/bench-bin).
#   --out DIR      where bench.md, bench.json, bench.png (and the plot's
#                  data) go (default: build/bench/). The spools live there
#                  during the run; DIR is made o+x because smtp-sink runs
#                  as nobody.
#   --runs N       runs per contender (default 3; smoke 1).
#   --workers-sweep  only the worker sweep (same as --only workers):
#                  smtp-mimic --workers 1..nproc+1 against --workers 1 and
#                  the limit, plain 1 KB rows, client on the same CPUs and
#                  pinned apart with taskset; not part of the default run.
#
# The limit columns: scripts/bench/canned.c, a canned-reply epoll server
# built here with cc -O2 (into DIR), joins the plain throughput rows as the
# floor no SMTP sink can beat; openssl s_server is the TLS limit.
#
# Installs the missing packages (scripts/deps.sh --test), builds, raises the
# open-files limit as far as it may, then runs scripts/bench/bench.py:
# every figure is measured with the contenders alternating A/B/A/B on fresh
# server processes, and the table reports medians and the ratio
# smtp-mimic / reference. Loopback only (127.0.0.1, plus 127.0.0.2.. as
# client source addresses for many idle sessions); every load is bounded in
# count and time, and the whole run is under a hard time limit.
# Not a test: only the --smoke run is (it asserts no timings).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
NAME=bench
. "$top/scripts/lib/loadrun.sh"

smoke=0
binary=
out="$top/build/bench"
pass=()
while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) smoke=1; pass+=(--smoke) ;;
	--binary) binary=$2; shift ;;
	--out) out=$2; shift ;;
	--runs | --only | --idle) pass+=("$1" "$2"); shift ;;
	--workers-sweep) pass+=(--only workers) ;;
	-h | --help) sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

"$top/scripts/deps.sh" --test
# smtp-sink and smtp-source live in /usr/sbin.
export PATH="$PATH:/usr/sbin:/sbin"

load_binary "$top/build/bench-bin"

# Tens of thousands of sessions need as many descriptors, in the server and
# in the load client (both inherit this). Raising the hard limit needs
# CAP_SYS_RESOURCE; without it, go up to the hard limit and let bench.py
# cap the session counts (it says so in the table).
raise_nofile 70000

limit=3600
[ "$smoke" = 1 ] && limit=240
mkdir -p "$out"
cc -O2 -o "$out/canned" "$top/scripts/bench/canned.c"
# --foreground: the benchmark's own children get the signal via bench.py.
exec timeout --foreground -k 10 "$limit" \
	python3 -B "$top/scripts/bench/bench.py" --binary "$binary" \
	--out "$out" --canned "$out/canned" "${pass[@]}"
