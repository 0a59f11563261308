#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages smtp-mimic builds and tests with.
# Installs only what is missing; safe to run again. Needs root or sudo.
#
# --test also installs the real clients the black-box tests use as judges.
# Two of them are not plain packages, so they go into a tools folder,
# $SMTP_MIMIC_TOOLS (default /opt/smtp-mimic-tools), which
# tests/blackbox/lib/clients.py looks in too:
#   exim4/      Exim 4 (GnuTLS) from exim4-daemon-light, unpacked with
#               dpkg-deb -x: the package conflicts with postfix (whose
#               smtp-sink the bench needs), and the tests only run it as a
#               client with their own -C config and spool (exim4/usr/sbin/exim4).
#   node/       nodemailer from the npm registry (node/node_modules/nodemailer).
#
# --package: what scripts/package.sh needs beyond the build.
#
# usage: scripts/deps.sh [--test|--package]
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libevent-dev libssl-dev
	libcmocka-dev libyaml-dev libjansson-dev)
# gnuplot-nox: scripts/bench.sh draws its plot with it (its smoke run is a test).
test_pkgs=(python3 swaks libnet-ssleay-perl libio-socket-ssl-perl curl openssl
	postfix sslscan gnuplot-nox)
# Real clients as judges (tests/blackbox/lib/clients.py): msmtp (GnuTLS);
# libidn12 is the one library the unpacked Exim needs that Debian 12 does
# not have already (the rest of exim4-daemon-light's Depends come with the
# packages above). nodemailer needs node and npm: Debian's nodejs + npm
# unless a node with its own npm (e.g. NodeSource's) is there already.
test_pkgs+=(msmtp libidn12)
if [ "${1:-}" = "--test" ] && ! command -v npm >/dev/null; then
	test_pkgs+=(nodejs npm)
fi
# nmap: its smtp-ntlm-info script reads exchange2013's NTLM challenge.
test_pkgs+=(nmap)
# testssl.sh: exchange2013's TLS surface as a scanner reports it.
test_pkgs+=(testssl.sh)
# clang: the libFuzzer targets (tests/fuzz/, scripts/fuzz.sh) need it, and
# libFuzzer and the sanitizer runtimes, which Debian 12's clang (14) only
# recommends (and we install without recommends).
test_pkgs+=(clang libclang-rt-14-dev)
# The web view in a real browser (standard/test_web.py), and the JSON
# Schema every transcript line is checked against (test_schema.py); both
# Python packages are Debian's, for /usr/bin/python3 (harness.with_modules).
test_pkgs+=(chromium chromium-driver python3-selenium python3-jsonschema)
# pytest: the README's test-suite example is run as written
# (standard/test_readme_example.py).
test_pkgs+=(python3-pytest)
# strace and valgrind: scripts/bench/syscalls.sh counts syscalls and heap
# allocations per session (canned reference vs smtp-mimic).
test_pkgs+=(strace valgrind)
# haproxy: the README's load-balancer set-up (mode tcp, send-proxy-v2) run
# for real in front of --proxy-protocol (proxy/test_haproxy.py).
test_pkgs+=(haproxy)

# The Debian package (scripts/package.sh, --package): dpkg-shlibdeps
# (dpkg-dev) and file compute Depends; its test (tests/package/) installs
# it (adduser for the postinst), verifies the unit (systemd-analyze; man-db
# resolves its Documentation=) and delivers to it with swaks.
package_pkgs=(dpkg-dev file adduser systemd man-db)
test_pkgs+=("${package_pkgs[@]}")

TOOLS=${SMTP_MIMIC_TOOLS:-/opt/smtp-mimic-tools}
EXIM_PKG=exim4-daemon-light

want=("${build_pkgs[@]}")
[ "${1:-}" = "--test" ] && want+=("${test_pkgs[@]}")
[ "${1:-}" = "--package" ] && want+=("${package_pkgs[@]}")

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	# Postfix must install without a prompt and without starting a daemon:
	# we only want its smtp-sink and smtp-source tools.
	echo "postfix postfix/main_mailer_type select No configuration" |
		$SUDO debconf-set-selections
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
fi
[ "${1:-}" = "--test" ] || exit 0

# Exim: fetched, never installed (see the header).
if [ ! -x "$TOOLS/exim4/usr/sbin/exim4" ]; then
	echo "deps: unpacking $EXIM_PKG into $TOOLS/exim4" >&2
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -qq "$EXIM_PKG" 2>/dev/null ||
		{ $SUDO apt-get update -qq && apt-get download -qq "$EXIM_PKG"; })
	$SUDO mkdir -p "$TOOLS/exim4"
	$SUDO dpkg-deb -x "$tmp"/"$EXIM_PKG"_*.deb "$TOOLS/exim4"
fi
# Debian's Exim is built with EXIM_USER=ref:Debian-exim and looks the user
# up before it reads any config, so the account exim4-base's postinst
# would create must exist (a system user, no home, no login).
if ! getent passwd Debian-exim >/dev/null; then
	echo "deps: adding the system user Debian-exim (for the unpacked Exim)" >&2
	$SUDO useradd --system --user-group --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin Debian-exim
fi
if [ -x "$TOOLS/exim4/usr/sbin/exim4" ]; then
	"$TOOLS/exim4/usr/sbin/exim4" -C /dev/null -bV >/dev/null 2>&1 ||
		{ echo "deps: $TOOLS/exim4/usr/sbin/exim4 -bV fails" >&2; exit 1; }
fi

# nodemailer, pinned to the major version the driver script is written for.
if [ ! -f "$TOOLS/node/node_modules/nodemailer/package.json" ]; then
	echo "deps: npm install nodemailer into $TOOLS/node" >&2
	$SUDO mkdir -p "$TOOLS/node"
	$SUDO npm install --silent --no-audit --no-fund --prefix "$TOOLS/node" \
		'nodemailer@^6' >/dev/null
fi
