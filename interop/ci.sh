#!/usr/bin/env bash
# Interop CI step (called by .ci/run as `bash interop/ci.sh` from the repo
# root; works from anywhere). Installs the external peers when they are
# missing, then vets and tests the interop module with the race detector.
#
#   - Node: the ws package in interop/node (npm ci from package-lock.json;
#     skipped when node_modules already holds the locked version).
#   - Python: Debian's python3-websockets for /usr/bin/python3 (apt-get,
#     only when it is not importable).
#   - Browsers and HTTP/2 peers: Debian's chromium, firefox-esr,
#     libnss3-tools and python3-hypercorn (apt-get, only those missing).
#
# Idempotent: a second run installs nothing. Under CI=true a peer that is
# still missing makes the tests fail instead of skip.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

step() { printf -- '--- interop: %s\n' "$*"; }

# Node ws.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	want=$(node -e 'console.log(require("./node/package-lock.json").packages["node_modules/ws"].version)')
	have=$(node -e 'try { console.log(require("./node/node_modules/ws/package.json").version) } catch (e) { console.log("none") }')
	if [[ "$have" != "$want" ]]; then
		step "npm ci in interop/node (ws $want, have $have)"
		(cd node && npm ci --no-audit --no-fund --loglevel=error)
	else
		step "node $(node --version), ws $have already installed"
	fi
else
	step "WARNING: node/npm not found; the Node interop tests will fail under CI"
fi

# Python websockets (Debian package; /usr/bin/python3 sees it, a pyenv
# python3 on PATH may not).
py=/usr/bin/python3
if [[ -x "$py" ]] && "$py" -c 'import websockets' 2>/dev/null; then
	step "python3-websockets $("$py" -c 'import websockets; print(websockets.__version__)') already installed"
else
	step "apt-get install python3-websockets"
	if [[ $(id -u) -eq 0 ]]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-websockets >/dev/null
	else
		sudo apt-get update -qq
		sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-websockets >/dev/null
	fi
	step "python3-websockets $("$py" -c 'import websockets; print(websockets.__version__)') installed"
fi

# Browsers and HTTP/2 peers (Debian packages): headless Chromium and Firefox
# ESR for browser_test.go (certutil from libnss3-tools makes Firefox's
# profile trust the test CA), python3-hypercorn for hypercorn_test.go.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
command -v certutil >/dev/null 2>&1 || missing+=(libnss3-tools)
"$py" -c 'import hypercorn' 2>/dev/null || missing+=(python3-hypercorn)
if (( ${#missing[@]} > 0 )); then
	step "apt-get install ${missing[*]} (may take minutes)"
	sudo_=()
	[[ $(id -u) -eq 0 ]] || sudo_=(sudo)
	"${sudo_[@]}" apt-get update -qq
	"${sudo_[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
step "$(chromium --version 2>/dev/null | head -1); $(firefox-esr --version 2>/dev/null | head -1); hypercorn $("$py" -c 'import importlib.metadata as m; print(m.version("hypercorn"))' 2>/dev/null || echo missing)"

step "gofmt"
unformatted=$(gofmt -l .)
if [[ -n "$unformatted" ]]; then
	echo "gofmt needed:"
	echo "$unformatted"
	exit 1
fi

step "go vet ./..."
go vet ./...

step "go test -race -count=1 ./..."
go test -race -count=1 ./...
