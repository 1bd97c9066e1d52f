# Shared by tests/integration/test_chain_*.sh (sourced): pass/fail
# counters, the pinned anvil/cast (installed by tools/chain-deps when
# missing; a test fails loudly without them), anvil on 127.0.0.1 at a free
# port, and the [C1] deployment.
PASS=0 FAIL=0
ok() { echo "ok   $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAIL=$((FAIL + 1)); }
result() { echo "RESULT $1: $PASS passed, $FAIL failed"; [ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]; }
# check NAME WANT GOT
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want '$2', got '$3'"; fi; }

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
CONTRACTS=$top_srcdir/chain/contracts
. "$top_srcdir/tools/lib.sh"	# foundry_bin: the binaries, not npm's node wrappers
CAST=$(foundry_bin "$CONTRACTS" cast)
ANVIL=$(foundry_bin "$CONTRACTS" anvil)
BC=$top_builddir/apps/bits-chain
APID=

# need_tools NAME: cast and anvil, or a loud failure.
need_tools() {
	if [ ! -x "$CAST" ] || [ ! -x "$ANVIL" ]; then
		# one installer at a time: make -j runs several tests at once
		flock /tmp/bits-chain-deps.lock "$top_srcdir/tools/chain-deps" >&2 || true
		CAST=$(foundry_bin "$CONTRACTS" cast) ANVIL=$(foundry_bin "$CONTRACTS" anvil)
	fi
	if [ ! -x "$CAST" ] || [ ! -x "$ANVIL" ]; then
		bad "anvil/cast missing ($ANVIL, $CAST) and tools/chain-deps could not install them"
		result "$1"
		exit 1
	fi
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_anvil DIR [CHAIN_ID]: sets RPC and APID; exits loudly on failure.
start_anvil() {
	anvil_up "$ANVIL" "$CAST" "$1/anvil.log" "${2:-31337}" && return 0	# tools/lib.sh
	bad "anvil did not start"
	tail -n 20 "$1/anvil.log"
	return 1
}

stop_anvil() {
	[ -n "$APID" ] && kill "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
	APID=
}

# deploy DIR: the [C1] set from genesis/demo.json; writes DIR/deploy.json.
deploy() {
	if ! "$CONTRACTS/script/deploy.sh" "$RPC" "$1/deploy.json" \
		"$CONTRACTS/genesis/demo.json" >"$1/deploy.log" 2>&1; then
		bad "deploy the contracts"
		tail -n 30 "$1/deploy.log"
		return 1
	fi
}

# jget FILE KEY: a top-level string or number of a JSON file.
jget() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# field FILE NAME: the value of a "name: value" line of bits-chain output.
field() { sed -n "s/^$2: //p" "$1" | head -n 1; }

# lc STRING: lower case.
lc() { printf '%s' "$1" | tr 'A-F' 'a-f'; }

# ccall TO SIG ARGS...: cast call, first word of the answer (numbers only).
ccall() {
	to=$1; shift
	"$CAST" call --rpc-url "$RPC" "$to" "$@" | awk '{ print $1 }'
}

# chain_up DATADIR API_PORT: 0 once that bitsd's chain client reaches the
# chain (its gateway found over the tunnels): GET /api/market/block
# answers 200.
chain_up() {
	python3 - "$(cat "$1/api.token" 2>/dev/null)" "$2" <<'PY'
import sys, http.client
try:
    c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[2]), timeout=120)
    c.request('GET', '/api/market/block', headers={'Authorization': 'Bearer ' + sys.argv[1]})
    sys.exit(0 if c.getresponse().status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

# relay_sum "PORT..." FIELD...: the sums over the bitsd APIs on PORTs of
# /api/status relaypay.relay.FIELD, one line (0 for one that does not
# answer).
relay_sum() {
	python3 - "$@" <<'PY'
import sys, json, urllib.request
sums = [0] * (len(sys.argv) - 2)
for port in sys.argv[1].split():
    try:
        r = json.load(urllib.request.urlopen('http://127.0.0.1:%s/api/status' % port, timeout=20))['relaypay']['relay']
    except Exception:
        continue
    for i, f in enumerate(sys.argv[2:]):
        sums[i] += int(r[f])
print(*sums)
PY
}
