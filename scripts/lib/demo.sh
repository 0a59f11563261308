# demo.sh - what the demo and reproduction scripts share (sourced, not run):
# their flags (--port, --binary, --keep, --help), finding or building the
# binary, a work directory removed on exit, and one smtp-mimic at a time.
# The script sets NAME (for messages) and HELP (sed range of its header)
# before sourcing this file.

top=$(cd "$(dirname "$0")/.." && pwd)
port=2525
bin=
keep=false
while [ $# -gt 0 ]; do
	case "$1" in
	--port) port=$2; shift 2 ;;
	--binary) bin=$2; shift 2 ;;
	--keep) keep=true; shift ;;
	-h | --help) sed -n "${HELP}p" "$0"; exit 0 ;;
	*) echo "$NAME: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
if [ -z "$bin" ]; then
	"$top/scripts/deps.sh" --test
	"$top/scripts/build.sh" "$top/build" >/dev/null
	bin="$top/build/smtp-mimic"
fi

work=$(mktemp -d "/tmp/$NAME.XXXXXX")
server_pid=

# stop_server - SIGTERM the running smtp-mimic and wait for it
stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	fi
}
demo_cleanup() {
	stop_server
	if $keep; then echo "kept: $work" >&2; else rm -rf "$work"; fi
}
trap demo_cleanup EXIT

# start_server LABEL ARGS... - smtp-mimic on 127.0.0.1:$port with its spool
# in $work/spool-LABEL, JSON transcript $work/LABEL.jsonl, stderr
# $work/LABEL.log; returns once it listens
start_server() {
	local label=$1
	shift
	"$bin" --profile-path "$top/profiles" --listen "127.0.0.1:$port" \
		--spool "$work/spool-$label" --transcript "$work/$label.jsonl" \
		"$@" 2>"$work/$label.log" &
	server_pid=$!
	for _ in $(seq 200); do
		grep -q "listening on" "$work/$label.log" 2>/dev/null && return 0
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$work/$label.log" >&2
	exit 1
}

# spooled LABEL - messages in that server's spool/new
spooled() { ls "$work/spool-$1/new" 2>/dev/null | wc -l; }
