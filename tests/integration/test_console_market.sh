#!/bin/sh
# The console with the market on (apps/bitsd_console, apps/bitsd_market):
# one bitsd with the feed, the swarm, a chain RPC gateway on an anvil the
# test starts (contracts deployed), the key agent and a wallet that pays
# in tokens.
#  - a creator's audio file is sealed through the console's calls with a
#    price in tokens, its licence index and our key agent in the card; the
#    creator registers it on chain (LicenseRegistry.publish with the card's
#    keyCommitment); the agent gets its key; the creator's key book is
#    removed, so this router has to buy it like any viewer;
#  - in Chromium (console-market.mjs): the wallet shows the payer's and the
#    creator's balances as anvil has them, to the wei, and no licence; the
#    player offers "Buy a licence for 1 USDC" (and a key field); the
#    purchase is paid on chain and shows its steps while the test mines
#    blocks; the wallet then shows the creator's earnings
#    (LicenseRegistry.owed) as the chain has them.  The key's delivery by
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
: >"$W/agent.keys"
chmod 600 "$W/payer.key" "$W/agent.key" "$W/agent.keys"
mkdir -p "$W/d"
cp "$W/agent.key" "$W/d/market-agent.key"
console_wav "$W/tone.wav"

start() {
	: >"$W/log"
	"$BITSD" --datadir "$W/d" --netid 77 --host 127.0.0.94 --port 28971 \
		--api-port $API --feed --swarm --swarm.http-port 28972 \
		--loglevel info --market.gateway --market.gateway.rpc "$RPC" \
		--market.deploy "$D" --market.agent --market.agent.keys "$W/agent.keys" \
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

start
AG=$(tr -d '\n' <"$W/d/market-agent.b32")
NEXT=$(( $(ccall "$REG" 'contentCount()(uint256)') + 1 ))
# the creator publishes through the console's calls: a priced card with
# its licence index and our agent
if console_seal $API "$W/d" "$W/tone.wav" "$REG" "$NEXT" "$AG" "$W/card.env"
then ok "the creator's card is sealed through the console with its licence index and agent"
else bad "sealing the creator's card"; finish; fi
. "$W/card.env"
send --private-key "$CREATOR_KEY" "$REG" 'publish(bytes32,uint96,uint16,address,uint16,bytes32)' \
	"$H" $PRICE 0 "$AGENT" 300 "$KC" || { bad "register the content on chain (see $W/cast.log)"; finish; }
check "the chain gives the card's index" "$NEXT" "$(ccall "$REG" 'indexOf(bytes32)(uint256)' "$H")"
stop
# the agent holds K; this router forgets the creator's key, as a viewer
printf '%s %s\n' "$NEXT" "$K" >"$W/agent.keys"
rm -f "$W/d/console/keys"
start
BAL_PAYER=$("$CAST" balance "$PAYER" --rpc-url "$RPC")
BAL_CREATOR=$("$CAST" balance "$CREATOR" --rpc-url "$RPC")
# blocks for the confirmations the agent asks, while the browser buys
( while :; do "$CAST" rpc --rpc-url "$RPC" anvil_mine 1 >/dev/null 2>&1; sleep 1; done ) &
MINER=$!
if PLAYWRIGHT_CORE="$top_srcdir/tools/browser/node_modules/playwright-core" \
	node "$top_srcdir/tests/integration/console-market.mjs" http://127.0.0.1:$API \
	"$(cat "$W/d/api.token")" "$CARD" "$PAYER" "$BAL_PAYER" "$CREATOR" "$BAL_CREATOR" \
	"$W/owed"; then
	ok "the wallet and a purchase in Chromium"
else
	bad "the wallet and a purchase in Chromium"
fi
kill "$MINER"; MINER=
check "the creator is owed what the wallet page showed" "$(ccall "$REG" 'owed(address)(uint256)' "$CREATOR")" \
	"$(cat "$W/owed" 2>/dev/null)"
stop
grep -qE 'AddressSanitizer|runtime error' "$W/log" && bad "sanitizer report" || ok "no sanitizer report"
finish
