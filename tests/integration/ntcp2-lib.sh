# Helpers for the NTCP2 integration tests (sourced after i2pd-lib.sh).
BITSD="${top_builddir:-.}/apps/bitsd"
BPID=""

# b64_hex4 B64HASH: the first 4 bytes of an I2P-Base64 hash, as hex (how
# bitsd abbreviates hashes in its log)
b64_hex4() {
	python3 -c "import base64,sys; print(base64.b64decode(sys.argv[1], altchars=b'-~')[:4].hex())" "$1"
}

# console_has HTTP PATTERN [WAIT]: 0 when i2pd's transports page contains
# PATTERN, asking again for up to WAIT seconds
console_has() {
	python3 -c "$I2PD_PAGE_WAIT" "http://$1/?page=transports" "$2" "" "${3:-0}"
}

# console_routers HTTP: the "Routers" count on i2pd's main page
console_routers() {
	python3 - "$1" <<'PY'
import sys, re, urllib.request
t = urllib.request.urlopen('http://%s/' % sys.argv[1], timeout=10).read().decode('utf-8', 'replace')
m = re.search(r'<b>Routers:</b>\s*(\d+)', t)
print(m.group(1) if m else 0)
PY
}

# seed_netdb NETDIR DEST: copy the testnet's RouterInfos into DEST/netDb
seed_netdb() {
	for f in "$1"/seed/routerInfo-*.dat; do
		b=$(basename "$f"); c=$(printf %s "$b" | cut -c12)
		mkdir -p "$2/netDb/r$c" && cp "$f" "$2/netDb/r$c/"
	done
}

# bitsd_start DATADIR HOST PORT [FLAG...]: run bitsd in the background
# (debug log)
bitsd_start() {
	bsd=$1 bsh=$2 bsp=$3; shift 3
	"$BITSD" --datadir "$bsd" --host "$bsh" --port "$bsp" --netid 77 \
		--loglevel debug --logfile "$bsd/bitsd.log" "$@" >"$bsd/stdout.log" 2>&1 &
	BPID=$!
}

# bitsd_stop: SIGTERM, bounded wait; 0 when it exited with status 0
bitsd_stop() {
	[ -n "$BPID" ] || return 1
	kill -TERM "$BPID" 2>/dev/null
	i=0
	while kill -0 "$BPID" 2>/dev/null && [ $i -lt 120 ]; do sleep 0.25; i=$((i + 1)); done
	kill -KILL "$BPID" 2>/dev/null && { BPID=""; return 1; }
	wait "$BPID"; rc=$?; BPID=""
	return $rc
}

# count_sessions LOG DIRECTION HEX4...: how many of the peers have an
# "<direction> session with <hex4> is up" line
count_sessions() {
	log=$1; dir=$2; shift 2; k=0
	for h in "$@"; do grep -q "$dir session with $h is up" "$log" 2>/dev/null && k=$((k + 1)); done
	echo $k
}

# log_clean LOG: no warning, error or BUG line
log_clean() {
	! grep -E '\[(warn|error)\]|BUG' "$1"
}

# bitsd_finish LABEL DIR: stop the bitsd $BPID whose datadir is DIR (log
# and stdout there) and check it stopped cleanly, with no warning, error,
# BUG or sanitizer report
bitsd_finish() {
	bitsd_stop && ok "bitsd $1 stopped cleanly" || bad "bitsd $1 did not stop cleanly"
	log_clean "$2/bitsd.log" >/dev/null && ok "no warning, error or BUG in log $1" ||
		bad "bitsd $1 logged: $(log_clean "$2/bitsd.log" | head -3)"
	grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$2/stdout.log" &&
		bad "sanitizer report (see $2/stdout.log)" || ok "no sanitizer report from $1"
}

# seed_ri RIFILE DEST: put the RouterInfo file RIFILE into DEST/netDb
seed_ri() {
	sri_h=$(ri_b64hash "$1"); sri_c=$(printf %s "$sri_h" | cut -c1)
	mkdir -p "$2/netDb/r$sri_c" && cp "$1" "$2/netDb/r$sri_c/routerInfo-$sri_h.dat"
}

# bitsd_mesh W HOSTPREFIX HOSTBASE PORTBASE [TOP [TAIL]]: four bitsd
# datadirs W/b1..b4 (router n on HOSTPREFIX.(HOSTBASE+n), NTCP2 port
# PORTBASE+n) made with --init, each with the others' RouterInfos and a
# bits.conf of one-hop exploratory and client tunnels, with the lines TOP
# before its first section and TAIL after its last; 1 when an --init fails
bitsd_mesh() {
	for n in 1 2 3 4; do
		mkdir -p "$1/b$n"
		"$BITSD" --datadir "$1/b$n" --host "$2.$(($3 + n))" \
			--port $(($4 + n)) --netid 77 --init >"$1/b$n/init.log" 2>&1 ||
			{ bad "bitsd --init failed for router $n"; return 1; }
	done
	for n in 1 2 3 4; do
		for m in 1 2 3 4; do
			[ $m = $n ] || seed_ri "$1/b$m/router.info" "$1/b$n"
		done
		cat >"$1/b$n/bits.conf" <<CONF
${5:-}
[exploratory]
inbound.length = 1
outbound.length = 1
inbound.quantity = 2
outbound.quantity = 2
[tunnels]
same-subnet = true
[sam]
hops = 1
${6:-}
CONF
	done
}

