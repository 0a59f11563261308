#!/usr/bin/env bash
# test_deb.sh - build the .deb (scripts/package.sh), install it with dpkg -i,
# and check the installed smtp-mimic as a user would: --version, a site
# profile in /etc/smtp-mimic/profiles listed with its origin, --check of a
# shipped and of a site profile, a swaks delivery to a server started from
# /usr/bin/smtp-mimic on a loopback ephemeral port landing in its spool,
# systemd-analyze verify/security of the installed unit, the control
# fields (Depends), then dpkg -r and dpkg -P. The trap purges the package
# and removes the site profile even when a check fails.
#
# Needs root (dpkg -i) and SMTP_MIMIC_PACKAGE_TEST=1 (a plain ctest run,
# maybe beside others on the machine, does not install system-wide
# packages; scripts/test.sh sets it when root); without them it prints why
# and exits 77, which ctest reports as skipped (SKIP_RETURN_CODE). Refuses to run when
# smtp-mimic is installed already (it would remove the user's install).
# Does not: start the unit (systemd is not PID 1 in a container).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: tests/package/test_deb.sh needs root to dpkg -i the package"
	exit 77
fi
if [ "${SMTP_MIMIC_PACKAGE_TEST:-}" != 1 ]; then
	echo "SKIP: tests/package/test_deb.sh installs a package system-wide; set" \
		"SMTP_MIMIC_PACKAGE_TEST=1 to run it (scripts/test.sh does as root)"
	exit 77
fi
if dpkg-query -W -f='${Status}' smtp-mimic 2>/dev/null | grep -q installed; then
	echo "SKIP: smtp-mimic is installed on this machine already; not touching it"
	exit 77
fi
work=$(mktemp -d)
site=/etc/smtp-mimic/profiles/pkgtest-site.yaml
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -f "$site"
	dpkg -P smtp-mimic >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
expect() { # expect DESC PATTERN FILE: FILE has a line matching PATTERN
	if grep -qE -- "$2" "$3"; then ok "$1"; else
		bad "$1 (no line matching '$2' in:)"; sed 's/^/    /' "$3"; fi
}

deb=$("$top/scripts/package.sh" "$top/build-pkg" 2>"$work/build.log") || {
	cat "$work/build.log"; bad "scripts/package.sh"; exit 1; }
ok "built $deb"

dpkg -I "$deb" >"$work/info"
for lib in libevent-2.1-7 libssl3 libyaml-0-2 libjansson4 adduser; do
	expect "Depends names $lib" "^ Depends: .*\\b$lib\\b" "$work/info"
done
expect "version from project(VERSION)" "^ Version: $(sed -nE 's/^project\(smtp-mimic VERSION ([0-9.]+).*/\1/p' "$top/CMakeLists.txt")$" "$work/info"
dpkg -c "$deb" >"$work/contents"
for f in ./usr/bin/smtp-mimic ./usr/lib/systemd/system/smtp-mimic@.service \
	./etc/default/smtp-mimic ./usr/share/doc/smtp-mimic/README.Debian \
	./usr/share/doc/smtp-mimic/copyright ./usr/share/man/man1/smtp-mimic.1 \
	./usr/share/smtp-mimic/profiles/exchange2013.yaml \
	./usr/share/smtp-mimic/web/index.html ./usr/share/smtp-mimic/openapi.json; do
	expect "package holds $f" " $f\$" "$work/contents"
done

if dpkg -i "$deb" >"$work/install.log" 2>&1; then ok "dpkg -i"; else
	bad "dpkg -i"; cat "$work/install.log"; exit 1; fi
getent passwd smtp-mimic >/dev/null && ok "postinst made the smtp-mimic user" ||
	bad "no smtp-mimic user after dpkg -i"
bin=/usr/bin/smtp-mimic

"$bin" --version >"$work/version"
expect "--version" "^smtp-mimic [0-9]" "$work/version"
for lib in "OpenSSL: OpenSSL 3\\." "libevent: 2\\." "libyaml: 0\\." "jansson: 2\\."; do
	expect "--version: $lib" "^  $lib" "$work/version"
