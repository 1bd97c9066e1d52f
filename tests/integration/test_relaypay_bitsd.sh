#!/bin/sh
# Paid relaying in bitsd (issue [R], docs/relaypay.md) on an anvil this
# test starts: four bitsd, b1 the floodfill and the chain RPC gateway;
# b1, b2, b3 relays that ask for pay (relay.pay, RELAY_EPOCH-second
# epochs, each redeeming from an anvil account); b4 pays its 2-hop
# exploratory tunnels from a pot (tunnels.pay.key) with tickets whose
# winning chance is 1/2 (face FACE, PRICE per GiB, PAY_KIB KiB a ticket).
#  - b4 gives tickets, the relays accept them (pots read through the
#    gateway), count the bytes their paid tunnels carry and draw them;
#  - as its tunnels carry traffic, b4 sends their paid hops further
#    tickets (garlic to the hop's router, docs/relaypay.md §3.1), and the
#    relays take them;
#  - b4 has three pots and takes the next every 15 s (tunnels.pay.rotate);
#    the test funds the first; b4 funds the second from an account of
#    its own (tunnels.pay.fund-key) and leaves the third unfunded, over
#    its budget (tunnels.pay.fund-budget), and unused;
#  - once b4 stops and the epochs end, every relay redeems all its
#    winners; the two funded pots paid exactly their face values
#    (PaymentHub.pots), each some;
#  - each relay moves every redeemed winner's credit from its stealth
#    address to WTO (relay.pay.withdraw-to): WTO holds their sum in tokens;
#    each relay's first two withdrawals are made to fail
#    (relay.pay.test-withdraw-fail) and go through when tried again;
#  - the number of winners lies within 4 standard deviations of the
#    tickets' expected wins (the binomial of their winProb);
#  - the expected value the relays got covers what the bytes their paid
#    tunnels carried are worth at their price;
#  - every bitsd stops cleanly, no sanitizer report.
# With SIZE (e.g. SIZE=1G PAY_KIB=2048 WITHDRAW=0): b5, a SAM bridge that
# accepts, gets SIZE bytes from b4's SAM bridge (tools/sam-bench.py, in
# streams of CHUNK, 128M by default, each with fresh sessions)
# through b4's 2-hop tunnels of paid hops only (tunnels.pay.hops
# paid-only: b1-b3), each byte carried by two paid relays; then the face
# value the relays redeem is compared with what the bytes their paid
# tunnels carried are worth: the difference is the draws' (within 4
# standard deviations of the accepted tickets' binomial) plus what the
# tunnels were paid ahead, less what they were paid short (both reported
# by the relays, paid_ahead and underpaid), and the tunnels are paid
# short by no more than the tickets refused or lost were worth.
# WITHDRAW=0 leaves the withdrawals out (one a second and winner).
# 127.0.1.51-55, NTCP2 ports 29811-29815, APIs 29861-29865 and SAM
# 29854-29855 on 127.0.0.1, anvil on a free port.  About 8 minutes at load
# 20 (withdrawals take a second each; SIZE=1G: about 15): not in TESTS (run
# by hand).
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_relaypay_bitsd
W=$(mktemp -d "${TMPDIR:-/tmp}/relaypay-bitsd.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	stop_anvil
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077
PAY_KIB=${PAY_KIB:-8}
SIZE=${SIZE:-} WITHDRAW=${WITHDRAW:-1} LOGLEVEL=${LOGLEVEL:-debug}
# a ticket's worth is half its face value: winProb 1/2
FACE=1000000 PRICE=$((500000 * 1048576 / PAY_KIB)) RELAY_EPOCH=${RELAY_EPOCH:-30}
MIN_TICKETS=${MIN_TICKETS:-24}
# anvil's accounts 0 (funds the first pot), 1-3 (the relays' redeemers)
# and 4 (b4's funding account)
K0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
K4=47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a
RK1=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
RK2=5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
RK3=7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6
POT_KEY=$(printf '44%.0s' $(seq 32))
POT_KEY2=$(printf '45%.0s' $(seq 32))
POT_KEY3=$(printf '46%.0s' $(seq 32))

need_tools $NAME
start_anvil "$W" || { result $NAME; exit 1; }
deploy "$W" || { result $NAME; exit 1; }
D=$W/deploy.json
TOKEN=$(jget "$D" token) HUB=$(jget "$D" paymentHub)
SIGNER=$("$CAST" wallet address --private-key "0x$POT_KEY")
SIGNER2=$("$CAST" wallet address --private-key "0x$POT_KEY2")
SIGNER3=$("$CAST" wallet address --private-key "0x$POT_KEY3")
FUNDER=$("$CAST" wallet address --private-key "0x$K4")
send() {
	"$CAST" send --rpc-url "$RPC" --private-key "$K0" "$@" >"$W/send" 2>&1 &&
		grep -q '^status *1' "$W/send"
}
# deposit [SIGNER]: the pot's deposit (PaymentHub.pots(signer), first word)
deposit() {
	"$CAST" call --rpc-url "$RPC" "$HUB" 'pots(address)' "${1:-$SIGNER}" |
		python3 -c 'import sys; print(int(sys.stdin.read().strip()[2:66], 16))'
}
send "$TOKEN" 'mint(address,uint256)' "$("$CAST" wallet address --private-key "$K0")" 100000000000000 &&
	send "$TOKEN" 'approve(address,uint256)' "$HUB" 100000000000000 &&
	send "$HUB" 'fund(address,uint96,uint96)' "$SIGNER" 10000000000000 10000000000000 &&
	send "$TOKEN" 'mint(address,uint256)' "$FUNDER" 100000000000000 ||
	{ bad "fund the pot: $(tail -n 3 "$W/send")"; result $NAME; exit 1; }
DEP0=$(deposit)
check "pot funded" 10000000000000 "$DEP0"

bitsd_mesh "$W" 127.0.1 50 29810 || { result $NAME; exit 1; }
# the others know b1 as the floodfill from the start (its RouterInfo with
# caps f: else a router may publish and look up nowhere for minutes)
"$BITSD" --datadir "$W/b1" --host 127.0.1.51 --port 29811 --netid 77 \
	--floodfill --init >>"$W/b1/init.log" 2>&1 || { bad "b1 --init"; result $NAME; exit 1; }
for n in 2 3 4; do seed_ri "$W/b1/router.info" "$W/b$n"; done
if [ -n "$SIZE" ]; then
	# b5: the SAM bridge that receives, knowing the others
	mkdir -p "$W/b5"
	"$BITSD" --datadir "$W/b5" --host 127.0.1.55 --port 29815 --netid 77 \
		--init >"$W/b5/init.log" 2>&1 || { bad "b5 --init"; result $NAME; exit 1; }
	cp "$W/b4/bits.conf" "$W/b5/bits.conf"
	for n in 1 2 3 4; do
		seed_ri "$W/b$n/router.info" "$W/b5"
		seed_ri "$W/b5/router.info" "$W/b$n"
	done
fi
for n in 1 2 3; do eval "printf '%s\n' \"\$RK$n\"" >"$W/redeem$n.key"; done
printf '%s\n' "$POT_KEY" >"$W/pot.key"
printf '%s\n' "$POT_KEY2" >"$W/pot2.key"
printf '%s\n' "$POT_KEY3" >"$W/pot3.key"
printf '%s\n' "$K4" >"$W/fund.key"
chmod 600 "$W"/*.key

start() {
	n=$1; shift
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$((50 + n)) \
		--port $((29810 + n)) --netid 77 --api-port $((29860 + n)) \
		--loglevel "$LOGLEVEL" --logfile "$W/b$n/bitsd.log" "$@" \
		>>"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
}
# where the relays withdraw their winnings to
WTO=0x000000000000000000000000000000000000b175
RELAY="--market.deploy $D --relay.pay --relay.pay.price $PRICE --relay.pay.epoch $RELAY_EPOCH"
[ "$WITHDRAW" = 1 ] &&
	RELAY="$RELAY --relay.pay.withdraw-to $WTO --relay.pay.test-withdraw-fail 2"
start 1 --floodfill --market.gateway --market.gateway.rpc "$RPC" $RELAY \
	--relay.pay.redeem-key "$W/redeem1.key"
wait_log "$W/b1/bitsd.log" "market: gateway on" 120 &&
	[ -s "$W/b1/market-gateway.b32" ] ||
	{ bad "b1: no gateway (see $W/b1/bitsd.log)"; result $NAME; exit 1; }
GW=$(tr -d '\n' <"$W/b1/market-gateway.b32")
for n in 2 3; do
	start $n --market.gateways "$GW" $RELAY --relay.pay.redeem-key "$W/redeem$n.key"
done
# chain N: 0 once router N's chain client reaches the chain
chain() { chain_up "$W/b$1" $((29860 + $1)); }
for n in 2 3; do
	dl=$(($(date +%s) + 300))
	until chain $n || [ "$(date +%s)" -gt $dl ]; do sleep 2; done
	chain $n && ok "b$n reaches the chain through b1's gateway" ||
		bad "b$n: no chain through the gateway (see $W/b$n/bitsd.log)"
done
# (b4 looks its paid hops' RouterInfos up again when 10 s old: the relays
# start a new epoch every RELAY_EPOCH seconds; with SIZE its tunnels live
# the default 10 minutes, as a stream's do)
SAM4="--tunnels.lifetime 60"
[ -n "$SIZE" ] && SAM4="--sam-port 29854 --tunnels.pay.hops paid-only" &&
	start 5 --sam-port 29855
# b4 fills a pot up to DEP0 (deposit and escrow): its budget is one pot
start 4 --market.deploy "$D" --market.gateways "$GW" \
	--tunnels.pay.key "$W/pot.key,$W/pot2.key,$W/pot3.key" \
	--tunnels.pay.fund-key "$W/fund.key" --tunnels.pay.fund "$DEP0" \
	--tunnels.pay.fund-budget $((2 * DEP0)) --tunnels.pay.rotate 15 \
	--tunnels.pay.face $FACE --tunnels.pay.kib $PAY_KIB --tunnels.pay.ri-refresh 10 \
	--exploratory.inbound.length 2 --exploratory.outbound.length 2 $SAM4
for n in 1 2 3; do
	wait_log "$W/b$n/bitsd.log" "relaypay: relay on .*chain client on" 120 ||
		bad "b$n: relaypay not on with a chain client (see $W/b$n/bitsd.log)"
done
wait_log "$W/b4/bitsd.log" "relaypay: relay off.*payer on" 120 ||
	bad "b4: payer not on (see $W/b4/bitsd.log)"
# b4 funds the second pot (through b1's gateway) and not the third
wait_log "$W/b4/bitsd.log" "relaypay: 1 pots funded" 300 &&
	check "b4 funded its second pot" "$DEP0 $DEP0" "$(deposit "$SIGNER2") $("$CAST" call --rpc-url "$RPC" "$HUB" 'pots(address)' "$SIGNER2" |
		python3 -c 'import sys; print(int(sys.stdin.read().strip()[-64:], 16))')" ||
	bad "b4 funded no pot (see $W/b4/bitsd.log)"
check "b4: pots funded, spent, funded in use" "1 $((2 * DEP0)) 2" \
	"$(for f in funded fund_spent pots_funded; do printf '%s ' "$(api_num 29864 relaypay.payer.$f)"; done | sed 's/ $//')"
[ "$(api_num 29864 relaypay.payer.fund_over_budget)" -ge 1 ] &&
	ok "b4 left its third pot unfunded: over its budget" ||
	bad "b4 did not find its third pot over the budget"

# rp FIELD...: the sums over b1-b3 of /api/status relaypay.relay.FIELD,
# one line (0 for a relay that does not answer)
rp() { relay_sum "29861 29862 29863" "$@"; }
# paid: how many of b1-b3 accepted a ticket
paid() {
	k=0
	for port in 29861 29862 29863; do
		[ "$(api_num $port relaypay.relay.accepted)" -gt 0 ] && k=$((k + 1))
	done
	echo $k
}
if [ -n "$SIZE" ]; then
	wait_log "$W/b5/bitsd.log" "SAM bridge on" 120 &&
		wait_log "$W/b4/bitsd.log" "SAM bridge on" 120 ||
		bad "no SAM bridge on b4 or b5"
	# in streams of CHUNK (fresh sessions each), a stream that fails
	# tried once more
	set -- $(python3 -c 'import sys
def b(s): return int(s[:-1]) << {"K": 10, "M": 20, "G": 30}[s[-1]] if s[-1] in "KMG" else int(s)
t, c = b(sys.argv[1]), b(sys.argv[2]); print(-(-t // c), c)' "$SIZE" "${CHUNK:-128M}")
	TS=$(date +%s) sent=0 k=0
	while [ $k -lt "$1" ]; do
		k=$((k + 1))
		for try in 1 2; do
			python3 "$top_srcdir/tools/sam-bench.py" bench --sam-a 127.0.0.1:29855 \
				--sam-b 127.0.0.1:29854 --size "$2" --hops 2 \
				--session-timeout 600 --timeout 3600 --connect-tries 100 \
				--connect-retry-delay 2 --linger 2 --json "$W/sam$k.json" \
				>>"$W/sam.log" 2>&1 && { sent=$((sent + $2)); break; }
		done
	done
	[ "$sent" = $(($1 * $2)) ] &&
		ok "$sent bytes sent from b4 to b5 over SAM in $1 streams, $(($(date +%s) - TS)) s" ||
		bad "$sent of $(($1 * $2)) bytes from b4 to b5: $(grep -c FAILED "$W/sam.log") streams failed"
fi
dl=$(($(date +%s) + 600))
# (b4 runs at least 50 s from its funding: both funded pots are used)
T4=$(date +%s)
until { [ "$(rp accepted)" -ge "$MIN_TICKETS" ] && [ "$(paid)" -ge 2 ] &&
	[ "$(rp topups_received)" -gt 0 ] && [ "$(date +%s)" -ge $((T4 + 50)) ]; } ||
	[ "$(date +%s)" -gt $dl ]; do sleep 2; done
ACC=$(rp accepted)
[ "$ACC" -ge "$MIN_TICKETS" ] && ok "relays accepted $ACC tickets" ||
	bad "relays accepted $ACC tickets, want $MIN_TICKETS (see $W)"
# a paid relay keeps the pot states it read: b4's pots, three signers at most
PC=""
for port in 29861 29862 29863; do
	[ "$(api_num $port relaypay.relay.accepted)" -gt 0 ] || continue
	PC="$PC $(api_num $port relaypay.relay.pots_cached)"
done
python3 -c 'import sys; v = [int(x) for x in sys.argv[1:]]; sys.exit(0 if v and all(1 <= x <= 3 for x in v) else 1)' $PC &&
	ok "each paid relay keeps 1-3 pot states ($PC )" ||
	bad "pot states kept by the paid relays: ($PC )"
BPID=$P4
bitsd_stop && ok "b4 (payer) stopped cleanly" || bad "b4 did not stop cleanly"
if [ -n "$SIZE" ]; then
	BPID=$P5
	bitsd_stop && ok "b5 stopped cleanly" || bad "b5 did not stop cleanly"
fi
SENT=$(sed -n 's/.*relaypay: the payer sent \([0-9]*\) tickets.*/\1/p' "$W/b4/bitsd.log")
TOPS=$(sed -n 's/.*relaypay: the payer sent [0-9]* tickets (\([0-9]*\) after the build).*/\1/p' "$W/b4/bitsd.log")
REC=$(rp tickets_received)
[ "$REC" -le "$SENT" ] && ok "b4 sent $SENT tickets, the relays got $REC" ||
	bad "the relays got $REC tickets, b4 sent only $SENT"
set -- $(rp topups_received topups_refused)
[ "${TOPS:-0}" -gt 0 ] && [ "$1" -gt 0 ] && [ "$1" -le "$TOPS" ] &&
	ok "b4 sent $TOPS tickets after the build, the relays got $1 ($2 refused)" ||
	bad "tickets after the build: b4 sent ${TOPS:-none}, the relays got $1"

# every winner redeemed: the last epoch ends, then its grace
t0=$(date +%s)
dl=$((t0 + RELAY_EPOCH * 2 + 300))
while :; do
	set -- $(rp won redeemed pending withdrawn withdraw_failed)
	[ "$WITHDRAW" = 1 ] || set -- "$1" "$2" "$3" "$2" 0
	[ "$1" = "$2" ] && [ "$3" = 0 ] && [ $(($4 + $5)) = "$2" ] &&
		[ "$(date +%s)" -gt $((t0 + RELAY_EPOCH * 2 + 6)) ] && break
	# (withdrawals go one at a time, about a second each)
	[ "$(date +%s)" -gt $((dl + 2 * $1)) ] && break
	sleep 2
done
for port in 29861 29862 29863; do
	echo "$port: $(python3 -c 'import json,sys,urllib.request; print(json.dumps(json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/status" % sys.argv[1], timeout=20))["relaypay"]["relay"]))' $port)"
