#!/bin/sh
# A paid relay's RouterInfo among i2pd routers (docs/relaypay.md §2):
# bitsd with relay.pay publishes bits.pay.meta, bits.pay.commit and
# bits.pay.price (epochs of RELAY_EPOCH seconds, so it republishes during
# the test) into a 3-router i2pd testnet (2 floodfills).
#  - an i2pd floodfill stores it: its netDb file for bitsd's hash carries
#    the bits.pay.* options and a commitment bitsd published, and verifies
#    (tests/integration/ri_verify);
#  - no i2pd logs a bad signature or refuses bitsd's RouterInfo;
#  - the i2pd routers build tunnels through bitsd (transit builds
#    accepted), and no ticket arrives with them;
#  - bitsd stops cleanly, no warning, error, BUG or sanitizer report.
# No chain: the relay needs only market.deploy's chain id and PaymentHub
# address (a made-up one here) until a ticket comes.  127.0.0.35-37, .38;
# ports 29521-29523, 29621-29623, 29721-29726, 29560-29561.  About 2-3
# minutes (i2pd writes its netDb every minute): not in TESTS.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_relaypay_ri_i2pd
W=$(mktemp -d "${TMPDIR:-/tmp}/relaypay-ri-i2pd.XXXXXX")
NET=$W/net
B=$W/bitsd
HOST=127.0.0.38
PORT=29560
API=29561
RELAY_EPOCH=${RELAY_EPOCH:-40}
VERIFY="${top_builddir:-.}/tests/integration/ri_verify"
trap testnet_cleanup EXIT
need_i2pd $NAME
umask 077

testnet_up_2ff 3 35 29520

mkdir -p "$B"
seed_netdb "$NET" "$B"
A=0x5FC8d32690cc91D4c39d9d3abcBD16989F875707
cat >"$W/deploy.json" <<JSON
{"chainId":31337,"token":"$A","feeSplitter":"$A","genesis":"$A","licenseRegistry":"$A","keyRelease":"$A","paymentHub":"$A","didRegistry":"$A"}
JSON
cat >"$B/bits.conf" <<CONF
[exploratory]
inbound.length = 2
outbound.length = 2
[tunnels]
same-subnet = true
CONF
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 \
	--api-port $API --loglevel debug --logfile "$B/bitsd.log" \
	--market.deploy "$W/deploy.json" --relay.pay --relay.pay.price 1000000 \
	--relay.pay.epoch $RELAY_EPOCH >"$B/stdout.log" 2>&1 &
BPID=$!
wait_log "$B/bitsd.log" "relaypay: relay on" 60 && ok "bitsd asks for pay" ||
	bad "relaypay not on (see $B/bitsd.log)"
# commits: every bits.pay.commit value bitsd's RouterInfos had so far
# (router.info is rewritten at each epoch; keep each one)
: >"$W/commits"
opt() {
	python3 - "$1" "$2" <<'PY'
import sys, re
d = open(sys.argv[1], 'rb').read()
m = re.search(re.escape(sys.argv[2].encode()) + rb'=(.)([^;]*);', d, re.S)
print(m.group(2).decode() if m else '')
PY
}
note_commit() { c=$(opt "$B/router.info" bits.pay.commit); [ -n "$c" ] && echo "$c" >>"$W/commits"; }
H=$(ri_b64hash "$B/router.info")
note_commit
[ -n "$(opt "$B/router.info" bits.pay.meta)" ] && [ "$(opt "$B/router.info" bits.pay.price)" = 1000000 ] &&
	ok "bitsd's RouterInfo carries bits.pay.meta, .commit, .price" ||
	bad "bitsd's router.info lacks bits.pay.* (see $B/router.info)"

# a netDb file of our RouterInfo with the options at r1 or r2 (the
# floodfills)
found="" dl=$(($(date +%s) + 240))
while [ "$(date +%s)" -lt $dl ]; do
	note_commit
	for f in "$NET"/r[12]/netDb/r*/routerInfo-"$H".dat; do
		[ -f "$f" ] || continue
		c=$(opt "$f" bits.pay.commit)
		[ -n "$c" ] && grep -qxF "$c" "$W/commits" && found=$f && break 2
	done
	sleep 2
done
if [ -n "$found" ]; then
	ok "i2pd stored bitsd's RouterInfo with a commitment bitsd published ($found)"
	"$VERIFY" "$found" >"$W/verify.log" 2>&1 && ok "i2pd's copy verifies" ||
		bad "i2pd's copy does not verify: $(cat "$W/verify.log")"
	[ "$(opt "$found" bits.pay.price)" = 1000000 ] && ok "i2pd's copy keeps bits.pay.price" ||
		bad "i2pd's copy: bits.pay.price '$(opt "$found" bits.pay.price)'"
else
	bad "no i2pd netDb file of bitsd's RouterInfo with bits.pay.* (hash $H)"
fi
wait_api $API tunnels.builds_accepted 1 240 &&
	ok "i2pd routers built $(api_num $API tunnels.builds_accepted) tunnels through bitsd" ||
	bad "no i2pd build through bitsd"
[ "$(api_num $API tunnels.tickets_received)" = 0 ] && ok "no ticket came with i2pd's builds" ||
	bad "tickets from i2pd: $(api_num $API tunnels.tickets_received)"
rep=$(grep -c 'relaypay: new epoch' "$B/bitsd.log")
[ "$rep" -ge 1 ] && ok "bitsd republished its RouterInfo at $rep new epochs" ||
	bad "no epoch rotation in $(date +%s) s"
bad_sig=0
for n in 1 2 3; do
	grep -iE "signature verification failed|invalid RouterInfo" "$NET/r$n/i2pd.log" 2>/dev/null |
		grep -q . && bad_sig=$((bad_sig + 1))
done
[ $bad_sig = 0 ] && ok "no i2pd logged a bad RouterInfo" || bad "$bad_sig i2pd logged a bad RouterInfo"
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
log_clean "$B/bitsd.log" >/dev/null && ok "no warning, error or BUG in bitsd's log" ||
	bad "bitsd logged: $(log_clean "$B/bitsd.log" | head -3)"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
