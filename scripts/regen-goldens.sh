#!/usr/bin/env bash
# regen-goldens.sh - rewrite tests/blackbox/golden/check/*.txt from the
# built binary (default build/smtp-mimic), as test_check_golden.py says.
# Review `git diff tests/blackbox/golden` afterwards: every change must be
# one you meant.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/smtp-mimic}
for f in tests/blackbox/golden/check/*.txt; do
	base=$(basename "$f" .txt)
	name=${base%%--via-*}
	args=(-P profiles --check -p "$name")
	[ "$base" != "$name" ] && args+=(--via "${base#*--via-}")
	"$bin" "${args[@]}" 2>/dev/null |
		sed -E 's/^(  OpenSSL: +)OpenSSL 3\..*$/\1{linked OpenSSL}/' >"$f"
done
