#!/bin/sh
# Our LeaseSet2 stored to i2pd 2.45.1 floodfills through our tunnels, in
# garlic to the floodfill's router key (issue G1):
#  1. an i2pd testnet of 4 routers, r1 and r2 floodfills, r3 with its SAM
#     bridge; bitsd (not a floodfill, SAM on --sam-port) joins it;
#  2. a DATAGRAM session on bitsd: its LeaseSet goes out through its
#     outbound tunnels to the floodfills closest to it, every store in
#     Noise_N garlic to that floodfill's X25519 router key;
#  3. a session on r3 (not a floodfill) resolves the session's b32: the
#     LeaseSet is only in the floodfills, which took it from the garlic;
#  4. bitsd stops cleanly, with no sanitizer report.
# Everything stays on 127.0.0.0/8 (127.0.0.30-34, ports 29501-29510,
# 29550, 29601-29604, 29701-29708).
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/sam-lib.sh"
NAME=test_leaseset_publish_i2pd
W=$(mktemp -d "${TMPDIR:-/tmp}/ls-publish.XXXXXX")
NET=$W/net
B=$W/bitsd
HOST=127.0.0.34
PORT=29510
SAM=29550
trap testnet_cleanup EXIT
trap 'exit 1' INT TERM HUP
need_i2pd $NAME
umask 077
testnet_up_2ff 4 30 29500
mkdir -p "$B"
bits_conf_short "$B/bits.conf"
seed_netdb "$NET" "$B"
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 \
	--sam-port $SAM --loglevel debug --logfile "$B/bitsd.log" \
	--reseed.threshold 1 >"$B/stdout.log" 2>&1 &
BPID=$!
wait_log "$B/bitsd.log" "SAM bridge on 127.0.0.1:$SAM" 20 &&
	ok "bitsd runs its SAM bridge on 127.0.0.1:$SAM" ||
	bad "no SAM bridge in bitsd"

# ---- 2, 3. a session on bitsd, resolved from r3 ----
if python3 "${top_srcdir:-.}/tests/integration/sam-datagram.py" lookup \
	127.0.0.1:$SAM "$R3_SAM" 180 >"$W/lookup.log" 2>&1; then
	ok "r3 (no floodfill) resolved a bitsd session's b32 through the i2pd floodfills: $(tail -1 "$W/lookup.log" | sed 's/^ok *//')"
else
	bad "r3 could not resolve the bitsd session's b32: $(tail -1 "$W/lookup.log")"
fi
line=$(grep 'LeaseSet (.* leases) stored to [1-9][0-9]* of [0-9]* floodfills' "$B/bitsd.log" | tail -1)
g=$(printf %s "$line" | sed -n 's/.*(\([0-9]*\) of \([0-9]*\) stores so far in garlic).*/\1 \2/p')
if [ -n "$g" ] && [ "${g% *}" = "${g#* }" ] && [ "${g% *}" -gt 0 ]; then
	ok "bitsd stored its LeaseSets to the floodfills through its tunnels, each in garlic (${g% *} stores)"
else
	bad "bitsd's LeaseSet stores were not all in garlic: ${line:-none to a floodfill}"
fi

# ---- 4. clean ----
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
