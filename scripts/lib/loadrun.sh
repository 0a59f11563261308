# loadrun.sh - what bench.sh and soak.sh share (sourced, not run): the
# binary to load (the one given, or a Release build made for the run) and
# the open-files limit raised as far as this process may. The script sets
# top (the source tree), NAME (for messages) and binary ("" if not given)
# before calling these.

# load_binary DIR - keep $binary, or build a Release smtp-mimic (no tests)
# in DIR and set binary to it; exit 2 if there is no executable there
load_binary() {
	if [ -z "$binary" ]; then
		echo "$NAME: building a Release binary in $1" >&2
		cmake -S "$top" -B "$1" -DCMAKE_BUILD_TYPE=Release \
			-DBUILD_TESTING=OFF >/dev/null
		cmake --build "$1" -j"$(nproc)" -- --no-print-directory >/dev/null
		binary="$1/smtp-mimic"
	fi
	[ -x "$binary" ] || { echo "$NAME.sh: no binary at $binary" >&2; exit 2; }
}

# raise_nofile WANT - raise the open-files limit to WANT; without
# CAP_SYS_RESOURCE (needed past the hard limit), to the hard limit
raise_nofile() {
	local hard
	if ! ulimit -n "$1" 2>/dev/null; then
		hard=$(ulimit -Hn)
		[ "$hard" = unlimited ] && hard=$1
		ulimit -n "$hard" 2>/dev/null || true
	fi
	echo "$NAME: open-files limit $(ulimit -n)" >&2
}
