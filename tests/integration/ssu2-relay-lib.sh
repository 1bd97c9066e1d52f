# An i2pd Alice reaching a firewalled bitsd through its i2pd
# introducers, shared by test_ssu2_introducer.sh (IPv4, behind a NAT)
# and test_ssu2_introducer6.sh (IPv6, behind a firewall), and our own
# Alice (relay_alice_run, also in test_ssu2_bob.sh); sourced after
# netns-lib.sh.  bitsd's work directory is $B, its log $B/bitsd.log; the
# i2pd routers are r1, r4 and r5 in $W, and r6 (configured by the test
# in $W/r6, namespace r6, console on 198.18.0.26) is the Alice; then
# our own Alice (relay_our_alice: $ALICE, tests/integration/ssu2_alice).

# relay_intros_among RIFILE H...: every introducer (ih0-ih2) RIFILE
# names is one of the routers whose base64 hashes begin with H...
relay_intros_among() {
	rf=$1; shift
	ri_ok=1
	for h in $(LC_ALL=C grep -ao 'ih[0-2]=.[A-Za-z0-9~-]\{44\}' "$rf" | cut -c5-8); do
		case " $* " in *" $h "*) ;; *) ri_ok=0 ;; esac
	done
	[ $ri_ok = 1 ] && ok "every introducer is one of the i2pd routers" ||
		bad "an introducer is not one of the i2pd routers"
}

# relay_alice_start BHASH SPORT: r6, which has never spoken to bitsd,
# gets bitsd's RouterInfo as it stands (with the introducers) and r1's,
# r4's and r5's, and runs a destination whose one-hop tunnels go through
# bitsd (explicitPeers; the server tunnel to 127.0.0.1:SPORT), so r6
# must reach bitsd: its outbound tunnel's build goes to bitsd directly.
# Sets H6X (the first four bytes of r6's hash, in hex, as bitsd logs it).
relay_alice_start() {
	for n in 1 4 5; do netdb_put "$W/r6" "$W/r$n/router.info"; done
	cp "$B/router.info" "$W/bitsd.ri"
	netdb_put "$W/r6" "$W/bitsd.ri"
	cat > "$W/r6/tunnels.conf" <<CONF
[through-bitsd]
type = server
host = 127.0.0.1
port = $2
keys = transient
inbound.length = 1
outbound.length = 1
inbound.quantity = 1
outbound.quantity = 1
explicitPeers = $1
CONF
	i2pd_ns_start r6 "$W/r6"
	ra=0
	while [ ! -s "$W/r6/router.info" ] && [ $ra -lt 120 ]; do sleep 0.25; ra=$((ra + 1)); done
	H6X=$(b64_hex4 "$(ri_b64hash "$W/r6/router.info")")
}

# relay_alice_checks BH THROUGH SUFFIX: r6 reached bitsd (whose base64
# hash begins with BH) through an introducer and THROUGH ("the NAT"),
# the session logged "established with <r6> SUFFIX", and I2NP flows.
relay_alice_checks() {
	# A session with r6 may already be up (r6 is quick to need us), but
	# only one that came after an introducer's Relay Intro: never a
	# direct one.
	awk -v h="$H6X" '
		index($0, "Relay Intro for Alice " h) && !intro { intro = NR }
		index($0, "established with " h) && !est { est = NR }
		END { exit !(est && (!intro || intro > est)) }' "$B/bitsd.log" &&
		bad "bitsd had a session with r6 that no introducer relayed"
	wait_log "$B/bitsd.log" "Relay Intro for Alice $H6X .*code 0, Hole Punch sent" 300 &&
		ok "an introducer relayed r6's Relay Request to bitsd, which answered and sent the Hole Punch" ||
		bad "no Relay Intro for r6 (see $B/bitsd.log)"
	wait_log "$B/bitsd.log" "inbound session [0-9]* established with $H6X$3" 120 &&
		ok "r6's session came through $2 to bitsd" ||
		bad "no inbound session from r6 (see $B/bitsd.log)"
	ns_console_ssu2_has r6 198.18.0.26 "$1" 60 &&
		ok "r6's console lists the SSU2 session with bitsd" ||
		bad "r6's console does not list bitsd (see $W/r6/i2pd.log)"
	# (through Bob, or in the Hole Punch, whichever comes first; a Hole
	# Punch that comes late may go unlogged: seen under ASan)
	grep -q "SSU2: RelayResponse" "$W/r6/i2pd.log" &&
		ok "r6 logged bitsd's Relay Response" ||
		bad "r6's log shows no Relay Response (see $W/r6/i2pd.log)"
	relay_first_i2np "$H6X" 120 "I2NP flows from r6 over the relayed session"
}

