#!/bin/sh
# bitsd behind a NAT without a port mapping (namespace lan 198.18.1.2 --
# gw with nftables masquerade -- the 198.18.0.0/24 bridge) among i2pd
# 2.45.1 routers: r1 (floodfill), r4 and r5, all with SSU2 "B" and "C".
#  - bitsd knows only r1; the peer test through r1 (Charlie r4 or r5)
#    says "firewalled"; bitsd then dials routers with "C" it learnt into
#    its netDb (the want-introducers hook; its tunnels keep out of a
#    shared /16), gets relay tags and publishes them as introducers
#    (caps U, no host, ih0/itag0).
#  - r6, an i2pd that has never spoken to bitsd and that bitsd cannot
#    dial (SSU2 not published), learns bitsd's RouterInfo and, building
#    a destination's tunnels through bitsd (explicitPeers), reaches it
#    through an introducer: Relay Request (r6 -> Bob), Relay Intro (Bob -> bitsd),
#    Relay Response and Hole Punch (bitsd -> r6), then r6's
#    SessionRequest passes the NAT; the session is up on both sides and
#    I2NP flows over it (bitsd receives r6's tunnel build).
#  - our own Alice: tests/integration/ssu2_alice (router/ssu2 under the
#    transport manager, as in bitsd) on the bridge, with no session at
#    all, is given bitsd's RouterInfo and the i2pd routers' and sends
#    bitsd a message: it dials an i2pd introducer first, asks it (Relay
#    Request), gets bitsd's Relay Response and Hole Punch and reaches
#    bitsd through the NAT.
# KEEP_WORK=1 keeps the work directory (logs) after a pass.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/netns-lib.sh"
. "${top_srcdir:-.}/tests/integration/ssu2-relay-lib.sh"
NAME=test_ssu2_introducer
need_i2pd $NAME
netns_need_root $NAME
W=$(mktemp -d "${TMPDIR:-/tmp}/ssu2-intro.XXXXXX")
B=$W/bitsd
cleanup() {
	netns_teardown
	if [ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
umask 077
BPORT=24200
ALICE="${top_builddir:-.}/tests/integration/ssu2_alice"
[ -x "$ALICE" ] || { bad "no $ALICE (make check builds it)"; result $NAME; exit 1; }

if ! netns_hub || ! netns_node gw 198.18.0.1/24 ||
   ! netns_node r1 198.18.0.21/24 || ! netns_node r4 198.18.0.24/24 ||
   ! netns_node r5 198.18.0.25/24 || ! netns_node r6 198.18.0.26/24 ||
   ! netns_node a7 198.18.0.27/24 ||
   ! netns_lan_behind gw; then
	bad "cannot build the namespace network"; result $NAME; exit 1
fi
if ! netns_lan_nat gw; then
	bad "cannot set up nftables in the gateway"; result $NAME; exit 1
fi

mkdir -p "$B" "$W/r1" "$W/r4" "$W/r5" "$W/r6"
if ! "$BITSD" --datadir "$B" --init --netid 77 --host 198.18.1.2 --port $BPORT \
	--ssu2 >"$W/init.log" 2>&1; then
	bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1
fi
i2pd_ns_conf "$W/r1" 198.18.0.21 24221 false true true
i2pd_ns_conf "$W/r4" 198.18.0.24 24224 false true false
i2pd_ns_conf "$W/r5" 198.18.0.25 24225 false true false
# r6 dials out only: nobody (bitsd included) can dial it.
i2pd_ns_conf "$W/r6" 198.18.0.26 24226 false true false
sed -i '/^\[ssu2\]/,/^\[/s/^published = true/published = false/' "$W/r6/i2pd.conf"
for n in 1 4 5; do i2pd_ns_zero_hop "$W/r$n"; done
i2pd_ns_mesh "$W" r1 198.18.0.21 r4 r5 || { result $NAME; exit 1; }
H1=$(ri_b64hash "$W/r1/router.info" | cut -c1-4)
H4=$(ri_b64hash "$W/r4/router.info" | cut -c1-4)
H5=$(ri_b64hash "$W/r5/router.info" | cut -c1-4)
for n in 1 4 5; do
	LC_ALL=C grep -aq 'caps=.[0-9]*BC;' "$W/r$n/router.info" ||
		LC_ALL=C grep -aq 'caps=.[0-9]*CB;' "$W/r$n/router.info" ||
		bad "r$n's SSU2 address lacks the B and C caps"
done

# bitsd in lan, knowing only r1 (a Charlie it has a session with would
# refuse the peer test); it learns r4 and r5 from r1.  No exploratory
# tunnel joins it with them (netns-lib.sh, BITSD_ZERO_HOP); it takes
# transit tunnels (r6's).
netdb_put "$B" "$W/r1/router.info"
# shellcheck disable=SC2086
netns_bg lan "$B/stdout.log" "$BITSD" --datadir "$B" --netid 77 --host 198.18.1.2 \
	--port $BPORT --ssu2 --loglevel debug --logfile "$B/bitsd.log" $BITSD_ZERO_HOP
BPID=$NETNS_LAST
BHASH=$(ri_b64hash "$B/router.info")
BH=$(printf %s "$BHASH" | cut -c1-4)
wait_log "$B/bitsd.log" "peer test: firewalled" 180 &&
	ok "behind the NAT without a mapping, the peer test says firewalled" ||
	bad "no \"peer test: firewalled\" (see $B/bitsd.log)"
grep -q "peer test: reachable" "$B/bitsd.log" &&
	bad "bitsd said reachable behind the NAT" || ok "never reachable behind the NAT"
wait_log "$B/bitsd.log" "dialling a possible introducer" 120 &&
	ok "firewalled and short of introducers, bitsd dials routers with \"C\" from its netDb" ||
	bad "bitsd dialled no introducer (see $B/bitsd.log)"
wait_log "$B/bitsd.log" "publishing: firewalled, [23] introducer(s)" 180 &&
	ok "bitsd publishes at least two i2pd introducers" ||
	bad "fewer than two introducers published (see $B/bitsd.log)"
i=0
until LC_ALL=C grep -aq 'ih1=' "$B/router.info" || [ $i -gt 240 ]; do
	sleep 0.25; i=$((i + 1))
done
LC_ALL=C grep -aq 'caps=.LU;' "$B/router.info" &&
	ok "router.info says U (unreachable)" || bad "router.info does not say U"
LC_ALL=C grep -aq 'host=.198.18.1.2;' "$B/router.info" &&
	bad "router.info still publishes the LAN host" || ok "router.info publishes no host"
LC_ALL=C grep -aq 'ih1=' "$B/router.info" && LC_ALL=C grep -aq 'itag1=' "$B/router.info" &&
	ok "router.info names introducers (ih, itag)" ||
	bad "router.info names fewer than two introducers"
relay_intros_among "$B/router.info" "$H1" "$H4" "$H5"

grep -q "established with" "$B/bitsd.log" || bad "bitsd logs no sessions"
relay_alice_start "$BHASH" 24299
relay_alice_checks "$BH" "the NAT" ""

relay_our_alice a7 198.18.0.27 24227 "the NAT" ""
# The whole run, introducers set or not: a Charlie that had a session
# with us (our introducers) proves nothing (router/ssu2.c, flow_open).
grep -q "peer test: reachable" "$B/bitsd.log" &&
	bad "bitsd called itself reachable behind the NAT at some point" ||
	ok "never reachable behind the NAT, before or after its introducers"
netns_stop_pid "$BPID"
log_clean "$B/bitsd.log" >/dev/null && ok "no warning, error or BUG" ||
	bad "bitsd logged a warning, error or BUG"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
