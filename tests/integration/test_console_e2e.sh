#!/bin/sh
# The console end to end (issue 15's test, run by hand: minutes of
# tunnels and chain): four bitsd with one-hop tunnels (b2 the floodfill),
# an anvil started here with the contracts deployed.
#  - b1, the creator's router (feed, swarm, chain RPC gateway, key agent,
#    the creator's wallet), seals an audio file through its console's
#    calls with a price in tokens; the console registers it on chain from
#    the creator's wallet, gives b1's agent its key and signs the card
#    with its licence index and b1's agent;
#  - b2, the viewer's router (feed, swarm, a wallet with tokens and ETH,
#    the chain through b1's gateway), takes b1 as feed peer: the card
#    comes by gossip;
#  - in Chromium on b2's console (console-e2e.mjs): the card is in the
#    feed; the player buys it (paid on chain, confirmations mined by the
#    test, the key from b1's agent over tunnels) and plays it, fetched
#    from b1 over tunnels; the wallet lists the licence with its key and
#    the creator's earnings as the chain has them;
#  - all stop cleanly, with no sanitizer report.
# 127.0.1.41-44, NTCP2 ports 29411-29414, the APIs on 127.0.0.1:29461-29464,
# swarm endpoints 29471-29472 (127.0.0.1), anvil on a free port.
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "$top_srcdir/tests/integration/console-lib.sh"
NAME=test_console_e2e
W=$(mktemp -d "${TMPDIR:-/tmp}/console-e2e.XXXXXX")
PIDS="" MINER=""
cleanup() {
	[ -n "$MINER" ] && kill "$MINER" 2>/dev/null
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	stop_anvil
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077
CREATOR_KEY=0x$(printf 'd4%.0s' $(seq 32))
AGENT_KEY=$(printf 'a1%.0s' $(seq 32))
PAYER_KEY=ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
PRICE=1000000

"$top_srcdir/tools/browser-deps" >"$W/deps.log" 2>&1 ||
	{ bad "tools/browser-deps failed: $(tail -n 3 "$W/deps.log")"; result $NAME; exit 1; }
need_tools $NAME
start_anvil "$W" || { result $NAME; exit 1; }
deploy "$W" || { result $NAME; exit 1; }
D=$W/deploy.json
TOKEN=$(jget "$D" token) REG=$(jget "$D" licenseRegistry)
CREATOR=$("$CAST" wallet address --private-key "$CREATOR_KEY")
PAYER=$("$CAST" wallet address --private-key "0x$PAYER_KEY")
AGENT=$("$CAST" wallet address --private-key "0x$AGENT_KEY")
send() { "$CAST" send --rpc-url "$RPC" "$@" >>"$W/cast.log" 2>&1; }
"$CAST" rpc --rpc-url "$RPC" anvil_setBalance "$CREATOR" 0x8ac7230489e80000 >/dev/null
send --private-key "$CREATOR_KEY" "$TOKEN" 'mint(address,uint256)' "$PAYER" 10000000 ||
	{ bad "mint to the payer"; result $NAME; exit 1; }

bitsd_mesh "$W" 127.0.1 40 29410 || { result $NAME; exit 1; }
printf '%s\n' "$AGENT_KEY" >"$W/b1/market-agent.key"
printf '%s\n' "$PAYER_KEY" >"$W/payer.key"
printf '%s\n' "${CREATOR_KEY#0x}" >"$W/creator.key"
chmod 600 "$W/payer.key" "$W/creator.key" "$W/b1/market-agent.key"
console_wav "$W/tone.wav"

start() {
	n=$1; shift
	ff=""; [ "$n" = 2 ] && ff=--floodfill
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$((40 + n)) \
		--port $((29410 + n)) --netid 77 --api-port $((29460 + n)) $ff \
		--loglevel debug --logfile "$W/b$n/bitsd.log" "$@" \
		>>"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
}
# how many times b1 has logged its market services up
market_up() { cat "$W/b1/bitsd.log" 2>/dev/null | grep -c "market: gateway on, agent on"; }
start_b1() {
	runs=$(market_up)
	start 1 --feed --feed.round 5 --swarm --swarm.http-port 29471 --market.gateway \
		--market.gateway.rpc "$RPC" --market.deploy "$D" --market.agent \
		--market.wallet.key "$W/creator.key"
	i=0
	while [ "$(market_up)" = "$runs" ]; do
		i=$((i + 1))
		[ $i -gt 480 ] && { bad "b1: no market services"; result $NAME; exit 1; }
		sleep 0.25
	done
}
start_b1
GW=$(tr -d '\n' <"$W/b1/market-gateway.b32")
AG=$(tr -d '\n' <"$W/b1/market-agent.b32")
start 2 --feed --feed.round 5 --swarm --swarm.http-port 29472 --market.gateways "$GW" \
	--market.deploy "$D" --market.wallet.key "$W/payer.key" \
	--market.accounts "$PAYER,$CREATOR"
start 3
start 4
NEXT=$(( $(ccall "$REG" 'contentCount()(uint256)') + 1 ))
# b1's console seals the creator's card, registers it on chain from the
# creator's wallet (its agent given the key) and signs it with its licence
if console_seal 29461 "$W/b1" "$W/tone.wav" - - - "$W/card.env"
then ok "b1 seals the creator's card and registers it on chain"
else bad "sealing and registering on b1"; result $NAME; exit 1; fi
. "$W/card.env"
check "the card's licence is the registry's next index" "$NEXT" "$N"
check "the chain gives the card's index" "$NEXT" "$(ccall "$REG" 'indexOf(bytes32)(uint256)' "$H")"
wait_log "$W/b2/bitsd.log" "console on" 120 || { bad "b2: no console"; result $NAME; exit 1; }
# b1 and b2 gossip with each other (each takes only its peers' items)
peer() { # N M: router n takes router m as feed peer
	python3 - "$(cat "$W/b$1/api.token")" $((29460 + $1)) "$(tr -d '\n' <"$W/b$2/feed.b32")" <<'PY'
import sys, json, http.client
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]), timeout=60)
c.request("POST", "/api/feed/peers", json.dumps({"peer": sys.argv[3]}),
          {"Authorization": "Bearer " + sys.argv[1], "Content-Type": "application/json"})
r = c.getresponse(); r.read(); sys.exit(0 if r.status == 200 else 1)
PY
}
peer 2 1 && peer 1 2 && ok "b1 and b2 are feed peers" || bad "feed peers b1, b2"
( while :; do "$CAST" rpc --rpc-url "$RPC" anvil_mine 1 >/dev/null 2>&1; sleep 1; done ) &
MINER=$!
if PLAYWRIGHT_CORE="$top_srcdir/tools/browser/node_modules/playwright-core" \
	node "$top_srcdir/tests/integration/console-e2e.mjs" http://127.0.0.1:29462 \
	"$(cat "$W/b2/api.token")" "$W/owed"; then
	ok "b2's console: the card by gossip, bought, played, in the wallet"
else
	bad "b2's console in Chromium"
fi
kill "$MINER"; MINER=
check "the creator is owed what the wallet page showed" "$(ccall "$REG" 'owed(address)(uint256)' "$CREATOR")" \
	"$(cat "$W/owed" 2>/dev/null)"
bitsd_mesh_stop "$W"
result $NAME
