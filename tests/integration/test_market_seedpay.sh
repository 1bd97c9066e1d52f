#!/bin/sh
# Issue 13's end to end in bitsd: buying a licence with no ETH, then pay
# per chunk (docs/market.md §5, §7).  Four bitsd with one-hop tunnels
# (tests/integration/ntcp2-lib.sh's bitsd_mesh) and an anvil started here
# with the contracts deployed.
#  - b1, the floodfill, publishes the node as a chain RPC gateway, runs
#    the relayer and the creator's key agent, and is the viewer: a wallet
#    holding tokens and no ETH (market.wallet.key, purchases relayed by
#    its own relayer) and swarm.pay.key (a pot signer whose pot the test
#    funds) with swarm.pay.max-price;
#  - b2, b3 and b4 seed the same 3 MiB content for swarm.pay.price a chunk
#    (upload 96 KB/s each), each with stealth keys of its own
#    (DATADIR/seedpay-*.key, 0600), reading pots through b1's gateway over
#    tunnels and redeeming through b1's relayer;
#  - the creator publishes the content on chain (its key's commitment, b1's
#    agent); b1 buys it through POST /api/market/buy: relayed, K released
#    by the agent and checked; payer, relayer, creator, agent and protocol
#    cut move to the wei; the licence's holder is a fresh address;
#  - b1 fetches the content from the three with `bits get` and the K from
#    its key library (the seeders named, no tracker): byte-exact; it took
#    the three seeders' terms and paid every chunk it received;
#  - b4 (a redeem delay of an hour) holds every voucher when the fetch
#    ends, stops, and starts again with a short delay: its vouchers kept
#    in DATADIR/seedpay-vouchers (0600) are restored and redeemed;
#  - every seeder redeems all it served (/api/status seedpay), each batch
#    paying b1's relayer RFEE from a stealth balance (redeemVouchersFor): the
#    stealth addresses are all distinct, hold no ETH, and each seeder's
#    hold exactly what it served x price less the protocol and relayer fees, to the
#    wei (PaymentHub.balances); the pot's deposit fell by the total;
#  - no transaction on the chain carries a router's IP or destination;
#  - all stop cleanly, with no sanitizer report.
# Waits are on conditions with generous timeouts.  127.0.1.71-74, NTCP2
# ports 29911-29914, the APIs on 127.0.0.1:29961-29964, the swarm
# endpoints on 127.0.0.1:29971-29974, anvil on a free port.
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/market-lib.sh"
NAME=test_market_seedpay
API_BASE=29960
W=$(mktemp -d "${TMPDIR:-/tmp}/market-seedpay.XXXXXX")
BITS=${BITS:-${top_builddir:-.}/apps/bits}
PIDS=""
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	stop_anvil
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077
# anvil's account 0 funds the pot, account 1 is the relayer
K0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
RELAYER_KEY=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
POT_KEY=$(printf '5e%.0s' $(seq 32))
CREATOR_KEY=0x$(printf 'd4%.0s' $(seq 32))
AGENT_KEY=$(printf 'a1%.0s' $(seq 32))
PAYER_KEY=$(printf 'c3%.0s' $(seq 32))
LPRICE=1000000 AGENT_FEE_BPS=300 FEE=2500
PRICE=10000 DEPOSIT=100000000000 ESCROW=100000000000 SIZE=3145728
RFEE=700	# each redemption batch pays b1's relayer (it asks 500)

need_tools $NAME
start_anvil "$W" || { result $NAME; exit 1; }
deploy "$W" || { result $NAME; exit 1; }
D=$W/deploy.json
TOKEN=$(jget "$D" token) HUB=$(jget "$D" paymentHub)
SIGNER=$("$CAST" wallet address --private-key "0x$POT_KEY")
deposit() { hub_word 0 "$SIGNER" 'pots(address)'; }
pot_fund "$K0" "$SIGNER" $DEPOSIT $ESCROW ||
	{ bad "fund the pot: $(tail -n 3 "$W/send")"; result $NAME; exit 1; }
DEP0=$(deposit)
check "pot funded" $DEPOSIT "$DEP0"
BPS=$("$CAST" call --rpc-url "$RPC" "$HUB" 'protocolFeeBps()' | python3 -c 'import sys; print(int(sys.stdin.read().split()[0], 0))')