done
set -- $(rp accepted won redeemed tickets_received)
ACC=$1 WON=$2 RED=$3 REC=$4
paid=$(paid)
[ $paid -ge 2 ] && ok "$paid relays were paid" || bad "only $paid relays were paid"
[ "$ACC" -ge $((REC * 3 / 4)) ] && ok "$ACC of the $REC tickets received accepted" ||
	bad "only $ACC of the $REC tickets received accepted"
[ "$WON" -gt 0 ] && check "every winner redeemed" "$WON" "$RED" ||
	bad "no winner among $ACC tickets"
set -- $(rp redeemed_face expected_value owed_for_bytes paid_bytes)
RFACE=$1 EV=$2 OWED=$3 BYTES=$4
check "redeemed face = winners x face" $((WON * FACE)) "$RFACE"
D1=$(deposit) D2=$(deposit "$SIGNER2")
check "the pots paid the redeemed face values" $((2 * DEP0 - RFACE)) $((D1 + D2))
check "the third pot unfunded" 0 "$(deposit "$SIGNER3")"
if python3 - <<'PY'
import json, urllib.request
n = sum(json.load(urllib.request.urlopen('http://127.0.0.1:%d/api/status' % p, timeout=20))
        ['relaypay']['relay']['refused'].get('no funded pot', 0) for p in (29861, 29862, 29863))
