#!/usr/bin/env bash
# package.sh - build the Debian package (.deb) from the tree in one command:
# install what is missing (deps.sh, plus dpkg-dev and file for
# dpkg-shlibdeps), configure a Release build in build-pkg/ with prefix /usr
# (so the compiled-in dirs are /usr/share/smtp-mimic and /etc/smtp-mimic),
# build it and run CPack's DEB generator (scripts/package/cpack.cmake).
# Prints the path of the .deb on stdout, the build's chatter on stderr.
#
# usage: scripts/package.sh [BUILD_DIR]   (default: build-pkg)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build-pkg}
"$top/scripts/deps.sh" --package >&2
cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
	-DCMAKE_INSTALL_PREFIX=/usr >&2
cmake --build "$dir" -j"${JOBS:-2}" --target smtp-mimic >&2
rm -f "$dir"/smtp-mimic_*.deb
(cd "$dir" && cpack -G DEB) >&2
ls "$dir"/smtp-mimic_*.deb
