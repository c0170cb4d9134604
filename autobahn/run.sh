#!/usr/bin/env bash
# Runs the Autobahn testsuite (the crossbario/autobahn-testsuite Docker
# image) against this module, from the repository root:
#
#   1. clients: starts the fuzzingserver container on 127.0.0.1:9001
#      (autobahn/fuzzingserver.json), runs the Go driver (agent wslua-go) and
#      the Lua driver (agent wslua-lua) against it, stops it;
#      report: autobahn/reports/clients/
#   2. server: starts the echo server (wstestserver) on 127.0.0.1:9002 and
#      runs the fuzzingclient container against it
#      (autobahn/fuzzingclient.json, agent wslua-server);
#      report: autobahn/reports/servers/
#   3. prints the summary of both reports (go run ./autobahn/summary).
#
# Usage: autobahn/run.sh [all|clients|server]
#
# Environment:
#   AUTOBAHN_IMAGE  image to run (default crossbario/autobahn-testsuite)
#   CASES           client cases to run: N, A-B, A- or -B (default: all the
#                   fuzzingserver offers); the server side runs what
#                   fuzzingclient.json selects
#   SERVER_ADDR     listen address of the echo server (default
#                   127.0.0.1:9002; on Docker Desktop, 0.0.0.0:9002 may be
#                   needed for host.docker.internal to reach it)
#
# Exit status: 0 when everything ran and no case FAILED, 1 when a run or a
# summary failed, 2 when Docker or Go is missing or the usage is wrong.
set -euo pipefail

die() {
	echo "autobahn/run.sh: $*" >&2
	exit 2
}

mode=${1:-all}
case "$mode" in
all | clients | server) ;;
*) die "unknown mode '$mode' (usage: autobahn/run.sh [all|clients|server])" ;;
esac

if ! command -v docker >/dev/null 2>&1; then
	die "docker is not installed. The Autobahn testsuite runs in the crossbario/autobahn-testsuite image; install Docker, or follow the manual steps in autobahn/README.md."
fi
if ! docker info >/dev/null 2>&1; then
	die "the Docker daemon is not reachable ('docker info' failed). Start it (or fix the permissions of its socket) and try again."
fi
command -v go >/dev/null 2>&1 || die "go is not installed"

cd "$(dirname "$0")/.."
root=$PWD
image=${AUTOBAHN_IMAGE:-crossbario/autobahn-testsuite}
cases=${CASES:-}
server_addr=${SERVER_ADDR:-127.0.0.1:9002}
fuzz_name="wslua-autobahn-fuzzingserver-$$"
fuzz_started=
server_pid=
status=0

bin=$(mktemp -d)
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ -n "$fuzz_started" ]; then
		docker rm -f "$fuzz_name" >/dev/null 2>&1 || true
	fi
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$bin"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n=== %s\n' "$*"; }

step "building the drivers, the echo server and the summarizer"
go build -o "$bin/autobahn-client" ./autobahn/client
go build -o "$bin/wslua" ./lua/cmd/wslua
go build -o "$bin/wstestserver" ./testserver/cmd/wstestserver
go build -o "$bin/summary" ./autobahn/summary
mkdir -p autobahn/reports

# The Lua driver takes the range as FIRST [LAST].
lua_range=()
if [ -n "$cases" ]; then
	case "$cases" in
	*-*)
		first=${cases%%-*}
		last=${cases#*-}
		lua_range=("${first:-1}")
		[ -n "$last" ] && lua_range+=("$last")
		;;
	*) lua_range=("$cases" "$cases") ;;
	esac
fi

run_clients() {
	step "fuzzingserver ($image) on 127.0.0.1:9001"
	docker run -d --rm --name "$fuzz_name" \
		-v "$root/autobahn:/config:ro" \
		-v "$root/autobahn/reports:/reports" \
		-w / \
		-p 127.0.0.1:9001:9001 \
		"$image" wstest -m fuzzingserver -s /config/fuzzingserver.json >/dev/null
	fuzz_started=1

	step "Go driver (agent wslua-go)"
	# -wait: the container needs a few seconds before it accepts connections.
	if ! "$bin/autobahn-client" -url ws://127.0.0.1:9001 -agent wslua-go -wait 90s ${cases:+-cases "$cases"}; then
		status=1
		echo "--- fuzzingserver log (last lines):"
		docker logs "$fuzz_name" 2>&1 | tail -n 30 || true
	fi

	step "Lua driver (agent wslua-lua)"
	if ! "$bin/wslua" autobahn/client.lua ws://127.0.0.1:9001 wslua-lua ${lua_range[@]+"${lua_range[@]}"}; then
		status=1
	fi

	# Both agents ran against the same fuzzingserver, so one report holds
	# both; it is written at each /updateReports, the container can go.
	docker rm -f "$fuzz_name" >/dev/null 2>&1 || true
	fuzz_started=
}

wait_for_port() { # host port pid
	local _
	for _ in $(seq 1 100); do
		if ! kill -0 "$3" 2>/dev/null; then
			return 1
		fi
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

run_server() {
	step "echo server (wstestserver) on $server_addr"
	"$bin/wstestserver" -addr "$server_addr" &
	server_pid=$!
	if ! wait_for_port 127.0.0.1 "${server_addr##*:}" "$server_pid"; then
		echo "the echo server did not start" >&2
		status=1
		return
	fi

	step "fuzzingclient ($image) against ws://127.0.0.1:9002 (agent wslua-server)"
	local net=() spec=/config/fuzzingclient.json
	if [ "$(uname -s)" = Linux ]; then
		net=(--network host)
	else
		# Docker Desktop: no host networking; reach the host by name.
		sed 's#ws://127.0.0.1:9002#ws://host.docker.internal:9002#' autobahn/fuzzingclient.json >autobahn/reports/fuzzingclient.docker-desktop.json
		spec=/reports/fuzzingclient.docker-desktop.json
	fi
	if ! docker run --rm ${net[@]+"${net[@]}"} \
		-v "$root/autobahn:/config:ro" \
		-v "$root/autobahn/reports:/reports" \
		-w / \
		"$image" wstest -m fuzzingclient -s "$spec"; then
		status=1
	fi

	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

summarize() { # report directory
	local index="autobahn/reports/$1/index.json"
	step "summary of $index"
	if [ ! -f "$index" ]; then
		echo "missing $index" >&2
		status=1
		return
	fi
	"$bin/summary" "$index" || status=1
}

case "$mode" in
all)
	run_clients
	run_server
	summarize clients
	summarize servers
	;;
clients)
	run_clients
	summarize clients
	;;
server)
	run_server
	summarize servers
	;;
esac

step "done (status $status)"
exit "$status"
