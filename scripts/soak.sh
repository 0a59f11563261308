#!/usr/bin/env bash
# soak.sh - hold smtp-mimic under load for minutes, then prove nothing was
# lost, duplicated or leaked.
#
# usage: scripts/soak.sh [--minutes M] [--sessions N] [--binary FILE]
#                        [--out DIR] [--smoke] [--scale F] [--transcript]
#                        [--keep-spool]
#                        [--workers N] [--think-ms MS] [--settle S]
#
#   --minutes M    how long the load runs (default 10; a hard stop)
#   --sessions N   client sessions kept open at once (default 10000)
#   --binary FILE  soak this smtp-mimic instead of building one
#                  (default: a Release build in build/soak-bin)
#   --out DIR      spools, logs, client results, summary.md / summary.json
#                  (default build/soak; emptied of a previous run's files;
#                  the spools are removed at the end unless a spool check
#                  failed or --keep-spool is given)
#   --smoke        about 20 s with 200 sessions and a 3 s idle timeout,
#                  exercising every check (tests/blackbox/soak runs it)
#   --scale F      multiply the session count (default 1; 0.5 for a
#                  sanitizer build, found by ldd or "asan" in its path)
#   --transcript   keep the servers' JSON Lines transcripts and check their
#                  "accepted as" events against the spools (on in --smoke)
#   --workers N, --think-ms MS (mean pause between a client's commands,
#   default 1500; smoke 150), --settle S (default 10; smoke 4), --settle-max S
#   (then wait up to S in all for the fds to come back; default 30; smoke 15),
#   --probe-interval S (default 10; smoke 2), --procs N, --seed N
#
# One smtp-mimic per profile (soak fixtures of standard, exchange2013, esa,
# esa-behind-asa in scripts/soak/profiles: 30 s idle timeout, no session
# caps), on 127.0.0.1; the clients (scripts/soak/load.py) come from
# 127.0.0.2.. in a mix: ~70% well-behaved, ~10% vanish mid-DATA (FIN or RST),
# ~10% never speak, ~5% garbage, ~5% esa / esa-behind-asa. Then it checks:
#   a  every message a client saw accepted is in the spool exactly once
#      (by its X-Soak-Id, byte for byte), and nothing else is;
#   b  spool/tmp is empty;
#   c  RSS after settling <= idle RSS * 1.5 + 8 MiB (both reported);
#   d  open fds after settling == idle (+/- the listeners);
#   e  a probe session every 10 s got its banner within 5 s;
#   f  servers exit 0 on SIGTERM, no sanitizer report; g  the well-behaved
#      sessions saw no timeout or unexpected reply.
# Prints the summary table; exits 1 if any check failed, 2 on usage errors.
# Loopback only; the whole run is under a hard time limit.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
NAME=soak
. "$top/scripts/lib/loadrun.sh"

binary=
out="$top/build/soak"
minutes=10
smoke=0
pass=()
while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) smoke=1; pass+=(--smoke) ;;
	--binary) binary=$2; shift ;;
	--out) out=$2; shift ;;
	--minutes) minutes=$2; pass+=("$1" "$2"); shift ;;
	--transcript | --keep-spool) pass+=("$1") ;;
	--sessions | --scale | --workers | --think-ms | --settle | --settle-max | \
		--probe-interval | --procs | --seed | --late)
		[ $# -ge 2 ] || { echo "soak.sh: $1 needs a value" >&2; exit 2; }
		pass+=("$1" "$2"); shift ;;
	-h | --help) sed -n '2,43p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "soak.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case "$minutes" in
'' | *[!0-9.]* | *.*.*) echo "soak.sh: --minutes wants a number" >&2; exit 2 ;;
esac

"$top/scripts/deps.sh" --test

load_binary "$top/build/soak-bin"

# 10,000 sessions need as many descriptors in the servers and in the load
# clients (all inherit this). Raising the hard limit needs CAP_SYS_RESOURCE;
# without it, go as far as the hard limit (soak.py refuses a session count
# that does not fit).
raise_nofile 65536

# Hard limit on the whole run: the load itself, plus start-up, settling,
# shutdown and the spool check.
if [ "$smoke" = 1 ]; then
	limit=120
else
	limit=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 + 600 }')
fi
mkdir -p "$out"
exec timeout --foreground -k 10 "$limit" \
	python3 -B "$top/scripts/soak/soak.py" --binary "$binary" --out "$out" \
	"${pass[@]}"
