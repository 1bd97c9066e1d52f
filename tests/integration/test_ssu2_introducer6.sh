#!/bin/sh
# A firewalled IPv6 address reached through relay, with i2pd 2.45.1, in
# network namespaces (tests/integration/ssu2v6-lib.sh: r1, floodfill,
# SSU2 over IPv6 only; r4 and r5 over both families; 2001:2::/64).
#  - bitsd (198.18.0.10 and 2001:2::10) drops every new flow that comes
#    to it over IPv6 (nftables in its namespace), so the IPv6 peer test
#    through r1 says "firewalled"; bitsd then dials routers whose IPv6
#    SSU2 address has "C" on IPv6 (the want hook for IPv6), gets relay
#    tags over those IPv6 sessions, and publishes them as introducers in
#    its IPv6 SSU2 address (caps 6, no host, ih0/itag0); its IPv4
#    address keeps its host and no introducers.
#  - r6, an i2pd speaking IPv6 only that has never spoken to bitsd and
#    that bitsd cannot dial (SSU2 not published), learns bitsd's
#    RouterInfo and, building a destination's tunnels through bitsd
#    (explicitPeers), reaches it through an IPv6 introducer: Relay
#    Request (r6 -> Bob), Relay Intro (Bob -> bitsd over IPv6), Relay
#    Response and Hole Punch (bitsd -> r6's IPv6 address), then r6's
#    SessionRequest passes the firewall; the session is up over IPv6 and
#    I2NP flows over it.
#  - our own Alice (tests/integration/ssu2_alice, router/ssu2 as in
#    bitsd) on 2001:2::27 only, with no session at all, is given bitsd's
#    RouterInfo and the i2pd routers' and sends bitsd a message: it must
#    take the IPv6 address's introducers, dial one over IPv6, be
#    introduced and reach bitsd through the firewall over IPv6.
# Not in TESTS (run by hand): about three minutes.  KEEP_WORK=1 keeps
# the work directory (logs) after a pass.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/netns-lib.sh"
. "${top_srcdir:-.}/tests/integration/ssu2v6-lib.sh"
. "${top_srcdir:-.}/tests/integration/ssu2-relay-lib.sh"
NAME=test_ssu2_introducer6
need_i2pd $NAME
netns_need_root $NAME
W=$(mktemp -d "${TMPDIR:-/tmp}/ssu2-intro6.XXXXXX")
B=$W/bitsd
cleanup() {
	netns_teardown
	if [ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
umask 077
BHOST=198.18.0.10
BHOST6=2001:2::10
BPORT=24310
ALICE="${top_builddir:-.}/tests/integration/ssu2_alice"
[ -x "$ALICE" ] || { bad "no $ALICE (make check builds it)"; result $NAME; exit 1; }

if ! netns_hub || ! netns_node bits $BHOST/24 || ! ns_v6 bits $BHOST6 ||
   ! netns_node r6 198.18.0.26/24 || ! ns_v6 r6 2001:2::26 ||
   ! netns_node a7 198.18.0.27/24 || ! ns_v6 a7 2001:2::27; then
	bad "cannot build the namespace network"; result $NAME; exit 1
fi
ssu2v6_routers "$W" 24321 24324 24325 || { result $NAME; exit 1; }
H1=$(ri_b64hash "$W/r1/router.info" | cut -c1-4)
H4=$(ri_b64hash "$W/r4/router.info" | cut -c1-4)
H5=$(ri_b64hash "$W/r5/router.info" | cut -c1-4)
c6=0
for n in 1 4 5; do
	ri_text "$W/r$n/router.info" | grep -q 'caps=.[46B]*C[46B]*;.host=.2001:2::2' &&
		c6=$((c6 + 1))
done
[ $c6 -gt 0 ] && ok "$c6 i2pd router(s) publish \"C\" on their IPv6 SSU2 address" ||
	bad "no i2pd router publishes \"C\" on IPv6 (nobody to introduce bitsd there)"

mkdir -p "$B" "$W/r6"
if ! "$BITSD" --datadir "$B" --init --netid 77 --host $BHOST --host6 $BHOST6 \
	--port $BPORT --ssu2 >"$W/init.log" 2>&1; then
	bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1
fi
# Firewalled over IPv6: no new flow comes in (answers to ours do).
netns_fw_new6 bits $BPORT || bad "cannot install the firewall rule"
netdb_put "$B" "$W/r1/router.info"
# shellcheck disable=SC2086
netns_bg bits "$B/stdout.log" "$BITSD" --datadir "$B" --netid 77 --host $BHOST \
	--host6 $BHOST6 --port $BPORT --ssu2 --loglevel debug --logfile "$B/bitsd.log" \
	$BITSD_ZERO_HOP
BPID=$NETNS_LAST
BHASH=$(ri_b64hash "$B/router.info")
BH=$(printf %s "$BHASH" | cut -c1-4)
wait_log "$B/bitsd.log" "peer test (IPv6): firewalled" 180 &&
	ok "the IPv6 peer test says firewalled" ||
	bad "no \"peer test (IPv6): firewalled\" (see $B/bitsd.log)"
grep -q "peer test (IPv6): reachable" "$B/bitsd.log" &&
	bad "bitsd called IPv6 reachable" || ok "IPv6 never reachable"
wait_log "$B/bitsd.log" "dialling a possible introducer (IPv6)" 120 &&
	ok "firewalled on IPv6, bitsd dials routers with \"C\" on IPv6" ||
	bad "bitsd dialled no IPv6 introducer (see $B/bitsd.log)"
wait_log "$B/bitsd.log" "publishing: .*IPv6 firewalled, [123] IPv6 introducer(s)" 180 &&
	ok "bitsd publishes i2pd introducers in its IPv6 address" ||
	bad "no IPv6 introducer published (see $B/bitsd.log)"
i=0
until ri_text "$B/router.info" | grep -q 'ih0=' || [ $i -gt 240 ]; do
	sleep 0.25; i=$((i + 1))
done
RI=$(ri_text "$B/router.info")
case $RI in *"host=.$BHOST6;"*) bad "router.info still publishes $BHOST6" ;;
*) ok "router.info publishes no IPv6 host" ;; esac
case $RI in *"host=.$BHOST;"*) ok "the IPv4 address keeps its host" ;;
*) bad "router.info lost its IPv4 host" ;; esac
case $RI in *"ih0="*"itag0="*|*"itag0="*"ih0="*) ok "router.info names an introducer (ih0, itag0)" ;;
*) bad "router.info names no introducer" ;; esac
relay_intros_among "$B/router.info" "$H1" "$H4" "$H5"
grep -q "established with .* over IPv6" "$B/bitsd.log" &&
	ok "bitsd has sessions over IPv6" || bad "bitsd logs no IPv6 session"

# r6 (IPv6 only, dials out only) gets bitsd's RouterInfo as it stands
# and the others'.
i2pd_ns_conf "$W/r6" 198.18.0.26 24326 false true false
i2pd_ns_v6_only "$W/r6"
i2pd_ns_v6 "$W/r6" 2001:2::26
sed -i '/^\[ssu2\]/,/^\[/s/^published = true/published = false/' "$W/r6/i2pd.conf"
relay_alice_start "$BHASH" 24399
relay_alice_checks "$BH" "the IPv6 firewall" " over IPv6"
relay_our_alice a7 2001:2::27 24327 "the IPv6 firewall" " over IPv6"
c=$(netns_fw_count bits)
[ "${c:-0}" -gt 0 ] && ok "the firewall dropped $c new IPv6 flows" ||
	bad "the firewall dropped nothing"
netns_stop_pid "$BPID"
log_clean "$B/bitsd.log" >/dev/null && ok "no warning, error or BUG" ||
	bad "bitsd logged a warning, error or BUG"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