print("tickets refused for no funded pot: %d" % n)
raise SystemExit(1 if n else 0)
PY
then ok "no ticket from an unfunded pot"
else bad "tickets from an unfunded pot"; fi
[ "$D1" -lt "$DEP0" ] && [ "$D2" -lt "$DEP0" ] &&
	ok "both pots paid ($((DEP0 - D1)) and $((DEP0 - D2)))" ||
	bad "both pots should have paid: $((DEP0 - D1)) and $((DEP0 - D2))"
if [ "$WITHDRAW" = 1 ]; then
	set -- $(rp withdrawn withdraw_failed withdrawn_amount)
	check "every redeemed winner withdrawn" "$RED 0" "$1 $2"
	WBAL=$("$CAST" call --rpc-url "$RPC" "$TOKEN" 'balanceOf(address)' "$WTO" |
		python3 -c 'import sys; print(int(sys.stdin.read().strip()[2:66], 16))')
	[ "$3" -gt 0 ] && [ "$3" -le "$RFACE" ] && check "withdrawn to $WTO (of $RFACE redeemed)" "$3" "$WBAL" ||
		bad "withdrawn $3 of $RFACE redeemed, $WTO holds $WBAL"
	# each relay's first two failed every try of their first round
	for port in 29861 29862 29863; do
		w=$(api_num $port relaypay.relay.withdrawn)
		want=$((w < 2 ? w : 2))
		check "relay $port: withdrawals that failed went through later" \
			"$want 0" "$(api_num $port relaypay.relay.withdraw_retried) $(api_num $port relaypay.relay.withdraw_retrying)"
	done
