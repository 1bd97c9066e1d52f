# Helpers for integration tests that run Debian's i2pd (sourced).
# Every i2pd here is jailed to loopback by tools/i2pd-lo-shim.c and stopped
# by the PID we recorded.  Set W (work dir) before sourcing.
I2PD_BIN=${I2PD_BIN:-/usr/sbin/i2pd}
TESTNET="${top_srcdir:-.}/tools/i2pd-testnet"
PASS=0
FAIL=0
I2PD_PIDS=""

ok() { echo "ok   $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAIL=$((FAIL + 1)); }
result() { echo "RESULT $1: $PASS passed, $FAIL failed"; [ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]; }

need_i2pd() {
	[ -x "$I2PD_BIN" ] || { bad "i2pd not installed at $I2PD_BIN (tools/check installs it)"; result "$1"; exit 1; }
}

shim_so() {
	if [ ! -f "$W/shim.so" ]; then
		cc -shared -fPIC -O2 -o "$W/shim.so" "${top_srcdir:-.}/tools/i2pd-lo-shim.c" -ldl ||
			{ echo "cannot build the loopback shim" >&2; return 1; }
	fi
	echo "$W/shim.so"
}

# i2pd_conf DIR IP PORT [extra lines for [reseed]]: a standalone loopback i2pd
i2pd_conf() {
	cat > "$1/i2pd.conf" <<CONF
log = file
logfile = $1/i2pd.log
loglevel = info
daemon = false
ipv4 = true
ipv6 = false
nat = false
host = $2
address4 = $2
port = $3
netid = 77
reservedrange = false
[ntcp2]
enabled = true
published = true
[ssu2]
enabled = false
[http]
enabled = false
[httpproxy]
enabled = false
[socksproxy]
enabled = false
[sam]
enabled = false
[bob]
enabled = false
[i2cp]
enabled = false
[i2pcontrol]
enabled = false
[upnp]
enabled = false
[nettime]
enabled = false
[persist]
profiles = false
addressbook = false
[addressbook]
enabled = true
defaulturl = http://no-subscription.testnet.i2p/hosts.txt
subscriptions = http://no-subscription.testnet.i2p/hosts.txt
[reseed]
verify = false
urls =
yggurls =
$4
CONF
}

# i2pd_start DIR: start i2pd on DIR/i2pd.conf in the background, record its PID.
# The shim maps the router's own NTCP2 port (the conf's `port`), so i2pd
# routers accept each other's loopback connections (tools/i2pd-lo-shim.c).
i2pd_start() {
	so=$(shim_so) || return 1
	port=$(sed -n 's/^port *= *//p' "$1/i2pd.conf" | head -1)
	LD_PRELOAD="$so${LD_PRELOAD:+ $LD_PRELOAD}" I2PD_SHIM_LOG="$1/shim.log" \
		I2PD_SHIM_MAP_PORTS="${I2PD_SHIM_MAP_PORTS:+$I2PD_SHIM_MAP_PORTS,}$port" \
		"$I2PD_BIN" --conf="$1/i2pd.conf" --datadir="$1" >"$1/stdout.log" 2>&1 &
	echo $! > "$1/pid"
	I2PD_PIDS="$I2PD_PIDS $!"
}

# i2pd_stop DIR
i2pd_stop() {
	[ -f "$1/pid" ] || return 0
	pid=$(cat "$1/pid")
	kill -TERM "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 60 ]; do
		grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
		sleep 0.25; i=$((i + 1))
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$1/pid"
}

# wait_log FILE PATTERN SECONDS: 0 when PATTERN appears in FILE in time
wait_log() {
	i=0
	while [ $i -lt $(($3 * 4)) ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.25; i=$((i + 1))
	done
	return 1
}

# i2pd_wait_published DIR SECONDS [FILE PATTERN]: 0 once the i2pd in DIR
# (logging at debug, one published destination from its tunnels.conf)
# confirms a LeaseSet store, or PATTERN appears in FILE.  i2pd 2.45.1 tries to publish only when the
# destination's inbound tunnels change: when the last of them is built
# before any outbound one, it logs "Destination is not ready" and tries
# again only when that tunnel is replaced, about 9 minutes later (a
# tools/check under load: r1 published 9.8 minutes after its start, past
# test_proxy_i2pd's waits).  Found stuck that way (its last try "not
# ready" and none for 60 s), the destination is made anew once: its
# tunnel taken out of tunnels.conf and put back, with a SIGHUP each time
# (i2pd drops a destination no tunnel uses and makes a new one, with a
# new tunnel pool, from the same keys); a note says so.  (Restarting the
# router instead can leave it with no floodfill: its dial and bitsd's
# cross at its start, and i2pd marks the floodfill unreachable.)
i2pd_wait_published() {
	wp_log=$1/i2pd.log wp_end=$(($(date +%s) + $2)) wp_mark=1
	wp_seen=-1 wp_since=$(date +%s) wp_again=""
	while [ "$(date +%s)" -lt $wp_end ]; do
		read -r wp_ok wp_n wp_last <<-EOF
		$(tail -n +$wp_mark "$wp_log" 2>/dev/null | awk '
			/Publishing LeaseSet confirmed/ { ok = 1 }
			/Destination is not ready|Destination: Publish LeaseSet of/ {
				n++; last = /not ready/ ? "notready" : "try" }
			END { print ok + 0, n + 0, last "-" }')
		EOF
		[ "$wp_ok" = 1 ] && return 0
		[ -z "${4:-}" ] || ! grep -q -- "$4" "$3" 2>/dev/null || return 0
		wp_now=$(date +%s)
		if [ "$wp_n" != "$wp_seen" ]; then
			wp_seen=$wp_n wp_since=$wp_now
		elif [ "$wp_last" = notready- ] && [ -z "$wp_again" ] &&
		     [ $((wp_now - wp_since)) -ge 60 ]; then
			echo "note $1: i2pd's destination stuck \"not ready\" for 60 s: made anew"
			mv "$1/tunnels.conf" "$1/tunnels.conf.stuck"
			: >"$1/tunnels.conf"
			kill -HUP "$(cat "$1/pid")"
			sleep 3
			mv "$1/tunnels.conf.stuck" "$1/tunnels.conf"
			wp_mark=$(($(wc -l <"$wp_log") + 1))
			kill -HUP "$(cat "$1/pid")"
			wp_again=1 wp_seen=-1
		fi
		sleep 1
	done
	return 1
}

# python3 -c "$I2PD_PAGE_WAIT" URL PATTERN SECTION WAIT: 0 when the i2pd
# console page URL has PATTERN (after SECTION when not empty), asking
# again for up to WAIT seconds (i2pd lists a session a moment after our
# side logs it up; a loaded machine answers late)
I2PD_PAGE_WAIT='
import sys, time, urllib.request
url, pat, sec = sys.argv[1:4]
end = time.time() + float(sys.argv[4])
while True:
    try:
        t = urllib.request.urlopen(url, timeout=10).read().decode("utf-8", "replace")
        i = t.find(sec) if sec else 0
        if i >= 0 and pat in t[i:]:
            sys.exit(0)
    except OSError:
        pass
    if time.time() > end:
        sys.exit(1)
    time.sleep(0.5)
'

# The EXIT trap of a test running bitsd ($BPID) beside an i2pd testnet
# ($NET) in the work directory $W, kept when a check failed.
testnet_cleanup() {
	[ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
	"$TESTNET" down "$NET" >/dev/null 2>&1
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}

# testnet_up_2ff N IP_BASE BASE_PORT: an i2pd testnet of N routers, 2 of
# them floodfills, in $NET, its env sourced; ends the test ($NAME) when
# it does not start
testnet_up_2ff() {
	if ! "$TESTNET" up "$1" "$NET" --ip-base "$2" --base-port "$3" \
		--floodfills 2 --loglevel info >"$W/testnet.log" 2>&1; then
		bad "$1-router i2pd testnet did not start (see $W/testnet.log)"
		result $NAME; exit 1
	fi
	. "$NET/testnet.env"
}

# api_num PORT PATH: a number from the /api/status of the bitsd whose API
# is on 127.0.0.1:PORT, PATH dotted (tunnels.own.inbound); 0 when absent
api_num() {
	python3 - "$1" "$2" <<'PY'
import sys, json, urllib.request
try:
    s = json.load(urllib.request.urlopen('http://127.0.0.1:%s/api/status' % sys.argv[1], timeout=10))
    for k in sys.argv[2].split('.'):
        s = s[k]
    print(int(s))
except Exception:
    print(0)
PY
}
# wait_api PORT PATH MIN SECONDS: 0 when api_num PORT PATH reaches MIN in time
wait_api() {
	i=0
	while [ "$(api_num "$1" "$2")" -lt "$3" ] && [ $i -lt "$4" ]; do sleep 1; i=$((i + 1)); done
	[ "$(api_num "$1" "$2")" -ge "$3" ]
}
# own FIELD: a number from bitsd's /api/status tunnels.own on port $API
# (0 when absent)
own() { api_num "$API" "tunnels.own.$1"; }
# wait_own FIELD MIN SECONDS: 0 when own FIELD reaches MIN in time
wait_own() {
	i=0
	while [ "$(own "$1")" -lt "$2" ] && [ $i -lt "$3" ]; do sleep 1; i=$((i + 1)); done
	[ "$(own "$1")" -ge "$2" ]
}

# i2pd_has_transit HTTP ID: 0 when the i2pd console at HTTP lists a
# transit tunnel receiving on ID
i2pd_has_transit() {
	python3 - "$1" "$2" <<'PY'
import sys, re, urllib.request
t = urllib.request.urlopen('http://%s/?page=transit_tunnels' % sys.argv[1], timeout=10).read().decode('utf-8', 'replace')
sys.exit(0 if re.search(r'(^|[\s;>])%s[\s&]' % sys.argv[2], t, re.M) else 1)
PY
}

# wait_stored_via_tunnel LOG SECONDS: 0 when bitsd's LOG shows our
# RouterInfo stored through a tunnel, then a DeliveryStatus out of an
# inbound tunnel and a publish confirmation, in time
stored_via_tunnel() {
	awk '/storing our RouterInfo to .* through a tunnel/ { s = 1 }
	     s && /DeliveryStatus from an inbound tunnel to the netDb/ { d = 1 }
	     s && d && /our RouterInfo is published \(confirmed by/ { f = 1 }
	     END { exit !f }' "$1"
}
wait_stored_via_tunnel() {
	i=0
	while ! stored_via_tunnel "$1" && [ $i -lt "$2" ]; do sleep 1; i=$((i + 1)); done
	stored_via_tunnel "$1"
}

# ri_b64hash FILE: I2P-Base64 SHA-256 of the RouterIdentity in a RouterInfo
ri_b64hash() {
	python3 - "$1" <<'PY'
import sys, hashlib, base64, struct
d = open(sys.argv[1], 'rb').read()
cl = struct.unpack('>H', d[385:387])[0]
print(base64.b64encode(hashlib.sha256(d[:387 + cl]).digest(), altchars=b'-~').decode())
PY
}

# make_zip ZIP FILE NAME: a reseed zip holding FILE as NAME
make_zip() {
	python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.write(sys.argv[2], sys.argv[3]); z.close()" "$1" "$2" "$3"
}