bitsd_mesh "$W" 127.0.1 70 29910 "swarm = true" "[swarm]
upload = 96" || { result $NAME; exit 1; }
printf '%s\n' "$RELAYER_KEY" >"$W/relayer.key"
printf '%s\n' "$POT_KEY" >"$W/pot.key"
printf '%s\n' "$PAYER_KEY" >"$W/payer.key"
printf '%s\n' "$AGENT_KEY" >"$W/b1/market-agent.key"
chmod 600 "$W"/*.key "$W/b1/market-agent.key"

# The content, published into b2's store and copied to b3's and b4's.
python3 -c 'import random, sys
sys.stdout.buffer.write(random.Random(13).randbytes(int(sys.argv[1])))' \
	$SIZE >"$W/item.bin"
"$BITS" publish "$W/item.bin" --mime video/mp4 --datadir "$W/b2" \
	>"$W/pub.out" 2>"$W/pub.err" ||
	{ bad "bits publish: $(cat "$W/pub.err")"; result $NAME; exit 1; }
HASH=$(sed -n 's/^content  *\([0-9a-f]\{64\}\)$/\1/p' "$W/pub.out")
KEY=$(sed -n 's/^key  *\([0-9a-f]\{64\}\)$/\1/p' "$W/pub.out")
[ -n "$HASH" ] && [ -n "$KEY" ] || { bad "no hash or key: $(cat "$W/pub.out")"; result $NAME; exit 1; }
for n in 3 4; do cp -a "$W/b2/content" "$W/b$n/"; done
# the content's K for b1's agent: index 1 of the fresh registry
printf '1 %s\n' "$KEY" >"$W/agent.keys"
chmod 600 "$W/agent.keys"
CHUNKS=$(( (SIZE + 65535) / 65536 ))

# start N ARGS...: router n in the background
start() {
	n=$1; shift
	ff=""; [ "$n" = 1 ] && ff=--floodfill
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$((70 + n)) \
		--port $((29910 + n)) --netid 77 --api-port $((29960 + n)) $ff \
		--swarm.http-port $((29970 + n)) \
		--loglevel debug --logfile "$W/b$n/bitsd.log" "$@" \
		>>"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
}
# b1 once to make its relayer's destination (its wallet names it)
start 1 --market.gateway --market.gateway.rpc "$RPC" \
	--market.deploy "$D" --market.relayer.key "$W/relayer.key"
wait_log "$W/b1/bitsd.log" "market: gateway on" 120 &&
	[ -s "$W/b1/market-relayer.b32" ] ||
	{ bad "b1: no relayer (see $W/b1/bitsd.log)"; result $NAME; exit 1; }
RL=$(tr -d '\n' <"$W/b1/market-relayer.b32")
BPID=$P1
bitsd_stop || { bad "b1 did not stop cleanly"; result $NAME; exit 1; }
start 1 --market.gateway --market.gateway.rpc "$RPC" \
	--market.deploy "$D" --market.relayer.key "$W/relayer.key" \
	--market.relayer.min-fee 1000 --market.relayer.redeem-min-fee 500 \
	--market.agent \
	--market.agent.keys "$W/agent.keys" --market.wallet.key "$W/payer.key" \
	--market.buy.relayer "$RL" --market.buy.relayer-fee $FEE \
	--swarm.pay.key "$W/pot.key" --swarm.pay.max-price $PRICE
wait_log "$W/b1/bitsd.log" "seedpay: selling off" 120 &&
	[ -s "$W/b1/market-relayer.b32" ] ||
	{ bad "b1: no market or seedpay (see $W/b1/bitsd.log)"; result $NAME; exit 1; }
GW=$(tr -d '\n' <"$W/b1/market-gateway.b32")
AG=$(tr -d '\n' <"$W/b1/market-agent.b32")
# b4 redeems nothing for an hour (the first run); b2 and b3 within 4 s
for n in 2 3 4; do
	delay=4; [ $n = 4 ] && delay=3600
	start $n --market.gateways "$GW" --market.deploy "$D" \
		--swarm.pay.price $PRICE --swarm.pay.relayer-fee $RFEE \
		--swarm.pay.relayer "$RL" --swarm.pay.redeem-delay $delay
done
for n in 2 3 4; do
	wait_log "$W/b$n/bitsd.log" "seedpay: selling on" 120 &&
		[ -s "$W/b$n/swarm.b32" ] ||
		{ bad "b$n: no seedpay (see $W/b$n/bitsd.log)"; result $NAME; exit 1; }
	check "b$n's stealth keys are 0600" "600 600" \
		"$(stat -c %a "$W/b$n/seedpay-spend.key" "$W/b$n/seedpay-view.key" | tr '\n' ' ' | sed 's/ $//')"
done

# st N: router n's /api/status
st() {
	curl -s -m 30 -H "Authorization: Bearer $(cat "$W/b$1/api.token")" \
		"http://127.0.0.1:$((29960 + $1))/api/status"
}
# sp N EXPR: a Python expression over router n's seedpay section (s)
sp() {
	st "$1" | python3 -c '
import sys, json
s = json.load(sys.stdin).get("seedpay", {})
print(eval(sys.argv[1]))' "$2" 2>/dev/null
}

# The creator publishes the content on chain, b1's agent named; b1's
# wallet buys it with tokens and no ETH, through its relayer.
REG=$(jget "$D" licenseRegistry)
AGENT=$("$CAST" wallet address --private-key "0x$AGENT_KEY")
CREATOR=$("$CAST" wallet address --private-key "$CREATOR_KEY")
PAYER=$("$CAST" wallet address --private-key "0x$PAYER_KEY")
RELAYER=$("$CAST" wallet address --private-key "0x$RELAYER_KEY")
csend() { "$CAST" send --rpc-url "$RPC" "$@" >>"$W/cast.log" 2>&1; }
"$CAST" rpc --rpc-url "$RPC" anvil_setBalance "$CREATOR" 0x8ac7230489e80000 >/dev/null
csend --private-key "$CREATOR_KEY" "$REG" \
	'publish(bytes32,uint96,uint16,address,uint16,bytes32)' "0x$HASH" \
	$LPRICE 0 "$AGENT" $AGENT_FEE_BPS "$("$CAST" keccak "0x$KEY$HASH")" &&
	csend --private-key "$CREATOR_KEY" "$TOKEN" 'mint(address,uint256)' \
		"$PAYER" 10000000 ||
	{ bad "publish and mint (see $W/cast.log)"; result $NAME; exit 1; }
check "the content is at index 1" 1 "$(view "$REG" 6f4ce56a "0x$HASH")"
tok() { view "$TOKEN" 70a08231 "$1"; }
t0=$(tok "$PAYER") r0=$(tok "$RELAYER") c0=$(view "$REG" df18e047 "$CREATOR")
a0=$(view "$REG" df18e047 "$AGENT") f0=$(view "$REG" 75c3fc13)
LBPS=$(view "$REG" 35659fb8)
i=0
while out=$(api 1 POST /api/market/buy \
	"{\"content_hash\":\"$HASH\",\"index\":1,\"agent\":\"$AG\"}"); \
	[ "${out%% *}" != 202 ] && [ $i -lt 60 ]; do
	sleep 2; i=$((i + 1))
done
ID=$(printf '%s' "$out" | jq_ 'j.get("id")' 2>/dev/null)
follow 1 "$ID"
if printf '%s' "$OUT" | jq_ 'code == "200" and j["state"] == "done" and j["route"] == "relayed" and j["has_key"]' | grep -q True; then
	ok "b1 bought the content through its relayer, the key released"
else
	bad "the purchase: $out / $OUT"
fi
check "the payer holds no ETH" 0 "$("$CAST" balance "$PAYER" --rpc-url "$RPC")"
LK=$(sed -n 's/^key //p' "$W/b1/market-licences/$HASH" 2>/dev/null)
check "b1's key library holds the content's K" "$KEY" "$LK"
HOLDER=$(printf '%s' "$OUT" | jq_ 'j["holder"]')
TID=$(printf '%s' "$OUT" | jq_ 'j["token_id"]')
check "the licence's holder (ownerOf), a fresh address" \
	"$(python3 -c 'import sys; print(int(sys.argv[1], 16))' "$HOLDER")" \
	"$(view "$REG" 6352211e "$TID")"
fee=$((LPRICE * LBPS / 10000)) agf=$((LPRICE * AGENT_FEE_BPS / 10000))
check "payer's tokens: price and relayer fee paid" $((t0 - LPRICE - FEE)) "$(tok "$PAYER")"
check "relayer's tokens: its fee" $((r0 + FEE)) "$(tok "$RELAYER")"
check "creator owed: price less protocol and agent fees" $((c0 + LPRICE - fee - agf)) "$(view "$REG" df18e047 "$CREATOR")"
check "agent owed: its fee" $((a0 + agf)) "$(view "$REG" df18e047 "$AGENT")"
check "protocol cut" $((f0 + fee)) "$(view "$REG" 75c3fc13)"

# b1, the floodfill, holds the seeders' LeaseSets before it fetches (so
# that it meets all three from the start)
PEERS=""
for n in 2 3 4; do
	b32=$(tr -d '\n' <"$W/b$n/swarm.b32")
	h8=$(python3 -c 'import base64, sys; print(base64.b32decode(sys.argv[1][:52].upper() + "====").hex()[:8])' "$b32")
	wait_log "$W/b1/bitsd.log" "kept LeaseSet $h8" 180 ||
		bad "b1 never got b$n's swarm LeaseSet"
	PEERS="$PEERS --peer $b32"
done
if timeout 600 "$BITS" get "$HASH" --key "${LK:-$KEY}" --port 29971 $PEERS \
	--output "$W/got.bin" 2>"$W/get.err" && cmp -s "$W/got.bin" "$W/item.bin"; then
	ok "b1 got the whole item from the paid seeders, byte-exact"
else
	bad "bits get: $(tr '\r' '\n' <"$W/get.err" | tail -n 2 | tr '\n' ' ')"
fi
check "b1 took the terms of the three seeders" 3 "$(sp 1 's["viewer"]["terms_taken"]')"

# b4 holds every voucher, nothing redeemed; it stops and starts again
# with a short delay: the vouchers kept in DATADIR/seedpay-vouchers
# (0600) are restored, what the chain paid of their lanes is read, and
# they are redeemed (S4: what it served before the restart)
i=0
while [ "$(sp 4 's["seeder"]["chunks_served"] > 0 and int(s["seeder"]["unredeemed"]) == s["seeder"]["chunks_served"] * '$PRICE' and s["seeder"]["redeemed"] == 0')" != True ] && [ $i -lt 120 ]; do
	sleep 1; i=$((i + 1))
done
S4=$(sp 4 's["seeder"]["chunks_served"]')
check "b4 holds the vouchers of all it served, none redeemed" \
	"$((${S4:-0} * PRICE)) 0" "$(sp 4 's["seeder"]["unredeemed"] + " " + str(s["seeder"]["redeemed"])')"
BPID=$P4
bitsd_stop && ok "b4 stopped cleanly" || bad "b4 did not stop cleanly"
check "b4's kept vouchers are 0600" 600 "$(stat -c %a "$W/b4/seedpay-vouchers" 2>/dev/null)"
start 4 --market.gateways "$GW" --market.deploy "$D" \
	--swarm.pay.price $PRICE --swarm.pay.relayer-fee $RFEE \
	--swarm.pay.relayer "$RL" --swarm.pay.redeem-delay 4
wait_log "$W/b4/bitsd.log" "kept vouchers restored, 0 left out" 120 &&
	ok "b4 restored its kept vouchers" ||
	bad "b4 restored no voucher (see $W/b4/bitsd.log)"
# served N: what router n served (b4: before its restart)
served() { if [ "$1" = 4 ]; then echo "${S4:-0}"; else sp "$1" 's["seeder"]["chunks_served"]'; fi; }

# Every seeder redeems what it served (the last voucher comes when the
# content is whole, then a redemption within 4 s of it, over tunnels).
i=0
while :; do
	done_=0
	for n in 2 3 4; do
		[ "$(sp $n 's["seeder"]["unredeemed"] == "0" and int(s["seeder"]["redeemed_value"]) == '"$(served $n)"' * '$PRICE'')" = True ] &&
			done_=$((done_ + 1))
	done
	[ $done_ = 3 ] || [ $i -ge 120 ] && break
	sleep 1; i=$((i + 1))
done
for n in 1 2 3 4; do st $n >"$W/status$n.json"; done
check "the three seeders redeemed every chunk they served" 3 $done_
check "b4 after its restart: vouchers restored, the chain asked" True \
	"$(sp 4 's["seeder"]["vouchers_restored"] > 0 and s["seeder"]["chain_syncs"] > 0')"
TOTAL=0 SERVED=0 ALL=""
for n in 2 3 4; do
	s=$(served $n)
	[ "${s:-0}" -gt 0 ] && ok "b$n served $s chunks" || bad "b$n served no chunk"
	addrs=$(sp $n '" ".join(p["address"] for p in s["seeder"]["payees"])')
	got=0
	for a in $addrs; do
		got=$((got + $(hub_balance "$a")))
		[ "$("$CAST" balance "$a" --rpc-url "$RPC")" = 0 ] ||
			bad "b$n's stealth address $a holds ETH"
	done
	gross=$((s * PRICE))
	fees=$(sp $n 's["seeder"]["fees_paid"]')
	[ "${fees:-0}" = "$(sp $n 's["seeder"]["redeem_batches"]')" ] && [ "${fees:-0}" -gt 0 ] &&
		ok "b$n paid the relayer for each of its $fees batches" ||
		bad "b$n: $fees relayer fees for $(sp $n 's["seeder"]["redeem_batches"]') batches"
	check "b$n's stealth balances: $s chunks x $PRICE less the fee and $fees x $RFEE to the relayer, to the wei" \
		$((gross - gross * BPS / 10000 - ${fees:-0} * RFEE)) "$got"
	RFEES=$((${RFEES:-0} + ${fees:-0}))
	SERVED=$((SERVED + s)) TOTAL=$((TOTAL + gross)) ALL="$ALL $addrs"
done
# The console's earnings (/api/console/earnings): each seeder's money
# earned (vouchers held and redeemed) as its seedpay section has it, in
# the current figures and in the samples; the viewer earns none.
for n in 2 3 4; do
	v=$(sp $n 's["seeder"]["redeemed_value"]')
	check "b$n's console: earned as seeder, all redeemed" "$v $v True" \
		"$(earn $n 'm["seeder"] + " " + m["seeder_redeemed"] + " " + str("seeder" in j["samples"][-1]["money"])')"
done
check "b1's console: nothing earned as seeder" False "$(earn 1 '"seeder" in m')"
n_all=$(echo $ALL | wc -w) n_uniq=$(echo $ALL | tr ' ' '\n' | sort -u | wc -l)
[ "$n_all" -ge 3 ] && [ "$n_all" = "$n_uniq" ] &&
	ok "the seeders' payee addresses are all distinct ($n_all)" ||
	bad "payee addresses: $ALL"
check "b1 paid for every chunk the seeders served" "$SERVED" "$(sp 1 's["viewer"]["chunks_paid_for"]')"
[ "$SERVED" -ge $CHUNKS ] && ok "$SERVED chunks served for $CHUNKS" ||
	bad "only $SERVED chunks served for $CHUNKS"
check "the pot's deposit fell by the total" $((DEP0 - TOTAL)) "$(deposit)"
check "the relayer's hub balance: the redemption fees" $((RFEES * RFEE)) "$(hub_balance "$RELAYER")"
# No transaction on the chain carries a router's address (as 4 bytes) or
# any destination of the routers (swarm and market services, by hash).
DESTS=$(cat "$W"/b?/swarm.b32 "$W"/b?/market-*.b32 2>/dev/null | tr '\n' ' ')
if python3 - "$RPC" $DESTS >"$W/txscan.log" 2>&1 <<'PY'; then
import base64, json, sys, urllib.request
rpc = sys.argv[1]
def call(m, p):
    req = {"jsonrpc": "2.0", "id": 1, "method": m, "params": p}
    r = urllib.request.urlopen(urllib.request.Request(rpc, json.dumps(req).encode(),
        {"Content-Type": "application/json"}), timeout=60)
    return json.loads(r.read())["result"]
needles = {"127.0.1.%d" % (70 + n): "7f0001%02x" % (70 + n) for n in range(1, 5)}
for b in sys.argv[2:]:
    needles[b] = base64.b32decode(b[:52].upper() + "====").hex()
txs = 0
for n in range(int(call("eth_blockNumber", []), 16) + 1):
    for tx in call("eth_getBlockByNumber", [hex(n), True])["transactions"]:
        txs += 1
        for what, hx in needles.items():
            if hx in tx["input"].lower():
                print("tx %s carries %s" % (tx["hash"], what))
                sys.exit(1)
print("%d transactions, %d needles" % (txs, len(needles)))
sys.exit(0 if txs and len(needles) > 4 else 1)
PY
	ok "no transaction carries a router's IP or destination ($(cat "$W/txscan.log"))"
else
	bad "chain transactions: $(cat "$W/txscan.log")"
fi

bitsd_mesh_stop "$W"
PIDS=""
result $NAME