fi
# The console's earnings (/api/console/earnings): each relay's money (the
# face of its winners, their expected value, the face redeemed) as its
# relaypay section has it, in the current figures and in the samples.
if python3 - "$W" <<'PY'
import sys, json, urllib.request
bad = 0
for n in (1, 2, 3):
    port = 29860 + n
    tok = open("%s/b%d/api.token" % (sys.argv[1], n)).read().strip()
    st = json.load(urllib.request.urlopen('http://127.0.0.1:%d/api/status' % port, timeout=20))['relaypay']['relay']
    e = json.load(urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:%d/api/console/earnings' % port,
        headers={'Authorization': 'Bearer ' + tok}), timeout=20))
    m = e['now']['money']
    got = (m.get('relay_won'), m.get('relay_expected'), m.get('relay_redeemed'))
    want = (st['won_face'], st['expected_value'], st['redeemed_face'])
    print('b%d: console %s, status %s' % (n, got, want))
    bad += got != want or 'relay_won' not in e['samples'][-1]['money']
sys.exit(1 if bad else 0)
PY
then ok "each relay's console shows its money won, expected and redeemed"
else bad "the relays' consoles: money earned as relay"; fi
# the binomial: N tickets each winning with winProb (EV / face)
if python3 - "$ACC" "$WON" "$EV" "$FACE" <<'PY'
import sys, math
n, w, ev, face = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
p = ev / (n * face)
sd = math.sqrt(n * p * (1 - p))
print("winners %d, expected %.1f +- %.1f (p %.4f)" % (w, n * p, sd, p))
sys.exit(0 if abs(w - n * p) <= 4 * sd + 1 else 1)
PY
then ok "winners within 4 sd of the tickets' expectation"
else bad "winners outside 4 sd of the tickets' expectation"; fi
[ "$BYTES" -gt 0 ] && ok "the paid tunnels carried $BYTES bytes" ||
	bad "no bytes counted in the paid tunnels"
