#!/bin/sh
# The market in bitsd (issue 13, apps/bitsd_market.h): one bitsd publishes
# an anvil started here (contracts deployed) as a chain RPC gateway and
# runs the key agent and the purchase relayer; their addresses land in the
# datadir and /api/market.  Its own chain client reaches the chain only
# through its gateway: /api/market/block and /api/market/wallet answer
# what anvil says (balances checked with cast, to the wei), and the
# gateway's counters grow by the calls made.  /api/market needs the token.
# The agent holds the two keys of market.agent.keys; bad market keys (a
# keys file readable by others or with a bad line among them) stop bitsd
# at start.
set -u
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
NAME=test_market_bitsd
BITSD=$top_builddir/apps/bitsd
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-market.XXXXXX")
PID=
cleanup() {
	if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
	stop_anvil
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
API=29355
A0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
A1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
K1=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d

need_tools $NAME
start_anvil "$W" || { result $NAME; exit 1; }
deploy "$W" || { result $NAME; exit 1; }
printf '%s\n' "$K1" >"$W/relayer.key"
chmod 600 "$W/relayer.key"
# the key agent's content keys: two, among a comment and a blank line
cat >"$W/agent.keys" <<KEYS
# index key
1 $(printf '11%.0s' $(seq 32))

7	$(printf 'ab%.0s' $(seq 32))
KEYS
chmod 600 "$W/agent.keys"

# get PATH [TOKEN] -> "CODE BODY"; generous timeout: chain calls on a
# loaded machine.
get() {
	python3 - "$1" "${2:-}" "$API" <<'PY'
import sys, http.client
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[3]), timeout=120)
h = {'Authorization': 'Bearer ' + sys.argv[2]} if sys.argv[2] else {}
c.request('GET', sys.argv[1], headers=h)
r = c.getresponse(); print(r.status, r.read().decode())
PY
}

"$BITSD" --datadir "$W/d" --netid 77 --host 127.0.1.25 --port 29305 \
	--api-port $API --loglevel info \
	--market.gateway --market.gateway.rpc "$RPC" \
	--market.deploy "$W/deploy.json" --market.agent \
	--market.agent.keys "$W/agent.keys" --market.relayer.key "$W/relayer.key" \
	--market.accounts "$A0,$A1" >"$W/log" 2>&1 &
PID=$!

# Wait (generously) for the API and the published addresses.
i=0
until [ -s "$W/d/api.token" ] && [ -s "$W/d/market-relayer.b32" ] &&
	out=$(get /api/market "$(cat "$W/d/api.token")" 2>/dev/null) &&
	[ -n "$out" ]; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 "$PID" 2>/dev/null; then
		bad "bitsd did not come up with the market"; tail -n 30 "$W/log"
		result $NAME; exit 1
	fi
	sleep 0.2
done
TOK=$(cat "$W/d/api.token")
ok "bitsd up with the market subsystem"

for f in gateway agent relayer; do
	b=$(cat "$W/d/market-$f.b32" 2>/dev/null)
	case "$b" in
	????????????????????????????????????????????????????.b32.i2p) ok "market-$f.b32 written" ;;
	*) bad "market-$f.b32: '$b'" ;;
	esac
done
if printf '%s' "$out" | python3 -c '
import sys, json
code, body = sys.stdin.read().split(" ", 1)
assert code == "200", code
j = json.loads(body)
for f in ("gateway", "agent", "relayer"):
    want = open(sys.argv[1] + "/market-" + f + ".b32").read().strip()
    assert j[f] == want, (f, j[f], want)
assert j["chain_id"] == 31337, j
assert j["client"]["via"] == "own gateway", j
assert j["agent_contents"] == 2, j
' "$W/d"; then ok "/api/market names the three services, the chain, the agent's 2 keys"; else bad "/api/market: $out"; fi

out=$(get /api/market)
case "$out" in 401*) ok "/api/market without the token is 401" ;; *) bad "no token: $out" ;; esac

