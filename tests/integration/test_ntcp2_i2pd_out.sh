#!/bin/sh
# NTCP2 outbound: bitsd dials every router of a 6-router i2pd testnet (it
# knows them from netDb/ and announces its RouterInfo to each).  Checks:
# bitsd has a session with each, each i2pd's console lists it, RouterInfos
# flow both ways (bitsd keeps each i2pd's RI from the session; each i2pd
# counts ours), the sessions survive 2 idle minutes, and bitsd stops
# cleanly with no warning, error, BUG or sanitizer report.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_ntcp2_i2pd_out
IDLE_S=${NTCP2_IDLE_S:-130}
W=$(mktemp -d "${TMPDIR:-/tmp}/ntcp2-out.XXXXXX")
NET=$W/net
B=$W/bitsd
cleanup() {
	[ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
	"$TESTNET" down "$NET" >/dev/null 2>&1
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
need_i2pd $NAME
umask 077

if ! "$TESTNET" up 6 "$NET" --ip-base 100 --base-port 25100 >"$W/testnet.log" 2>&1; then
	bad "6-router i2pd testnet did not start (see $W/testnet.log)"
	result $NAME; exit 1
fi
. "$NET/testnet.env"
mkdir -p "$B"
seed_netdb "$NET" "$B"
bitsd_start "$B" 127.0.0.110 25150 $NTCP2_I2PD_FLAGS
HEX=""
for n in 1 2 3 4 5 6; do eval "h=\$R${n}_HASH"; HEX="$HEX $(b64_hex4 "$h")"; done

# bitsd dials every router it knows, all at once.  Its first sessions
# flood its RouterInfo from the i2pd floodfills, so on a loaded machine
# an i2pd may dial bitsd before bitsd's own handshake with it completes:
# bitsd keeps both, sends on one and holds the other as a spare
# (router/transport.c), and "<direction> session with H is up" names
# whichever came first.  "outbound session N established with H"
# (router/ntcp2.c) is bitsd's own handshake with H completing, whether
# its session then leads or waits as the spare: that is what this test
# is for, so it is counted per router.
own() { # routers bitsd's own outbound handshake completed with
	k=0
	for h in $HEX; do
		grep -q "outbound session [0-9]* established with $h" "$B/bitsd.log" && k=$((k + 1))
	done
	echo $k
}
i=0
while { [ $(($(count_sessions "$B/bitsd.log" outbound $HEX) + $(count_sessions "$B/bitsd.log" inbound $HEX))) -lt 6 ] ||
	[ "$(own)" -lt 6 ]; } && [ $i -lt 240 ]; do
	sleep 0.25; i=$((i + 1))
done
n=0 first=0
for h in $HEX; do
	n=$((n + 1))
	if grep -q "outbound session with $h is up" "$B/bitsd.log"; then
		ok "bitsd dialled r$n over NTCP2"; first=$((first + 1))
	elif grep -q "inbound session with $h is up" "$B/bitsd.log"; then
		ok "r$n dialled bitsd first"
	else
		bad "no session with r$n"
	fi
done
echo "note bitsd's session came first with $first of the 6 routers"
dialled=$(own)
# A router whose session with bitsd was inbound before bitsd opened any
# session of its own to it (r1's flood of our RouterInfo reached it
# first, on a loaded machine) is not dialled: a session is up.  Sessions
# are numbered as they are made, so such a router's inbound session is
# numbered below bitsd's last dial (one bitsd never dialled at all would
# come later, by the flood); it is excused, the others must have had
# bitsd's handshake (and none failed, below).
last_out=$(grep -o "outbound session [0-9]* established" "$B/bitsd.log" |
	awk '{print $3}' | sort -n | tail -1)
excused=0
for h in $HEX; do
	grep -q "outbound session [0-9]* established with $h" "$B/bitsd.log" && continue
	nin=$(grep -o "inbound session [0-9]* established with $h" "$B/bitsd.log" |
		awk '{print $3}' | head -1)
	[ -n "$nin" ] && [ -n "$last_out" ] && [ "$nin" -lt "$last_out" ] &&
		excused=$((excused + 1))
done
[ "$excused" -gt 0 ] && echo "note $excused router(s) dialled bitsd before bitsd dialled them"
[ "$dialled" -ge 4 ] && [ $((dialled + excused)) -ge 6 ] &&
	ok "bitsd's own NTCP2 handshake completed with all $dialled routers it dialled (of 6)" ||
	bad "bitsd's own NTCP2 handshake completed with only $dialled of the 6 routers ($excused dialled it first)"
# (an i2pd dialling us while we dial it may drop its own dial: that is
# an inbound line; an outbound one is our handshake failing)
grep "sess_log()" "$B/bitsd.log" | grep -q "outbound session" &&
	bad "an outbound handshake failed (see $B/bitsd.log)" || ok "no outbound handshake failed"

OURS=$(ri_b64hash "$B/router.info")
OUR4=$(printf %s "$OURS" | cut -c1-4)
sleep 3	# let the consoles catch up
ntcp2_common_checks
result $NAME
