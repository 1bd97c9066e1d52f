#!/bin/sh
# bitsd as the introducer (Bob) of an i2pd 2.45.1 behind a NAT, in
# network namespaces (the reverse of test_ssu2_introducer.sh).
#  - bitsd (198.18.0.10, knowing only r1) finds itself reachable by the
#    peer test through r1 (floodfill) and r4 and publishes "B" and "C".
#  - r4 stops; c, an i2pd in lan (198.18.1.2) behind gw (nftables
#    masquerade, no mapping: in only what answers a flow c started),
#    knows r1 only; its peer test (Bob r1, Charlie bitsd) says
#    firewalled; it asks routers with "C" for relay tags in its
#    SessionRequests, bitsd among them, and publishes them as
#    introducers: c's RouterInfo names bitsd.
#  - our own Alice (tests/integration/ssu2_alice) on the bridge, given
#    c's RouterInfo and bitsd's only (so bitsd is the one introducer it
#    can dial), sends c a message: it dials bitsd, asks it (Relay
#    Request); bitsd sends it on to c (Relay Intro), c accepts and
#    answers bitsd, bitsd hands the Relay Response to Alice, c's Hole
#    Punch opens the NAT, and Alice's session with c comes up through it.
# Not in TESTS (run by hand): about three minutes.  KEEP_WORK=1 keeps
# the work directory (logs) after a pass.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/netns-lib.sh"
. "${top_srcdir:-.}/tests/integration/ssu2-relay-lib.sh"
NAME=test_ssu2_bob
need_i2pd $NAME
netns_need_root $NAME
W=$(mktemp -d "${TMPDIR:-/tmp}/ssu2-bob.XXXXXX")
B=$W/bitsd
cleanup() {
	netns_teardown
	if [ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
umask 077
BPORT=24510
# ri_has_intro RIFILE B64HASH: the RouterInfo names that router as an
# introducer (ih0-ih2; a string's length byte read as any character)
ri_text() { LC_ALL=C tr -c '[:print:]' '.' <"$1"; }
ri_has_intro() { ri_text "$1" | grep -q "ih[0-2]=.$2;"; }
ALICE="${top_builddir:-.}/tests/integration/ssu2_alice"
[ -x "$ALICE" ] || { bad "no $ALICE (make check builds it)"; result $NAME; exit 1; }

if ! netns_hub || ! netns_node gw 198.18.0.1/24 ||
   ! netns_node bits 198.18.0.10/24 ||
   ! netns_node r1 198.18.0.21/24 || ! netns_node r4 198.18.0.24/24 ||
   ! netns_node a7 198.18.0.27/24 ||
   ! netns_lan_behind gw; then
	bad "cannot build the namespace network"; result $NAME; exit 1
fi
if ! netns_lan_nat gw; then
	bad "cannot set up nftables in the gateway"; result $NAME; exit 1
fi

mkdir -p "$B" "$W/r1" "$W/r4" "$W/c"
if ! "$BITSD" --datadir "$B" --init --netid 77 --host 198.18.0.10 --port $BPORT \
	--ssu2 >"$W/init.log" 2>&1; then
	bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1
fi
i2pd_ns_conf "$W/r1" 198.18.0.21 24521 false true true
i2pd_ns_conf "$W/r4" 198.18.0.24 24524 false true false
for n in 1 4; do i2pd_ns_zero_hop "$W/r$n"; done
i2pd_ns_mesh "$W" r1 198.18.0.21 r4 || { result $NAME; exit 1; }

# bitsd on the bridge, knowing only r1 (it learns r4 from r1).
netdb_put "$B" "$W/r1/router.info"
# shellcheck disable=SC2086
netns_bg bits "$B/stdout.log" "$BITSD" --datadir "$B" --netid 77 --host 198.18.0.10 \
	--port $BPORT --ssu2 --loglevel debug --logfile "$B/bitsd.log" $BITSD_ZERO_HOP
BPID=$NETNS_LAST
BHASH=$(ri_b64hash "$B/router.info")
BH=$(printf %s "$BHASH" | cut -c1-4)
BX=$(python3 -c 'import base64,sys; print(base64.b64decode(sys.argv[1], altchars=b"-~")[:4].hex())' "$BHASH")
wait_log "$B/bitsd.log" "publishing: reachable, introducer (C)" 180 &&
	ok "the peer test says reachable: bitsd publishes itself as an introducer" ||
	bad "bitsd never published \"C\" (see $B/bitsd.log)"
i=0
until LC_ALL=C tr -c '[:print:]' '.' <"$B/router.info" | grep -q 'caps=.4BC;' || [ $i -gt 120 ]; do
	sleep 0.25; i=$((i + 1))
done
LC_ALL=C tr -c '[:print:]' '.' <"$B/router.info" | grep -q 'caps=.4BC;' &&
	ok "router.info's SSU2 address says 4BC" || bad "router.info's SSU2 address lacks 4BC"

# c behind the NAT, knowing only r1: a Charlie it had a flow with would
# pass its message 5 through the NAT (i2pd 2.45.1 then calls itself
# reachable).  r4 stops first, so that r1, c's Bob, has bitsd as the
# only Charlie: c learns bitsd's RouterInfo (with "C") from r1's
# message 4 (r1 answers explorations with itself only).
i2pd_ns_stop "$W/r4"
i2pd_ns_conf "$W/c" 198.18.1.2 24526 false true false
sed -i 's/^nat = false/nat = true/' "$W/c/i2pd.conf"
i2pd_ns_zero_hop "$W/c"
netdb_put "$W/c" "$W/r1/router.info"
i2pd_ns_start lan "$W/c"
i=0
while [ ! -s "$W/c/router.info" ] && [ $i -lt 120 ]; do sleep 0.25; i=$((i + 1)); done
CHASH=$(ri_b64hash "$W/c/router.info")
CX=$(python3 -c 'import base64,sys; print(base64.b64decode(sys.argv[1], altchars=b"-~")[:4].hex())' "$CHASH")
[ -n "$CX" ] && ok "c runs behind the NAT ($CX)" || bad "c wrote no router.info"
# (i2pd logs no status: its router.info says U once firewalled)
i=0
until ri_text "$W/c/router.info" | grep -q 'caps=.[A-Z]*U' || [ $i -gt 480 ]; do
	sleep 0.5; i=$((i + 1))
done
ri_text "$W/c/router.info" | grep -q 'caps=.[A-Z]*U' &&
	ok "c's peer test says firewalled (its RouterInfo says U)" ||
	bad "c never said firewalled (caps $(ri_text "$W/c/router.info" | grep -o 'caps=.[A-Z0-9]*' | tr '\n' ' '); see $W/c/i2pd.log)"
wait_log "$B/bitsd.log" "inbound session [0-9]* established with $CX" 240 &&
	ok "c dialled bitsd" || bad "c never dialled bitsd (see $B/bitsd.log)"
CS=$(sed -n "s/.*inbound session \([0-9]*\) established with $CX.*/\1/p" "$B/bitsd.log" | tail -1)
wait_log "$B/bitsd.log" "relay tag given in SessionCreated (session ${CS:-none})" 5 ||
	wait_log "$B/bitsd.log" "relay tag given to $CX" 120 &&
	ok "bitsd gave c a relay tag" || bad "bitsd gave c no relay tag (see $B/bitsd.log)"
# c's RouterInfo, as c publishes it to r1 with bitsd among its
# introducers (c's router.info file, rewritten as it changes).
i=0
until ri_has_intro "$W/c/router.info" "$BHASH" || [ $i -gt 480 ]; do
	sleep 0.5; i=$((i + 1))
done
ri_has_intro "$W/c/router.info" "$BHASH" &&
	ok "c publishes bitsd as one of its introducers" ||
	bad "c's RouterInfo does not name bitsd as an introducer"
cp "$W/c/router.info" "$W/c-now.ri"
cp "$B/router.info" "$W/bitsd-now.ri"

relay_alice_run a7 198.18.0.27 24527 "c behind the NAT" 2 "$W/c-now.ri" "$W/bitsd-now.ri"
[ -n "$AX" ] && grep -q "Relay Request from Alice $AX sent on to Charlie $CX" "$B/bitsd.log" &&
	ok "bitsd sent Alice's Relay Request on to c (Relay Intro)" ||
	bad "bitsd logged no Relay Request from Alice to c (see $B/bitsd.log)"
[ -n "$AX" ] && grep -q "Relay Response from Charlie $CX (code 0) sent on to Alice $AX" "$B/bitsd.log" &&
	ok "c accepted, and bitsd handed its Relay Response to Alice" ||
	bad "bitsd logged no accepting Relay Response from c (see $B/bitsd.log)"
grep -q "SSU2: RelayIntro" "$W/c/i2pd.log" && ok "c logged bitsd's Relay Intro" ||
	bad "c's log shows no Relay Intro (see $W/c/i2pd.log)"

# The whole run: c never reached directly (the NAT stops every flow it
# did not start), and bitsd is clean.
netns_stop_pid "$BPID"
log_clean "$B/bitsd.log" >/dev/null && ok "no warning, error or BUG" ||
	bad "bitsd logged a warning, error or BUG"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
