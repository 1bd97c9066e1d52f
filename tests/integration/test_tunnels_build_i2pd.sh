#!/bin/sh
# Our own tunnels through i2pd (issue [T], creator side): a 4-router i2pd
# testnet; bitsd (seeded with their RouterInfos, same-/16 hops allowed on
# loopback) builds its exploratory pool, 3 hops each way, 2 tunnels each
# way, each used 90 s.  Checks:
#  - /api/status counts at least 2 inbound and 2 outbound tunnels of ours;
#  - every hop bitsd logged is one of the i2pd routers, and that
#    router's console lists a transit tunnel with the receive id bitsd
#    gave the hop;
#  - tunnel tests (DeliveryStatus out through an outbound tunnel, back in
#    through an inbound one) pass;
#  - netDb lookups go out through the tunnels and the i2pd floodfills'
#    answers come back through them;
#  - our RouterInfo is stored through a tunnel (garlic to the floodfill)
#    and the floodfill's DeliveryStatus comes back through one;
#  - tunnels expire and the pool is rebuilt before: still 2 + 2 after;
#  - the peer profiles are in DATADIR/profiles.sqlite after the stop,
#    with accepted builds for i2pd routers;
#  - bitsd stops cleanly, with no warning, error, BUG or sanitizer report.
# Everything stays on 127.0.0.0/8.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_tunnels_build_i2pd
W=$(mktemp -d "${TMPDIR:-/tmp}/tunnels-build.XXXXXX")
NET=$W/net
B=$W/bitsd
HOST=127.0.0.190
PORT=26450
API=26451
trap testnet_cleanup EXIT
need_i2pd $NAME
umask 077

testnet_up_2ff 4 180 26400
HEX=""
for n in 1 2 3 4; do eval "h=\$R${n}_HASH"; HEX="$HEX $(b64_hex4 "$h")"; done

mkdir -p "$B"
seed_netdb "$NET" "$B"
cat >"$B/bits.conf" <<CONF
[exploratory]
inbound.length = 3
outbound.length = 3
inbound.quantity = 2
outbound.quantity = 2
[tunnels]
same-subnet = true
lifetime = 90
CONF
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 \
	--api-port $API --loglevel debug --logfile "$B/bitsd.log" \
	>"$B/stdout.log" 2>&1 &
BPID=$!


wait_own inbound 2 240 && ok "2 inbound tunnels built through i2pd" ||
	bad "inbound tunnels: $(own inbound) (builds ok $(own builds_ok), rejected $(own builds_rejected), timed out $(own builds_timeout))"
wait_own outbound 2 240 && ok "2 outbound tunnels built through i2pd" ||
	bad "outbound tunnels: $(own outbound) (builds ok $(own builds_ok), rejected $(own builds_rejected), timed out $(own builds_timeout))"
grep -q "inbound tunnel [0-9a-f]* built: 3 hops" "$B/bitsd.log" &&
	ok "an inbound tunnel of 3 hops" || bad "no 3-hop inbound tunnel in the log"
grep -q "outbound tunnel [0-9a-f]* built: 3 hops" "$B/bitsd.log" &&
	ok "an outbound tunnel of 3 hops" || bad "no 3-hop outbound tunnel in the log"
# Each hop of each tunnel we built is a transit tunnel, with the receive
# id we gave it, on the i2pd router whose hash we logged for it.
grep -o "hop [0-9]: [0-9a-f]* receives on [0-9]*" "$B/bitsd.log" |
	awk '{print $3, $6}' | sort -u >"$W/hops.txt"
nhops=0; found=0; strangers=0
while read -r h id; do
	nhops=$((nhops + 1)); n=0; m=0
	for x in $HEX; do n=$((n + 1)); [ "$x" = "$h" ] && m=$n; done
	if [ $m = 0 ]; then strangers=$((strangers + 1)); continue; fi
	eval "http=\$R${m}_HTTP"
	i2pd_has_transit "$http" "$id" && found=$((found + 1))
