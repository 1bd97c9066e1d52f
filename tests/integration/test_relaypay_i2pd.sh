#!/bin/sh
# Paid relaying next to i2pd (docs/relaypay.md §3): bitsd builds its
# exploratory tunnels (2 hops each way) through a 3-router i2pd testnet
# with tunnels.test-ticket, so every hop's record carries a "bits.tk"
# ticket and every build is a VariableTunnelBuild with long records.
# Checks: the tickets went out (the log and /api/status tickets_sent), the
# i2pd hops accepted: tunnels built both ways, each hop an i2pd router
# whose console lists the transit tunnel, tunnel tests pass through them;
# bitsd stops cleanly with no warning, error, BUG or sanitizer report.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_relaypay_i2pd
W=$(mktemp -d "${TMPDIR:-/tmp}/relaypay-i2pd.XXXXXX")
NET=$W/net
B=$W/bitsd
HOST=127.0.0.30
PORT=29550
API=29551
trap testnet_cleanup EXIT
need_i2pd $NAME
umask 077

testnet_up_2ff 3 24 29500
HEX=""
for n in 1 2 3; do eval "h=\$R${n}_HASH"; HEX="$HEX $(b64_hex4 "$h")"; done

mkdir -p "$B"
seed_netdb "$NET" "$B"
cat >"$B/bits.conf" <<CONF
[exploratory]
inbound.length = 2
outbound.length = 2
inbound.quantity = 2
outbound.quantity = 2
[tunnels]
same-subnet = true
test-ticket = true
CONF
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 \
	--api-port $API --loglevel debug --logfile "$B/bitsd.log" \
	>"$B/stdout.log" 2>&1 &
BPID=$!

wait_own inbound 2 240 && ok "2 inbound tunnels built through i2pd with tickets" ||
	bad "inbound tunnels: $(own inbound) (builds ok $(own builds_ok), rejected $(own builds_rejected), timed out $(own builds_timeout))"
wait_own outbound 2 240 && ok "2 outbound tunnels built through i2pd with tickets" ||
	bad "outbound tunnels: $(own outbound) (builds ok $(own builds_ok), rejected $(own builds_rejected), timed out $(own builds_timeout))"
grep -q "2 of 2 hops of an inbound tunnel get a ticket (long records)" "$B/bitsd.log" &&
	ok "inbound builds carried a ticket for each hop" || bad "no inbound build with tickets in the log"
grep -q "2 of 2 hops of an outbound tunnel get a ticket (long records)" "$B/bitsd.log" &&
	ok "outbound builds carried a ticket for each hop" || bad "no outbound build with tickets in the log"
sent=$(own tickets_sent)
[ "$sent" -ge 8 ] && ok "tickets_sent $sent (/api/status)" || bad "tickets_sent $sent"
# Each hop is an i2pd router that lists the transit tunnel we built.
grep -o "hop [0-9]: [0-9a-f]* receives on [0-9]*" "$B/bitsd.log" |
	awk '{print $3, $6}' | sort -u >"$W/hops.txt"
nhops=0 found=0 strangers=0
while read -r h id; do
	nhops=$((nhops + 1)); n=0; m=0
	for x in $HEX; do n=$((n + 1)); [ "$x" = "$h" ] && m=$n; done
	if [ $m = 0 ]; then strangers=$((strangers + 1)); continue; fi
	eval "http=\$R${m}_HTTP"
	i2pd_has_transit "$http" "$id" && found=$((found + 1))
done <"$W/hops.txt"
[ "$strangers" = 0 ] && [ "$nhops" -ge 8 ] &&
	ok "all $nhops hops are i2pd routers" || bad "$strangers of $nhops hops are not i2pd routers"
[ "$found" -ge 8 ] && ok "the i2pd consoles list $found of those transit tunnels" ||
	bad "only $found of $nhops hops are transit tunnels on their i2pd router"
wait_own tests_ok 2 120 && ok "tunnel tests through the i2pd hops passed ($(own tests_ok))" ||
	bad "tunnel tests: $(own tests_ok) passed, $(own tests_failed) failed"
[ "$(own builds_rejected)" = 0 ] && ok "no build rejected" ||
	bad "$(own builds_rejected) builds rejected"
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
log_clean "$B/bitsd.log" >/dev/null && ok "no warning, error or BUG in bitsd's log" ||
	bad "bitsd logged: $(log_clean "$B/bitsd.log" | head -3)"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
