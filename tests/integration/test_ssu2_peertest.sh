#!/bin/sh
# SSU2 peer test with i2pd 2.45.1 as Bob and Charlie, in network
# namespaces on 198.18.0.0/15: bitsd (Alice) knows only r1 (SSU2 only,
# "B", floodfill); r4 and r5 (SSU2 only, "B") know r1 and publish to it,
# so r1 has sessions with both before bitsd starts.  bitsd asks r1, r1
# picks r4 or r5 as Charlie, and:
#  - open: Charlie's message 5 reaches bitsd, which logs "reachable";
#  - firewalled (nftables in bitsd's namespace drops what r4 and r5 send
#    it unasked): Bob's message 4 arrives, 5 never does: "firewalled".
# i2pd's own answers may be "no Charlie yet" (2) or "Alice is already
# connected" (68); bitsd then tries again, and must never conclude wrongly.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/netns-lib.sh"
NAME=test_ssu2_peertest
need_i2pd $NAME
netns_need_root $NAME
W=$(mktemp -d "${TMPDIR:-/tmp}/ssu2-pt.XXXXXX")
B=$W/bitsd
cleanup() {
	netns_teardown
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
umask 077
BHOST=198.18.0.10
BPORT=24100

if ! netns_hub || ! netns_node bits $BHOST/24 || ! netns_node r1 198.18.0.21/24 ||
   ! netns_node r4 198.18.0.24/24 || ! netns_node r5 198.18.0.25/24; then
	bad "cannot build the namespace network"; result $NAME; exit 1
fi
mkdir -p "$B" "$W/r1" "$W/r4" "$W/r5"
if ! "$BITSD" --datadir "$B" --init --netid 77 --host $BHOST --port $BPORT \
	--ssu2 >"$W/init.log" 2>&1; then
	bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1
fi
i2pd_ns_conf "$W/r1" 198.18.0.21 24021 false true true
i2pd_ns_conf "$W/r4" 198.18.0.24 24024 false true false
i2pd_ns_conf "$W/r5" 198.18.0.25 24025 false true false
for n in 1 4 5; do i2pd_ns_zero_hop "$W/r$n"; done
# Bob needs sessions with its Charlies: r4 and r5 on r1's console.
i2pd_ns_mesh "$W" r1 198.18.0.21 r4 r5 || { result $NAME; exit 1; }
ok "r1 has SSU2 sessions with r4 and r5"
netdb_put "$B" "$W/r1/router.info"

# bitsd_ns_run LOG: bitsd in its namespace until phase end; no tunnel
# joins it with r4 or r5 (netns-lib.sh, BITSD_ZERO_HOP; no transit either)
bitsd_ns_run() {
	# shellcheck disable=SC2086
	netns_bg bits "$B/stdout.log" "$BITSD" --datadir "$B" --netid 77 --host $BHOST \
		--port $BPORT --ssu2 --loglevel debug --logfile "$1" \
		$BITSD_ZERO_HOP --transit.max-tunnels 0
	BPID=$NETNS_LAST
}

bitsd_ns_run "$B/open.log"
wait_log "$B/open.log" "peer test: reachable" 180 &&
	ok "open: bitsd found itself reachable (message 5 from Charlie)" ||
	bad "open: no \"reachable\" result (see $B/open.log)"
grep -q "peer test: firewalled" "$B/open.log" &&
	bad "open: bitsd also called itself firewalled" || ok "open: never firewalled"
netns_stop_pid "$BPID"
log_clean "$B/open.log" >/dev/null && ok "open: no warning, error or BUG" ||
	bad "open: bitsd logged a warning, error or BUG"

# Firewalled: whatever r4 and r5 (the Charlies) send bitsd unasked is
# dropped.  bitsd forgets the RouterInfos it learnt, so it dials only r1
# again (a Charlie that has a session with Alice refuses: code 68).
rm -rf "$B/netDb"
netdb_put "$B" "$W/r1/router.info"
netns_exec bits nft -f - <<'NFT' || bad "cannot install the firewall rule"
table inet ssu2fw {
	chain in { type filter hook input priority 0; policy accept;
		ip saddr { 198.18.0.24, 198.18.0.25 } udp dport 24100 ct state new counter drop; }
}
NFT
sleep 1
bitsd_ns_run "$B/fw.log"
wait_log "$B/fw.log" "peer test: firewalled" 180 &&
	ok "firewalled: bitsd found itself firewalled" ||
	bad "firewalled: no \"firewalled\" result (see $B/fw.log)"
grep -q "peer test: reachable" "$B/fw.log" &&
	bad "firewalled: bitsd called itself reachable" || ok "firewalled: never reachable"
c=$(netns_fw_count bits)
[ "${c:-0}" -gt 0 ] && ok "firewalled: the rule dropped $c packets from the Charlies" ||
	bad "firewalled: the rule dropped nothing"
netns_stop_pid "$BPID"
log_clean "$B/fw.log" >/dev/null && ok "firewalled: no warning, error or BUG" ||
	bad "firewalled: bitsd logged a warning, error or BUG"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
