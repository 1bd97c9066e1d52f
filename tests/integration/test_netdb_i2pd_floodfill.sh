#!/bin/sh
# bitsd as the only floodfill of an i2pd 2.45.1 testnet (issue [D]):
#  1. 4 i2pd routers with floodfill off, each seeded with our RouterInfo
#     only; bitsd runs with --floodfill;
#  2. every i2pd publishes its RouterInfo to us: bitsd stores it, and i2pd
#     logs "Publishing confirmed" (our DeliveryStatus reached it);
#  3. they find each other through us (their consoles count every router);
#  4. a LeaseSet2 from a real i2pd destination: r1 runs a server tunnel
#     (its destination publishes its LeaseSet to us, the only floodfill,
#     and i2pd logs the publish as confirmed); r2 runs a client tunnel to
#     it, finds the LeaseSet through us, and an HTTP request goes through
#     i2pd's tunnels and streaming to a local web server behind r1;
#  5. bitsd answered lookups, and stops cleanly with no warning, error,
#     BUG or sanitizer report.
# Everything stays on 127.0.0.0/8.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_netdb_i2pd_floodfill
W=$(mktemp -d "${TMPDIR:-/tmp}/netdb-ff.XXXXXX")
B=$W/bitsd
HOST=127.0.0.190
PORT=25950
N=4
cleanup() {
	[ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
	[ -n "$WWW_PID" ] && kill "$WWW_PID" 2>/dev/null
	for n in $(seq 1 $N); do i2pd_stop "$W/r$n"; done
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
need_i2pd $NAME
umask 077

mkdir -p "$B"
if ! "$BITSD" --datadir "$B" --init --netid 77 --host $HOST --port $PORT \
	--floodfill >"$W/init.log" 2>&1; then
	bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1
fi
python3 - "$B/router.info" <<'PY' && ok "our RouterInfo says floodfill (caps f)" || bad "no 'f' in our caps"
import sys
d = open(sys.argv[1], 'rb').read()
sys.exit(0 if b'caps' in d and b'LfR' in d else 1)
PY
# i2pd routers that are not floodfills, each knowing only our RouterInfo
# (i2pd-lib.sh's standalone config, with the web console on).
OURS=$(ri_b64hash "$B/router.info")
c=$(printf %s "$OURS" | cut -c1)
for n in $(seq 1 $N); do
	d="$W/r$n"; mkdir -p "$d/netDb/r$c"
	i2pd_conf "$d" 127.0.0.18$n 2590$n ""
	python3 - "$d/i2pd.conf" 127.0.0.18$n 2600$n <<'PY'
import sys
p, ip, port = sys.argv[1:4]
t = open(p).read().replace('[http]\nenabled = false',
    '[http]\nenabled = true\naddress = %s\nport = %s' % (ip, port))
# high-bandwidth caps, so i2pd takes these routers as client tunnel hops
t = t.replace('[ntcp2]\n', 'bandwidth = X\nshare = 100\n[ntcp2]\n', 1)
open(p, 'w').write(t)
PY
	cp "$B/router.info" "$d/netDb/r$c/routerInfo-$OURS.dat"
done
# r1 hosts a destination: a server tunnel to a local web server, one-hop
# tunnels (5 routers in all); debug log for "Publishing LeaseSet confirmed".
sed -i 's/^loglevel = info/loglevel = debug/' "$W/r1/i2pd.conf"
cat > "$W/r1/tunnels.conf" <<CONF
[srv]
type = server
host = 127.0.0.181
port = 26021
keys = srv.dat
inbound.length = 1
outbound.length = 1
CONF
mkdir -p "$W/www"
TOKEN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
echo "$TOKEN" > "$W/www/token.txt"
python3 -m http.server 26021 --bind 127.0.0.181 --directory "$W/www" \
	>"$W/www.log" 2>&1 &
WWW_PID=$!
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 --floodfill \
	--loglevel debug --logfile "$B/bitsd.log" --reseed.threshold 1 \
	>"$B/stdout.log" 2>&1 &
BPID=$!
for n in $(seq 1 $N); do i2pd_start "$W/r$n"; done
wait_log "$B/bitsd.log" "acting as a floodfill" 10 && ok "bitsd runs as a floodfill" ||
	bad "bitsd is not a floodfill"
for n in $(seq 1 $N); do
	i=0
	while [ ! -s "$W/r$n/router.info" ] && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
	eval "R${n}_HASH=$(ri_b64hash "$W/r$n/router.info")"
	eval "R${n}_HTTP=127.0.0.18$n:2600$n"
done

# ---- 2. every i2pd publishes to us ----
for n in $(seq 1 $N); do
	if wait_log "$W/r$n/i2pd.log" "Publishing confirmed" 120; then
		ok "r$n: i2pd logged \"Publishing confirmed\" (our DeliveryStatus)"
	else
		bad "r$n never confirmed a publish to us"
	fi
done
for n in $(seq 1 $N); do
	eval "b64=\$R${n}_HASH"
	c=$(printf %s "$b64" | cut -c1)
	i=0
	while [ ! -f "$B/netDb/r$c/routerInfo-$b64.dat" ] && [ $i -lt 40 ]; do sleep 0.5; i=$((i + 1)); done
	[ -f "$B/netDb/r$c/routerInfo-$b64.dat" ] && ok "bitsd stored r$n's RouterInfo" ||
		bad "bitsd does not hold r$n's RouterInfo"
done

# ---- 3. they find each other through us ----
all=$((N + 1))
i=0
while [ $i -lt 240 ]; do
	k=0
	for n in $(seq 1 $N); do
		eval "http=\$R${n}_HTTP"
		[ "$(console_routers "$http")" -ge $all ] && k=$((k + 1))
	done
	[ $k -eq $N ] && break
	sleep 1; i=$((i + 1))
done
for n in $(seq 1 $N); do
	eval "http=\$R${n}_HTTP"
	got=$(console_routers "$http")
	[ "$got" -ge $all ] && ok "r$n's netDb holds all $all routers" ||
		bad "r$n's netDb holds $got of $all routers"
done
# ---- 4. a LeaseSet from a real i2pd destination ----
i=0
while [ ! -s "$W/r1/srv.dat" ] && [ $i -lt 80 ]; do sleep 0.25; i=$((i + 1)); done
B32=$(python3 - "$W/r1/srv.dat" <<'PY'
import sys, hashlib, base64, struct
d = open(sys.argv[1], 'rb').read()
cl = struct.unpack('>H', d[385:387])[0]
h = hashlib.sha256(d[:387 + cl]).digest()
print(base64.b32encode(h).decode().lower().rstrip('='))
PY
)
DHASH=$(python3 -c "import base64,sys; print(base64.b32decode(sys.argv[1].upper() + '====')[:4].hex())" "$B32")
if i2pd_wait_published "$W/r1" 180; then
	ok "r1's destination $B32.b32.i2p published its LeaseSet to us (confirmed)"
else
	bad "r1 never confirmed a LeaseSet publish"
	grep -E 'Destination: .*(Publish|publish)' "$W/r1/i2pd.log" | head -8
	grep -E 'reply \(type 10\)' "$B/bitsd.log" | head -8
fi
grep -q "kept LeaseSet $DHASH" "$B/bitsd.log" &&
	ok "bitsd verified and stored the LeaseSet ($(grep -m1 "kept LeaseSet $DHASH" "$B/bitsd.log" | sed 's/.*(//; s/)//'))" ||
	bad "bitsd did not store r1's LeaseSet"
cat > "$W/r2/tunnels.conf" <<CONF
[cli]
type = client
address = 127.0.0.182
port = 26022
destination = $B32.b32.i2p
inbound.length = 1
outbound.length = 1
CONF
kill -HUP "$(cat "$W/r2/pid")"	# i2pd reloads tunnels.conf
got=""
i=0
while [ "$got" != "$TOKEN" ] && [ $i -lt 30 ]; do
	got=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.182:26022/token.txt', timeout=10).read().decode().strip())" 2>/dev/null)
	[ "$got" = "$TOKEN" ] || sleep 3
	i=$((i + 1))
done
[ "$got" = "$TOKEN" ] &&
	ok "r2 found the LeaseSet through us and fetched a page from r1's destination" ||
	bad "no page from r1's destination through r2 (got \"$got\")"
a=$(grep -c "answered with a DatabaseStore" "$B/bitsd.log")
s=$(grep -c "answered with a DatabaseSearchReply" "$B/bitsd.log")
[ "$a" -ge 1 ] && ok "bitsd answered $a lookups with the entry and $s with a DatabaseSearchReply" ||
	bad "bitsd answered no lookup with an entry ($s search replies)"

# ---- 5. clean ----
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
log_clean "$B/bitsd.log" && ok "no warning, error or BUG in bitsd's log" ||
	{ bad "bitsd logged a warning, error or BUG"; grep -E '\[(warn|error)\]|BUG' "$B/bitsd.log" | head -5; }
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
