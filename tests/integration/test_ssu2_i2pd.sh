#!/bin/sh
# SSU2 with Debian's i2pd 2.45.1, in network namespaces on 198.18.0.0/15
# (i2pd refuses SSU2 from loopback; tests/integration/netns-lib.sh).
# Routers: bitsd (NTCP2 + SSU2, floodfill), r1 (floodfill) and r2 with NTCP2 disabled
# (SSU2 only), r3 with both.  bitsd knows r1 and r3; r2 knows only bitsd.
# Checks, with the NTCP2 messaging tests repeated over SSU2:
#  - outbound: bitsd reaches r1 over SSU2 (r1's console lists us in its
#    SSU2 section), publishes its RouterInfo there (DatabaseStore with a
#    reply token, confirmed by DeliveryStatus) and keeps r1's RouterInfo;
#  - the manager picks NTCP2 for r3 (cheaper) and SSU2 for r1;
#  - inbound: r2 dials bitsd over SSU2 and its RouterInfo reaches bitsd;
#  - 5 % UDP loss both ways (nftables in the namespaces) for 60 s: no
#    session goes down and I2NP messages keep arriving;
#  - bitsd stops cleanly: no warning, error, BUG or sanitizer report.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/netns-lib.sh"
NAME=test_ssu2_i2pd
LOSS_S=${SSU2_LOSS_S:-60}
need_i2pd $NAME
netns_need_root $NAME
W=$(mktemp -d "${TMPDIR:-/tmp}/ssu2-i2pd.XXXXXX")
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
   ! netns_node r2 198.18.0.22/24 || ! netns_node r3 198.18.0.23/24; then
	bad "cannot build the namespace network"; result $NAME; exit 1
fi
mkdir -p "$B" "$W/r1" "$W/r2" "$W/r3"
if ! "$BITSD" --datadir "$B" --init --netid 77 --host $BHOST --port $BPORT \
	--ssu2 --floodfill >"$W/init.log" 2>&1; then
	bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1
fi
i2pd_ns_conf "$W/r1" 198.18.0.21 24021 false true true
i2pd_ns_conf "$W/r2" 198.18.0.22 24022 false true false
i2pd_ns_conf "$W/r3" 198.18.0.23 24023 true true false
# Short exploratory tunnels so r2 builds through (and dials) bitsd soon.
for n in 1 2 3; do
	printf '[exploratory]\ninbound.length = 1\noutbound.length = 1\n' >>"$W/r$n/i2pd.conf"
done
# A first run makes each i2pd's keys and router.info.
for n in 1 2 3; do i2pd_ns_start r$n "$W/r$n"; done
for n in 1 2 3; do
	i=0
	while [ ! -s "$W/r$n/router.info" ] && [ $i -lt 80 ]; do sleep 0.25; i=$((i + 1)); done
	i2pd_ns_stop "$W/r$n"
	[ -s "$W/r$n/router.info" ] || { bad "r$n wrote no router.info"; result $NAME; exit 1; }
	rm -rf "$W/r$n/netDb" "$W/r$n/peerProfiles"
done
netdb_put "$B" "$W/r1/router.info"
netdb_put "$B" "$W/r3/router.info"
netdb_put "$W/r2" "$B/router.info"
for n in 1 2 3; do i2pd_ns_start r$n "$W/r$n"; done
sleep 1
netns_bg bits "$B/stdout.log" "$BITSD" --datadir "$B" --netid 77 --host $BHOST \
	--port $BPORT --ssu2 --floodfill --api-port 7071 --loglevel debug \
	--logfile "$B/bitsd.log"
BPID=$NETNS_LAST
H1=$(b64_hex4 "$(ri_b64hash "$W/r1/router.info")")
H2=$(b64_hex4 "$(ri_b64hash "$W/r2/router.info")")
H3=$(b64_hex4 "$(ri_b64hash "$W/r3/router.info")")
OUR4=$(ri_b64hash "$B/router.info" | cut -c1-4)

# Outbound, and the transport each peer got.  Our own handshake with
# each ("outbound session N established with H", router/ssu2.c and
# ntcp2.c), not "outbound session with H is up": r3 may learn us from r1
# and dial us while our dial is under way, and the "is up" line names
# whichever session came first.
wait_log "$B/bitsd.log" "outbound session [0-9]* established with $H1" 30 &&
	ok "bitsd reached r1 (SSU2 only)" || bad "no session with r1"
wait_log "$B/bitsd.log" "outbound session [0-9]* established with $H3" 30 &&
	ok "bitsd reached r3" || bad "no session with r3"
sleep 2
ns_console_ssu2_has r1 198.18.0.21 "$OUR4" 20 &&
	ok "r1's console lists our session under SSU2" || bad "r1 does not list us under SSU2"
# Our side chose: one outbound SSU2 session (r1), the other NTCP2 (r3).
[ "$(grep -c 'ssu2: sess_established(): outbound' "$B/bitsd.log")" = 1 ] &&
   [ "$(grep -c 'ntcp2: sess_established(): outbound' "$B/bitsd.log")" = 1 ] &&
	ok "the manager picked SSU2 for r1 and NTCP2 (cheaper) for r3" ||
	bad "the manager did not pick NTCP2 for r3 and SSU2 for r1"
