#!/bin/sh
# Fresh pots (docs/relaypay.md §4, tunnels.pay.fresh-pots) on an anvil
# this test starts, with a PaymentHub whose maxPaperTTL is 110 s and
# unlockDelay 120 s: four bitsd, b1 the floodfill and the chain RPC
# gateway; b1-b3 relays that ask for pay (15-s epochs, each redeeming
# from an anvil account, taking tickets that expire 40 s after their
# epoch's redemption: relay.pay.test-redeem-margin); b4 pays its 2-hop
# tunnels with tickets that live 100 s (tunnels.pay.ttl) from two fresh
# pots a turn
# (tunnels.pay.fresh-pots 2), the next turn every 30 s
# (tunnels.pay.rotate), its tunnels living 60 s; it funds each pot from
# anvil's account 4 (tunnels.pay.fund-key) and drains each back there
# once its tickets expired.
#  - b4 keeps the keys in DATADIR/relaypay-pots (0700, files 0600), and is
#    killed (SIGKILL) once and started again on the way: every pot it
#    funded still has its key, or was drained;
#  - the relays redeem tickets of pots of at least three turns, a pot
#    used in one turn only; in some turn both pots paid at once (b4's
#    exploratory tunnels and its chain client's pool name different
#    pots);
#  - at least one retired pot is unlocked and drained (withdrawPot): it
#    pays back what it was funded less what its tickets paid, to the wei,
#    and the funding account's token balance is what it was minted less
#    what it put into pots plus what came back, to the wei;
#  - the keys directory then holds only the pots not drained, and
#    /api/status payer pots_drained and pots_returned say the same;
#  - every winner redeemed, every bitsd stops cleanly, no sanitizer
#    report.
# 127.0.1.56-59, NTCP2 ports 29831-29834, APIs 29841-29844 on 127.0.0.1,
# anvil on a free port.  About 9 minutes: not in TESTS (run by hand).
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_relaypay_pots
W=$(mktemp -d "${TMPDIR:-/tmp}/relaypay-pots.XXXXXX")
PIDS="" WATCH=
cleanup() {
	[ -n "$WATCH" ] && kill "$WATCH" 2>/dev/null
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	stop_anvil
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077
LOGLEVEL=${LOGLEVEL:-info}
FACE=1000000 PAY_KIB=8
PRICE=$((500000 * 1048576 / PAY_KIB))	# winProb 1/2
FUND=10000000000000 BUDGET=4000000000000000 MINT=100000000000000000
K0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
K4=47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a
RK1=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
RK2=5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
RK3=7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6

need_tools $NAME
start_anvil "$W" || { result $NAME; exit 1; }
python3 - "$CONTRACTS/genesis/demo.json" "$W/genesis.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
g["maxPaperTTL"], g["unlockDelay"] = 110, 120
json.dump(g, open(sys.argv[2], "w"))
PY
if ! "$CONTRACTS/script/deploy.sh" "$RPC" "$W/deploy.json" "$W/genesis.json" \
	>"$W/deploy.log" 2>&1; then
	bad "deploy the contracts"; tail -n 30 "$W/deploy.log"; result $NAME; exit 1
fi
D=$W/deploy.json
TOKEN=$(jget "$D" token) HUB=$(jget "$D" paymentHub)
FUNDER=$("$CAST" wallet address --private-key "0x$K4")
check "unlockDelay" 120 "$("$CAST" call --rpc-url "$RPC" "$HUB" 'unlockDelay()(uint64)')"
"$CAST" send --rpc-url "$RPC" --private-key "$K0" "$TOKEN" \
	'mint(address,uint256)' "$FUNDER" $MINT >"$W/send" 2>&1 &&
	grep -q '^status *1' "$W/send" ||
	{ bad "mint to the funder: $(tail -n 3 "$W/send")"; result $NAME; exit 1; }

bitsd_mesh "$W" 127.0.1 55 29830 || { result $NAME; exit 1; }
"$BITSD" --datadir "$W/b1" --host 127.0.1.56 --port 29831 --netid 77 \
	--floodfill --init >>"$W/b1/init.log" 2>&1 || { bad "b1 --init"; result $NAME; exit 1; }
for n in 2 3 4; do seed_ri "$W/b1/router.info" "$W/b$n"; done
for n in 1 2 3; do eval "printf '%s\n' \"\$RK$n\"" >"$W/redeem$n.key"; done
printf '%s\n' "$K4" >"$W/fund.key"
chmod 600 "$W"/*.key

start() {
	n=$1; shift
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$((55 + n)) \
		--port $((29830 + n)) --netid 77 --api-port $((29840 + n)) \
		--loglevel "$LOGLEVEL" --logfile "$W/b$n/bitsd.log" "$@" \
		>>"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
}
RELAY="--market.deploy $D --relay.pay --relay.pay.price $PRICE --relay.pay.epoch 15
	--relay.pay.test-redeem-margin 40"
start 1 --floodfill --market.gateway --market.gateway.rpc "$RPC" $RELAY \
	--relay.pay.redeem-key "$W/redeem1.key"
wait_log "$W/b1/bitsd.log" "market: gateway on" 120 &&
	[ -s "$W/b1/market-gateway.b32" ] ||
	{ bad "b1: no gateway (see $W/b1/bitsd.log)"; result $NAME; exit 1; }
GW=$(tr -d '\n' <"$W/b1/market-gateway.b32")
for n in 2 3; do
	start $n --market.gateways "$GW" $RELAY --relay.pay.redeem-key "$W/redeem$n.key"
done
for n in 1 2 3; do
	wait_log "$W/b$n/bitsd.log" "relaypay: relay on .*chain client on" 120 ||
		bad "b$n: relaypay not on with a chain client (see $W/b$n/bitsd.log)"
done
# chain N: 0 once router N's chain client reaches the chain
chain() { chain_up "$W/b$1" $((29840 + $1)); }
for n in 2 3; do
	dl=$(($(date +%s) + 300))
	until chain $n || [ "$(date +%s)" -gt $dl ]; do sleep 2; done
	chain $n && ok "b$n reaches the chain through b1's gateway" ||
		bad "b$n: no chain through the gateway (see $W/b$n/bitsd.log)"
done
PAYER="--market.deploy $D --market.gateways $GW --tunnels.pay.fresh-pots 2
	--tunnels.pay.fund-key $W/fund.key --tunnels.pay.fund $FUND
	--tunnels.pay.fund-budget $BUDGET --tunnels.pay.rotate 30
	--tunnels.pay.ttl 100 --tunnels.pay.face $FACE --tunnels.pay.kib $PAY_KIB
	--tunnels.pay.ri-refresh 10 --tunnels.lifetime 60
	--exploratory.inbound.length 2 --exploratory.outbound.length 2"
start 4 $PAYER
wait_log "$W/b4/bitsd.log" "relaypay: relay off.*payer on" 120 ||
	bad "b4: payer not on (see $W/b4/bitsd.log)"
PD=$W/b4/relaypay-pots
# every key file b4 makes, with its address, as it appears: NAME ADDRESS
(
	while :; do
		for f in "$PD"/*.key; do
			[ -f "$f" ] || continue
			b=${f##*/}
			grep -q "^$b " "$W/pots.map" 2>/dev/null && continue
			a=$("$CAST" wallet address --private-key "0x$(cat "$f")" 2>/dev/null) &&
				echo "$b $a" >>"$W/pots.map"
		done
		sleep 1
	done
) &
WATCH=$!
wait_log "$W/b4/bitsd.log" "relaypay: [0-9]* pots funded" 180 ||
	bad "b4 funded no pot (see $W/b4/bitsd.log)"