done

# A site profile: a shipped one with its own banner, in /etc/smtp-mimic/profiles.
cat >"$site" <<'YAML'
name: pkgtest-site
description: site profile placed by tests/package/test_deb.sh
extends: standard
YAML
"$bin" --list-profiles >"$work/list" 2>&1
expect "--list-profiles lists the site profile" "^  pkgtest-site +site profile placed" "$work/list"
expect "--list-profiles: from site" "^  site +/etc/smtp-mimic/profiles: pkgtest-site$" "$work/list"
expect "--list-profiles: from shipped" "^  shipped +/usr/share/smtp-mimic/profiles: [0-9]+ profiles" "$work/list"
(cd "$work" && "$bin" --check -p exchange2013 >"$work/check-shipped" 2>&1) &&
	ok "--check exchange2013 (shipped)" || bad "--check exchange2013"
expect "--check shipped: OK" "^profile exchange2013: OK$" "$work/check-shipped"
ssl=$(sed -n 's/^  OpenSSL: //p' "$work/version")
expect "--check repeats --version's OpenSSL line" "^  OpenSSL: \\Q$ssl\\E$|^  OpenSSL: ${ssl//./\\.}$" "$work/check-shipped"
(cd "$work" && "$bin" --check -p pkgtest-site >"$work/check-site" 2>&1) &&
	ok "--check pkgtest-site (site)" || bad "--check pkgtest-site"
expect "--check site: OK" "^profile pkgtest-site: OK$" "$work/check-site"

# A delivery to the installed binary, serving the site profile.
"$bin" -p pkgtest-site --listen 127.0.0.1:0 --ready-file "$work/ready.json" \
	--spool "$work/spool" 2>"$work/server.log" &
pid=$!
for _ in $(seq 100); do [ -s "$work/ready.json" ] && break; sleep 0.1; done
addr=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["smtp"][0])' "$work/ready.json")
if swaks --server "${addr%:*}" --port "${addr##*:}" --from a@example.org \
	--to b@example.net --header "Subject: pkgtest-$$" >"$work/swaks" 2>&1; then
	ok "swaks delivered to $addr"; else bad "swaks"; cat "$work/swaks"; fi
kill "$pid"; wait "$pid" 2>/dev/null; pid=
if grep -rqs "^Subject: pkgtest-$$" "$work/spool"; then ok "message in the spool";
else bad "message not in $work/spool"; ls -R "$work/spool"; cat "$work/server.log"; fi

# The installed unit.
unit=/usr/lib/systemd/system/smtp-mimic@.service
cp "$unit" "$work/smtp-mimic@pkgtest.service"
if systemd-analyze verify "$work/smtp-mimic@pkgtest.service" >"$work/verify" 2>&1 &&
	[ ! -s "$work/verify" ]; then ok "systemd-analyze verify: clean"; else
	bad "systemd-analyze verify"; cat "$work/verify"; fi
systemd-analyze security --offline=yes "$unit" >"$work/security" 2>&1
expect "systemd-analyze security: OK or better" "Overall exposure level for .*: [0-9.]+ (OK|SAFE)" "$work/security"
grep "Overall exposure" "$work/security"

dpkg -r smtp-mimic >/dev/null 2>&1 && ok "dpkg -r" || bad "dpkg -r"
[ ! -e "$bin" ] && ok "binary gone after dpkg -r" || bad "$bin still there after dpkg -r"
[ -e /etc/default/smtp-mimic ] && ok "conffile kept after dpkg -r" || bad "/etc/default/smtp-mimic gone after dpkg -r"
rm -f "$site"
dpkg -P smtp-mimic >/dev/null 2>&1 && ok "dpkg -P" || bad "dpkg -P"
[ ! -e /etc/default/smtp-mimic ] && ok "conffile gone after dpkg -P" || bad "/etc/default/smtp-mimic left after dpkg -P"
getent passwd smtp-mimic >/dev/null && bad "user left after dpkg -P" || ok "user gone after dpkg -P"
echo "package: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
