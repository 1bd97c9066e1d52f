#!/bin/sh
# Buying from bitsd (issue 13): four bitsd with one-hop tunnels, b1 the
# floodfill, and an anvil started here with the contracts deployed.
#  - b1 (the creator's router) publishes the node as a chain RPC gateway
#    and runs the key agent (K of content 1 and 3) and the relayer;
#  - b3 runs another agent that answers content 2 with a wrong K;
#  - b2 buys through its API (POST /api/market/buy, GET .../buy/ID) from
#    a wallet holding tokens and no ETH: relayed buyFor through b1's
#    relayer, the confirmations the agent asks (the test mines blocks),
#    the KeyRequest to the agent over the overlay, keyCommitment checked:
#    K in the key library is the creator's, /api/market/keys lists it;
#    creator, agent, protocol cut, relayer and payer to the wei;
#  - a second buy of content 1 pays nothing (same balances);
#  - content 2 through b3's agent: paid, but the lying K is refused
#    (keyCommitment) and no key is kept;
#  - with ETH, content 3 is bought directly (no relayer fee) by
#    `bits buy` through b2's API;
#  - content 1's licence resold from b2, its holder with no ETH, through
#    b1's relayer: `bits resale list`, cancel and list again by the API,
#    a sale, `bits resale payout` to the wallet, all to the wei; the
#    licence then no longer held (owned filter, /api/market/keys), its K
#    kept among the sold;
#  - b2's feed (feed = true) holds cards for contents 1, 2, 3 and one
#    never bought: its owned filter (price=owned, the key library's
#    minted licences) shows none before the purchases, content 1's card
#    once it is bought, contents 1-3 (2's licence paid, its key refused)
#    after, never the fourth; b2 reads the DIDRegistry through b1's
#    gateway over tunnels for its feed's favoured creators;
#  - b2 restarted still lists both keys, content 1's as sold;
#  - b1's gateway reaches anvil only through a proxy the test puts
#    between them: every request body forwarded (b2's reads and the
#    relayed transactions among them) holds no router's address, port,
#    identity hash or destination hash, and every connection to it came
#    from b1's process (b2-b4 have no node: tunnels only);
#  - all stop cleanly, with no sanitizer report.
# Waits are on conditions with generous timeouts.  127.0.1.31-34, NTCP2
# ports 29311-29314, the APIs on 127.0.0.1:29361-29364, anvil on a free
# port.
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/market-lib.sh"
NAME=test_market_buy
API_BASE=29360
W=$(mktemp -d "${TMPDIR:-/tmp}/market-buy.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS $CAPPID; do kill -KILL "$p" 2>/dev/null; done
	stop_anvil
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077
# anvil's account 1 is the relayer
RELAYER=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
RELAYER_KEY=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
CREATOR_KEY=0x$(printf 'd4%.0s' $(seq 32))
AGENT_KEY=$(printf 'a1%.0s' $(seq 32))
LIAR_KEY=$(printf 'b2%.0s' $(seq 32))
PAYER_KEY=$(printf 'c3%.0s' $(seq 32))
PRICE=1000000 AGENT_FEE_BPS=300 FEE=2500

need_tools $NAME
start_anvil "$W" || { result $NAME; exit 1; }
deploy "$W" || { result $NAME; exit 1; }
D=$W/deploy.json
start_rpc_capture "$RPC" || { bad "the RPC capture proxy did not start"; result $NAME; exit 1; }
TOKEN=$(jget "$D" token) REG=$(jget "$D" licenseRegistry)
AGENT=$("$CAST" wallet address --private-key "0x$AGENT_KEY")
CREATOR=$("$CAST" wallet address --private-key "$CREATOR_KEY")
PAYER=$("$CAST" wallet address --private-key "0x$PAYER_KEY")
tok() { view "$TOKEN" 70a08231 "$1"; }
owed() { view "$REG" df18e047 "$1"; }
send() { "$CAST" send --rpc-url "$RPC" "$@" >>"$W/cast.log" 2>&1; }

bitsd_mesh "$W" 127.0.1 30 29310 || { result $NAME; exit 1; }
printf '%s\n' "$AGENT_KEY" >"$W/b1/market-agent.key"
printf '%s\n' "$LIAR_KEY" >"$W/b3/market-agent.key"
printf '%s\n' "$RELAYER_KEY" >"$W/relayer.key"
printf '%s\n' "$PAYER_KEY" >"$W/payer.key"
# the contents, published below while the tunnels are built, get the
# indices 1-3 of the fresh registry
I1=1 I2=2 I3=3
for n in 1 2 3; do
	eval "H$n=$("$CAST" keccak "content $n manifest")"
	eval "K$n=$("$CAST" keccak "content $n key")"
done
printf '%s %s\n%s %s\n' "$I1" "${K1#0x}" "$I3" "${K3#0x}" >"$W/agent.keys"
printf '%s %s\n' "$I2" "$(printf '66%.0s' $(seq 32))" >"$W/liar.keys"
chmod 600 "$W"/*.key "$W"/*.keys "$W"/b*/market-agent.key

# start N ARGS...: router n in the background
start() {
	n=$1; shift
	ff=""; [ "$n" = 1 ] && ff=--floodfill
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$((30 + n)) \
		--port $((29310 + n)) --netid 77 --api-port $((29360 + n)) $ff \
		--loglevel debug --logfile "$W/b$n/bitsd.log" "$@" \
		>>"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
}
start 1 --market.gateway --market.gateway.rpc "$CAPTURE" \
	--market.deploy "$D" --market.agent --market.agent.keys "$W/agent.keys" \
	--market.relayer.key "$W/relayer.key" --market.relayer.min-fee 1000
wait_log "$W/b1/bitsd.log" "market: gateway on, agent on, relayer on" 120 &&
	[ -s "$W/b1/market-relayer.b32" ] && [ -s "$W/b1/market-agent.b32" ] ||
	{ bad "b1: no market services (see $W/b1/bitsd.log)"; result $NAME; exit 1; }
GW=$(tr -d '\n' <"$W/b1/market-gateway.b32")
AG=$(tr -d '\n' <"$W/b1/market-agent.b32")
RL=$(tr -d '\n' <"$W/b1/market-relayer.b32")
start 2 --market.gateways "$GW" --market.deploy "$D" \
	--market.wallet.key "$W/payer.key" --market.buy.relayer "$RL" \
	--market.buy.relayer-fee $FEE --feed --feed.round 10
start 3 --market.gateways "$GW" --market.deploy "$D" --market.agent \
	--market.agent.keys "$W/liar.keys"
start 4
wait_log "$W/b3/bitsd.log" "market: gateway off, agent on" 120 &&
	[ -s "$W/b3/market-agent.b32" ] ||
	{ bad "b3: no agent (see $W/b3/bitsd.log)"; result $NAME; exit 1; }
LIAR=$(tr -d '\n' <"$W/b3/market-agent.b32")
wait_log "$W/b2/bitsd.log" "chain client over market.gateways" 120 ||
	{ bad "b2: no market client (see $W/b2/bitsd.log)"; result $NAME; exit 1; }

"$CAST" rpc --rpc-url "$RPC" anvil_setBalance "$CREATOR" 0x8ac7230489e80000 >/dev/null
# three contents of the creator, b1's agent named on chain
for n in 1 2 3; do
	eval "h=\$H$n k=\$K$n"
	kc=$("$CAST" keccak "$k${h#0x}")
	send --private-key "$CREATOR_KEY" "$REG" \
		'publish(bytes32,uint96,uint16,address,uint16,bytes32)' \
		"$h" $PRICE 0 "$AGENT" $AGENT_FEE_BPS "$kc" ||
		{ bad "publish content $n"; result $NAME; exit 1; }
	[ "$(view "$REG" 6f4ce56a "$h")" = $n ] ||
		{ bad "publish content $n: not at index $n (see $W/cast.log)"; result $NAME; exit 1; }
done
ok "contents published at $I1, $I2, $I3"
send --private-key "$CREATOR_KEY" "$TOKEN" 'mint(address,uint256)' "$PAYER" 10000000 ||
	{ bad "mint to the payer"; result $NAME; exit 1; }
check "the payer holds no ETH" 0 "$("$CAST" balance "$PAYER" --rpc-url "$RPC")"

# buy CONTENT_HASH INDEX AGENT: start a purchase on b2; sets ID
buy() {
	out=$(api 2 POST /api/market/buy \
		"{\"contentHash\":\"${1#0x}\",\"licence\":{\"index\":\"$2\"},\"keyAgent\":\"$3\"}")
	ID=$(printf '%s' "$out" | jq_ 'j.get("id")' 2>/dev/null)
	echo "$out" >>"$W/api.log"
}
# b2 needs its tunnels and b1's LeaseSet first: ask until it answers
i=0
while out=$(api 2 GET /api/market/block 2>/dev/null); [ "${out%% *}" != 200 ] && [ $i -lt 60 ]; do
	sleep 2; i=$((i + 1))
done
[ "${out%% *}" = 200 ] && ok "b2 reaches the chain over tunnels" ||
	{ bad "b2's /api/market/block: $out"; result $NAME; exit 1; }

# b2's feed: a paid card for each content, and one never bought
# owned: the ids of b2's cards the owned filter shows, sorted
owned() {
	api 2 GET "/api/feed?price=owned&limit=100" | jq_ '" ".join(sorted(c["id"] for c in j["cards"]))'
}
H4=$("$CAST" keccak "content four")
for n in 1 2 3 4; do
	eval "h=\$H$n"
	out=$(api 2 POST /api/feed/publish "{\"content_hash\":\"${h#0x}\",\"size\":4096,\"mime\":\"audio/ogg\",\"title\":\"Content $n\",\"price\":\"$PRICE\",\"currency\":\"BITS\",\"decimals\":0}")
	eval "CARD$n=$(printf '%s' "$out" | jq_ 'j["id"]' 2>/dev/null)"
	[ "${out%% *}" = 200 ] || bad "b2 cannot publish content $n's card: $out"
done
check "b2's feed: nothing owned before a purchase" "" "$(owned)"

t0=$(tok "$PAYER") r0=$(tok "$RELAYER") c0=$(owed "$CREATOR") a0=$(owed "$AGENT")
f0=$(view "$REG" 75c3fc13)
BPS=$(view "$REG" 35659fb8)

buy "$H1" "$I1" "$AG"
[ -n "$ID" ] && [ "$ID" != None ] && ok "b2 took the purchase of content 1 (job $ID)" ||
	bad "POST /api/market/buy: $out"
# a double click: the same content again while it is being bought
out=$(api 2 POST /api/market/buy \
	"{\"content_hash\":\"${H1#0x}\",\"index\":$I1,\"agent\":\"$AG\"}")
if printf '%s' "$out" | jq_ 'code == "202" and str(j["id"]) == "'"$ID"'"' | grep -q True; then
	ok "the same content again while it is bought follows job $ID"
else
	bad "a second click during the purchase: $out"
fi
follow 2 "$ID"
if printf '%s' "$OUT" | jq_ 'code == "200" and j["state"] == "done" and j["route"] == "relayed" and j["has_key"] and j["token_id"] is not None' | grep -q True; then
	ok "content 1 bought through the relayer, its key released"
else
	bad "content 1: $OUT"
fi
LIB=$W/b2/market-licences/${H1#0x}
check "the library's K is the creator's" "${K1#0x}" "$(sed -n 's/^key //p' "$LIB" 2>/dev/null)"
check "the licence file is 0600" 600 "$(stat -c %a "$LIB" 2>/dev/null)"
TID=$(printf '%s' "$OUT" | jq_ 'j["token_id"]')
HOLDER=$(printf '%s' "$OUT" | jq_ 'j["holder"]')
check "the licence's holder (ownerOf)" "$(python3 -c 'import sys; print(int(sys.argv[1], 16))' "$HOLDER")" "$(view "$REG" 6352211e "$TID")"
fee=$((PRICE * BPS / 10000)) agf=$((PRICE * AGENT_FEE_BPS / 10000))
check "payer's tokens: price and relayer fee paid" $((t0 - PRICE - FEE)) "$(tok "$PAYER")"
check "relayer's tokens: its fee" $((r0 + FEE)) "$(tok "$RELAYER")"
check "creator owed: price less protocol and agent fees" $((c0 + PRICE - fee - agf)) "$(owed "$CREATOR")"
check "agent owed: its fee" $((a0 + agf)) "$(owed "$AGENT")"
check "protocol cut" $((f0 + fee)) "$(view "$REG" 75c3fc13)"
check "b2's feed: content 1's card owned once bought" "$CARD1" "$(owned)"
out=$(api 2 GET /api/market/keys)
if printf '%s' "$out" | jq_ '[(l["content_hash"], l["has_key"], l["price"], l["token_id"]) for l in j["licences"]] == [("'"${H1#0x}"'", True, "'$PRICE'", "'"$TID"'")]' | grep -q True; then
	ok "/api/market/keys lists content 1 with its key, price and token"
else
	bad "/api/market/keys: $out"
fi

t1=$(tok "$PAYER")
out=$(api 2 POST /api/market/buy \
	"{\"content_hash\":\"${H1#0x}\",\"index\":$I1,\"agent\":\"$AG\"}")
if printf '%s' "$out" | jq_ 'code == "200" and j["state"] == "done" and j["route"] == "owned"' | grep -q True; then
	ok "a second buy of content 1 is done at once"
else
	bad "second buy: $out"
fi
check "and pays nothing" "$t1" "$(tok "$PAYER")"

buy "$H2" "$I2" "$LIAR"
follow 2 "$ID"
if printf '%s' "$OUT" | jq_ 'j["state"] == "failed" and "keyCommitment" in j["error"] and not j["has_key"]' | grep -q True; then
	ok "content 2 from the lying agent: K refused by keyCommitment"
else
	bad "content 2 (lying agent): $OUT"
fi
[ -z "$(sed -n 's/^key //p' "$W/b2/market-licences/${H2#0x}" 2>/dev/null)" ] &&
	ok "no key kept for content 2" || bad "a key was kept for content 2"

"$CAST" rpc --rpc-url "$RPC" anvil_setBalance "$PAYER" 0x8ac7230489e80000 >/dev/null
t2=$(tok "$PAYER") r2=$(tok "$RELAYER")
# bits buy: the same purchase from the command line, through b2's API,
# no index given (the registry is asked)
"$top_builddir/apps/bits" buy "$H3" --agent "$AG" \
	--api-port 29362 --datadir "$W/b2" >"$W/buy3.out" 2>"$W/buy3.err" &
BUY=$!
i=0
while kill -0 $BUY 2>/dev/null && [ $i -lt 240 ]; do
	mine
	sleep 1; i=$((i + 1))
done
if wait $BUY && grep -q '^route: direct$' "$W/buy3.out" &&
	grep -q '^relayer-fee: 0$' "$W/buy3.out" && grep -q '^bits: done$' "$W/buy3.err"; then
	ok "bits buy: content 3 bought directly by the wallet with ETH"
else
	bad "bits buy content 3 (direct): $(cat "$W/buy3.out" "$W/buy3.err")"
fi
check "content 3's K" "${K3#0x}" "$(sed -n 's/^key //p' "$W/b2/market-licences/${H3#0x}" 2>/dev/null)"
check "payer's tokens: the price only" $((t2 - PRICE)) "$(tok "$PAYER")"
check "relayer's tokens unchanged" "$r2" "$(tok "$RELAYER")"
check "b2's feed: contents 1-3 owned, never the fourth" \
	"$(printf '%s\n' "$CARD1" "$CARD2" "$CARD3" | sort | tr '\n' ' ' | sed 's/ $//')" "$(owned)"
# the last scan of the DID registry went through (one may have failed
# before b2 found b1's gateway)
i=0
while out=$(api 2 GET /api/feed/status); ! printf '%s' "$out" | jq_ 'j["did"]["reading"] and j["did"]["error"] == "" and j["did"]["next_block"] > 1' | grep -q True && [ $i -lt 120 ]; do
	sleep 1; i=$((i + 1))
done
printf '%s' "$out" | jq_ 'j["did"]["error"] == "" and j["did"]["next_block"] > 1' | grep -q True &&
	ok "b2 reads the DIDRegistry through b1's gateway for its feed" ||
	bad "b2's DID index: $out"

# resale of content 1, its holder with no ETH, every step through b1's
# relayer: `bits resale list`, a cancel and a listing again through the
# API, a sale to anvil's account 2, and `bits resale payout` of the
# seller's share less the relayer's fee to the wallet
ASK=3000000 ro0=$(owed "$RELAYER")
ask() { view "$REG" e26f1c6d "$TID"; }
if "$top_builddir/apps/bits" resale list "$H1" --price $ASK \
	--api-port 29362 --datadir "$W/b2" >"$W/resale1.out" 2>&1 &&
	grep -q "^price: $ASK\$" "$W/resale1.out"; then
	ok "bits resale list: content 1's licence offered at $ASK"
else
	bad "bits resale list: $(cat "$W/resale1.out")"
fi
check "askPrice on chain" $ASK "$(ask)"
out=$(api 2 POST /api/market/resale "{\"content_hash\":\"${H1#0x}\",\"action\":\"cancel\"}")
echo "$out" >>"$W/api.log"
printf '%s' "$out" | jq_ 'code == "200" and j["action"] == "cancel"' | grep -q True &&
	[ "$(ask)" = 0 ] && ok "the listing cancelled through the API" ||
	bad "cancel: $out, askPrice $(ask)"
out=$(api 2 POST /api/market/resale "{\"content_hash\":\"${H1#0x}\",\"action\":\"cancel\"}")
printf '%s' "$out" | jq_ 'code == "409" and "not listed" in j["error"]' | grep -q True &&
	ok "nothing listed: a cancel is refused (409)" || bad "second cancel: $out"
out=$(api 2 POST /api/market/resale "{\"content_hash\":\"${H1#0x}\",\"action\":\"list\",\"price\":\"$ASK\"}")
echo "$out" >>"$W/api.log"
printf '%s' "$out" | jq_ 'code == "200" and j["price"] == "'$ASK'"' | grep -q True &&
	[ "$(ask)" = $ASK ] && ok "listed again through the API" || bad "list: $out"
check "the holder still has no ETH" 0 "$("$CAST" balance "$HOLDER" --rpc-url "$RPC")"
B2KEY=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
B2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
NEWHOLDER=0x00000000000000000000000000000000000000b2
send --private-key "$CREATOR_KEY" "$TOKEN" 'mint(address,uint256)' "$B2" $ASK &&
	send --private-key "$B2KEY" "$TOKEN" 'approve(address,uint256)' "$REG" $ASK &&
	send --private-key "$B2KEY" "$REG" 'buyListed(uint256,address,uint256)' \
		"$TID" "$NEWHOLDER" $ASK || bad "buyListed (see $W/cast.log)"
check "the licence's new holder" "$(python3 -c 'import sys; print(int(sys.argv[1], 16))' $NEWHOLDER)" "$(view "$REG" 6352211e "$TID")"
rfee=$((ASK * BPS / 10000)) ragf=$((ASK * AGENT_FEE_BPS / 10000))
share=$((ASK - rfee - ragf - FEE))
check "the seller (the holder) owed its share less the listing's relayer fee" $share "$(owed "$HOLDER")"
check "the relayer owed the listing's fee" $((ro0 + FEE)) "$(owed "$RELAYER")"
t3=$(tok "$PAYER") r3=$(tok "$RELAYER")
if "$top_builddir/apps/bits" resale payout "$H1" \
	--api-port 29362 --datadir "$W/b2" >"$W/resale2.out" 2>&1 &&
	grep -q "^amount: $((share - FEE))\$" "$W/resale2.out"; then
	ok "bits resale payout: $((share - FEE)) to the wallet"
else
	bad "bits resale payout: $(cat "$W/resale2.out")"
fi
check "the wallet's tokens: the share less the payout's fee" $((t3 + share - FEE)) "$(tok "$PAYER")"
check "the relayer's tokens: the payout's fee" $((r3 + FEE)) "$(tok "$RELAYER")"
check "the holder owed nothing now" 0 "$(owed "$HOLDER")"
# sold: no longer held (the owned filter, /api/market/keys' licences, the
# count), kept with its K among the sold
check "b2's feed: content 1 no longer owned once sold" \
	"$(printf '%s\n' "$CARD2" "$CARD3" | sort | tr '\n' ' ' | sed 's/ $//')" "$(owned)"
sold_keys='sorted((l["content_hash"], l["has_key"]) for l in j["licences"]) == sorted([("'"${H2#0x}"'", False), ("'"${H3#0x}"'", True)]) and [(l["content_hash"], l["has_key"], l["held"], l["sold_at"] > 0) for l in j["sold"]] == [("'"${H1#0x}"'", True, False, True)]'
api 2 GET /api/market/keys | jq_ "$sold_keys" | grep -q True &&
	ok "/api/market/keys: content 1 among the sold, its K kept" ||
	bad "/api/market/keys after the sale: $(api 2 GET /api/market/keys)"
check "b2 holds two licences" 2 "$(api 2 GET /api/market | jq_ 'j["licences"]')"
check "the library's file keeps K" "${K1#0x}" "$(sed -n 's/^key //p' "$LIB" 2>/dev/null)"

# what b1's gateway sent its node: no router named in any request, all
# from b1 itself
for n in 1 2 3 4; do forbid_router $n; done >"$W/forbidden"
FWD=$(api 1 GET /api/market | jq_ 'j["gateway_stats"]["forwarded"]')
set -- $(rpc_capture_scan "$W/forbidden")
NREQ=$1; shift
[ $# = 0 ] && [ "$NREQ" -gt 0 ] && [ "$NREQ" -ge "${FWD:-1000000}" ] &&
	[ "$(grep -c _dest "$W/forbidden")" -ge 15 ] &&
	ok "$NREQ requests to the node ($FWD of them forwarded from the overlay): no router's address, port, identity or destination hash" ||
	bad "the node's requests ($NREQ, $FWD forwarded) name: $* (see $W/rpc-capture.jsonl, $W/forbidden)"
check "every connection to the node came from b1's process" "$P1" \
	"$(cut -d' ' -f2 "$W/rpc-capture.conns" | sort -u | tr '\n' ' ' | sed 's/ $//')"

# the library survives a restart
BPID=$P2
bitsd_stop && ok "b2 stopped cleanly" || bad "b2 did not stop cleanly"
start 2 --market.gateways "$GW" --market.deploy "$D" \
	--market.wallet.key "$W/payer.key"
i=0
while out=$(api 2 GET /api/market/keys 2>/dev/null); [ "${out%% *}" != 200 ] && [ $i -lt 120 ]; do
	sleep 0.5; i=$((i + 1))
done
if printf '%s' "$out" | jq_ "$sold_keys" | grep -q True; then
	ok "after a restart b2 still holds the keys of contents 1 (sold) and 3"
else
	bad "/api/market/keys after the restart: $out"
fi

bitsd_mesh_stop "$W"
PIDS=""
result $NAME
