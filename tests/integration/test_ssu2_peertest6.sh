#!/bin/sh
# SSU2 IPv6 peer test with i2pd 2.45.1 as Bob and Charlie, in network
# namespaces: every node has an IPv4 address on 198.18.0.0/24 and an
# IPv6 one on 2001:2::/64 (i2pd 2.45.1 drops SSU2 from fd00::/7; the
# 2001:2::/48 benchmarking range passes).  r1 (floodfill, "B") speaks
# SSU2 over IPv6 only, so bitsd's session with it is IPv6; r4 and r5
# ("B") speak both.  bitsd asks r1 over IPv6 with its IPv6 address, r1
# picks r4 or r5 for their IPv6 "B" address, and:
#  - open: Charlie's message 5 reaches bitsd's IPv6 address:
#    "peer test (IPv6): reachable";
#  - firewalled (nftables in bitsd's namespace drops what r4 and r5 send
#    it unasked over IPv6): "peer test (IPv6): firewalled", and bitsd
#    publishes its IPv6 SSU2 address without host.
# Not in TESTS (run by hand): about two minutes.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/netns-lib.sh"
. "${top_srcdir:-.}/tests/integration/ssu2v6-lib.sh"
NAME=test_ssu2_peertest6
need_i2pd $NAME
netns_need_root $NAME
W=$(mktemp -d "${TMPDIR:-/tmp}/ssu2-pt6.XXXXXX")
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
BPORT=24110

if ! netns_hub || ! netns_node bits $BHOST/24 || ! ns_v6 bits $BHOST6; then
	bad "cannot build the namespace network"; result $NAME; exit 1
fi
ssu2v6_routers "$W" 24121 24124 24125 || { result $NAME; exit 1; }
mkdir -p "$B"
if ! "$BITSD" --datadir "$B" --init --netid 77 --host $BHOST --host6 $BHOST6 \
	--port $BPORT --ssu2 >"$W/init.log" 2>&1; then
	bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1
fi
netdb_put "$B" "$W/r1/router.info"

bitsd_ns_run() {
	# shellcheck disable=SC2086
	netns_bg bits "$B/stdout.log" "$BITSD" --datadir "$B" --netid 77 --host $BHOST \
		--host6 $BHOST6 --port $BPORT --ssu2 --loglevel debug --logfile "$1" \
		$BITSD_ZERO_HOP --transit.max-tunnels 0
	BPID=$NETNS_LAST
}

bitsd_ns_run "$B/open.log"
wait_log "$B/open.log" "peer test (IPv6): reachable" 180 &&
	ok "open: bitsd found its IPv6 address reachable (message 5 from Charlie)" ||
	bad "open: no IPv6 \"reachable\" result (see $B/open.log)"
grep -q "peer test (IPv6): firewalled" "$B/open.log" &&
	bad "open: bitsd also called IPv6 firewalled" || ok "open: IPv6 never firewalled"
wait_log "$B/open.log" "publishing: .*; IPv6 reachable" 30 &&
	ok "open: bitsd republished with IPv6 reachable (caps 6BC)" ||
	bad "open: no \"IPv6 reachable\" publishing (see $B/open.log)"
netns_stop_pid "$BPID"
log_clean "$B/open.log" >/dev/null && ok "open: no warning, error or BUG" ||
	bad "open: bitsd logged a warning, error or BUG"

# Firewalled over IPv6: what r4 and r5 send bitsd unasked is dropped.
rm -rf "$B/netDb"
netdb_put "$B" "$W/r1/router.info"
netns_exec bits nft -f - <<'NFT' || bad "cannot install the firewall rule"
table inet ssu2fw {
	chain in { type filter hook input priority 0; policy accept;
		ip6 saddr { 2001:2::24, 2001:2::25 } udp dport 24110 ct state new counter drop; }
}
NFT
bitsd_ns_run "$B/fw.log"
wait_log "$B/fw.log" "peer test (IPv6): firewalled" 180 &&
	ok "firewalled: bitsd found its IPv6 address firewalled" ||
	bad "firewalled: no IPv6 \"firewalled\" result (see $B/fw.log)"
grep -q "peer test (IPv6): reachable" "$B/fw.log" &&
	bad "firewalled: bitsd called IPv6 reachable" || ok "firewalled: IPv6 never reachable"
# ...and publishes its IPv6 SSU2 address without host (caps "6")
wait_log "$B/fw.log" "publishing: .*; IPv6 firewalled" 30 &&
	ok "firewalled: bitsd republished with IPv6 firewalled" ||
	bad "firewalled: no \"IPv6 firewalled\" publishing (see $B/fw.log)"
i=0
while ri_text "$B/router.info" | grep -q "host=.$BHOST6;" &&
	[ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
ri_text "$B/router.info" | grep -q "host=.$BHOST6;" &&
	bad "firewalled: router.info still publishes $BHOST6" ||
	ok "firewalled: router.info publishes no IPv6 host"
c=$(netns_fw_count bits)
[ "${c:-0}" -gt 0 ] && ok "firewalled: the rule dropped $c packets from the Charlies" ||
	bad "firewalled: the rule dropped nothing"
netns_stop_pid "$BPID"
log_clean "$B/fw.log" >/dev/null && ok "firewalled: no warning, error or BUG" ||
	bad "firewalled: bitsd logged a warning, error or BUG"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