want=$("$CAST" block-number --rpc-url "$RPC")
out=$(get /api/market/block "$TOK")
if printf '%s' "$out" | python3 -c '
import sys, json
code, body = sys.stdin.read().split(" ", 1)
assert code == "200", (code, body)
assert json.loads(body)["block"] == int(sys.argv[1]), body
' "$want"; then ok "/api/market/block is anvil's block $want"; else bad "/api/market/block: $out (want $want)"; fi

e0=$("$CAST" balance "$A0" --rpc-url "$RPC")
e1=$("$CAST" balance "$A1" --rpc-url "$RPC")
out=$(get /api/market/wallet "$TOK")
if printf '%s' "$out" | python3 -c '
import sys, json
code, body = sys.stdin.read().split(" ", 1)
assert code == "200", (code, body)
j = json.loads(body)
a = j["accounts"]
assert len(a) == 2, a
assert a[0]["address"].lower() == sys.argv[1].lower(), a
assert a[1]["address"].lower() == sys.argv[2].lower(), a
assert a[0]["eth"] == sys.argv[3] and a[1]["eth"] == sys.argv[4], (a, sys.argv)
assert "earnings" in j and "total" in j["earnings"], j
' "$A0" "$A1" "$e0" "$e1"; then ok "/api/market/wallet: both accounts' ETH to the wei"; else bad "/api/market/wallet: $out (want $e0, $e1)"; fi

out=$(get /api/market "$TOK")
if printf '%s' "$out" | python3 -c '
import sys, json
j = json.loads(sys.stdin.read().split(" ", 1)[1])
s = j["gateway_stats"]
assert s["forwarded"] >= 3 and s["requests"] >= s["forwarded"], s
assert s["refused_method"] == 0 and s["node_errors"] == 0, s
'; then ok "the chain calls went through the gateway"; else bad "gateway counters: $out"; fi

kill "$PID"
if wait "$PID"; then ok "bitsd stops cleanly"; else bad "bitsd exit status $?"; tail -n 20 "$W/log"; fi
PID=

# Bad market keys stop bitsd at start with a message, not later.
# bad_conf WHAT WANT_IN_LOG ARGS...
bad_conf() {
	what=$1 want=$2
	shift 2
	rm -rf "$W/e"
	if timeout 120 "$BITSD" --datadir "$W/e" --netid 77 --host 127.0.1.25 \
		--port 29305 --loglevel info "$@" >"$W/elog" 2>&1; then
		bad "$what: bitsd ran"
	elif grep -q "$want" "$W/elog"; then
		ok "$what: refused at start"
	else
		bad "$what: no '$want' in the log"; tail -n 10 "$W/elog"
	fi
}
bad_conf "a gateway without a node" "market.gateway needs" --market.gateway
bad_conf "a node outside loopback" "market.gateway.rpc" --market.gateway \
	--market.gateway.rpc http://192.0.2.1:8545
bad_conf "a bad gateway address" "market.gateways: bad entry" \
	--market.gateways nothere.b32.i2p
bad_conf "a bad account" "market.accounts: bad entry" \
	--market.accounts 0x1234
bad_conf "an agent without contracts" "need market.deploy" --market.agent
AGENT="--market.gateway --market.gateway.rpc $RPC --market.deploy $W/deploy.json --market.agent"
cp "$W/agent.keys" "$W/open.keys"
chmod 644 "$W/open.keys"
bad_conf "agent keys readable by others" "readable by others" $AGENT \
	--market.agent.keys "$W/open.keys"
printf '3 %s\n' "$(printf '1%.0s' $(seq 63))" >"$W/short.keys"
chmod 600 "$W/short.keys"
bad_conf "an agent key of 63 hex digits" "short.keys:1: not INDEX" $AGENT \
	--market.agent.keys "$W/short.keys"
result $NAME
