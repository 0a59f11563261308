#!/usr/bin/env bash
# test.sh - install what is missing, build, and run every test twice:
# once on a normal build, once on an AddressSanitizer + UBSan build; then
# replay the fuzz regression inputs and run every fuzz target for a few
# seconds (scripts/fuzz.sh, a clang build in build-fuzz/).
#
# Unit tests (cmocka) and black-box tests (the real binary over real
# sockets with swaks, curl, Python smtplib, smtp-source and raw sockets)
# are all registered with ctest. Exits non-zero if anything fails.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" --test
# deps.sh installed every client the black-box tests drive: from here a
# missing one is a failure, never a skip (tests/blackbox/lib/clients.py).
export SMTP_MIMIC_REQUIRE_TOOLS=1

# Most black-box tests wait on sockets and timers more than they compute:
# two more jobs than CPUs keeps the CPUs busy (the suite stays under ten
# minutes on two), and no test asserts timing.
jobs=$(($(nproc) + 2))
# The package test (tests/package/test_deb.sh: dpkg -i of a Release .deb,
# about 40 s) runs once, in the plain build, and only as root; otherwise
# ctest shows it skipped with the reason.
if [ "$(id -u)" -eq 0 ]; then
	export SMTP_MIMIC_PACKAGE_TEST=1
else
	echo "== package/deb will be skipped: dpkg -i needs root" >&2
fi
status=0
for variant in build build-asan; do
	dir="$top/$variant"
	extra=()
	skip=()
	[ "$variant" = build-asan ] && extra=(-DSANITIZE=ON)
	# testssl.sh reads the TLS surface (minutes of handshakes, the same
	# code paths test_tls and test_abuse_tls run under the sanitizers):
	# once, in the plain build, keeps the suite under ten minutes.
	[ "$variant" = build-asan ] && skip=(-E 'test_testssl$|^package/deb$')
	echo "== $variant: building" >&2
	"$top/scripts/build.sh" "$dir" "${extra[@]}"
	echo "== $variant: testing" >&2
	# halt_on_error: a sanitizer finding fails the server and so the test.
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir "$dir" --output-on-failure -j"$jobs" "${skip[@]}" ||
		status=1
done
# Fuzz targets (tests/fuzz/): a clang build in build-fuzz/, every
# committed crash input replayed, then a few seconds of each target.
echo "== build-fuzz: building, replaying tests/fuzz/regress/, fuzzing" >&2
"$top/scripts/fuzz.sh" --seconds 3 || status=1
exit $status
