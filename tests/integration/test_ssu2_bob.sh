#!/bin/sh
# bitsd as the introducer (Bob) of a firewalled i2pd 2.45.1, in network
# namespaces (the reverse of test_ssu2_introducer.sh); FAMILY=6
# (test_ssu2_bob6.sh) does it all over IPv6.
#  - bitsd (198.18.0.10; with FAMILY=6 also 2001:2::10), knowing only
#    r1 (floodfill), finds itself reachable by the peer test through r1
#    and r4 (and r5) and publishes "B" and "C" (4BC; 6BC).
#  - r4 (and r5) stop; c, an i2pd that knows r1 only, runs its peer test
#    (Bob r1, Charlie bitsd, the one left) and finds itself firewalled:
#    IPv4, c is in lan (198.18.1.2) behind gw (nftables masquerade, no
#    mapping: in only what answers a flow c started); IPv6, c speaks
#    IPv6 only (2001:2::30) and drops every new flow that comes to it.
#    It asks routers with "C" for relay tags in its SessionRequests,
#    bitsd among them, and publishes them as introducers: c's
#    RouterInfo names bitsd.
#  - our own Alice (tests/integration/ssu2_alice) on the bridge (IPv4;
#    or IPv6 only), given c's RouterInfo and bitsd's only (so bitsd is
#    the one introducer it can dial), sends c a message: it dials bitsd,
#    asks it (Relay Request); bitsd sends it on to c (Relay Intro), c
#    accepts and answers bitsd, bitsd hands the Relay Response to Alice,
#    c's Hole Punch opens the way, and Alice's session with c comes up.
# Not in TESTS (run by hand): about three minutes.  KEEP_WORK=1 keeps
# the work directory (logs) after a pass.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/netns-lib.sh"
. "${top_srcdir:-.}/tests/integration/ssu2v6-lib.sh"
. "${top_srcdir:-.}/tests/integration/ssu2-relay-lib.sh"
FAMILY=${FAMILY:-4}
NAME=test_ssu2_bob; [ "$FAMILY" = 6 ] && NAME=test_ssu2_bob6
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
ri_has_intro() { ri_text "$1" | grep -q "ih[0-2]=.$2;"; }
ALICE="${top_builddir:-.}/tests/integration/ssu2_alice"
[ -x "$ALICE" ] || { bad "no $ALICE (make check builds it)"; result $NAME; exit 1; }

if [ "$FAMILY" = 6 ]; then
	if ! netns_hub || ! netns_node bits 198.18.0.10/24 || ! ns_v6 bits 2001:2::10 ||
	   ! netns_node c 198.18.0.30/24 || ! ns_v6 c 2001:2::30 ||
	   ! netns_node a7 198.18.0.27/24 || ! ns_v6 a7 2001:2::27; then
		bad "cannot build the namespace network"; result $NAME; exit 1
	fi
	ssu2v6_routers "$W" 24521 24524 24525 || { result $NAME; exit 1; }
	HELPERS="r4 r5"
	CNS=c
	BFLAGS="--host6 2001:2::10"
	BPUB="; IPv6 reachable"
	BCAPS=6BC
	AHOST=2001:2::27
	THROUGH="its IPv6 firewall"
else
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
	mkdir -p "$W/r1" "$W/r4"
	i2pd_ns_conf "$W/r1" 198.18.0.21 24521 false true true
	i2pd_ns_conf "$W/r4" 198.18.0.24 24524 false true false
	for n in 1 4; do i2pd_ns_zero_hop "$W/r$n"; done
	i2pd_ns_mesh "$W" r1 198.18.0.21 r4 || { result $NAME; exit 1; }
	HELPERS=r4
	CNS=lan
	BFLAGS=""
	BPUB="reachable, introducer (C)"
	BCAPS=4BC
	AHOST=198.18.0.27
	THROUGH="the NAT"
fi

mkdir -p "$B" "$W/c"
# shellcheck disable=SC2086
if ! "$BITSD" --datadir "$B" --init --netid 77 --host 198.18.0.10 $BFLAGS \
	--port $BPORT --ssu2 >"$W/init.log" 2>&1; then
	bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1
