#!/bin/sh
# Chain RPC through the overlay between bitsd routers (issue 13): four
# bitsd that know each other's RouterInfos, one-hop exploratory and client
# tunnels, b1 the floodfill.  b1 publishes an anvil started here (the
# contracts deployed) as a chain RPC gateway; b2 has only
# market.gateways = b1's gateway address and no way to the node:
#  - b2's /api/market/block and /api/market/wallet answer what anvil says
#    (the block number, both accounts' ETH to the wei), reached over
#    tunnels (b2 finds b1's LeaseSet through the netDb);
#  - b2 asks about each account from a destination of its own (the
#    gateway sees each destination's eth_getBalance for one account
#    only), and the second view from the same two; b3, allowed one
#    such destination, answers both from it and says so;
#  - b2's client uses its one gateway (not in conflict), and b1's
#    gateway counted the calls;
#  - both stop cleanly, with no sanitizer report.
# Waits are on conditions with generous timeouts.  127.0.1.21-24, NTCP2
# ports 29301-29304, the APIs on 127.0.0.1:29351-29354, anvil on a free
# port.
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_market_tunnels
W=$(mktemp -d "${TMPDIR:-/tmp}/market-tunnels.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	stop_anvil
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077
A0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
A1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8

need_tools $NAME
start_anvil "$W" || { result $NAME; exit 1; }
deploy "$W" || { result $NAME; exit 1; }

bitsd_mesh "$W" 127.0.1 20 29300 || { result $NAME; exit 1; }
# start N ARGS...: router n in the background
start() {
	n=$1; shift
	ff=""; [ "$n" = 1 ] && ff=--floodfill
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$((20 + n)) \
		--port $((29300 + n)) --netid 77 --api-port $((29350 + n)) $ff \
		--loglevel debug --logfile "$W/b$n/bitsd.log" "$@" \
		>"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
}
start 1 --market.gateway --market.gateway.rpc "$RPC"
wait_log "$W/b1/bitsd.log" "market: gateway on" 120 && [ -s "$W/b1/market-gateway.b32" ] ||
	{ bad "b1: no gateway (see $W/b1/bitsd.log)"; result $NAME; exit 1; }
GW=$(tr -d '\n' <"$W/b1/market-gateway.b32")
ok "b1 publishes the node as $GW"
start 2 --market.gateways "$GW" --market.deploy "$W/deploy.json" \
	--market.accounts "$A0,$A1"
start 3 --market.gateways "$GW" --market.deploy "$W/deploy.json" \
	--market.accounts "$A0,$A1" --market.isolation 1
start 4
for n in 2 3; do
	wait_log "$W/b$n/bitsd.log" "chain client over market.gateways" 120 ||
		{ bad "b$n: no market client (see $W/b$n/bitsd.log)"; result $NAME; exit 1; }
done

# market N PATH: router n's answer, "CODE BODY"
market() {
	python3 - "$(cat "$W/b$1/api.token" 2>/dev/null)" $((29350 + $1)) "$2" <<'PY'
import sys, http.client
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[2]), timeout=200)
c.request('GET', '/api/market' + sys.argv[3],
          headers={'Authorization': 'Bearer ' + sys.argv[1]})
r = c.getresponse(); print(r.status, r.read().decode())
PY
}

want=$("$CAST" block-number --rpc-url "$RPC")
# b2 needs its tunnels and b1's LeaseSet first: ask until it answers.
i=0
while out=$(market 2 /block 2>/dev/null); [ "${out%% *}" != 200 ] && [ $i -lt 60 ]; do
	sleep 5; i=$((i + 1))
done
if printf '%s' "$out" | python3 -c '
import sys, json
code, body = sys.stdin.read().split(" ", 1)
assert code == "200", (code, body)
assert json.loads(body)["block"] == int(sys.argv[1]), body
' "$want"; then ok "b2's /api/market/block is anvil's block $want, over tunnels"; else bad "b2's /api/market/block: $out (want $want)"; fi

