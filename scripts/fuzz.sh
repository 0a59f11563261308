#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets (tests/fuzz/) with clang into
# build-fuzz/ and run them: first a replay of every committed crash input
# (tests/fuzz/regress/<target>/), then each target for a while, one at a
# time, from its seed corpus (tests/fuzz/corpus/<target>/, read only; what
# a run finds goes to build-fuzz/fuzz-corpus/<target>/) with its
# dictionary. A new crash is saved to tests/fuzz/regress/<target>/ (commit
# it with the fix) and makes the script fail.
#
# usage: scripts/fuzz.sh [--minutes N | --seconds N] [TARGET...]
#   default 1 minute per target; TARGET is e.g. smtp_parse (default: all)
# Prints per target the executions, coverage and speed from libFuzzer's
# final stats. Needs clang (scripts/deps.sh --test installs it).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=60
targets=()
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) secs=$(($2 * 60)); shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	-h | --help) sed -n '2,14p' "$0"; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done

cc=
for c in "${CC_FUZZ:-}" clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
	[ -n "$c" ] && command -v "$c" >/dev/null && { cc=$c; break; }
done
if [ -z "$cc" ]; then
	echo "fuzz.sh: no clang found (scripts/deps.sh --test installs it)" >&2
	exit 1
fi
dir="$top/build-fuzz"
CC=$cc cmake -S "$top" -B "$dir" -DFUZZ=ON -DBUILD_TESTING=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$dir" -j"$(nproc)" -- --no-print-directory >/dev/null

fz="$top/tests/fuzz"
if [ ${#targets[@]} -eq 0 ]; then
	for f in "$fz"/fuzz_*.c; do
		t=${f##*/fuzz_}
		targets+=("${t%.c}")
	done
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}
status=0
summary=()
for t in "${targets[@]}"; do
	bin="$dir/tests/fuzz/fuzz_$t"
	if [ ! -x "$bin" ]; then
		echo "fuzz.sh: no target $t" >&2
		exit 2
	fi
	regress="$fz/regress/$t"
	log="$dir/fuzz-$t.log"
	# 1. the crash inputs found before must all pass now
	if compgen -G "$regress/*" >/dev/null; then
		if "$bin" "$regress"/* >"$log" 2>&1; then
			echo "== $t: replayed $(ls "$regress" | wc -l) regression inputs: ok"
		else
			echo "== $t: a regression input fails (log: $log)" >&2
			tail -30 "$log" >&2
			summary+=("$(printf '%-11s REGRESSION INPUT FAILS' "$t")")
			status=1
			continue
		fi
	fi
	# 2. fuzz for secs seconds
	scratch="$dir/fuzz-corpus/$t"
	mkdir -p "$scratch" "$regress"
	opts=(-max_total_time="$secs" -print_final_stats=1 -timeout=10
		-artifact_prefix="$regress/" -max_len=8192)
	[ -f "$fz/$t.dict" ] && opts+=(-dict="$fz/$t.dict")
	# whole shipped profiles (15 KB) are the profile seeds: keep them whole
	[ "$t" = profile ] && opts+=(-max_len=32768)
	before=$(ls "$regress" | wc -l)
	echo "== $t: fuzzing for ${secs}s" >&2
	rc=0
	"$bin" "${opts[@]}" "$scratch" "$fz/corpus/$t" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log" | tail -1)
	final=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$final")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$final")
	eps=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<<"$final")
	line=$(printf '%-11s execs %10s  cov %5s  ft %6s  exec/s %7s' "$t" \
		"${execs:-?}" "${cov:-?}" "${ft:-?}" "${eps:-?}")
	if [ $rc -ne 0 ] || [ "$(ls "$regress" | wc -l)" -ne "$before" ]; then
		echo "== $t: CRASH (log: $log), input saved in ${regress#$top/}/:" >&2
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" >&2 || tail -20 "$log" >&2
		line+="  CRASH"
		status=1
	fi
	echo "$line"
	summary+=("$line")
done
echo "== fuzz summary (${secs}s per target)"
printf '%s\n' "${summary[@]}"
exit $status