# relay_first_i2np HX SECONDS WHAT: an I2NP message came in over bitsd's
# first inbound session with the router whose hash begins with HX (in
# hex; bitsd logs a session's first one); ok WHAT
relay_first_i2np() {
	rs=$(sed -n "s/.*inbound session \([0-9]*\) established with $1.*/\1/p" "$B/bitsd.log" | head -1)
	[ -n "$1" ] && [ -n "$rs" ] &&
		wait_log "$B/bitsd.log" "session $rs: first I2NP message in" "$2" &&
		ok "$3" || bad "no I2NP in over session ${rs:-?}: $3 is not so (see $B/bitsd.log)"
}

# relay_alice_run NS HOST PORT TARGET OUT TARGET_RI RI...: our own Alice
# ($ALICE) in namespace NS on HOST (its only address: IPv4 or IPv6),
# with no session at all, knowing only the RouterInfos given, sends
# TARGET (the first) a message; its counters must show one relay asked
# and done, one Hole Punch and OUT sessions out (a pattern: the
# introducers it dialled, then the target).  Sets AX (its hash's first
# four bytes in hex).
relay_alice_run() {
	ns=$1 host=$2 port=$3 what=$4 out=$5; shift 5
	netns_exec "$ns" "$ALICE" 77 "$host" "$port" 60 "$@" >"$W/alice.log" 2>&1 &&
		ok "ssu2_alice on $host reached $what with no session beforehand" ||
		bad "ssu2_alice did not reach $what (see $W/alice.log)"
	grep -q "relays asked 1, done 1, refused 0, hole punches 1, sessions out $out\$" "$W/alice.log" &&
		ok "Alice dialled the introducer, was introduced (Relay Response, Hole Punch), then dialled $what" ||
		bad "ssu2_alice's counters say otherwise (see $W/alice.log)"
	AX=$(sed -n 's/^alice: hash //p' "$W/alice.log")
}

# relay_our_alice NS HOST PORT THROUGH SUFFIX: our own Alice ($ALICE) in
# namespace NS on HOST (its only address: IPv4 or IPv6), with no session
# at all, is given bitsd's RouterInfo as it stands and r1's, r4's and
# r5's and sends bitsd a message: it must dial an i2pd introducer, be
# introduced (Relay Response, Hole Punch) and reach bitsd through
# THROUGH; bitsd logs the session "established with <Alice> SUFFIX".
relay_our_alice() {
	cp "$B/router.info" "$W/bitsd-now.ri"
	relay_alice_run "$1" "$2" "$3" "bitsd behind $4" "[234]" "$W/bitsd-now.ri" \
		"$W/r1/router.info" "$W/r4/router.info" "$W/r5/router.info"
	[ -n "$AX" ] && grep -q "Relay Intro for Alice $AX .*code 0, Hole Punch sent" "$B/bitsd.log" &&
		ok "an i2pd introducer relayed our Alice's Relay Request to bitsd" ||
		bad "bitsd logged no Relay Intro for our Alice (see $B/bitsd.log)"
	[ -n "$AX" ] && wait_log "$B/bitsd.log" "inbound session [0-9]* established with $AX$5" 30 &&
		ok "our Alice's session came through $4 to bitsd" ||
		bad "no inbound session from our Alice (see $B/bitsd.log)"
	relay_first_i2np "$AX" 30 "our Alice's message arrived over the relayed session"
}