check "the keys directory is the owner's alone" 700 "$(stat -c %a "$PD")"

# a crash on the way (after a few turns with tickets)
sleep 70
kill -KILL "$P4"
wait "$P4" 2>/dev/null
sleep 2
start 4 $PAYER
wait_log "$W/b4/bitsd.log" "relaypay: [0-9]* fresh pots from" 60 &&
	ok "b4 took its pots again after the crash" ||
	bad "b4 did not take its pots from $PD after the crash"

# logs NAME: the hub's events as lines "EVENT SIGNER FUNDER AMOUNT":
# PotFunded (deposit + escrow), PotWithdrawn, TicketRedeemed (paid),
# UnlockRequested (unlockAt)
events() {
	python3 - "$RPC" "$HUB" \
		"$("$CAST" keccak 'PotFunded(address,address,uint256,uint256)')" \
		"$("$CAST" keccak 'PotWithdrawn(address,address,uint256)')" \
		"$("$CAST" keccak 'TicketRedeemed(address,address,uint256)')" \
		"$("$CAST" keccak 'UnlockRequested(address,uint256)')" <<'PY'
import json, sys, urllib.request
rpc, hub, tf, tw, tr, tu = sys.argv[1:7]
q = {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs",
     "params": [{"fromBlock": "0x0", "toBlock": "latest", "address": hub}]}
r = urllib.request.Request(rpc, json.dumps(q).encode(), {"Content-Type": "application/json"})
for l in json.load(urllib.request.urlopen(r, timeout=30))["result"]:
    t, d = l["topics"], l["data"][2:]
    w = [d[i:i + 64] for i in range(0, len(d), 64)]
    a = lambda x: "0x" + x[-40:].lower()
    if t[0] == tf:
        print("funded", a(t[1]), a(t[2]), int(w[0], 16) + int(w[1], 16))
    elif t[0] == tw:
        print("withdrawn", a(t[1]), a(t[2]), int(w[0], 16))
    elif t[0] == tr:
        print("redeemed", a(w[0]), a(w[1]), int(w[2], 16))
    elif t[0] == tu:
        print("unlock", a(t[1]), "-", int(w[0], 16))
PY
}
# wait for a pot that paid tickets drained back to the funder (its turn,
# 60 s of tunnels and the build margin, 100 s of tickets, 120 s of
# unlockDelay)
paid_drained() {
	awk '$1 == "redeemed" { p[$2] = 1 } $1 == "withdrawn" && p[$2] { f = 1 }
		END { exit !f }' "$W/events"
}
dl=$(($(date +%s) + 600))
until events >"$W/events" 2>/dev/null && paid_drained ||
	[ "$(date +%s)" -gt $dl ]; do sleep 5; done