# bitsd_mesh_stop W: stop routers $P1..$P4 (pids) of bitsd_mesh in turn;
# each must exit cleanly, with no sanitizer report in W/bN/stdout.log
bitsd_mesh_stop() {
	for n in 1 2 3 4; do
		eval "BPID=\$P$n"
		bitsd_stop && ok "bitsd $n stopped cleanly" || bad "bitsd $n did not stop cleanly"
		grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$1/b$n/stdout.log" &&
			bad "sanitizer report from $n (see $1/b$n/stdout.log)" ||
			ok "no sanitizer report from $n"
	done
}

# The checks both i2pd tests end with, once every session is up.  Needs
# W (the test's directory), B (bitsd's datadir), OUR4 (first 4 Base64
# chars of our hash), HEX (the routers' hashes as b64_hex4), IDLE_S, and
# testnet.env sourced.
#  - each i2pd's console lists the session;
#  - each i2pd's RouterInfo reached bitsd over NTCP2 ("kept RouterInfo");
#  - each i2pd knows ours (6 routers + us);
#  - the sessions survive IDLE_S idle seconds (keepalives only);
#  - bitsd stops cleanly, with no warning, BUG or sanitizer report.
# crossed N: i2pd rN met simultaneous dials with bitsd ("already exists",
# then Dropped or Replaced; i2pd 2.45.1 may then leave the session it kept
# off its console) and bitsd's session with it came up and never went down
crossed() {
	h=$(echo $HEX | cut -d' ' -f"$1")
	grep -q "Session with $OUR4[^ ]* already exists" "$NET/r$1/i2pd.log" 2>/dev/null &&
		grep -q "session with $h is up" "$B/bitsd.log" &&
		! grep -q "session with $h is down" "$B/bitsd.log"
}

# bitsd's flags in both i2pd tests: its own idle timeout (5 minutes
# without I2NP) past the tests' end, since a router that sends us nothing
# is closed by it, rightly, 300 s after its session came up, which a
# loaded check reached before the idle check below
NTCP2_I2PD_FLAGS="--ntcp2.idle-timeout 900"

ntcp2_common_checks() {
	for n in 1 2 3 4 5 6; do
		eval "http=\$R${n}_HTTP"
		if console_has "$http" "$OUR4:" 10; then
			ok "r$n's console lists the session"
		elif crossed $n; then
			ok "r$n replaced or dropped a crossing duplicate (then off its console); bitsd's session with it is up"
		else
			# what each side holds unread or unsent on the pair's TCP
			# connections (a Recv-Q at i2pd's port: it never read our
			# SessionConfirmed), kept beside the logs
			eval "port=\$R${n}_PORT"
			ss -tnoi "( sport = :$port or dport = :$port )" >"$W/ss-r$n.txt" 2>&1
			ss -tn "( sport = :$port or dport = :$port )" 2>&1 | sed 's/^/note ss: /'
			bad "r$n's console does not list our session (sockets: $W/ss-r$n.txt)"
		fi
	done
	n=0
	for h in $HEX; do
		n=$((n + 1))
		grep -q "kept RouterInfo $h" "$B/bitsd.log" &&
			ok "r$n's RouterInfo reached bitsd over NTCP2" ||
			bad "r$n's RouterInfo did not reach bitsd"
	done
	for n in 1 2 3 4 5 6; do
		eval "http=\$R${n}_HTTP"
		i=0
		while [ "$(console_routers "$http")" -lt 7 ] && [ $i -lt 20 ]; do
			sleep 0.5; i=$((i + 1))
		done
		[ "$(console_routers "$http")" -ge 7 ] && ok "r$n knows our RouterInfo" ||
			bad "r$n does not know our RouterInfo"
	done
	sleep "$IDLE_S"
	grep -q "is down" "$B/bitsd.log" && bad "a session went down while idle" ||
		ok "no session went down in $IDLE_S idle seconds"
	for n in 1 2 3 4 5 6; do
		eval "http=\$R${n}_HTTP"
		if console_has "$http" "$OUR4:"; then
			ok "r$n still lists the session after $IDLE_S s"
		elif crossed $n; then
			ok "r$n: the session kept after a crossing duplicate is still up at bitsd after $IDLE_S s"
		else
			bad "r$n dropped the session while idle"
		fi
	done
	bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
	log_clean "$B/bitsd.log" && ok "no warning, error or BUG in bitsd's log" ||
		bad "bitsd logged a warning, error or BUG"
	grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
		bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
}
