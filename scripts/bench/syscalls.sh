#!/usr/bin/env bash
# syscalls.sh - count the syscalls (strace -f -c) and heap allocations
# (valgrind's "total heap usage") the canned reference server
# (scripts/bench/canned.c) and smtp-mimic make per connection and per
# message, side by side. Counts, not timings: each figure is
# (count after 2M units - count after M units) / M, so start-up and
# shutdown cancel out. A unit is one smtp-source session of one 1 KB
# message (connection per message) or one message on a reused connection
# (smtp-source -d). smtp-mimic runs as bench.sh runs it (profile standard,
# --spool none, -q), with its default --workers and with --workers 1.
#
# usage: scripts/bench/syscalls.sh [--binary FILE] [-m M] [--no-alloc]
#   default binary build/smtp-mimic, M 200. Loopback only; seconds, not
#   minutes (valgrind is the slow part; --no-alloc skips it).
# Why each syscall and allocation smtp-mimic makes beyond the canned
# server's is written in README.md, "Syscalls and allocations per session".
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
binary=$top/build/smtp-mimic
M=200
alloc=1
while [ $# -gt 0 ]; do
	case "$1" in
	--binary) binary=$2; shift ;;
	-m) M=$2; shift ;;
	--no-alloc) alloc=0 ;;
	-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "syscalls.sh: unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
export PATH="$PATH:/usr/sbin:/sbin"
for t in strace smtp-source cc; do
	command -v "$t" >/dev/null || { echo "syscalls.sh: no $t (scripts/deps.sh --test)" >&2; exit 1; }
done
[ "$alloc" = 1 ] && ! command -v valgrind >/dev/null && alloc=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/canned" "$top/scripts/bench/canned.c"
# The certificate made once, natively: key generation under valgrind takes
# minutes.
mkdir "$tmp/cert"
"$binary" -P "$top/profiles" -q --spool none --listen 127.0.0.1:0 \
	--write-cert "$tmp/cert" >/dev/null 2>&1 &
certgen=$!
for _ in $(seq 300); do [ -s "$tmp/cert/key.pem" ] && break; sleep 0.1; done
sleep 0.2
kill "$certgen"; wait "$certgen" 2>/dev/null || true

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
	for _ in $(seq 1200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "syscalls.sh: server on $1 did not come up" >&2; return 1
}
server_cmd() { # NAME PORT -> argv
	case "$1" in
	canned) echo "$tmp/canned $2" ;;
	mimic) echo "$binary -P $top/profiles --profile standard -q --spool none --max-sessions 100000 --cert $tmp/cert/cert.pem --key $tmp/cert/key.pem --listen 127.0.0.1:$2" ;;
	mimic-w1) echo "$binary -P $top/profiles --profile standard -q --spool none --max-sessions 100000 --cert $tmp/cert/cert.pem --key $tmp/cert/key.pem --workers 1 --listen 127.0.0.1:$2" ;;
	esac
}
# run TOOL NAME MODE N OUT: serve N units under TOOL (strace|valgrind)
run() {
	local tool=$1 name=$2 mode=$3 n=$4 outf=$5 p pid
	p=$(port)
	local -a cmd
	read -r -a cmd <<<"$(server_cmd "$name" "$p")"
	# A connection made by wait_port is one more session: both runs pay it.
	if [ "$tool" = strace ]; then
		strace -f -c -o "$outf" -- "${cmd[@]}" &
	else
		valgrind --log-file="$outf" "${cmd[@]}" >/dev/null 2>&1 &
	fi
	pid=$!
	wait_port "$p"
	if [ "$mode" = conn ]; then
		smtp-source -s 1 -m "$n" -l 1024 "127.0.0.1:$p"
	else
		smtp-source -s 1 -d -m "$n" -l 1024 "127.0.0.1:$p"
	fi
	sleep 0.2
	# Signal the traced server, not the tracer: the tracer then reports.
	local child
	child=$(pgrep -P "$pid" | head -1 || true)
	[ "$tool" = valgrind ] && child=$pid
	kill -TERM "${child:-$pid}" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

names=(canned mimic mimic-w1)
for name in "${names[@]}"; do
	for mode in conn reuse; do
		for n in "$M" "$((2 * M))"; do
			run strace "$name" "$mode" "$n" "$tmp/strace.$name.$mode.$n" >/dev/null
			[ "$alloc" = 1 ] && [ "$name" != canned ] &&
				run valgrind "$name" "$mode" "$n" "$tmp/vg.$name.$mode.$n" >/dev/null
		done
	done
done
python3 - "$tmp" "$M" "$alloc" <<'PY'
import os, re, sys
tmp, M, alloc = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
names = ["canned", "mimic", "mimic-w1"]
head = {"canned": "canned", "mimic": "smtp-mimic", "mimic-w1": "smtp-mimic -w1"}

def strace(path):
    calls = {}
    for line in open(path):
        f = line.split()
        # % time, seconds, usecs/call, calls, [errors], syscall
        if len(f) >= 5 and re.match(r"^[\d.]+$", f[0]) and f[-1] != "total":
            calls[f[-1]] = int(f[3])
    return calls

def allocs(path):
    m = re.search(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees, "
                  r"([\d,]+) bytes", open(path).read())
    return tuple(int(x.replace(",", "")) for x in m.groups()) if m else None

for mode, unit in (("conn", "per connection (1 message, 1 KB)"),
                   ("reuse", "per message on a reused connection (-d)")):
    per = {}
    for n in names:
        a = strace("%s/strace.%s.%s.%d" % (tmp, n, mode, M))
        b = strace("%s/strace.%s.%s.%d" % (tmp, n, mode, 2 * M))
        per[n] = {k: (b.get(k, 0) - a.get(k, 0)) / M for k in set(a) | set(b)}
    keys = sorted({k for n in names for k, v in per[n].items() if abs(v) >= 0.05},
                  key=lambda k: (-per["mimic"].get(k, 0), k))
    print("\nsyscalls %s, (N=%d - N=%d)/%d:" % (unit, 2 * M, M, M))
    print("| syscall | " + " | ".join(head[n] for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for k in keys:
        print("| %s | " % k + " | ".join("%.2f" % per[n].get(k, 0) for n in names) + " |")
    print("| **total** | " + " | ".join("%.2f" % sum(per[n].values()) for n in names) + " |")
    if alloc:
        print("\nheap %s (valgrind memcheck, total heap usage):" % unit)
        print("| server | allocs | frees | bytes |")
        print("|---|---|---|---|")
        for n in names[1:]:
            a = allocs("%s/vg.%s.%s.%d" % (tmp, n, mode, M))
            b = allocs("%s/vg.%s.%s.%d" % (tmp, n, mode, 2 * M))
            if a and b:
                print("| %s | %.2f | %.2f | %.0f |" % ((head[n],) + tuple(
                    (y - x) / M for x, y in zip(a, b))))
            else:
                print("| %s | no heap summary | | |" % head[n])
        print("| canned | 0 | 0 | 0 |  (no allocation after start-up)")
PY
