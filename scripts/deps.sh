#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages smtp-mimic builds and tests with.
# Installs only what is missing; safe to run again. Needs root or sudo.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libevent-dev libssl-dev
	libcmocka-dev libyaml-dev libjansson-dev)
# gnuplot-nox: scripts/bench.sh draws its plot with it (its smoke run is a test).
test_pkgs=(python3 swaks libnet-ssleay-perl libio-socket-ssl-perl curl openssl
	postfix sslscan gnuplot-nox testssl.sh)

want=("${build_pkgs[@]}")
[ "${1:-}" = "--test" ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "deps: installing ${missing[*]}" >&2
# Postfix must install without a prompt and without starting a daemon:
# we only want its smtp-sink and smtp-source tools.
echo "postfix postfix/main_mailer_type select No configuration" |
	$SUDO debconf-set-selections
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends "${missing[@]}" >/dev/null