python3 -c "import sys; sys.exit(0 if $EV >= $OWED else 1)" &&
	ok "expected value $EV covers the $OWED owed for the bytes carried" ||
	bad "expected value $EV below the $OWED owed for the bytes carried"
# The face value redeemed against what the bytes carried are worth: the
# tickets' expected value EV is the bytes' worth OWED plus what the paid
# tunnels were paid ahead (a tunnel is paid ahead by a tick's traffic and
# half a ticket; a tunnel that ended before its build ticket's worth was
# carried) less what they were paid short; the redeemed face is EV but
# for the draws (4 sd of the binomial).  Paid short: by no more than the
# tickets b4 sent that no relay accepted were worth, a ticket and 1 % of
# the bytes' worth (a tunnel paid ahead by its last tick's traffic falls
# short when its traffic grows, and a relay counts what an inbound
# tunnel's endpoint may not get).
set -- $(rp underpaid paid_ahead)
UNDER=$1 AHEAD=$2
if python3 - "$RFACE" "$OWED" "$EV" "$UNDER" "$AHEAD" "$ACC" "$FACE" "$SENT" \
	"$PAY_KIB" "$PRICE" "$BYTES" <<'PY'
import sys, math
rface, owed, ev, under, ahead, n, face, sent, kib, price, nbytes = map(int, sys.argv[1:])
p = ev / (n * face)
sd = math.sqrt(n * p * (1 - p)) * face
tv = kib * 1024 * price / 2**30		# a ticket's worth
print("bytes carried in paid tunnels %d (%.1f MiB), worth %d; tickets' expected value %d "
      "(paid ahead %d, paid short %d); redeemed %d: %+.2f %% of the worth, %+.2f sd of the draws"
      % (nbytes, nbytes / 2**20, owed, ev, ahead, under, rface, 100 * (rface - owed) / max(owed, 1),
         (rface - ev) / sd if sd else 0))
lost = (sent - n) * tv			# tickets sent but not accepted
ok = abs(ev - (owed + ahead - under)) <= 2 * n + 2 and abs(rface - ev) <= 4 * sd + face \
    and under <= lost + tv + owed / 100
print("owed + ahead - short = %d (EV %d); short %d (%.3f %% of the worth) against %d worth of "
      "tickets not accepted" % (owed + ahead - under, ev, under, 100 * under / max(owed, 1), lost))
sys.exit(0 if ok else 1)
PY
then ok "redeemed face = worth of the bytes + paid ahead - paid short, within 4 sd of the draws"
else bad "redeemed face against the worth of the bytes carried: outside the bounds"; fi

for n in 1 2 3; do
	eval "BPID=\$P$n"
	bitsd_stop && ok "b$n stopped cleanly" || bad "b$n did not stop cleanly"
done
for n in 1 2 3 4; do
	[ -s "$W/b$n/relaypay.state" ] || [ $n = 4 ] ||
		bad "b$n: no relaypay.state"
	grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$W/b$n/stdout.log" &&
		bad "sanitizer report from b$n (see $W/b$n/stdout.log)"
done
result $NAME
