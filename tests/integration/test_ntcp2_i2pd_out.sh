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
bitsd_start "$B" 127.0.0.110 25150
HEX=""
for n in 1 2 3 4 5 6; do eval "h=\$R${n}_HASH"; HEX="$HEX $(b64_hex4 "$h")"; done

i=0
while [ "$(count_sessions "$B/bitsd.log" outbound $HEX)" -lt 6 ] && [ $i -lt 240 ]; do
	sleep 0.25; i=$((i + 1))
done
n=0
for h in $HEX; do
	n=$((n + 1))
	grep -q "outbound session with $h is up" "$B/bitsd.log" &&
		ok "bitsd dialled r$n over NTCP2" || bad "no session with r$n"
done

OURS=$(ri_b64hash "$B/router.info")
OUR4=$(printf %s "$OURS" | cut -c1-4)
sleep 3	# let the consoles catch up
for n in 1 2 3 4 5 6; do
	eval "http=\$R${n}_HTTP"
	console_has "$http" "$OUR4:" && ok "r$n's console lists the session" ||
		bad "r$n's console does not list our session"
done

# RouterInfos both ways: i2pd's reached bitsd through the session...
n=0
for h in $HEX; do
	n=$((n + 1))
	grep -q "kept RouterInfo $h" "$B/bitsd.log" &&
		ok "r$n's RouterInfo reached bitsd over NTCP2" ||
		bad "r$n's RouterInfo did not reach bitsd"
done
# ...and ours reached i2pd (6 routers + us)
for n in 1 2 3 4 5 6; do
	eval "http=\$R${n}_HTTP"
	[ "$(console_routers "$http")" -ge 7 ] && ok "r$n knows our RouterInfo" ||
		bad "r$n does not know our RouterInfo"
done

# Two idle minutes: we send no I2NP, only keepalives.
sleep "$IDLE_S"
grep -q "is down" "$B/bitsd.log" && bad "a session went down while idle" ||
	ok "no session went down in $IDLE_S idle seconds"
for n in 1 2 3 4 5 6; do
	eval "http=\$R${n}_HTTP"
	console_has "$http" "$OUR4:" && ok "r$n still lists the session after $IDLE_S s" ||
		bad "r$n dropped the session while idle"
done

bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
log_clean "$B/bitsd.log" && ok "no warning, error or BUG in bitsd's log" ||
	bad "bitsd logged a warning, error or BUG"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