# When r3 dials us while our dial to it is under way, i2pd drops its
# own duplicate ("already exists. Dropped") and then no longer lists the
# session it kept, though it goes on using it: then the proof is r3's
# I2NP still reaching us over it later (checked at the end).
R3_LATE=0
if ns_console_has r3 198.18.0.23 "$OUR4" "" 20; then
	ok "r3's console lists our session"
elif grep -q "already exists. Dropped" "$W/r3/i2pd.log"; then
	R3_LATE=1
else
	bad "r3 does not list our session"
fi
# Messaging over SSU2: our store confirmed by r1, r1's RouterInfo kept.
wait_log "$B/bitsd.log" "published (confirmed by $H1)" 30 &&
	ok "r1 confirmed our DatabaseStore over SSU2" || bad "r1 never confirmed our RouterInfo"
grep -q "kept RouterInfo $H1" "$B/bitsd.log" &&
	ok "r1's RouterInfo reached bitsd over SSU2" || bad "r1's RouterInfo did not reach bitsd"
[ "$(ns_console_routers r1 198.18.0.21)" -ge 2 ] &&
	ok "r1 knows our RouterInfo" || bad "r1 does not know our RouterInfo"

# Inbound: r2 knows only us, so it dials us (over SSU2: it has no NTCP2).
wait_log "$B/bitsd.log" "inbound session with $H2 is up" 90 &&
	ok "r2 dialled bitsd over SSU2" || bad "r2 never dialled bitsd"
wait_log "$B/bitsd.log" "kept RouterInfo $H2" 30 &&
	ok "r2's RouterInfo reached bitsd" || bad "r2's RouterInfo did not reach bitsd"
ns_console_ssu2_has r2 198.18.0.22 "$OUR4" 20 &&
	ok "r2's console lists our session under SSU2" || bad "r2 does not list us under SSU2"

# 5 % loss on everything bitsd, r1 and r2 send over UDP.
api_msgs_in() {
	netns_exec bits python3 -c '
import json, urllib.request
j = json.load(urllib.request.urlopen("http://127.0.0.1:7071/api/status", timeout=5))
print(j["transports"]["msgs_in"])' 2>/dev/null || echo 0
}
m0=$(api_msgs_in)
netns_loss bits 5 && netns_loss r1 5 && netns_loss r2 5 ||
	bad "cannot install the nftables loss rules"
sleep "$LOSS_S"
m1=$(api_msgs_in)
d=$(( $(netns_loss_count bits) + $(netns_loss_count r1) + $(netns_loss_count r2) ))
[ "$d" -gt 0 ] && ok "nftables dropped $d UDP packets in $LOSS_S s" ||
	bad "no packet was dropped"
for n in 1 2; do netns_loss_off r$n; done
netns_loss_off bits
grep -q "is down" "$B/bitsd.log" && bad "a session went down under 5 % loss" ||
	ok "no session went down under 5 % loss"
[ "$m1" -gt "$m0" ] && ok "I2NP kept arriving under loss ($m0 -> $m1 messages)" ||
	bad "no I2NP arrived under loss ($m0 -> $m1)"
ns_console_ssu2_has r1 198.18.0.21 "$OUR4" 20 && ns_console_ssu2_has r2 198.18.0.22 "$OUR4" 20 &&
	ok "r1 and r2 still list our SSU2 sessions" || bad "an i2pd lost our SSU2 session"

netns_stop_pid "$BPID"
wait "$BPID" 2>/dev/null
grep -q "SSU2: [0-9]* sessions in, 1 out, 0 handshakes failed" "$B/bitsd.log" &&
	ok "bitsd stopped SSU2: one outbound session, no failed handshake" ||
	bad "bitsd did not stop SSU2 cleanly (or a handshake failed)"
# how many messages went to the i2pds cut to fill a packet (shown only:
# whether any were depends on what was queued together)
cut=$(sed -n 's/.* \([0-9]*\) messages cut to fill packets.*/\1/p' "$B/bitsd.log" | tail -1)
echo "     (bitsd cut ${cut:-0} messages to fill packets)"
log_clean "$B/bitsd.log" >/dev/null && ok "no warning, error or BUG in bitsd's log" ||
	bad "bitsd logged a warning, error or BUG"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
if [ "$R3_LATE" = 1 ]; then
	# lookups from r3 answered at least 20 s after the session came up
	awk -v h="$H3" 'function sec(t, a) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
		!up && $0 ~ ("outbound session [0-9]* established with " h) { up = sec($2) }
		up && index($0, "from " h " answered") && sec($2) >= up + 20 { n++ }
		END { exit !(n > 0) }' "$B/bitsd.log" &&
		ok "r3 dropped a crossing duplicate and kept using our session (I2NP from it 20 s later)" ||
		bad "r3 does not list our session, and sent nothing over it later"
fi
result $NAME
