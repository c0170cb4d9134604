#!/usr/bin/env bash
# Runs the wslua benchmark suite and writes bench/RESULTS.md.
#
#   bench/run.sh          full run: -count=5 -benchtime=1s, about 15 minutes
#   bench/run.sh -quick   CI check: every benchmark once (-benchtime=1x
#                         -count=1), scripts with tiny counts; writes
#                         bench/out/RESULTS-quick.md instead of RESULTS.md
#
# Environment: COUNT and BENCHTIME override the full run's settings;
# BASE_REV names an older tree whose client and servers of ours are measured
# in the same rounds as ours (RoundTrip16, Echo64K, Stream64K), as
# ours@REV: the regression check of one machine. The full run's default is
# f1b26f9, the tree RESULTS.md was measured on (2026-11-27, another machine)
# when every client speed target passed; BASE_REV= turns it off, and -quick
# has none unless BASE_REV is set.
# WSBENCH_IMPLS (comma-separated) restricts the implementations;
# INTERLEAVE=1 runs the client benchmarks as COUNT rounds of -count=1 (one
# process each) instead of one -count=COUNT invocation, which is steadier
# when the machine's load drifts.
#
# Steps: unit tests of the bench module; the client benchmarks of every
# implementation in ONE `go test` invocation (ratios on the same noise); the
# Conn micro-benchmarks; framing's own benchmarks (masking, headers) and
# protocol's, run in the main module where they live; the memory of a
# connection at rest (server in its own process); the Lua, Node and Go
# script loops against one echoserver process; then cmd/benchtable turns
# everything into medians, ratios and the targets table. A full run fails
# (after writing RESULTS.md) when a target fails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$here"

quick=0
for a in "$@"; do
	case "$a" in
	-quick | --quick) quick=1 ;;
	*) echo "usage: $0 [-quick]" >&2; exit 2 ;;
	esac
done