grep -q '^unlock' "$W/events" && ok "b4 unlocked retired pots" ||
	bad "no pot unlocked (see $W/b4/bitsd.log)"
paid_drained && ok "b4 drained a retired pot that paid tickets" ||
	bad "no pot that paid tickets drained (see $W/b4/bitsd.log)"
sleep 3		# b4 deletes the key after the withdrawal
DRAINED=$(api_num 29844 relaypay.payer.pots_drained)
RETURNED=$(python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen("http://127.0.0.1:29844/api/status", timeout=20))["relaypay"]["payer"]["pots_returned"])' 2>/dev/null)
BPID=$P4
bitsd_stop && ok "b4 (payer) stopped cleanly" || bad "b4 did not stop cleanly"
kill "$WATCH" 2>/dev/null; WATCH=
ls "$PD" >"$W/left"

# every winner redeemed: the last epoch ends, then its grace
rp() { relay_sum "29841 29842 29843" "$@"; }
t0=$(date +%s)
while :; do
	set -- $(rp won redeemed pending)
	[ "$1" = "$2" ] && [ "$3" = 0 ] && [ "$(date +%s)" -gt $((t0 + 36)) ] && break
	[ "$(date +%s)" -gt $((t0 + 300)) ] && break
	sleep 2
done
set -- $(rp accepted won redeemed)
[ "$2" -gt 0 ] && check "every winner redeemed ($1 tickets accepted)" "$2" "$3" ||
	bad "no winner among $1 tickets"
