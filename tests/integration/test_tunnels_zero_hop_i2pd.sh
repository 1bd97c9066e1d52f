#!/bin/sh
# Zero-hop exploratory tunnels (issue [T], pools of length 0) against a
# 4-router i2pd testnet with 2 floodfills: bitsd runs with
# exploratory.inbound.length = outbound.length = 0.  Checks:
#  - /api/status counts 2 inbound and 2 outbound tunnels of ours, with no
#    build sent (zero-hop tunnels need none) and no hop logged;
#  - tunnel tests pass (a DeliveryStatus from us to our own zero-hop
#    inbound tunnel, looped back in bitsd);
#  - netDb lookups ask the i2pd floodfills to answer to our zero-hop
#    inbound tunnel (us, an id of ours) and their TunnelGateway answers
#    are delivered to the netDb;
#  - our RouterInfo store goes in garlic straight to a floodfill and its
#    DeliveryStatus comes back to the zero-hop inbound tunnel;
#  - bitsd stops cleanly, with no warning, error, BUG or sanitizer report.
# Everything stays on 127.0.0.0/8.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_tunnels_zero_hop_i2pd
W=$(mktemp -d "${TMPDIR:-/tmp}/tunnels-zero.XXXXXX")
NET=$W/net
B=$W/bitsd
HOST=127.0.0.225
PORT=27650
API=27651
trap testnet_cleanup EXIT
need_i2pd $NAME
umask 077

testnet_up_2ff 4 220 27600

mkdir -p "$B"
seed_netdb "$NET" "$B"
cat >"$B/bits.conf" <<CONF
[exploratory]
inbound.length = 0
outbound.length = 0
inbound.quantity = 2
outbound.quantity = 2
CONF
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 \
	--api-port $API --loglevel debug --logfile "$B/bitsd.log" \
	>"$B/stdout.log" 2>&1 &
BPID=$!

wait_own inbound 2 60 && ok "2 zero-hop inbound tunnels" ||
	bad "inbound tunnels: $(own inbound)"
wait_own outbound 2 60 && ok "2 zero-hop outbound tunnels" ||
	bad "outbound tunnels: $(own outbound)"
grep -q "zero-hop inbound tunnel" "$B/bitsd.log" &&
	! grep -q "building an .* tunnel" "$B/bitsd.log" &&
	! grep -q "hop [0-9]: [0-9a-f]* receives on" "$B/bitsd.log" &&
	ok "no build sent, no hop" || bad "a tunnel was built with hops"
wait_own tests_ok 2 60 && ok "tunnel tests passed ($(own tests_ok))" ||
	bad "tunnel tests: $(own tests_ok) passed, $(own tests_failed) failed"
# Exploration asks the floodfills to answer to our zero-hop inbound
# tunnel: their TunnelGateway messages come straight to us.
wait_log "$B/bitsd.log" "DatabaseSearchReply from an inbound tunnel to the netDb" 90 &&
	ok "netDb lookups answered to our zero-hop inbound tunnel" ||
	bad "no netDb reply came through our zero-hop inbound tunnel"
wait_stored_via_tunnel "$B/bitsd.log" 90 &&
	ok "an i2pd floodfill confirmed our RouterInfo stored through a zero-hop tunnel" ||
	bad "no publish through a zero-hop tunnel was confirmed"

bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
log_clean "$B/bitsd.log" >/dev/null && ok "no warning, error or BUG in bitsd's log" ||
	{ bad "bitsd's log has warnings or errors"; log_clean "$B/bitsd.log" | head -5; }
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
