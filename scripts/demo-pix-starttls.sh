#!/usr/bin/env bash
# demo-pix-starttls.sh - seed 001 live: a Cisco ESA offers STARTTLS, an ASA
# with "inspect esmtp" (no allow-tls) in front of it masks the offer as
# XXXXXXXA and turns the STARTTLS command into X's, so the ESA answers
# "500 #5.5.1 command not recognized".
#
# Part 1, through the firewall (profile esa-behind-asa = esa + via
# asa-esmtp-inspect):
#   a. the masked banner and EHLO, as a client sees them (swaks);
#   b. a client that sends STARTTLS anyway (openssl s_client, which tries
#      even when it is not advertised) gets the 500;
#   c. an opportunistic client (swaks --tls-optional-strict) falls back to
#      plain text and delivers;
#   d. a client that requires TLS (swaks --tls) refuses to send.
# Part 2, the firewall fixed ("no inspect esmtp" = --via none): STARTTLS is
# offered and TLS is negotiated; the message is delivered over TLS.
# Exits non-zero if any outcome differs from FACTS.md 4-5 and seed 001.
#
# usage: scripts/demo-pix-starttls.sh [--port N] [--binary PATH] [--keep]
set -euo pipefail
NAME=demo-pix-starttls HELP=2,21
. "$(dirname "$0")/lib/demo.sh"

status=0
check() { # $1 = what, $2 = file, $3 = fixed string expected in it
	if grep -qF -- "$3" "$2"; then
		printf '   ok    %s\n' "$1"
	else
		printf '   FAIL  %s (expected: %s)\n' "$1" "$3"
		status=1
	fi
}
show() { grep -E "$2" "$1" | sed 's/^/     /' || true; }

swaks_args=(--server "127.0.0.1:$port" --from sender@example.test
	--to user@esa.lab.test --helo client.example.test)

echo
echo "== 1. Through the ASA (inspect esmtp, no allow-tls): profile esa-behind-asa"
start_server asa --profile esa-behind-asa

echo " a. what the client sees (swaks, plain):"
swaks "${swaks_args[@]}" --quit-after EHLO >"$work/a.out" 2>&1 || true
show "$work/a.out" '^<-'
check "banner masked" "$work/a.out" '<-  220 ******************'
check "STARTTLS masked in the EHLO reply" "$work/a.out" '<-  250 XXXXXXXA'
check "8BITMIME and SIZE pass" "$work/a.out" '<-  250-SIZE 14680064'

echo " b. a client that sends STARTTLS anyway (openssl s_client -starttls smtp):"
(printf 'QUIT\r\n'; sleep 1) | timeout 10 openssl s_client -starttls smtp \
	-connect "127.0.0.1:$port" >"$work/b.out" 2>&1 || true
sleep 0.2
python3 - "$work/asa.jsonl" >"$work/b.tr" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e["session"] != 2:
        continue
    if e["dir"] in ("C", "S") and ("STARTTLS" in e["text"] or e["text"].startswith("500 #")):
        print("%s: %s" % (e["dir"], e["text"]))
    elif e["dir"] in ("server_got", "client_saw") and "X" in e["text"][:12]:
        print("   -> %s: %s   (%s: %s)" % (e["dir"].replace("_", " "), e["text"][:40], e["rule"], e["why"]))
        if e["dir"] == "server_got":
            break
EOF
python3 - "$work/asa.jsonl" >>"$work/b.tr" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e["session"] == 2 and e["dir"] == "S" and e["text"].startswith("500 #5.5.1"):
        print("S: " + e["text"])
        break
EOF
show "$work/b.out" "Didn't find STARTTLS"
show "$work/b.tr" '.'
check "s_client tried anyway" "$work/b.out" "Didn't find STARTTLS in server response, trying anyway"
check "the server got X's for STARTTLS" "$work/b.tr" "server got: XXXXXXXX "
check "the ESA answered 500" "$work/b.tr" "S: 500 #5.5.1 command not recognized"

echo " c. an opportunistic client (swaks --tls-optional-strict) falls back to plain text:"
before=$(spooled asa)
swaks "${swaks_args[@]}" --tls-optional-strict >"$work/c.out" 2>&1 || true
show "$work/c.out" '^<-  250 ok|Host did not advertise'
check "delivered in plain text" "$work/c.out" "<-  250 ok: Message"
[ "$(spooled asa)" -gt "$before" ] || { echo "   FAIL  nothing in the spool"; status=1; }

echo " d. a client that requires TLS (swaks --tls) refuses to send:"
before=$(spooled asa)
swaks "${swaks_args[@]}" --tls >"$work/d.out" 2>&1 && { echo "   FAIL  swaks --tls succeeded"; status=1; }
show "$work/d.out" '^\*\*\*'
check "swaks --tls gives up" "$work/d.out" "*** Host did not advertise STARTTLS"
[ "$(spooled asa)" -eq "$before" ] || { echo "   FAIL  a message was spooled"; status=1; }
stop_server

echo
echo "== 2. The firewall fixed (no inspect esmtp): --via none"
start_server fixed --profile esa-behind-asa --via none
swaks "${swaks_args[@]}" --tls >"$work/e.out" 2>&1 || true
show "$work/e.out" '^<-  250 STARTTLS|^=== TLS started|^<~  250 ok'
check "STARTTLS offered" "$work/e.out" "<-  250 STARTTLS"
check "TLS negotiated" "$work/e.out" "=== TLS started with cipher"
check "delivered over TLS" "$work/e.out" "<~  250 ok: Message"
stop_server

echo
if [ $status -eq 0 ]; then
	echo "verdict: as seed 001 says -- behind the ASA STARTTLS is masked (XXXXXXXA) and refused (500 #5.5.1); without it TLS works"
else
	echo "verdict: MISMATCH (see FAIL lines; --keep keeps $work)"
fi
exit $status
