#!/bin/sh
# Tunnels through us, built by i2pd: a one-router i2pd testnet whose only
# peer is our transit_node (bitsd's NTCP2 and tunnels subsystems), with
# 1-hop exploratory tunnels, so every exploratory tunnel i2pd builds goes
# through us: inbound ones with us as IBGW, outbound ones with us as OBEP
# (ShortTunnelBuild: we publish router.version 0.9.58).  Checks: i2pd
# reports inbound and outbound tunnels created, our transit table joined
# them, its tunnel tests through us (OBEP -> our own IBGW) succeed and
# none fails, traffic was relayed, and the node stops cleanly with no
# warning, error, BUG or sanitizer report.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_tunnels_i2pd
NODE="${top_builddir:-.}/tests/integration/transit_node"
W=$(mktemp -d "${TMPDIR:-/tmp}/tunnels-i2pd.XXXXXX")
NET=$W/net
B=$W/node
cleanup() {
	[ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
	"$TESTNET" down "$NET" >/dev/null 2>&1
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
need_i2pd $NAME
umask 077

if ! "$TESTNET" up 1 "$NET" --ip-base 150 --base-port 25600 --loglevel debug \
	--i2pd-opt exploratory.inbound.length=1 \
	--i2pd-opt exploratory.outbound.length=1 >"$W/testnet.log" 2>&1; then
	bad "i2pd testnet did not start (see $W/testnet.log)"
	result $NAME; exit 1
fi
. "$NET/testnet.env"
I2PD_LOG=$NET/r1/i2pd.log
mkdir -p "$B"
seed_netdb "$NET" "$B"
"$NODE" --datadir "$B" --host 127.0.0.160 --port 25650 --netid 77 \
	--loglevel debug --logfile "$B/node.log" >"$B/stdout.log" 2>&1 &
BPID=$!
H4=$(b64_hex4 "$R1_HASH")

wait_log "$B/node.log" "session with $H4 is up" 30 &&
	ok "NTCP2 session with i2pd" || bad "no NTCP2 session with i2pd"
wait_log "$I2PD_LOG" "Inbound tunnel .* has been created" 240 &&
	ok "i2pd built an inbound tunnel through us" ||
	bad "no inbound tunnel through us"
wait_log "$I2PD_LOG" "Outbound tunnel .* has been created" 240 &&
	ok "i2pd built an outbound tunnel through us (reply via garlic)" ||
	bad "no outbound tunnel through us"
# (the node reports its transit table every 5 s: i2pd may log a tunnel
# built before the node's next report)
wait_log "$B/node.log" "transit: [1-9][0-9]* tunnels, [1-9]" 30 &&
	ok "our transit table joined them" || bad "no transit tunnel joined"
# i2pd tests each pair: out through our OBEP, in through our IBGW.
wait_log "$I2PD_LOG" "Tunnels: Test of [0-9]* successful" 180 &&
	ok "an i2pd tunnel test through us succeeded" ||
	bad "no successful tunnel test"
grep -q "Test of tunnel .* failed" "$I2PD_LOG" &&
	bad "an i2pd tunnel test through us failed" ||
	ok "no i2pd tunnel test failed"
grep -q "declined" "$I2PD_LOG" && bad "i2pd saw a declined build" ||
	ok "no declined build"
# the node logs its transit counters on a timer: wait for one after the test
wait_log "$B/node.log" "transit: .* [1-9][0-9]* relayed" 60 &&
	ok "TunnelData relayed" || bad "nothing relayed"
bitsd_stop && ok "transit_node stopped cleanly" ||
	bad "transit_node did not stop cleanly"
log_clean "$B/node.log" >/dev/null && ok "no warning, error or BUG" ||
	bad "warnings in the node log: $(log_clean "$B/node.log" | head -3)"
grep -q "ERROR: .*Sanitizer\|runtime error" "$B/stdout.log" &&
	bad "sanitizer report" || ok "no sanitizer report"
result $NAME
