#!/bin/sh
# Hosts paid per epoch by the creator, end to end in bitsd (CHAIN.md §5
# flow 4 "Hosters: same, paid by the creator per epoch"; docs/market.md
# §8).  Four bitsd with one-hop tunnels (tests/integration/ntcp2-lib.sh's
# bitsd_mesh) and an anvil started here with the contracts deployed.
#  - b1, the floodfill, publishes the node as a chain RPC gateway and runs
#    the relayer;
#  - b3 and b4 are hosts: a storage budget (swarm.storage) and
#    swarm.host.price a content per epoch, their host service's address
#    in DATADIR/market-host.b32, pots read through b1's gateway over
#    tunnels, vouchers redeemed through b1's relayer; b3 holds the
#    creator's content whole (its store copied), b4 does not;
#  - b2 is the creator's router: the content published into its store,
#    swarm.host.pay-key (a pot signer whose pot the test funds),
#    swarm.host.hosts naming b3's and b4's host services, an epoch of
#    EPOCH s and a budget of three epochs per host and content;
#  - at each epoch's end b2 asks each host: b3 is paid the epoch by a
#    voucher, b4 answers that it does not hold the content and is paid
#    nothing; after three epochs b3's deal is over budget and no more is
#    signed;
#  - b3 holds its first two epochs' vouchers, stops and starts again: they
#    come back from DATADIR/seedpay-vouchers (0600), its lane is the
#    host's again (DATADIR/hostpay-lanes, 0600) and the third epoch's
#    voucher goes on with it;
#  - b3 redeems its vouchers through b1's relayer: its stealth addresses
#    (no ETH on them) hold 3 x HPRICE less the protocol fee, to the wei;
#    the pot's deposit fell by 3 x HPRICE; its /api/status hostpay section
#    says earned and redeemed 3 x HPRICE, its console's earnings the same
#    as host, and nothing as seeder;
#  - all stop cleanly, with no sanitizer report.
# 127.0.1.111-114, NTCP2 ports 31411-31414, the APIs on
# 127.0.0.1:31461-31464, the swarm endpoints on 127.0.0.1:31471-31474,
# anvil on a free port.  By hand (about 2.5 min):
#   make check TESTS=tests/integration/test_market_hostpay.sh
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/market-lib.sh"
NAME=test_market_hostpay
API_BASE=31460
W=$(mktemp -d "${TMPDIR:-/tmp}/market-hostpay.XXXXXX")
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
POT_KEY=$(printf '6e%.0s' $(seq 32))
HPRICE=50000 EPOCH=15 DEPOSIT=100000000000 ESCROW=100000000000
# two chunks of the largest size (1 MiB): a proof reads one whole with
# its tag
SIZE=2097152

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

bitsd_mesh "$W" 127.0.1 110 31410 "swarm = true" "" ||
	{ result $NAME; exit 1; }
