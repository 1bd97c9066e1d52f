#!/bin/sh
# b33 addresses (encrypted LeaseSets) through our proxies, with i2pd 2.45.1:
#  1. bitsd (the only floodfill, `proxy = true` with zero-hop tunnels by
#     proxy.hops, its client key proxy.leaseset-key) and one i2pd r1;
#     r1 hosts four sites with i2cp.leaseSetType = 5: for everybody,
#     per-client DH (our key is listed) and two per-client PSK ones
#     (neither is our proxy key; proxy.site-keys gives the first's);
#     bitsd hosts three web sites with encrypted LeaseSets: for everybody,
#     per-client DH (r1's HTTP proxy key is not listed) and one blinded
#     with a lookup secret (i2cp.leaseSetSecret; proxy.leaseset-secret);
#  2. curl through our HTTP proxy fetches r1's open and DH sites
#     byte-exact by their b33 addresses, and the first PSK site with its
#     own key from proxy.site-keys (a file others may read is refused at
#     start); the second PSK site gets our 403 page "no access" (no key
#     of ours opens it), and a client tunnel from tunnels.conf with
#     i2cp.leaseSetPrivKey = the first PSK fetches that site;
#  3. our HTTP proxy and SOCKS proxy fetch bitsd's own encrypted sites,
#     the one with the lookup secret too;
#  4. r1's HTTP proxy fetches bitsd's open encrypted site (our blinding,
#     signature and layers, opened by i2pd);
#  5. bitsd stops cleanly, with no sanitizer report.
# Everything stays on 127.0.0.0/8: 127.0.0.88-89, ports 28920-28922,
# 28926 and 127.0.0.1:28923-28925.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/proxy-lib.sh"
NAME=test_proxy_b33
FETCH_SECS=180
TOOL="${top_builddir:-.}/tests/integration/dest_keys_tool"
W=$(mktemp -d "${TMPDIR:-/tmp}/proxy-b33.XXXXXX")
B=$W/bitsd
HOST=127.0.0.88
PORT=28920
R=127.0.0.89
HTTP=127.0.0.1:28923
SOCKS=127.0.0.1:28924
CLI=127.0.0.1:28925
WEB_PID=""
BPID=""
cleanup() {
	[ -z "$WEB_PID" ] || kill "$WEB_PID" 2>/dev/null
	[ -z "$BPID" ] || kill -KILL "$BPID" 2>/dev/null
	i2pd_stop "$W/r1"
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
need_i2pd $NAME
command -v curl >/dev/null || { bad "curl is not installed"; result $NAME; exit 1; }
umask 077
mkdir -p "$B" "$W/ours" "$W/theirs" "$W/r1"
printf '<!DOCTYPE html><h1>encrypted, hosted by bitsd</h1>\n' >"$W/ours/index.html"
head -c 65536 /dev/urandom >"$W/ours/blob.bin"
printf '<!DOCTYPE html><h1>encrypted, hosted by i2pd</h1>\n' >"$W/theirs/index.html"
# our client key (X25519) and a PSK that is not ours
b64() { python3 -c "import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1]), altchars=b'-~').decode())" "$1"; }
DH_SK=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
DH_PK=$("$TOOL" x25519 "$DH_SK")
PSK=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
PSK2=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
OTHER_SK=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
OTHER_PK=$("$TOOL" x25519 "$OTHER_SK")
"$BITSD" --datadir "$B" --init --netid 77 --host $HOST --port $PORT \
	--floodfill >"$W/init.log" 2>&1 ||
	{ bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1; }

# ---- r1: three encrypted sites in front of one web server ----
OURS=$(ri_b64hash "$B/router.info")
c=$(printf %s "$OURS" | cut -c1)
d="$W/r1"; mkdir -p "$d/netDb/r$c"
i2pd_conf "$d" $R 28926 ""
python3 - "$d/i2pd.conf" $R <<'PY'
import sys
p, ip = sys.argv[1:]
t = open(p).read().replace("[httpproxy]\nenabled = false",
    "[httpproxy]\nenabled = true\naddress = %s\nport = 28922\n"
    "inbound.length = 0\noutbound.length = 0" % ip)
open(p, "w").write(t)
PY
cp "$B/router.info" "$d/netDb/r$c/routerInfo-$OURS.dat"
server() {
	printf '[%s]\ntype = server\nhost = %s\nport = 28921\nkeys = %s.dat\n' "$1" $R "$1"
	printf 'inbound.length = 0\noutbound.length = 0\ni2cp.leaseSetType = 5\n'
	shift
	for o in "$@"; do printf '%s\n' "$o"; done
}
{
	server open
	server dh "i2cp.leaseSetAuthType = 1" "i2cp.leaseSetClient.dh.0 = us:$DH_PK"
	server psk "i2cp.leaseSetAuthType = 2" "i2cp.leaseSetClient.psk.0 = them:$(b64 "$PSK")"
	server psk2 "i2cp.leaseSetAuthType = 2" "i2cp.leaseSetClient.psk.0 = them:$(b64 "$PSK2")"
} >"$d/tunnels.conf"
(cd "$W/theirs" && exec python3 -m http.server --bind $R 28921) \
	>"$W/web.log" 2>&1 &
WEB_PID=$!
# r1's keys, made here so that both routers know the addresses at start
for t in open dh psk psk2; do
	k=$("$TOOL" generate)
	printf '%s\n' "$k" | sed -n 's/^priv=//p' |
		python3 -c "import base64,sys; sys.stdout.buffer.write(base64.b64decode(sys.stdin.read().strip(), altchars=b'-~'))" >"$d/$t.dat"
	eval "B33_$t=$(printf '%s\n' "$k" | sed -n 's/^b33=//p')"
done
[ -n "$B33_open" ] && [ -n "$B33_psk2" ] && [ -s "$d/psk2.dat" ] &&
	ok "r1's four encrypted sites: $B33_open, ..." ||
	{ bad "cannot make r1's keys"; result $NAME; exit 1; }

# ---- bitsd: proxies, two encrypted web sites, a client tunnel ----
cat >"$B/bits.conf" <<CONF
proxy = true
[proxy]
http-port = ${HTTP#*:}
socks-port = ${SOCKS#*:}
hops = 0
leaseset-key = $(b64 "$DH_SK")
leaseset-secret = open sesame
site-keys = $B/site-keys
[exploratory]
inbound.length = 0
outbound.length = 0
[tunnels]
same-subnet = true
CONF
cat >"$B/tunnels.conf" <<CONF
[ours]
type = web
root = $W/ours
keys = ours.dat
inbound.length = 0
outbound.length = 0
i2cp.leaseSetType = 5
[ours-dh]
type = web
root = $W/ours
keys = ours-dh.dat
inbound.length = 0
outbound.length = 0
i2cp.leaseSetType = 5
i2cp.leaseSetAuthType = 1
i2cp.leaseSetClient.dh.0 = us:$DH_PK
i2cp.leaseSetClient.dh.1 = $OTHER_PK
[ours-secret]
type = web
root = $W/ours
keys = ours-secret.dat
inbound.length = 0
outbound.length = 0
i2cp.leaseSetType = 5
i2cp.leaseSetSecret = b3BlbiBzZXNhbWU=
[to-psk]
type = client
address = ${CLI%:*}
port = ${CLI#*:}
destination = $B33_psk
destinationport = 28921
inbound.length = 0
outbound.length = 0
i2cp.leaseSetPrivKey = $(b64 "$PSK")
CONF
# r1's first PSK site's own key; refused while others may read the file
printf '# r1\n%s key:%s\n' "$B33_psk" "$(b64 "$PSK")" >"$B/site-keys"
chmod 644 "$B/site-keys"
if ! timeout 60 "$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 \
	--floodfill --logfile "$B/refused.log" >"$B/refused.out" 2>&1 &&
	grep -q "proxy.site-keys: .*readable by others" "$B/refused.log"; then
	ok "bitsd refuses a proxy.site-keys file others may read"
else
	bad "a world-readable proxy.site-keys was not refused (see $B/refused.log)"
fi
chmod 600 "$B/site-keys"
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 --floodfill \
	--loglevel debug --logfile "$B/bitsd.log" --reseed.threshold 1 \
	>"$B/stdout.log" 2>&1 &
BPID=$!
wait_log "$B/bitsd.log" "HTTP proxy on $HTTP" 30 &&
	ok "bitsd runs its proxies on $HTTP and $SOCKS" ||
	{ bad "no proxies in bitsd"; result $NAME; exit 1; }
i2pd_start "$d"
i=0
while { [ ! -s "$B/ours.dat.b33" ] || [ ! -s "$B/ours-dh.dat.b33" ] ||
	[ ! -s "$B/ours-secret.dat.b33" ]; } && [ $i -lt 120 ]; do
	sleep 0.25; i=$((i + 1))
done
OURS_B33=$(cat "$B/ours.dat.b33")
OURS_DH_B33=$(cat "$B/ours-dh.dat.b33")
OURS_SEC_B33=$(cat "$B/ours-secret.dat.b33")
[ ${#OURS_B33} -gt 60 ] && ok "bitsd's encrypted sites: $OURS_B33, $OURS_DH_B33" ||
	bad "no b33 address in $B/ours.dat.b33"

# With B33_MIDNIGHT (test_b33_midnight.sh: the unix time of a midnight
# UTC 2.5 minutes away on a faked clock), everything is published before
# it and fetched after it: r1's encrypted LeaseSets (which i2pd ends at
# midnight, before their inner LeaseSets) stored at bitsd, bitsd's own
# blinded for the day before.
if [ -n "${B33_MIDNIGHT:-}" ]; then
	while [ "$(grep -c 'kept LeaseSet .*(store type 5)' "$B/bitsd.log")" -lt 3 ] &&
	      [ "$(date +%s)" -lt "$B33_MIDNIGHT" ]; do
		sleep 0.25
	done
	t=$(date +%s)
	[ "$(grep -c 'kept LeaseSet .*(store type 5)' "$B/bitsd.log")" -ge 3 ] &&
	[ "$t" -lt "$B33_MIDNIGHT" ] &&
		ok "r1's and bitsd's encrypted LeaseSets out $((B33_MIDNIGHT - t)) s before midnight UTC" ||
		bad "r1's encrypted LeaseSets not stored at bitsd before midnight UTC"
	while [ "$(date +%s)" -le "$B33_MIDNIGHT" ]; do sleep 0.5; done
fi

# ---- 2. r1's encrypted sites through our proxy ----
fetch "HTTP proxy: r1's open encrypted site by b33" "http://$B33_open/" \
	"$W/t1.out" "$W/theirs/index.html" -x "http://$HTTP"
fetch "HTTP proxy: r1's per-client DH site with our key" "http://$B33_dh/" \
	"$W/t2.out" "$W/theirs/index.html" -x "http://$HTTP"
grep -q "proxy: 1 b33 site(s) with a key or secret of their own" "$B/bitsd.log" &&
	fetch "HTTP proxy: r1's PSK site with its own key from proxy.site-keys" \
		"http://$B33_psk/" "$W/t5.out" "$W/theirs/index.html" -x "http://$HTTP" ||
	bad "bitsd did not load proxy.site-keys (see $B/bitsd.log)"
# the second PSK site: found, but no key of ours opens it (403, once found)
end=$(($(date +%s) + 120)) code=""
while [ "$(date +%s)" -lt $end ]; do
	code=$(curl -s -m 60 -o "$W/t3.out" -w '%{http_code}' -x "http://$HTTP" "http://$B33_psk2/")
	[ "$code" = 403 ] && break
	sleep 2
done
[ "$code" = 403 ] && grep -q "no access" "$W/t3.out" &&
	ok "HTTP proxy: r1's other PSK site refuses us with the 403 page" ||
	bad "HTTP proxy: r1's other PSK site answered $code"
fetch "client tunnel with i2cp.leaseSetPrivKey: r1's PSK site" \
	"http://$CLI/" "$W/t4.out" "$W/theirs/index.html"

# ---- 3. bitsd's own encrypted sites ----
fetch "HTTP proxy: bitsd's open encrypted site" "http://$OURS_B33/" \
	"$W/o1.out" "$W/ours/index.html" -x "http://$HTTP"
fetch "SOCKS proxy: bitsd's open encrypted site, 64 KiB" \
	"http://$OURS_B33/blob.bin" "$W/o2.out" "$W/ours/blob.bin" \
	--socks5-hostname "$SOCKS"
fetch "HTTP proxy: bitsd's per-client DH site with our key" \
	"http://$OURS_DH_B33/" "$W/o3.out" "$W/ours/index.html" -x "http://$HTTP"
# blinded with "open sesame" (the address says "secret required"), which
# the proxy has: found only under the key blinded with it
fetch "HTTP proxy: bitsd's site blinded with a lookup secret" \
	"http://$OURS_SEC_B33/" "$W/o4.out" "$W/ours/index.html" -x "http://$HTTP"

# ---- 4. i2pd opens ours ----
fetch "r1's HTTP proxy: bitsd's open encrypted site" "http://$OURS_B33/" \
	"$W/i1.out" "$W/ours/index.html" -x "http://$R:28922"

# ---- 5. clean ----
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
BPID=""
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
