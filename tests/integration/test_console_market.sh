#!/bin/sh
# The console with the market on (apps/bitsd_console, apps/bitsd_market):
# one bitsd with the feed, the swarm, a chain RPC gateway on an anvil the
# test starts (contracts deployed), the key agent and a wallet that pays
# in tokens.
#  - in Chromium (console-market.mjs publish): an audio file is published
#    through the Publish page for 1 USDC with a 5 % royalty; the page
#    shows the chain registration (LicenseRegistry.publish sent from the
#    router's wallet, apps/market/register.h) with its licence index, and
#    the card carries that index, the registry and our key agent; the
#    chain has the content at that index with the wallet as its creator,
#    the price, the royalty, the agent's address and keyCommitment =
#    keccak256(K ‖ contentHash) for the key in the creator's key book;
#  - the agent's key file (DATADIR/market-agent.keys) has the key, and
#    the agent holds it after a restart; the creator's key book is
#    removed, so this router has to buy it like any viewer;
#  - in Chromium (console-market.mjs buy): the wallet shows the payer's and the
#    creator's balances as anvil has them, to the wei, and no licence; the
#    player offers "Buy a licence for 1 USDC" (and a key field); the
#    purchase is paid on chain and shows its steps while the test mines
#    blocks; the wallet then shows the creator's earnings (the router's
#    wallet: LicenseRegistry.owed) as the chain has them, and over time
#    (/api/market/history: the sale's event, its block time and its split
#    checked against the chain to the wei).  The key's delivery by
#    the agent over tunnels is test_market_buy's (four routers).
# 127.0.0.94, ports 28970 (API on 127.0.0.1), 28971, 28972 (swarm); anvil
# on a free port.
set -u
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
. "$top_srcdir/tests/integration/i2pd-lib.sh"	# wait_log
. "$top_srcdir/tests/integration/console-lib.sh"
NAME=test_console_market
BITSD=$top_builddir/apps/bitsd
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-console-market.XXXXXX")
PID= MINER=
cleanup() {
	[ -n "$MINER" ] && kill "$MINER" 2>/dev/null
	if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
	stop_anvil
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT INT TERM
finish() { result $NAME; exit $?; }
API=28970
CREATOR_KEY=0x$(printf 'd4%.0s' $(seq 32))
AGENT_KEY=$(printf 'a1%.0s' $(seq 32))
# anvil's account 0 pays (it has ETH for gas)
PAYER_KEY=ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
PRICE=1000000

if ! "$top_srcdir/tools/browser-deps" >"$W/deps.log" 2>&1; then
	bad "tools/browser-deps failed: $(tail -n 3 "$W/deps.log")"; finish
fi
need_tools $NAME
start_anvil "$W" || finish
deploy "$W" || finish
D=$W/deploy.json
TOKEN=$(jget "$D" token) REG=$(jget "$D" licenseRegistry)
CREATOR=$("$CAST" wallet address --private-key "$CREATOR_KEY")
PAYER=$("$CAST" wallet address --private-key "0x$PAYER_KEY")
AGENT=$("$CAST" wallet address --private-key "0x$AGENT_KEY")
send() { "$CAST" send --rpc-url "$RPC" "$@" >>"$W/cast.log" 2>&1; }
"$CAST" rpc --rpc-url "$RPC" anvil_setBalance "$CREATOR" 0x8ac7230489e80000 >/dev/null
send --private-key "$CREATOR_KEY" "$TOKEN" 'mint(address,uint256)' "$PAYER" 10000000 ||
	{ bad "mint to the payer (see $W/cast.log)"; finish; }
printf '%s\n' "$PAYER_KEY" >"$W/payer.key"
printf '%s\n' "$AGENT_KEY" >"$W/agent.key"
chmod 600 "$W/payer.key" "$W/agent.key"
mkdir -p "$W/d"
cp "$W/agent.key" "$W/d/market-agent.key"
console_wav "$W/tone.wav"

start() {
	: >"$W/log"
	"$BITSD" --datadir "$W/d" --netid 77 --host 127.0.0.94 --port 28971 \
		--api-port $API --feed --swarm --swarm.http-port 28972 \
		--loglevel info --market.gateway --market.gateway.rpc "$RPC" \
		--market.deploy "$D" --market.agent \
		--market.wallet.key "$W/payer.key" --market.accounts "$PAYER,$CREATOR" \
		>"$W/log" 2>&1 &
	PID=$!
	wait_log "$W/log" "market: gateway on, agent on" 120 && [ -s "$W/d/market-agent.b32" ] &&
		wait_log "$W/log" "console on" 60 ||
		{ bad "bitsd did not start its market and console (see log)"; tail -n 20 "$W/log"; finish; }
}
stop() {
	kill -TERM "$PID"; i=0
	while kill -0 "$PID" 2>/dev/null && [ $i -lt 120 ]; do sleep 0.25; i=$((i + 1)); done
	if ! kill -0 "$PID" 2>/dev/null && wait "$PID"; then ok "bitsd stopped cleanly"
	else bad "bitsd did not stop cleanly"; fi
	PID=""
}

PW="$top_srcdir/tools/browser/node_modules/playwright-core"
# cget FILE a.b.c: a member of the card JSON
cget() {
	python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1" "$2"
}
api_get() {
	curl -sf -H "Authorization: Bearer $(cat "$W/d/api.token")" "http://127.0.0.1:$API$1"
}
start
AG=$(tr -d '\n' <"$W/d/market-agent.b32")
NEXT=$(( $(ccall "$REG" 'contentCount()(uint256)') + 1 ))
# the creator publishes through the Publish page: registered on chain
if PLAYWRIGHT_CORE=$PW node "$top_srcdir/tests/integration/console-market.mjs" publish \
	http://127.0.0.1:$API "$(cat "$W/d/api.token")" "$W/tone.wav" "$W/published"; then
	ok "a paid file published and registered on chain through the Publish page"
else
	bad "publishing a paid file through the Publish page"; finish
fi
read -r N CARD <"$W/published"
check "the page's licence index is the registry's next" "$NEXT" "$N"
api_get "/api/feed/card/$CARD" >"$W/card.json" || { bad "no card $CARD in the feed"; finish; }
H=0x$(cget "$W/card.json" card.contentHash) KC=0x$(cget "$W/card.json" card.keyCommitment)
check "the card names licence $N" "$N" "$(cget "$W/card.json" card.licence.index)"
check "the card names the registry" "$(lc "$REG")" "$(lc "$(cget "$W/card.json" card.licence.contract)")"
check "the card names our key agent" "$AG" "$(cget "$W/card.json" card.keyAgent)"
check "the chain has the content at index $N" "$N" "$(ccall "$REG" 'indexOf(bytes32)(uint256)' "$H")"
"$CAST" call --rpc-url "$RPC" "$REG" \
	'content(uint256)((address,uint64,uint16,uint16,address,uint96,bytes32))' "$N" >"$W/content.txt"
check "on chain: creator (the wallet), serial, royalty, agent fee, agent, price, keyCommitment" \
	"($PAYER, 0, 500, 0, $AGENT, $PRICE [1e6], $KC)" "$(cat "$W/content.txt")"
K=$(awk -v h="${H#0x}" '$1 == h { print $2 }' "$W/d/console/keys")
check "keyCommitment is keccak256(K ‖ contentHash) of the creator's key" "$KC" "$("$CAST" keccak "0x$K${H#0x}")"
stop
check "the agent's key file has the licence's key" "$N $K" "$(cat "$W/d/market-agent.keys" 2>/dev/null)"
check "the agent's key file is 0600" "600" "$(stat -c %a "$W/d/market-agent.keys" 2>/dev/null)"
# this router forgets the creator's key, as a viewer
rm -f "$W/d/console/keys"
start
check "after a restart the agent holds the key" "1" \
	"$(api_get /api/market | python3 -c 'import json,sys; print(json.load(sys.stdin)["agent_contents"])')"
BAL_PAYER=$("$CAST" balance "$PAYER" --rpc-url "$RPC")
BAL_CREATOR=$("$CAST" balance "$CREATOR" --rpc-url "$RPC")
# blocks for the confirmations the agent asks, while the browser buys
( while :; do "$CAST" rpc --rpc-url "$RPC" anvil_mine 1 >/dev/null 2>&1; sleep 1; done ) &
MINER=$!
if PLAYWRIGHT_CORE="$top_srcdir/tools/browser/node_modules/playwright-core" \
	node "$top_srcdir/tests/integration/console-market.mjs" buy http://127.0.0.1:$API \
	"$(cat "$W/d/api.token")" "$CARD" "$PAYER" "$BAL_PAYER" "$CREATOR" "$BAL_CREATOR" \
	"$W/owed"; then
	ok "the wallet and a purchase in Chromium"
else
	bad "the wallet and a purchase in Chromium"
fi
kill "$MINER"; MINER=
OWED=$(ccall "$REG" 'owed(address)(uint256)' "$PAYER")
check "the creator (the wallet) is owed what the wallet page showed" "$OWED" "$(cat "$W/owed" 2>/dev/null)"
# the earnings over time: the sale's event, its block time, the split
i=0
until api_get /api/market/history >"$W/history.json" || [ $i -gt 20 ]; do i=$((i + 1)); sleep 0.5; done
FEE=$(ccall "$REG" 'protocolFeeBps()(uint16)')
SALE_BLOCK=$(cget "$W/history.json" sales.0.block 2>/dev/null)
check "one sale in the history" "1" "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["sales"]))' "$W/history.json" 2>&1)"
check "the history's total is what the chain owes, to the wei" "$OWED" "$(cget "$W/history.json" total 2>&1)"
check "the sale earned the price less the protocol fee ($FEE bps)" "$((PRICE - PRICE * FEE / 10000))" \
	"$(cget "$W/history.json" sales.0.amount 2>&1)"
check "the sale's time is its block's" "$("$CAST" block --rpc-url "$RPC" "$SALE_BLOCK" -f timestamp 2>&1)" \
	"$(cget "$W/history.json" sales.0.t 2>&1)"
check "the sale is of licence $N" "$N" "$(cget "$W/history.json" sales.0.index 2>&1)"
stop
grep -qE 'AddressSanitizer|runtime error' "$W/log" && bad "sanitizer report" || ok "no sanitizer report"
finish