printf '%s\n' "$RELAYER_KEY" >"$W/relayer.key"
printf '%s\n' "$POT_KEY" >"$W/pot.key"
chmod 600 "$W"/*.key

# The creator's content, published into b2's store and copied to b3's.
python3 -c 'import random, sys
sys.stdout.buffer.write(random.Random(17).randbytes(int(sys.argv[1])))' \
	$SIZE >"$W/item.bin"
"$BITS" publish "$W/item.bin" --mime video/mp4 --chunk-log2 20 \
	--datadir "$W/b2" \
	>"$W/pub.out" 2>"$W/pub.err" ||
	{ bad "bits publish: $(cat "$W/pub.err")"; result $NAME; exit 1; }
HASH=$(sed -n 's/^content  *\([0-9a-f]\{64\}\)$/\1/p' "$W/pub.out")
[ -n "$HASH" ] || { bad "no hash: $(cat "$W/pub.out")"; result $NAME; exit 1; }
cp -a "$W/b2/content" "$W/b3/"

# start N ARGS...: router n in the background
start() {
	n=$1; shift
	ff=""; [ "$n" = 1 ] && ff=--floodfill
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$((110 + n)) \
		--port $((31410 + n)) --netid 77 --api-port $((31460 + n)) $ff \
		--swarm.http-port $((31470 + n)) \
		--loglevel debug --logfile "$W/b$n/bitsd.log" "$@" \
		>>"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
}
start 1 --market.gateway --market.gateway.rpc "$RPC" \
	--market.deploy "$D" --market.relayer.key "$W/relayer.key"
wait_log "$W/b1/bitsd.log" "market: gateway on" 120 &&
	[ -s "$W/b1/market-relayer.b32" ] && [ -s "$W/b1/market-gateway.b32" ] ||
	{ bad "b1: no gateway or relayer (see $W/b1/bitsd.log)"; result $NAME; exit 1; }
RL=$(tr -d '\n' <"$W/b1/market-relayer.b32")
GW=$(tr -d '\n' <"$W/b1/market-gateway.b32")
# a host without a storage budget is refused
if timeout 60 "$BITSD" --datadir "$W/b4" --host 127.0.1.114 --port 31414 --netid 77 \
	--api-port 31464 --swarm.http-port 31474 --market.gateways "$GW" \
	--market.deploy "$D" --swarm.host.price $HPRICE \
	--logfile "$W/b4/refused.log" >"$W/b4/refused.out" 2>&1; then
	bad "a host with no swarm.storage started"
else
	grep -q "set swarm.storage" "$W/b4/refused.log" "$W/b4/refused.out" &&
		ok "a host with no storage budget is refused" ||
		bad "a host with no storage budget: $(tail -n 2 "$W/b4/refused.out")"
fi
# host N DELAY: start host n, redeeming after DELAY s at most
host() {
	start $1 --market.gateways "$GW" --market.deploy "$D" \
		--swarm.storage 64 --swarm.host.price $HPRICE \
		--swarm.pay.relayer "$RL" --swarm.pay.redeem-delay $2
}
host 3 3600	# b3 keeps its vouchers until its restart
host 4 4
for n in 3 4; do
	wait_log "$W/b$n/bitsd.log" "hostpay: hosting contents" 120 &&
		[ -s "$W/b$n/market-host.b32" ] ||
		{ bad "b$n: no host service (see $W/b$n/bitsd.log)"; result $NAME; exit 1; }
done
H3=$(tr -d '\n' <"$W/b3/market-host.b32")
H4=$(tr -d '\n' <"$W/b4/market-host.b32")
start 2 --market.gateways "$GW" --market.deploy "$D" \
	--swarm.host.pay-key "$W/pot.key" --swarm.host.max-price $HPRICE \
	--swarm.host.budget $((3 * HPRICE)) --swarm.host.epoch $EPOCH \
	--swarm.host.hosts "$H3,$H4"
wait_log "$W/b2/bitsd.log" "hostpay: paying 2 hosts every $EPOCH s" 120 ||
	{ bad "b2: not paying hosts (see $W/b2/bitsd.log)"; result $NAME; exit 1; }

# st N: router n's /api/status; hp N EXPR: a Python expression over its
# hostpay section (h) and seedpay section (s)
st() {
	curl -s -m 30 -H "Authorization: Bearer $(cat "$W/b$1/api.token")" \
		"http://127.0.0.1:$((31460 + $1))/api/status"
}
hp() {
	st "$1" | python3 -c '
import sys, json
j = json.load(sys.stdin); h = j.get("hostpay", {}); s = j.get("seedpay", {})
print(eval(sys.argv[1]))' "$2" 2>/dev/null
}
# deal B32 FIELD: b2's deal with that host for the content
deal() { hp 2 'next((d["'"$2"'"] for d in h["creator"]["deals"] if d["host"] == "'"$1"'"), None)'; }

# b3 holds two epochs' vouchers, stops, starts again with a short delay:
# its vouchers kept in DATADIR/seedpay-vouchers come back, and the third
# epoch's voucher goes on with the same lane.
i=0
while [ "$(hp 3 'h["host"]["earned"]')" != $((2 * HPRICE)) ] && [ $i -lt 300 ]; do
	sleep 0.5; i=$((i + 1))
done
BPID=$P3
bitsd_stop && ok "b3 stopped cleanly" || bad "b3 did not stop cleanly"
check "b3 stopped with two epochs paid, before the third" 2 "$(deal "$H3" epochs)"
check "b3's kept vouchers and host lanes are 0600" "600 600" \
	"$(stat -c %a "$W/b3/seedpay-vouchers" "$W/b3/hostpay-lanes" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
host 3 4
wait_log "$W/b3/bitsd.log" "1 kept vouchers restored, 0 left out" 120 &&
	ok "b3 restored its kept vouchers" ||
	bad "b3 restored no voucher (see $W/b3/bitsd.log)"
wait_log "$W/b3/bitsd.log" "1 kept host lanes followed again" 30 &&
	ok "b3 follows its kept lane again as host" ||
	bad "b3 did not take its lane back (see $W/b3/bitsd.log)"

# Three epochs paid to b3, then its deal is over budget; b4 is asked and
# holds nothing.
i=0
while [ "$(hp 2 'h["creator"]["over_budget"] > 0 and h["creator"]["not_hosted"] > 0')" != True ] && [ $i -lt 300 ]; do
	sleep 1; i=$((i + 1))
done
hp 2 'json.dumps(h)' >"$W/creator.json"
check "b2 paid b3 three epochs, then its budget was spent" \
	"3 $((3 * HPRICE)) True" \
	"$(deal "$H3" epochs) $(deal "$H3" paid) $(hp 2 'h["creator"]["over_budget"] > 0')"
check "b2 paid b4 nothing: it does not hold the content" "0 True" \
	"$(hp 2 'sum(d["epochs"] for d in h["creator"]["deals"] if d["host"] == "'"$H4"'"), h["creator"]["not_hosted"] > 0' | tr -d '(),')"
check "b2's content is the one paid for" "$HASH" "$(deal "$H3" content)"
check "every voucher b2 sent was taken" True \
	"$(hp 2 'h["creator"]["vouchers_ok"] == h["creator"]["vouchers_sent"] == 3 and h["creator"]["vouchers_refused"] == 0')"

# b3 redeems them through b1's relayer.
i=0
while [ "$(hp 3 'h["host"]["earned"] == h["host"]["redeemed"] == "'$((3 * HPRICE))'"')" != True ] && [ $i -lt 120 ]; do
	sleep 1; i=$((i + 1))
done
check "b3 earned and redeemed three epochs as host, one lane (the third voucher since its restart)" \
	"$((3 * HPRICE)) $((3 * HPRICE)) 1 1" \
	"$(hp 3 'h["host"]["earned"], h["host"]["redeemed"], h["host"]["lanes"], h["host"]["vouchers_ok"] + h["host"]["vouchers_pending"]' | tr -d "(),'")"
check "b3's seeder figures leave its host lanes out" "0 0" \
	"$(hp 3 's["seeder"]["unredeemed"], s["seeder"]["redeemed_value"]' | tr -d "(),'")"
check "b4 was asked, earned nothing" "True 0" \
	"$(hp 4 'h["host"]["not_hosted"] > 0, h["host"]["earned"]' | tr -d "(),'")"
addrs=$(hp 3 '" ".join(p["address"] for p in s["seeder"]["payees"])')
got=0
for a in $addrs; do
	got=$((got + $(hub_balance "$a")))
	[ "$("$CAST" balance "$a" --rpc-url "$RPC")" = 0 ] ||
		bad "b3's stealth address $a holds ETH"
done
[ -n "$addrs" ] && ok "b3's stealth addresses: $(echo $addrs | wc -w)" ||
	bad "b3 lists no stealth address"
gross=$((3 * HPRICE))
check "b3's stealth balances: three epochs less the protocol fee, to the wei" \
	$((gross - gross * BPS / 10000)) "$got"
check "the pot's deposit fell by three epochs" $((DEP0 - gross)) "$(deposit)"
# The console's earnings: b3's money as host, as its hostpay section has it.
check "b3's console: earned as host, all redeemed, nothing as seeder" \
	"$gross $gross 0" \
	"$(earn 3 'm["host"] + " " + m["host_redeemed"] + " " + m["seeder"]')"
check "b2's console: nothing earned as host, three epochs paid to hosts as creator" \
	"False $gross" "$(earn 2 '"host" in m, m.get("host_paid")' | tr -d "(),'")"

bitsd_mesh_stop "$W"
PIDS=""
result $NAME
