#!/bin/sh
# netDb client against an i2pd 2.45.1 testnet (issue [D]):
#  1. 5 i2pd routers, 2 of them floodfills, seeded with the floodfills'
#     RouterInfos only (--seed floodfills); bitsd is bootstrapped from an
#     su3 bundle of the floodfills' RouterInfos and nothing else;
#  2. bitsd learns every router through lookups and exploration (its
#     netDb mirror holds all 5);
#  3. the i2pd floodfills confirm our publish: bitsd logs a DeliveryStatus
#     for its reply token, and each floodfill's console counts us;
#  4. a restart keeps the netDb: loaded from disk, no reseed;
#  5. bitsd stops cleanly, with no warning, error, BUG or sanitizer report.
# Everything stays on 127.0.0.0/8.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_netdb_i2pd_client
SU3="${top_builddir:-.}/tools/bits-su3"
W=$(mktemp -d "${TMPDIR:-/tmp}/netdb-client.XXXXXX")
NET=$W/net
B=$W/bitsd
HOST=127.0.0.170
PORT=25650
cleanup() {
	[ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
	"$TESTNET" down "$NET" >/dev/null 2>&1
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
need_i2pd $NAME
umask 077

if ! "$TESTNET" up 5 "$NET" --ip-base 160 --base-port 25600 --floodfills 2 \
	--seed floodfills --loglevel info >"$W/testnet.log" 2>&1; then
	bad "5-router i2pd testnet did not start (see $W/testnet.log)"
	result $NAME; exit 1
fi
. "$NET/testnet.env"
HEX=""
for n in 1 2 3 4 5; do eval "h=\$R${n}_HASH"; HEX="$HEX $(b64_hex4 "$h")"; done

# ---- 1. an su3 of the floodfills' RouterInfos ----
mkdir -p "$W/seed"
for n in 1 2; do
	eval "h=\$R${n}_HASH"
	cp "$NET/r$n/router.info" "$W/seed/routerInfo-$h.dat"
done
if "$SU3" keygen --cn test@bits.test --key "$W/key.pem" --cert "$W/test_at_bits.test.crt" >"$W/su3.log" 2>&1 &&
   "$SU3" make --key "$W/key.pem" --signer test@bits.test --netid 77 \
	--out "$W/seed.su3" "$W/seed" >>"$W/su3.log" 2>&1; then
	ok "su3 bundle of the 2 floodfills' RouterInfos"
else
	bad "cannot make the su3 bundle"; cat "$W/su3.log"
fi
mkdir -p "$B"
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 --loglevel debug \
	--logfile "$B/bitsd.log" --reseed.file "$W/seed.su3" \
	--reseed.signers "$W/test_at_bits.test.crt" --reseed.threshold 3 \
	>"$B/stdout.log" 2>&1 &
BPID=$!
if wait_log "$B/bitsd.log" "reseed from the su3 file: 2 RouterInfos added" 30; then
	ok "bitsd reseeded from the su3 (2 floodfills)"
else
	bad "bitsd did not reseed from the su3"; grep -i reseed "$B/bitsd.log" | head
fi

# ---- 2. every router, through lookups and exploration ----
known() { find "$B/netDb" -name 'routerInfo-*.dat' 2>/dev/null | wc -l; }
i=0
while [ "$(known)" -lt 5 ] && [ $i -lt 360 ]; do sleep 0.5; i=$((i + 1)); done
n=0
for h in $HEX; do
	n=$((n + 1))
	eval "b64=\$R${n}_HASH"
	c=$(printf %s "$b64" | cut -c1)
	[ -f "$B/netDb/r$c/routerInfo-$b64.dat" ] &&
		ok "bitsd learnt r$n ($( [ $n -le 2 ] && echo floodfill, from the su3 || echo through the netDb))" ||
		bad "bitsd never learnt r$n"
done
# r3-r5 reached us only through the netDb (the su3 held r1, r2)
sr=$(grep -c "kept RouterInfo" "$B/bitsd.log")
[ "$sr" -ge 3 ] && ok "bitsd stored $sr RouterInfos from the network" || bad "only $sr RouterInfos stored"

# ---- 3. publishing ----
if wait_log "$B/bitsd.log" "our RouterInfo is published (confirmed by" 60; then
	ok "a floodfill confirmed our publish (DeliveryStatus with our token)"
else
	bad "no publish confirmation"
fi
# both floodfills hold our RouterInfo (5 i2pd routers and us)
for n in 1 2; do
	eval "http=\$R${n}_HTTP"
	i=0
	while [ "$(console_routers "$http")" -lt 6 ] && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
	[ "$(console_routers "$http")" -ge 6 ] && ok "floodfill r$n knows every router and us" ||
		bad "floodfill r$n knows $(console_routers "$http") routers"
done

# ---- 4. a restart keeps the netDb ----
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
before=$(known)
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 --loglevel debug \
	--logfile "$B/bitsd2.log" --reseed.file "$W/seed.su3" \
	--reseed.signers "$W/test_at_bits.test.crt" --reseed.threshold 3 \
	>"$B/stdout2.log" 2>&1 &
BPID=$!
if wait_log "$B/bitsd2.log" "netDb loaded: " 30; then
	line=$(grep "netDb loaded: " "$B/bitsd2.log" | head -1)
	case "$line" in
	*"netDb loaded: 5 RouterInfos"*) ok "restart: ${line#*netDb loaded: }" ;;
	*) bad "restart loaded: $line" ;;
	esac
else
	bad "bitsd did not load its netDb after a restart"
fi
sleep 3
grep -q "reseed from" "$B/bitsd2.log" && bad "bitsd reseeded again after a restart" ||
	ok "no new bootstrap after the restart"
bitsd_stop && ok "bitsd stopped cleanly again" || bad "bitsd did not stop cleanly"
for f in "$B/bitsd.log" "$B/bitsd2.log"; do
	log_clean "$f" && ok "no warning, error or BUG in $(basename "$f")" ||
		{ bad "$(basename "$f") has warnings or errors"; grep -E '\[(warn|error)\]|BUG' "$f" | head -5; }
done
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" "$B/stdout2.log" &&
	bad "sanitizer report" || ok "no sanitizer report"
result $NAME