events >"$W/events"
if python3 - "$W" "$FUNDER" "$MINT" "$("$CAST" call --rpc-url "$RPC" "$TOKEN" 'balanceOf(address)(uint256)' "$FUNDER" | cut -d' ' -f1)" \
	"$DRAINED" "$RETURNED" <<'PY'
import collections, sys
w, funder, mint, bal = sys.argv[1], sys.argv[2].lower(), int(sys.argv[3]), int(sys.argv[4])
pots = {}			# address: (turn end, i, file name)
for line in open(w + "/pots.map"):
    name, addr = line.split()
    end, i = name[:-4].split("-")
    pots[addr.lower()] = (int(end), int(i), name)
left = set(open(w + "/left").read().split())
ev = [l.split() for l in open(w + "/events")]
funded, paid, back = collections.Counter(), collections.Counter(), {}
for e, s, f, v in ev:
    if e == "funded" and f == funder:
        funded[s] += int(v)
    elif e == "redeemed":
        paid[s] += int(v)
    elif e == "withdrawn" and f == funder:
        back[s] = int(v)
bad = 0
def check(ok, what):
    global bad
    print(("ok   " if ok else "FAIL ") + what)
    bad += not ok
ends = collections.defaultdict(set)
for s in paid:
    if s in pots:
        ends[pots[s][0]].add(pots[s][1])
check(all(s in pots for s in paid), "every ticket redeemed came from a fresh pot of b4 (%d pots)" % len(paid))
check(len(ends) >= 3, "tickets of %d turns redeemed, each turn's from its own pots: %s" %
      (len(ends), sorted((e, sorted(i)) for e, i in ends.items())))
check(any(len(i) == 2 for i in ends.values()), "in some turn both pots paid at once (two pools)")
check(all(s in pots for s in funded), "every pot b4 funded has a key file it made (%d pots)" % len(funded))
check(all(pots[s][2] in left or s in back for s in funded),
      "every pot b4 funded still has its key, or was drained (after the crash too)")
check(any(paid[s] for s in back), "%d pots drained back to the funder, %d of them paid tickets" %
      (len(back), sum(1 for s in back if paid[s])))
for s, v in back.items():
    check(v == funded[s] - paid[s], "pot %s (turn ending %d) gave back %d = funded %d - paid %d" %
          (s[:10], pots[s][0] if s in pots else 0, v, funded[s], paid[s]))
    check(pots.get(s, (0, 0, ""))[2] not in left, "its key deleted")
check(bal == mint - sum(funded.values()) + sum(back.values()),
      "the funder holds %d = minted %d - put into pots %d + back %d" %
      (bal, mint, sum(funded.values()), sum(back.values())))
live = [n for n in left if n.endswith(".key")]
check(all(any(p[2] == n and a not in back for a, p in pots.items()) for n in live),
      "the keys directory holds only pots not drained (%d)" % len(live))
check(int(sys.argv[5]) == len(back) and sys.argv[6] == str(sum(back.values())),
      "b4's pots_drained %s, pots_returned %s" % (sys.argv[5], sys.argv[6]))
sys.exit(1 if bad else 0)
PY
then ok "the fresh pots' money, to the wei"
else bad "the fresh pots' money (see above)"; fi
for f in "$PD"/*.key; do
	[ -f "$f" ] || continue
	[ "$(stat -c %a "$f")" = 600 ] || bad "$f is not 0600"
done

for n in 1 2 3; do
	eval "BPID=\$P$n"
	bitsd_stop && ok "b$n stopped cleanly" || bad "b$n did not stop cleanly"
done
for n in 1 2 3 4; do
	grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$W/b$n/stdout.log" &&
		bad "sanitizer report from b$n (see $W/b$n/stdout.log)"
done
result $NAME