e0=$("$CAST" balance "$A0" --rpc-url "$RPC")
e1=$("$CAST" balance "$A1" --rpc-url "$RPC")
out=$(market 2 /wallet)
if printf '%s' "$out" | python3 -c '
import sys, json
code, body = sys.stdin.read().split(" ", 1)
assert code == "200", (code, body)
a = json.loads(body)["accounts"]
assert [x["address"].lower() for x in a] == [sys.argv[1].lower(), sys.argv[2].lower()], a
assert a[0]["eth"] == sys.argv[3] and a[1]["eth"] == sys.argv[4], (a, sys.argv)
' "$A0" "$A1" "$e0" "$e1"; then ok "b2's /api/market/wallet: both accounts' ETH to the wei"; else bad "b2's /api/market/wallet: $out (want $e0, $e1)"; fi

# Each account was asked about from a destination of its own: b2 names
# them (debug), and b1's gateway saw every eth_getBalance come from one
# of them, one each; a second view asks from the same two.
out=$(market 2 /wallet)
out=$(market 2 "")
if printf '%s' "$out" | python3 -c '
import sys, json, re
code, body = sys.stdin.read().split(" ", 1)
iso = json.loads(body)["isolation"]
assert iso == {"open": 2, "opened": 2}, iso
dest = {}
for l in open(sys.argv[3]):
    m = re.search(r"market: calls about (0x[0-9a-fA-F]{40}) from destination ([0-9a-f]+)", l)
    if m:
        dest[m.group(1).lower()] = m.group(2)
assert set(dest) == {sys.argv[1].lower(), sys.argv[2].lower()}, dest
assert len(set(dest.values())) == 2, dest
asked = [re.search(r"eth_getBalance from ([0-9a-f]+)", l).group(1)
         for l in open(sys.argv[4]) if "chain gateway: eth_getBalance from" in l]
assert sorted(asked) == sorted(list(dest.values()) * 2), (asked, dest)
' "$A0" "$A1" "$W/b2/bitsd.log" "$W/b1/bitsd.log"; then ok "b2 asks about each account from a destination of its own, kept for the second view"; else bad "b2's isolation: $out (see $W/b2/bitsd.log, $W/b1/bitsd.log)"; fi
# b3 allows one such destination: both accounts answered, from one
# destination (not its client's), and it says so.
out=$(market 3 /wallet)
if printf '%s' "$out" | python3 -c '
import sys, json
code, body = sys.stdin.read().split(" ", 1)
assert code == "200", (code, body)
a = json.loads(body)["accounts"]
assert [x["eth"] for x in a] == [sys.argv[1], sys.argv[2]], a
' "$e0" "$e1" && [ "$(market 3 "" | python3 -c 'import sys, json; print(json.loads(sys.stdin.read().split(" ", 1)[1])["isolation"])')" = "{'open': 1, 'opened': 1}" ] &&
	grep -q "2 addresses in one view, 1 destinations for them" "$W/b3/bitsd.log"; then
	ok "b3 (market.isolation = 1) answers both accounts from one destination of their own, and says they share it"
else
	bad "b3's wallet with market.isolation = 1: $out (see $W/b3/bitsd.log)"
fi

out=$(market 2 "")
if printf '%s' "$out" | python3 -c '
import sys, json
j = json.loads(sys.stdin.read().split(" ", 1)[1])
c = j["client"]
assert c["via"] == "gateways" and not c["conflict"], c
assert len(c["gateways"]) == 1 and not c["gateways"][0]["disagrees"], c
assert j["gateway"] is None, j
'; then ok "b2 uses its one gateway, trusted, and runs none itself"; else bad "b2's /api/market: $out"; fi
out=$(market 1 "")
if printf '%s' "$out" | python3 -c '
import sys, json
s = json.loads(sys.stdin.read().split(" ", 1)[1])["gateway_stats"]
assert s["forwarded"] >= 5 and s["refused_method"] == 0 and s["node_errors"] == 0, s
'; then ok "b1's gateway forwarded b2's calls"; else bad "b1's /api/market: $out"; fi

bitsd_mesh_stop "$W"
PIDS=""
result $NAME
