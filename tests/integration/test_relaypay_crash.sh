#!/bin/sh
# Paid relaying (docs/relaypay.md §6): a relay killed while it redeems its
# winners loses none and redeems none twice.  On an anvil this test
# starts, with a pot funded for the signer 0x44…44 (its escrow large
# enough that no ticket is refused for the relay's exposure):
#  - relaypay_xcheck gives a relay (relay.pay.epoch 60) N tickets three
#    minutes old, about half of them winners, and writes that relay's
#    keys and state (relaypay.state, the epoch ended) into DATADIR;
#  - bitsd starts on it against a chain stand-in that holds every call:
#    its redemption starts and it is killed (SIGKILL) in its first chain
#    call;
#  - started again against anvil with automining off, it sends the batch
#    and waits for its receipt; killed (SIGKILL) while the transaction is
#    in the pool; then anvil mines it: the pot paid every winner's face
#    value, once;
#  - started a third time (automining on), it finds every winner spent
#    already (PaymentHub.isNonceUsed), redeems none again and withdraws
#    each winner's credit (face value less the 2 % fee) from its stealth
#    address to WTO; the pot paid nothing more;
#  - a fourth start after a clean stop has nothing left to redeem.
# 127.0.2.92, NTCP2 29792, API 29793; anvil and the stand-in on free
# ports; about a minute, no network.
set -u
NAME=test_relaypay_crash
top_srcdir=${top_srcdir:-.}
. "$top_srcdir/tests/integration/chain-lib.sh"	# top_builddir too
. "$top_srcdir/tests/integration/i2pd-lib.sh"	# wait_log, api_num
. "$top_srcdir/tests/integration/ntcp2-lib.sh"	# bitsd_stop
BITSD="$top_builddir/apps/bitsd"
need_tools $NAME
umask 077
W=$(mktemp -d "${TMPDIR:-/tmp}/relaypay-crash.XXXXXX")
BPID= FPID=
cleanup() {
	stop_anvil
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	[ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
D=$W/d
mkdir -p "$D"
API=29793
N=20
FACE=1000000
WTO=0x000000000000000000000000000000000000b175
# anvil's first account funds the pot; its second redeems and withdraws
K0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
printf '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d\n' >"$W/redeem.key"
SIGNER=$("$CAST" wallet address --private-key 0x4444444444444444444444444444444444444444444444444444444444444444)

start_anvil "$W" && deploy "$W" || { result $NAME; exit 1; }
TOKEN=$(jget "$W/deploy.json" token) HUB=$(jget "$W/deploy.json" paymentHub)
send() {
	"$CAST" send --rpc-url "$RPC" --private-key "$K0" "$@" >"$W/send" 2>&1 &&
		grep -q '^status *1' "$W/send"
}
# word FN ARGS...: the first word of a call's answer, in decimal
word() {
	to=$1; shift
	"$CAST" call --rpc-url "$RPC" "$to" "$@" |
		python3 -c 'import sys; print(int(sys.stdin.read().strip()[2:66], 16))'
}
send "$TOKEN" 'mint(address,uint256)' "$("$CAST" wallet address --private-key "$K0")" 3000000000 &&
	send "$TOKEN" 'approve(address,uint256)' "$HUB" 3000000000 &&
	send "$HUB" 'fund(address,uint96,uint96)' "$SIGNER" 1000000000 1000000000 ||
	{ bad "fund the pot: $(tail -n 3 "$W/send")"; result $NAME; exit 1; }
DEP0=$(word "$HUB" 'pots(address)' "$SIGNER")
check "pot funded" 1000000000 "$DEP0"

# the relay's state: tickets made three minutes ago, the epoch ended
NOW=$("$CAST" block latest --field timestamp --rpc-url "$RPC")
if ! "$top_builddir/tests/integration/relaypay_xcheck" \
	"$("$CAST" chain-id --rpc-url "$RPC")" "$HUB" $((NOW - 180)) \
	"$("$CAST" call --rpc-url "$RPC" "$HUB" 'pots(address)' "$SIGNER")" \
	1 $N "$D" 60 >"$W/x" 2>"$W/xerr"; then
	bad "relaypay_xcheck: $(cat "$W/xerr")"; result $NAME; exit 1
fi
WINS=$(awk '$1 == "winners" { print $2 }' "$W/x")
[ "${WINS:-0}" -gt 0 ] ||
	{ bad "no winner among $N tickets at p = 1/2"; result $NAME; exit 1; }
check "every ticket accepted" $N "$(grep -c ' win$\| lose$' "$W/x")"

run() {
	"$BITSD" --datadir "$D" --host 127.0.2.92 --port 29792 --netid 77 \
		--api-port $API --loglevel info --logfile "$D/bitsd.log" \
		--market.deploy "$W/deploy.json" --market.gateway \
		--market.gateway.rpc "$1" --relay.pay --relay.pay.price 1000 \
		--relay.pay.epoch 60 --relay.pay.redeem-key "$W/redeem.key" \
		--relay.pay.withdraw-to $WTO >>"$D/stdout.log" 2>&1 &
	BPID=$!
	wait_log "$D/bitsd.log" "relaypay: relay on.*chain client on" 60 ||
		{ bad "relaypay not on with a chain client (see $D/bitsd.log)"; result $NAME; exit 1; }
}
crash() {
	sleep 3		# a tick or more: a save of the state would be written
	kill -KILL "$BPID"
	wait "$BPID" 2>/dev/null
	BPID=
	: >"$D/bitsd.log"
}

# 1. killed in its first chain call (the stand-in never answers)
python3 "$top_srcdir/tests/integration/chain-fakenode.py" >"$W/port" 2>"$W/fake.log" &
FPID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$W/port" ] || { bad "the chain stand-in did not start"; result $NAME; exit 1; }
run "http://127.0.0.1:$(cat "$W/port")/hang"
i=0
until grep -qv '^eth_chainId$' "$W/fake.log" || [ $i -gt 120 ]; do
	sleep 0.25; i=$((i + 1))
done
grep -qv '^eth_chainId$' "$W/fake.log" &&
	ok "the redemption asks the chain ($(grep -v '^eth_chainId$' "$W/fake.log" | head -n 1))" ||
	bad "no redemption began (see $D/bitsd.log)"
crash
kill "$FPID"; wait "$FPID" 2>/dev/null; FPID=

# 2. killed with its transaction in the pool; then it is mined
"$CAST" rpc --rpc-url "$RPC" evm_setAutomine false >/dev/null
run "$RPC"
pending() {
	"$CAST" rpc --rpc-url "$RPC" txpool_status |
		python3 -c 'import sys, json; print(int(json.load(sys.stdin)["pending"], 16))'
}
i=0
until [ "$(pending)" -gt 0 ] || [ $i -gt 120 ]; do sleep 0.5; i=$((i + 1)); done
check "the redemption in the pool when killed" 1 "$(pending)"
crash
"$CAST" rpc --rpc-url "$RPC" evm_mine >/dev/null
"$CAST" rpc --rpc-url "$RPC" evm_setAutomine true >/dev/null
check "mined: the pot paid each winner once" $((DEP0 - WINS * FACE)) \
	"$(word "$HUB" 'pots(address)' "$SIGNER")"

# 3. every winner spent already: none redeemed again, all withdrawn
run "$RPC"
wait_log "$D/bitsd.log" "winners redeemed" 120 ||
	bad "no redemption after the restart (see $D/bitsd.log)"
check "none redeemed twice" "0 of $WINS winners redeemed ($WINS spent already)" \
	"$(sed -n 's/.*relaypay: epoch [0-9]*: \(.*already)\).*/\1/p' "$D/bitsd.log")"
wait_api $API relaypay.relay.withdrawn "$WINS" 120 &&
	ok "every winner withdrawn" ||
	bad "withdrawn $(api_num $API relaypay.relay.withdrawn) of $WINS"
check "redeemed (this run)" 0 "$(api_num $API relaypay.relay.redeemed)"
check "withdraw_failed" 0 "$(api_num $API relaypay.relay.withdraw_failed)"
check "WTO holds the winners' credit (face - 2 %)" $((WINS * FACE * 98 / 100)) \
	"$(word "$TOKEN" 'balanceOf(address)' $WTO)"
check "the pot paid nothing more" $((DEP0 - WINS * FACE)) \
	"$(word "$HUB" 'pots(address)' "$SIGNER")"
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"

# 4. nothing left
: >"$D/bitsd.log"
run "$RPC"
sleep 6		# three ticks
check "nothing left to redeem" "0 0" \
	"$(api_num $API relaypay.relay.redeem_batches) $(api_num $API relaypay.relay.redeem_failed)"
bitsd_stop && ok "bitsd stopped cleanly again" || bad "bitsd did not stop cleanly again"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$D/stdout.log" &&
	bad "sanitizer report (see $D/stdout.log)"
result $NAME