out="$here/out"
bin="$out/bin"
mkdir -p "$out" "$bin"
rm -f "$out"/*.txt
if [[ $quick == 1 ]]; then
	count=1 benchtime=1x atrest=20x script_rt=200 script_echo=20 script_conns=2000 script_runs=1 hold_same=200 hold_other=200
	results="$out/RESULTS-quick.md"
else
	count=${COUNT:-5} benchtime=${BENCHTIME:-1s} atrest=1000x script_rt=20000 script_echo=5000 script_conns=100000 script_runs=${COUNT:-5}
	hold_same=5000 hold_other=10000
	results="$here/RESULTS.md"
fi

# Leave ours out, with a warning, while the main module does not build.
tags=()
if ! go build ./internal/... 2>"$out/build-ours.log"; then
	echo "WARNING: the main module does not build; benchmarking the peers only" >&2
	sed 's/^/  /' "$out/build-ours.log" >&2
	tags=(-tags wsbench_noours)
	export WSBENCH_IMPLS=${WSBENCH_IMPLS:-gorilla,coder,gws,gobwas,tcp}
fi

# Build every binary first, so that edits to the tree while the suite runs
# (several engineers share it) cannot break or skew it half-way.
echo "== building"
go build "${tags[@]}" -o "$bin/echoserver" ./cmd/echoserver
go build -o "$bin/benchtable" ./cmd/benchtable
go test "${tags[@]}" -c -o "$bin/bench.test" .
(cd "$root" && go test -c -o "$bin/framing.test" ./framing/)
have_protocol_bench=0
if [[ ${#tags[@]} -eq 0 ]]; then
	go build -o "$bin/scriptclient" ./cmd/scriptclient
	if (cd "$root" && go test -c -o "$bin/protocol.test" ./protocol/) && grep -q '^func Benchmark' "$root"/protocol/*_test.go; then
		have_protocol_bench=1
	fi
fi
have_lua=0
if [[ ${#tags[@]} -eq 0 && -d "$root/lua/cmd/wslua" ]] && (cd "$root" && go build -o "$bin/wslua" ./lua/cmd/wslua); then
	have_lua=1
else
	echo "WARNING: lua/cmd/wslua missing or not building: no Lua script figures" >&2
fi
have_node=0
if command -v node >/dev/null && command -v npm >/dev/null; then
	if [[ ! -d node/node_modules/ws ]]; then
		(cd node && npm ci --no-audit --no-fund >/dev/null)
	fi
	have_node=1
else
	echo "WARNING: node/npm missing: no Node figures" >&2
fi
export WSBENCH_ECHOSERVER="$bin/echoserver"

# The older tree for the regression check, built from a temporary worktree.
if [[ $quick == 1 ]]; then base_rev=${BASE_REV-}; else base_rev=${BASE_REV-f1b26f9}; fi
base_name=""
rm -f "$bin/bench-base.test"
if [[ -n $base_rev && ${#tags[@]} -eq 0 ]]; then
	wt="$out/base-tree"
	rm -rf "$wt"
	git -C "$root" worktree prune 2>/dev/null || true
	if git -C "$root" worktree add --detach -q "$wt" "$base_rev" &&
		(cd "$wt/bench" && go test -c -o "$bin/bench-base.test" .); then
		base_name="ours@$(git -C "$root" rev-parse --short "$base_rev")"
	else
		echo "WARNING: the bench at BASE_REV=$base_rev does not build: no regression check" >&2
	fi
	git -C "$root" worktree remove --force "$wt" 2>/dev/null || rm -rf "$wt"
	git -C "$root" worktree prune 2>/dev/null || true
fi
base_bench='^Benchmark(RoundTrip16|Echo64K|Stream64K)$/^impl=ours$'
: >"$out/base.txt"
# basebench runs the older tree's benchmarks of ours once per round, named
# ours@REV.
basebench() {
	[[ -n $base_name ]] || return 0
	gotest "$bin/bench-base.test" "$here" -test.bench "$base_bench" "$@" |
		sed "s|/impl=ours-|/impl=$base_name-|" | tee -a "$out/base.txt"
}

rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$root" status --porcelain 2>/dev/null | wc -l)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')

echo "== unit tests (bench module)"
go vet "${tags[@]}" ./...
go test "${tags[@]}" -count=1 ./...

# gotest runs a prebuilt test binary in its package directory.
gotest() {
	local binary=$1 dir=$2
	shift 2
	(cd "$dir" && "$binary" -test.run '^$' -test.benchmem "$@")
}

clients='^Benchmark(RoundTrip16|Echo64K|Stream64K|Echo1M|Echo16M|Conns1000|CrossRoundTrip16|CrossEcho64K|LuaInProcess)$'
if [[ ${INTERLEAVE:-0} == 1 ]]; then
	# COUNT rounds of one run each, every implementation measured once per
	# round in a fresh process: load that drifts during the suite then
	# spreads over every row instead of shifting some rows.
	echo "== client benchmarks ($count interleaved rounds)"
	: >"$out/clients.txt"
	for _ in $(seq "$count"); do
		gotest "$bin/bench.test" "$here" -test.bench "$clients" -test.count=1 -test.benchtime="$benchtime" \
			-test.timeout 90m | tee -a "$out/clients.txt"
		basebench -test.count=1 -test.benchtime="$benchtime"
	done
else
	echo "== client benchmarks (one invocation)"
	gotest "$bin/bench.test" "$here" -test.bench "$clients" -test.count="$count" -test.benchtime="$benchtime" \
		-test.timeout 90m | tee "$out/clients.txt"
	basebench -test.count="$count" -test.benchtime="$benchtime"
fi

echo "== Conn micro-benchmarks"
gotest "$bin/bench.test" "$here" -test.bench '^Benchmark(ConnWrite|ConnWriter|ConnReadAppend|ConnRead|ConnReader|UTF8Valid64K|Mask64K|ReadPath64K)$' \
	-test.count="$count" -test.benchtime="$benchtime" | tee "$out/micro.txt"

echo "== main-module benchmarks (framing: masking, headers; protocol, if any)"
gotest "$bin/framing.test" "$root/framing" -test.bench . -test.count="$count" -test.benchtime="$benchtime" | tee "$out/main.txt"
if [[ $have_protocol_bench == 1 ]]; then
	gotest "$bin/protocol.test" "$root/protocol" -test.bench . -test.count="$count" -test.benchtime="$benchtime" | tee -a "$out/main.txt"
fi

echo "== connection at rest (server in its own process)"
gotest "$bin/bench.test" "$here" -test.bench '^BenchmarkConnAtRest$' -test.count="$count" -test.benchtime="$atrest" | tee "$out/atrest.txt"
echo "== Lua connections held (1,000; coroutines parked in ch:receive())"
gotest "$bin/bench.test" "$here" -test.bench '^BenchmarkLuaHeld$' -test.count="$count" -test.benchtime=1x | tee -a "$out/atrest.txt"

echo "== Lua / Node / Go script loops against one echoserver -impl ours"
scripts="$out/scripts.txt"
: >"$scripts"
if [[ ${#tags[@]} -eq 0 ]]; then
	"$bin/echoserver" -impl ours -addr 127.0.0.1:0 >"$out/echoserver.addr" &
	srv=$!
	trap 'kill "$srv" 2>/dev/null || true' EXIT
	for _ in $(seq 50); do [[ -s "$out/echoserver.addr" ]] && break; sleep 0.1; done
	url="$(cut -d' ' -f1 "$out/echoserver.addr")/echo"
	for _ in $(seq "$script_runs"); do
		for loop in roundtrip16:$script_rt echo64k:$script_echo conns100:$script_conns; do
			name=${loop%%:*} n=${loop##*:}
			if [[ $name != conns100 ]]; then # scriptclient has no many-connection loop (see Conns1000)
				"$bin/scriptclient" "$name" "$url" "$n" | tee -a "$scripts"
			fi
			if [[ $have_lua == 1 ]]; then
				"$bin/wslua" "lua/$name.lua" "$url" "$n" | tee -a "$scripts"
				# For information: wslua runs with GOMAXPROCS=1 unless told
				# otherwise; the same with one P per CPU.
				GOMAXPROCS=$(nproc) WSBENCH_CLIENT=lua-gomaxprocs$(nproc) "$bin/wslua" "lua/$name.lua" "$url" "$n" | tee -a "$scripts"
			fi
			if [[ $have_node == 1 ]]; then
				node node/bench.js "$name" "$url" "$n" | tee -a "$scripts"
			fi
		done
	done
	# Memory of held connections (bench/lua/hold.lua): the server in the
	# wslua process (--serve), and 10,000 connections to the echoserver.
	if [[ $have_lua == 1 ]]; then
		"$bin/wslua" --serve lua/hold.lua "$hold_same" | tee -a "$scripts"
		"$bin/wslua" lua/hold.lua "$hold_other" "$url" | tee -a "$scripts"
	fi
	kill "$srv"
	wait "$srv" 2>/dev/null || true
	trap - EXIT
else
	echo "(skipped: ours does not build)"
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
bt="$bin/benchtable"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
	echo "# Benchmark results"
	echo
	echo "Generated by \`bench/run.sh$([[ $quick == 1 ]] && echo ' -quick')\`; do not edit by hand."
	echo
	echo "| | |"
	echo "| --- | --- |"
	echo "| date | $started |"
	echo "| machine | $(nproc) CPUs, $cpu ($(grep -m1 '^cpu:' "$out/clients.txt" | cut -d' ' -f2- || true)) |"
	echo "| memory | $(free -h | awk '/^Mem:/ {print $2}') |"
	echo "| kernel | $(uname -r) |"
	echo "| Go | $(go version | cut -d' ' -f3-) |"
	echo "| tree | $rev, $dirty uncommitted paths when the binaries were built |"
	echo "| GOMAXPROCS | ${GOMAXPROCS:-default ($(nproc))}; clients and servers share one process |"
	echo "| node / ws | $(node --version 2>/dev/null || echo none) / $(node -p 'require("./node/node_modules/ws/package.json").version' 2>/dev/null || echo none) |"
	echo "| settings | -count=$count -benchtime=$benchtime$([[ ${INTERLEAVE:-0} == 1 ]] && echo ' (client benchmarks: interleaved rounds)'); ConnAtRest -benchtime=$atrest; scripts: $script_runs runs of $script_rt round trips / $script_echo echoes |"
	echo "| load average (1, 5, 15 min) | before: $load_before; after: $load_after |"
	if [[ -n $base_name ]]; then
		echo "| regression check | $base_name (BASE_REV=$base_rev): that tree's client and servers of ours, measured right after ours in every round |"
	fi
	echo
	"$bt" -targets -base "$base_name" "$out/clients.txt" "$out/base.txt" "$out/micro.txt" "$out/main.txt" "$out/atrest.txt" "$scripts" || bt_status=$?
	echo
	cat "$here/NOTES.md"
} >"$results"
echo "== wrote $results"
# benchtable exits with 3 when a target failed, 1 on an error. A full run
# that misses a target fails (once RESULTS.md is written); the figures of a
# quick run (one iteration each) are not results, so its targets are shown
# but not enforced.
case ${bt_status:-0} in
0) ;;
3)
	if [[ $quick == 1 ]]; then
		echo "== quick run: targets not enforced (one iteration per benchmark measures nothing)"
	else
		echo "FAIL: some targets failed: see the Targets table of $results" >&2
		exit 1
	fi
	;;
*)
	echo "FAIL: benchtable failed (status $bt_status)" >&2
	exit 1
	;;
esac