done <"$W/hops.txt"
[ "$strangers" = 0 ] && [ "$nhops" -ge 12 ] &&
	ok "all $nhops hops of our tunnels are i2pd routers" ||
	bad "$strangers of $nhops hops are not i2pd routers"
[ "$found" -ge 12 ] && [ "$found" = "$((nhops - strangers))" ] &&
	ok "each hop's i2pd console lists its transit tunnel ($found)" ||
	bad "only $found of $nhops hops are transit tunnels on their i2pd router"
wait_own tests_ok 2 120 && ok "tunnel tests passed ($(own tests_ok))" ||
	bad "tunnel tests: $(own tests_ok) passed, $(own tests_failed) failed"
grep -q "tunnel test [0-9a-f]* passed" "$B/bitsd.log" &&
	ok "a DeliveryStatus went out and came back through i2pd hops" ||
	bad "no tunnel test passed in the log"
# Exploration (every 5 s in a small netDb) now goes out through the
# exploratory tunnels and the floodfills answer through them.
wait_log "$B/bitsd.log" "DatabaseSearchReply from an inbound tunnel to the netDb" 90 &&
	ok "netDb lookups answered through our tunnels" ||
	bad "no netDb reply came through our tunnels"
# With the pools up our RouterInfo is stored again, now out through an
# outbound tunnel in garlic to each i2pd floodfill, whose DeliveryStatus
# comes back through an inbound tunnel and confirms the publish.
wait_stored_via_tunnel "$B/bitsd.log" 90 &&
	ok "an i2pd floodfill confirmed our RouterInfo stored through a tunnel" ||
	bad "no publish through a tunnel was confirmed"
# Tunnels live 90 s here (replacements start 60 s before the end): the
# pool stays full across their expiry.  Under load i2pd routers answer
# builds late or not at all (35-70 s late in one CI run, five inbound
# builds in a row timed out): then the pool may be short when the fourth
# expiry comes, and what is checked is that it is full again within two
# minutes, and that builds did time out (a pool short for any other
# reason fails).
timeouts0=$(own builds_timeout)
if wait_own expired 4 240; then
	ok "$(own expired) tunnels expired, $(own builds_ok) built in all"
	pool_full() { [ "$(own inbound)" -ge 2 ] && [ "$(own outbound)" -ge 2 ]; }
	if pool_full; then
		ok "the pool stayed full across expiries"
	else
		short="$(own inbound) inbound, $(own outbound) outbound"
		timeouts=$(( $(own builds_timeout) - timeouts0 ))
		n=0
		while ! pool_full && [ $n -lt 120 ]; do sleep 1; n=$((n + 1)); done
		pool_full && [ "$timeouts" -gt 0 ] &&
			ok "the pool was short at an expiry ($short; $timeouts builds through i2pd timed out) and full again $n s later" ||
			bad "after expiries: $short, then $(own inbound) inbound, $(own outbound) outbound $n s later ($timeouts builds timed out)"
	fi
	[ "$(own builds_ok)" -ge 8 ] && ok "replacements were built" ||
		bad "only $(own builds_ok) tunnels built"
else
	bad "no tunnel expired in 240 s"
fi
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
rows=$(python3 - "$B/profiles.sqlite" <<'PY'
import sys, sqlite3
try:
    c = sqlite3.connect(sys.argv[1])
    print(c.execute('SELECT COUNT(*) FROM profiles WHERE build_ok > 0').fetchone()[0])
except Exception:
    print(0)
PY
)
[ "$rows" -ge 3 ] && ok "profiles.sqlite holds $rows peers with accepted builds" ||
	bad "profiles.sqlite holds $rows peers with accepted builds"
log_clean "$B/bitsd.log" >/dev/null && ok "no warning, error or BUG in bitsd's log" ||
	bad "bitsd logged: $(log_clean "$B/bitsd.log" | head -3)"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
