#!/bin/sh
# The console with the market on (apps/bitsd_console, apps/bitsd_market),
# issue 15's story end to end in Chromium: a creator publishes a video; on
# another router a viewer finds it in the feed, buys it, and it plays; the
# wallet shows the purchase and the creator's earnings; the viewer then
# resells the licence from the Resale page.  Two bitsd with zero-hop
# tunnels (so the tunnels are up at once) and an anvil the test starts
# with the contracts deployed:
#  - b1, the creator's router: feed, swarm, a chain RPC gateway on the
#    anvil, the key agent, the relayer (anvil's account 1) and the
#    creator's wallet; the floodfill;
#  - b2, the viewer's router: feed, swarm, the chain through b1's gateway
#    over the overlay, a wallet that pays in tokens (anvil's account 0),
#    b1's relayer for its resale steps.
# Checks:
#  - in Chromium on b1 (console-market.mjs publish): a WebM video that
#    Chromium records from a canvas is published through the Publish page
#    for 1 USDC with a 5 % royalty; the page shows the chain registration
#    (LicenseRegistry.publish from the router's wallet,
#    apps/market/register.h) with its licence index; the card carries that
#    index, the registry and b1's key agent; the chain has the content at
#    that index with the wallet as its creator, the price, the royalty,
#    the agent's address and keyCommitment = keccak256(K ‖ contentHash);
#  - the agent's key file (DATADIR/market-agent.keys, 0600) has the key,
#    and the agent holds it after a restart;
#  - b2 hosts what it holds whole (swarm.host.price, docs/market.md §8);
#    b1 restarted pays it per epoch of 5 s for the video, two at most;
#  - in Chromium on b2 (console-market.mjs buy): the wallet shows the
#    payer's and the creator's balances as anvil has them, to the wei,
#    and no licence; the feed's search finds the card (it comes by
#    gossip); the player offers "Buy a licence for 1 USDC", the purchase
#    is paid on chain, confirmed (the test mines blocks) and the key comes
#    from b1's agent over tunnels; the video plays (its time advances)
#    fetched from b1; the wallet lists the licence with its key and the
#    creator's earnings as LicenseRegistry.owed has them, and over time
#    (/api/market/history: the sale's event, its block time and its split
#    checked against the chain to the wei);
#  - the Resale page on b2, by keyboard: the licence listed at a price
#    (askPrice on chain), the listing cancelled and listed again; a buyer
#    (anvil's account 2) takes it on chain; the page shows it sold and
#    owed the seller's share, and takes the payout (to the wallet, less
#    the relayer's fee); the chain agrees to the wei.
# 127.0.0.94 (b1) and 127.0.0.95 (b2), ports 28970/28974 (APIs, on
# 127.0.0.1), 28971/28973 (NTCP2), 28972/28975 (swarm, on 127.0.0.1);
# anvil on a free port.
set -u
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
. "$top_srcdir/tests/integration/i2pd-lib.sh"	# wait_log, ri_b64hash
. "$top_srcdir/tests/integration/ntcp2-lib.sh"	# seed_ri
. "$top_srcdir/tests/integration/console-lib.sh"
NAME=test_console_market
BITSD=$top_builddir/apps/bitsd
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-console-market.XXXXXX")
P1= P2= MINER=
cleanup() {
	[ -n "$MINER" ] && kill "$MINER" 2>/dev/null
	for p in $P1 $P2; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	stop_anvil
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT INT TERM
finish() { result $NAME; exit $?; }
API1=28970 API2=28974
CREATOR_KEY=0x$(printf 'd4%.0s' $(seq 32))
AGENT_KEY=$(printf 'a1%.0s' $(seq 32))
# anvil's account 0 pays (it has ETH for gas), account 1 relays
PAYER_KEY=ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
RELAYER_KEY=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
PRICE=1000000 FEE=2500 ASK=3000000
# b2 hosts what it holds whole at HPRICE an epoch; b1 pays it two epochs
# of HEPOCH s at most from the pot of HOST_POT_KEY, funded by anvil's
# account 3
HPRICE=40000 HEPOCH=5
HOST_POT_KEY=$(printf '7e%.0s' $(seq 32))
FUNDER_KEY=0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6

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
RELAYER=$("$CAST" wallet address --private-key "0x$RELAYER_KEY")
send() { "$CAST" send --rpc-url "$RPC" "$@" >>"$W/cast.log" 2>&1; }
"$CAST" rpc --rpc-url "$RPC" anvil_setBalance "$CREATOR" 0x8ac7230489e80000 >/dev/null
send --private-key "$CREATOR_KEY" "$TOKEN" 'mint(address,uint256)' "$PAYER" 10000000 ||
	{ bad "mint to the payer (see $W/cast.log)"; finish; }
printf '%s\n' "${CREATOR_KEY#0x}" >"$W/creator.key"
printf '%s\n' "$PAYER_KEY" >"$W/payer.key"
printf '%s\n' "$RELAYER_KEY" >"$W/relayer.key"
printf '%s\n' "$HOST_POT_KEY" >"$W/hostpot.key"
chmod 600 "$W"/*.key
HUB=$(jget "$D" paymentHub)
HSIGNER=$("$CAST" wallet address --private-key "0x$HOST_POT_KEY")
FUNDER=$("$CAST" wallet address --private-key "$FUNDER_KEY")
send --private-key "$CREATOR_KEY" "$TOKEN" 'mint(address,uint256)' "$FUNDER" 100000000 &&
	send --private-key "$FUNDER_KEY" "$TOKEN" 'approve(address,uint256)' "$HUB" 100000000 &&
	send --private-key "$FUNDER_KEY" "$HUB" 'fund(address,uint96,uint96)' "$HSIGNER" 50000000 50000000 ||
	{ bad "fund the hosting pot (see $W/cast.log)"; finish; }
# two routers that know each other, with zero-hop tunnels
for n in 1 2; do
	mkdir -p "$W/b$n"
	"$BITSD" --datadir "$W/b$n" --host 127.0.0.$((93 + n)) --port $((28969 + 2 * n)) \
		--netid 77 --init >"$W/b$n/init.log" 2>&1 || { bad "bitsd --init $n"; finish; }
	cat >"$W/b$n/bits.conf" <<CONF
[exploratory]
inbound.length = 0
outbound.length = 0
[tunnels]
same-subnet = true
[sam]
hops = 0
CONF
done
seed_ri "$W/b1/router.info" "$W/b2" && seed_ri "$W/b2/router.info" "$W/b1"
printf '%s\n' "$AGENT_KEY" >"$W/b1/market-agent.key"
chmod 600 "$W/b1/market-agent.key"

# start1 [ARGS...]: b1 (the second time, paying b2 for hosting)
start1() {
	: >"$W/log1"
	"$BITSD" --datadir "$W/b1" --netid 77 --host 127.0.0.94 --port 28971 \
		--api-port $API1 --floodfill --feed --feed.round 5 --swarm --swarm.http-port 28972 \
		--loglevel info --market.gateway --market.gateway.rpc "$RPC" \
		--market.deploy "$D" --market.agent --market.wallet.key "$W/creator.key" \
		--market.accounts "$CREATOR" --market.relayer.key "$W/relayer.key" \
		--market.relayer.min-fee 1000 "$@" >"$W/log1" 2>&1 &
	P1=$!
	wait_log "$W/log1" "market: gateway on, agent on, relayer on" 120 &&
		[ -s "$W/b1/market-agent.b32" ] && wait_log "$W/log1" "console on" 60 ||
		{ bad "b1 did not start its market and console (see log1)"; tail -n 20 "$W/log1"; finish; }
}
start2() {
	"$BITSD" --datadir "$W/b2" --netid 77 --host 127.0.0.95 --port 28973 \
		--api-port $API2 --feed --feed.round 5 --swarm --swarm.http-port 28975 \
		--loglevel info --market.gateways "$(tr -d '\n' <"$W/b1/market-gateway.b32")" \
		--market.deploy "$D" --market.wallet.key "$W/payer.key" \
		--market.accounts "$PAYER,$CREATOR" \
		--market.buy.relayer "$(tr -d '\n' <"$W/b1/market-relayer.b32")" \
		--market.buy.relayer-fee $FEE \
		--swarm.storage 64 --swarm.host.price $HPRICE >"$W/log2" 2>&1 &
	P2=$!
}
# stop PID NAME: SIGTERM, a bounded wait, a clean exit
stop() {
	kill -TERM "$1"; i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 120 ]; do sleep 0.25; i=$((i + 1)); done
	if ! kill -0 "$1" 2>/dev/null && wait "$1"; then ok "$2 stopped cleanly"
	else bad "$2 did not stop cleanly"; fi
}

PW="$top_srcdir/tools/browser/node_modules/playwright-core"
MJS=$top_srcdir/tests/integration/console-market.mjs
# cget FILE a.b.c: a member of the card JSON
cget() {
	python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1" "$2"
}
api_get() { # PORT DATADIR PATH
	curl -sf -H "Authorization: Bearer $(cat "$2/api.token")" "http://127.0.0.1:$1$3"
}
start1
AG=$(tr -d '\n' <"$W/b1/market-agent.b32")
NEXT=$(( $(ccall "$REG" 'contentCount()(uint256)') + 1 ))
# the creator publishes a video through the Publish page: registered on chain
if PLAYWRIGHT_CORE=$PW node "$MJS" publish http://127.0.0.1:$API1 "$(cat "$W/b1/api.token")" \
	"$W/published"; then
	ok "a paid video published and registered on chain through b1's Publish page"
else
	bad "publishing a paid video through the Publish page"; finish
fi
read -r N CARD <"$W/published"
check "the page's licence index is the registry's next" "$NEXT" "$N"
api_get $API1 "$W/b1" "/api/feed/card/$CARD" >"$W/card.json" || { bad "no card $CARD in the feed"; finish; }
H=0x$(cget "$W/card.json" card.contentHash) KC=0x$(cget "$W/card.json" card.keyCommitment)
check "the card is a video" "video/webm" "$(cget "$W/card.json" card.mime)"
check "the card names licence $N" "$N" "$(cget "$W/card.json" card.licence.index)"
check "the card names the registry" "$(lc "$REG")" "$(lc "$(cget "$W/card.json" card.licence.contract)")"
check "the card names our key agent" "$AG" "$(cget "$W/card.json" card.keyAgent)"
check "the chain has the content at index $N" "$N" "$(ccall "$REG" 'indexOf(bytes32)(uint256)' "$H")"
"$CAST" call --rpc-url "$RPC" "$REG" \
	'content(uint256)((address,uint64,uint16,uint16,address,uint96,bytes32))' "$N" >"$W/content.txt"
check "on chain: creator (the wallet), serial, royalty, agent fee, agent, price, keyCommitment" \
	"($CREATOR, 0, 500, 0, $AGENT, $PRICE [1e6], $KC)" "$(cat "$W/content.txt")"
K=$(awk -v h="${H#0x}" '$1 == h { print $2 }' "$W/b1/console/keys")
check "keyCommitment is keccak256(K ‖ contentHash) of the creator's key" "$KC" "$("$CAST" keccak "0x$K${H#0x}")"
stop "$P1" "b1"; P1=
check "the agent's key file has the licence's key" "$N $K" "$(cat "$W/b1/market-agent.keys" 2>/dev/null)"
check "the agent's key file is 0600" "600" "$(stat -c %a "$W/b1/market-agent.keys" 2>/dev/null)"
start2	# b1's destinations' addresses are kept from its first run
wait_log "$W/log2" "hostpay: hosting contents" 120 && [ -s "$W/b2/market-host.b32" ] ||
	{ bad "b2: no host service"; tail -n 20 "$W/log2"; finish; }
start1 --swarm.host.pay-key "$W/hostpot.key" --swarm.host.max-price $HPRICE \
	--swarm.host.budget $((2 * HPRICE)) --swarm.host.epoch $HEPOCH \
	--swarm.host.hosts "$(tr -d '\n' <"$W/b2/market-host.b32")"
check "after a restart the agent holds the key" "1" \
	"$(api_get $API1 "$W/b1" /api/market | python3 -c 'import json,sys; print(json.load(sys.stdin)["agent_contents"])')"
wait_log "$W/log2" "console on" 120 || { bad "b2: no console"; tail -n 20 "$W/log2"; finish; }
# b1 and b2 gossip with each other (each takes only its peers' items)
peer() { # N M: router n takes router m as feed peer
	python3 - "$(cat "$W/b$1/api.token")" $2 "$(tr -d '\n' <"$W/b$3/feed.b32")" <<'PY'
import sys, json, http.client
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]), timeout=60)
c.request("POST", "/api/feed/peers", json.dumps({"peer": sys.argv[3]}),
          {"Authorization": "Bearer " + sys.argv[1], "Content-Type": "application/json"})
r = c.getresponse(); r.read(); sys.exit(0 if r.status == 200 else 1)
PY
}
peer 2 $API2 1 && peer 1 $API1 2 && ok "b1 and b2 are feed peers" || bad "feed peers b1, b2"
BAL_PAYER=$("$CAST" balance "$PAYER" --rpc-url "$RPC")
BAL_CREATOR=$("$CAST" balance "$CREATOR" --rpc-url "$RPC")
RO0=$(ccall "$REG" 'owed(address)(uint256)' "$RELAYER")
# blocks for the confirmations the agent asks, while the browser buys
( while :; do "$CAST" rpc --rpc-url "$RPC" anvil_mine 1 >/dev/null 2>&1; sleep 1; done ) &
MINER=$!
if PLAYWRIGHT_CORE=$PW CAST=$CAST RPC=$RPC TOKEN=$TOKEN REG=$REG MINTER_KEY=$CREATOR_KEY \
	node "$MJS" buy http://127.0.0.1:$API2 "$(cat "$W/b2/api.token")" "$CARD" "$PAYER" "$BAL_PAYER" \
	"$CREATOR" "$BAL_CREATOR" "$ASK" "$W/out"; then
	ok "b2's console: the card found in the feed, bought, played, in the wallet, resold"
else
	bad "b2's console in Chromium"
fi
kill "$MINER"; MINER=
OWED=$(ccall "$REG" 'owed(address)(uint256)' "$CREATOR")
ROY=$((ASK * 500 / 10000))
check "the creator's earnings the wallet page showed were the chain's" "$((OWED - ROY))" \
	"$(sed -n 's/^owed //p' "$W/out" 2>/dev/null)"
# the earnings over time: the sale's event, its block time, the split
i=0
until api_get $API2 "$W/b2" /api/market/history >"$W/history.json" || [ $i -gt 20 ]; do i=$((i + 1)); sleep 0.5; done
FEE_BPS=$(ccall "$REG" 'protocolFeeBps()(uint16)')
SALE_BLOCK=$(cget "$W/history.json" sales.0.block 2>/dev/null)
check "the sale and the resale in b2's history" "sale resale" \
	"$(python3 -c 'import json,sys; print(" ".join(s["kind"] for s in json.load(open(sys.argv[1]))["sales"]))' "$W/history.json" 2>&1)"
check "the sale earned the creator the price less the protocol fee ($FEE_BPS bps)" \
	"$((PRICE - PRICE * FEE_BPS / 10000))" "$(cget "$W/history.json" sales.0.amount 2>&1)"
check "the sale's time is its block's" "$("$CAST" block --rpc-url "$RPC" "$SALE_BLOCK" -f timestamp 2>&1)" \
	"$(cget "$W/history.json" sales.0.t 2>&1)"
check "the sale is of licence $N" "$N" "$(cget "$W/history.json" sales.0.index 2>&1)"
# the resale: the seller's share less the listing's relayer fee, paid
# out to the wallet less the payout's relayer fee
SHARE=$((ASK - ASK * FEE_BPS / 10000 - ROY - FEE))
HOLDER=$(sed -n 's/^holder //p' "$W/out" 2>/dev/null)
check "the history's resale: the creator's royalty and the seller's share" "$((ROY + SHARE))" \
	"$(cget "$W/history.json" sales.1.amount 2>&1)"
check "the history's total is what the chain owes the creator, plus the seller's share" \
	"$((OWED + SHARE))" "$(cget "$W/history.json" total 2>&1)"
check "the page's payout: the seller's share less the relayer's fee" "$((SHARE - FEE))" \
	"$(sed -n 's/^payout //p' "$W/out" 2>/dev/null)"
check "the registry owes the seller nothing after the payout" 0 "$(ccall "$REG" 'owed(address)(uint256)' "$HOLDER")"
check "the relayer owed the listing's fee" "$((RO0 + FEE))" "$(ccall "$REG" 'owed(address)(uint256)' "$RELAYER")"
check "the seller's address still has no ETH" 0 "$("$CAST" balance "$HOLDER" --rpc-url "$RPC")"
# hosting: what the page showed b2 earned as host is what b1 paid it,
# an epoch or both of the budget's two; by now both, and b2 holds them
# (no relayer: kept, not redeemed)
hp() { # PORT DATADIR EXPR over the hostpay section h
	api_get $1 "$2" /api/status | python3 -c '
import sys, json
h = json.load(sys.stdin).get("hostpay", {})
print(eval(sys.argv[1]))' "$3" 2>&1
}
HSHOWN=$(sed -n 's/^host //p' "$W/out" 2>/dev/null)
case "$HSHOWN" in
$HPRICE|$((2 * HPRICE))) ok "the wallet's host row showed $HSHOWN, one or two epochs";;
*) bad "the wallet's host row showed '$HSHOWN' (an epoch is $HPRICE)";;
esac
i=0
while { [ "$(hp $API2 "$W/b2" 'h["host"]["earned"]')" != $((2 * HPRICE)) ] ||
	[ "$(hp $API1 "$W/b1" 'h["creator"]["over_budget"] > 0')" != True ]; } && [ $i -lt 60 ]; do
	sleep 1; i=$((i + 1))
done
check "b2 earned two epochs as host, b1 paid it two (its budget), for the video" \
	"$((2 * HPRICE)) $((2 * HPRICE)) ${H#0x} True" \
	"$(hp $API2 "$W/b2" 'h["host"]["earned"]') $(hp $API1 "$W/b1" 'h["creator"]["paid"], h["creator"]["deals"][0]["content"], h["creator"]["over_budget"] > 0' | tr -d "(),'")"
check "b1's console: paid two epochs to hosts as creator, b2's: earned them as host" \
	"$((2 * HPRICE)) $((2 * HPRICE))" \
	"$(api_get $API1 "$W/b1" /api/console/earnings | python3 -c 'import json,sys; print(json.load(sys.stdin)["now"]["money"].get("host_paid"))') $(api_get $API2 "$W/b2" /api/console/earnings | python3 -c 'import json,sys; print(json.load(sys.stdin)["now"]["money"].get("host"))')"
stop "$P2" "b2"; P2=
stop "$P1" "b1"; P1=
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$W/log1" "$W/log2" && bad "sanitizer report" ||
	ok "no sanitizer report"
finish