fi
# bitsd on the bridge, knowing only r1 (it learns the others from r1).
netdb_put "$B" "$W/r1/router.info"
# shellcheck disable=SC2086
netns_bg bits "$B/stdout.log" "$BITSD" --datadir "$B" --netid 77 --host 198.18.0.10 \
	$BFLAGS --port $BPORT --ssu2 --loglevel debug --logfile "$B/bitsd.log" $BITSD_ZERO_HOP
BPID=$NETNS_LAST
BHASH=$(ri_b64hash "$B/router.info")
wait_log "$B/bitsd.log" "publishing: .*$BPUB" 180 &&
	ok "the peer test says reachable: bitsd publishes itself as an introducer" ||
	bad "bitsd never published \"C\" (see $B/bitsd.log)"
i=0
until ri_text "$B/router.info" | grep -q "caps=.$BCAPS;" || [ $i -gt 120 ]; do
	sleep 0.25; i=$((i + 1))
done
ri_text "$B/router.info" | grep -q "caps=.$BCAPS;" &&
	ok "router.info's SSU2 address says $BCAPS" || bad "router.info's SSU2 address lacks $BCAPS"

# c knows only r1: a Charlie it had a flow with would pass its message 5
# through the NAT or firewall (i2pd 2.45.1 then calls itself reachable).
# The helpers stop first, so that r1, c's Bob, has bitsd as the only
# Charlie: c learns bitsd's RouterInfo (with "C") from r1's message 4
# (r1 answers explorations with itself only).
for h in $HELPERS; do i2pd_ns_stop "$W/$h"; done
if [ "$FAMILY" = 6 ]; then
	i2pd_ns_conf "$W/c" 198.18.0.30 24526 false true false
	i2pd_ns_v6_only "$W/c"
	i2pd_ns_v6 "$W/c" 2001:2::30
	netns_fw_new6 c 24526 || bad "cannot install c's firewall"
else
	i2pd_ns_conf "$W/c" 198.18.1.2 24526 false true false
fi
sed -i 's/^nat = false/nat = true/' "$W/c/i2pd.conf"
i2pd_ns_zero_hop "$W/c"
netdb_put "$W/c" "$W/r1/router.info"
i2pd_ns_start $CNS "$W/c"
i=0
while [ ! -s "$W/c/router.info" ] && [ $i -lt 120 ]; do sleep 0.25; i=$((i + 1)); done
CHASH=$(ri_b64hash "$W/c/router.info")
CX=$(b64_hex4 "$CHASH")
[ -n "$CX" ] && ok "c runs behind $THROUGH ($CX)" || bad "c wrote no router.info"
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

relay_alice_run a7 $AHOST 24527 "c behind $THROUGH" 2 "$W/c-now.ri" "$W/bitsd-now.ri"
[ -n "$AX" ] && grep -q "Relay Request from Alice $AX sent on to Charlie $CX" "$B/bitsd.log" &&
	ok "bitsd sent Alice's Relay Request on to c (Relay Intro)" ||
	bad "bitsd logged no Relay Request from Alice to c (see $B/bitsd.log)"
[ -n "$AX" ] && grep -q "Relay Response from Charlie $CX (code 0) sent on to Alice $AX" "$B/bitsd.log" &&
	ok "c accepted, and bitsd handed its Relay Response to Alice" ||
	bad "bitsd logged no accepting Relay Response from c (see $B/bitsd.log)"
grep -q "SSU2: RelayIntro" "$W/c/i2pd.log" && ok "c logged bitsd's Relay Intro" ||
	bad "c's log shows no Relay Intro (see $W/c/i2pd.log)"

if [ "$FAMILY" = 6 ]; then
	c=$(netns_fw_count c)
	[ "${c:-0}" -gt 0 ] && ok "c's firewall dropped $c new IPv6 flows" ||
		bad "c's firewall dropped nothing"
fi
netns_stop_pid "$BPID"
log_clean "$B/bitsd.log" >/dev/null && ok "no warning, error or BUG" ||
	bad "bitsd logged a warning, error or BUG"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
