#!/bin/sh
# Datagrams between bitsd and i2pd 2.45.1 destinations over 3-hop tunnels
# (issue G1):
#  1. bitsd (the testnet's only floodfill, SAM on --sam-port) and 4 i2pd
#     routers, r1 with its SAM bridge;
#  2. a DATAGRAM and a RAW session on each bridge (3-hop tunnels both
#     ways; i2pd's with ECIES-X25519 keys beside ElGamal ones, as
#     i2pd's SAM makes ElGamal-only LeaseSets by default and bitsd
#     speaks the ratchet only); each side resolves the other's b32 LeaseSets through its
#     own sessions (when i2pd gave its LeaseSet store up, as it does
#     when the confirmation is later than its 5 s, through the LeaseSet
#     its datagrams bundle); repliable datagrams both ways, each answered to the
#     sender it names, and raw datagrams both ways, byte-exact
#     (tests/integration/sam-datagram.py);
#     bitsd built its sessions' tunnels with 3 hops; an i2pd session with
#     ElGamal keys alone (i2pd's SAM default) resolves bitsd's b32: its
#     lookup asks bitsd, the floodfill, for an ElGamal/AES reply;
#     (by hand, SOAK="N SECONDS": N repliable datagrams each way across
#     the DH ratchets, arrivals and losses counted);
#  3. bitsd stops cleanly, with no sanitizer report.
# Everything stays on 127.0.0.0/8 (127.0.1.31-35, ports 29401-29405,
# 29432-29433 and 29449-29450).
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/sam-lib.sh"
NAME=test_datagram_i2pd
W=$(mktemp -d "${TMPDIR:-/tmp}/dg-i2pd.XXXXXX")
B=$W/bitsd
HOST=127.0.1.35
PORT=29405
SAM=29450
N=4
HOPS=${HOPS:-3}
cleanup() {
	[ -z "$BPID" ] || kill -KILL "$BPID" 2>/dev/null
	for n in $(seq 1 $N); do i2pd_stop "$W/r$n"; done
	[ "$FAIL" = 0 ] && [ -z "$KEEP_WORK" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
need_i2pd $NAME
umask 077
bitsd_i2pd_init $N 127.0.1.3 29400
i2pd_sam "$W/r1" 127.0.1.31 29433
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 --floodfill \
	--sam-port $SAM --loglevel debug --logfile "$B/bitsd.log" \
	--reseed.threshold 1 >"$B/stdout.log" 2>&1 &
BPID=$!
# the shim lets the i2pd routers reach each other on loopback
I2PD_SHIM_MAP_PORTS=$(seq -s, 29401 $((29400 + N)))
export I2PD_SHIM_MAP_PORTS
for n in $(seq 1 $N); do i2pd_start "$W/r$n"; done
wait_log "$B/bitsd.log" "SAM bridge on 127.0.0.1:$SAM" 20 &&
	ok "bitsd runs its SAM bridge on 127.0.0.1:$SAM" ||
	bad "no SAM bridge in bitsd"
# every i2pd router known first: with fewer, bitsd builds the sessions'
# first tunnels shorter than asked
i=0
while [ "$(grep -o 'kept RouterInfo [0-9a-f]*' "$B/bitsd.log" | sort -u | wc -l)" -lt $N ] &&
	[ $i -lt 480 ]; do sleep 0.25; i=$((i + 1)); done

# ---- 2. datagrams, both kinds, both ways ----
python3 "${top_srcdir:-.}/tests/integration/sam-datagram.py" \
	127.0.0.1:$SAM 127.0.1.31:29433 "$HOPS" 300 \
	"i2cp.leaseSetEncType=4,0" >"$W/dg.log" 2>&1
DG=$?
sed -n 's/^ok   /ok   bitsd (A) and i2pd (B): /p' "$W/dg.log"
PASS=$((PASS + $(grep -c '^ok' "$W/dg.log")))
[ $DG = 0 ] || bad "datagrams between bitsd and i2pd: $(grep -v '^ok' "$W/dg.log" | tail -3 | tr '\n' ' ')"
[ "$(grep -c "tunnel [0-9a-f]* built: $HOPS hops" "$B/bitsd.log")" -ge 4 ] &&
	ok "bitsd built $HOPS-hop client tunnels both ways for its sessions" ||
	bad "bitsd built no $HOPS-hop client tunnels"
# an i2pd SAM session with its default (ElGamal) keys asks its floodfill,
# bitsd, for an ElGamal/AES reply
if python3 "${top_srcdir:-.}/tests/integration/sam-datagram.py" lookup \
	127.0.0.1:$SAM 127.0.1.31:29433 120 >"$W/elg.log" 2>&1 &&
	grep -q 'lookup (flags 0x0[2367abef]) for .* answered with a DatabaseStore' "$B/bitsd.log"; then
	ok "an ElGamal-only i2pd destination resolved a new bitsd b32 (ElGamal/AES reply)"
else
	bad "an ElGamal-only i2pd destination could not resolve a new bitsd b32: $(tail -1 "$W/elg.log")"
fi

# ---- by hand: SOAK="N SECONDS" (the issue's soak: SOAK="100000 600") ----
# N repliable datagrams each way between new sessions, paced over SECONDS;
# they cross bitsd's and i2pd's DH ratchets (a new tag set every few
# thousand messages) in both directions.  SOAK_RACE=1: no first exchange
# one way and then the other, so the first messages of both sides cross
# (each an NS: the NS/NS race)
if [ -n "${SOAK:-}" ]; then
	# shellcheck disable=SC2086
	python3 "${top_srcdir:-.}/tests/integration/sam-datagram.py" soak \
		127.0.0.1:$SAM 127.0.1.31:29433 "$HOPS" $SOAK \
		"i2cp.leaseSetEncType=4,0" >"$W/soak.log" 2>&1
	SK=$?
	grep -E '^(ok|FAIL)' "$W/soak.log"
	PASS=$((PASS + $(grep -c '^ok' "$W/soak.log")))
	[ $SK = 0 ] || bad "the soak failed: $(tail -1 "$W/soak.log")"
	ro=$(grep -c 'DH ratchet: our tag set' "$B/bitsd.log")
	ri=$(grep -c "DH ratchet: the peer's tag set" "$B/bitsd.log")
	# both sides start a DH ratchet after 8192 messages on a tag set
	if [ "${SOAK%% *}" -le 8192 ]; then
		echo "# $ro of bitsd's tag sets, $ri of i2pd's (no DH ratchet is due within 8192 messages)"
	elif [ "$ro" -ge 1 ] && [ "$ri" -ge 1 ]; then
		ok "the soak crossed DH ratchets both ways: $ro of bitsd's tag sets, $ri of i2pd's"
	else
		bad "the soak crossed no DH ratchet both ways ($ro of ours, $ri of i2pd's)"
	fi
fi

# ---- 3. clean ----
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
