#!/usr/bin/env bash
# repro-cscwh48138.sh - reproduce Cisco bug CSCwh48138 (seed 000) end to end.
#
# Starts smtp-mimic with the scenario profile exchange2013-cscwh48138 (the
# bug laid on top of exchange2013, Exchange 2013 on Windows Server 2012 R2),
# then delivers one message three times with swaks over STARTTLS, once per
# gateway cipher string of FACTS.md 3:
#   1. the AsyncOS 15.0 prompt value, on OpenSSL's default list
#   2. the long-standing AsyncOS default
#   3. the published workaround (2. minus nine suites)
# and prints a side-by-side verdict with the transcript lines that prove it.
# Expected (FACTS.md 3): 1 and 2 fail (FIN right after the TLS handshake,
# the client reports a network error), 3 delivers. Exits non-zero otherwise.
# (Against plain exchange2013 all three deliver: the bug is the scenario's.)
#
# usage: scripts/repro-cscwh48138.sh [--port N] [--binary PATH] [--keep]
set -euo pipefail
NAME=repro-cscwh48138 HELP=2,16
. "$(dirname "$0")/lib/demo.sh"

base='ECDH+aRSA:ECDH+ECDSA:DHE+DSS+AES:AES128:AES256:!SRP:!AESGCM+DH+aRSA:!AESGCM+RSA:!aNULL:!eNULL:!DES:!3DES:!IDEA:!RC2:-IDEA:-aNULL:-EXPORT'
names=("AsyncOS 15.0 prompt" "AsyncOS default" "workaround")
strings=(
	'DEFAULT:!aNULL:!eNULL'
	"$base"
	"$base:!DHE-RSA-AES256-SHA:!DHE-RSA-AES128-CCM:!DHE-RSA-AES256-CCM:!ECDHE-ECDSA-CAMELLIA128-SHA256:!ECDHE-RSA-CAMELLIA128-SHA256:!ECDHE-ECDSA-CAMELLIA256-SHA384:!ECDHE-RSA-CAMELLIA256-SHA384:!ECDHE-ECDSA-AES128-CCM:!ECDHE-ECDSA-AES256-CCM"
)
want=(fails fails delivers)

start_server ex --profile exchange2013-cscwh48138

status=0
printf '\nsmtp-mimic %s as exchange2013-cscwh48138 on 127.0.0.1:%s (scenario CSCwh48138 on exchange2013)\n\n' \
	"$("$bin" --version | cut -d' ' -f2)" "$port"
for i in 0 1 2; do
	before=$(spooled ex)
	# The gateway's outbound method is "TLS v1.2" (seed 000's sslconfig).
	swaks --server "127.0.0.1:$port" --tls --tls-protocol tlsv1_2 \
		--tls-cipher "${strings[$i]}" --from "gw@esa.lab.test" \
		--to "user@ex2013.lab.test" --helo "esa.lab.test" \
		--header "Subject: CSCwh48138 attempt $((i + 1))" \
		>"$work/swaks.$i" 2>&1 || true
	after=$(spooled ex)
	session=$((i + 1))
	if [ "$after" -gt "$before" ]; then got=delivers; else got=fails; fi
	[ "$got" = "${want[$i]}" ] || status=1

	printf '%d. %-20s %s\n   cipher string: %s\n' "$session" "${names[$i]}" \
		"$(echo "$got" | tr a-z A-Z)$([ "$got" = "${want[$i]}" ] && echo '' || echo "  (expected ${want[$i]}!)")" \
		"${strings[$i]}"
	echo "   client (swaks):"
	grep -E '^=== TLS started|^\*\*\*|<~  250 2\.6|^ ~> (EHLO|MAIL)' "$work/swaks.$i" |
		sed 's/^/     /' | head -4
	echo "   server transcript:"
	python3 - "$work/ex.jsonl" "$session" <<'EOF'
import json, sys
path, sid = sys.argv[1], int(sys.argv[2])
for line in open(path, encoding="utf-8"):
    e = json.loads(line)
    if e["session"] != sid:
        continue
    d, t = e["dir"], e["text"]
    if d == "rule":
        print("     ! rule %s: %s" % (e["rule"], e.get("why", "")))
    elif d == "tls" and (t.startswith("handshake") or "alert" in t):
        print("     TLS: " + t)
    elif d == "tls" and t.startswith("ClientHello"):
        dhe = "offers" if "TLS_DHE_RSA_WITH_AES_256_CBC_SHA," in t + "," else "does not offer"
        print("     TLS: ClientHello %s TLS_DHE_RSA_WITH_AES_256_CBC_SHA" % dhe)
    elif d == "close":
        print("     close " + t)
    elif d == "S" and t.startswith("250 2.6.0"):
        print("     S: " + t)
EOF
	echo
done
if [ $status -eq 0 ]; then
	echo "verdict: as FACTS.md 3 says -- the two AsyncOS 15.0 strings fail, the workaround delivers"
else
	echo "verdict: MISMATCH with FACTS.md 3 (see above; run with --keep to inspect $work)"
fi
exit $status
