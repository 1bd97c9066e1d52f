#!/bin/sh
# The HTTP and SOCKS proxies in bitsd over its own tunnels, no i2pd:
#  1. one bitsd (floodfill, zero-hop tunnels, `proxy = true`) hosts a
#     folder with its built-in web server as a hidden service
#     (tunnels.conf type = web, persistent keys, the b32 in site.dat.b32);
#  2. curl through our HTTP proxy, SOCKS5 (names to the proxy) and SOCKS4a
#     fetches its pages by b32 name: garlic through the zero-hop tunnels
#     to the LeaseSet bitsd published to itself; 1 MiB byte-exact, a
#     range (206), an image with its MIME type;
#  3. clearnet is refused without an outproxy: an error page (HTTP 403)
#     or a SOCKS refusal, and a canary listener on the URL's address gets
#     no connection; an unknown .i2p name gets the 404 page;
#  4. names never reach the system resolver: bitsd runs under strace and
#     never opens resolv.conf, hosts or nsswitch.conf, nor connects to
#     port 53 or to the canary;
#  5. bitsd stops cleanly with no warning or error logged.
# 127.0.0.240-241, ports 28401, 28411 (canary), 127.0.0.1:28441-28442.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-proxy.XXXXXX")
. "$top_srcdir/tests/integration/i2pd-lib.sh"	# ok, bad, result
. "$top_srcdir/tests/integration/ntcp2-lib.sh"	# log_clean
NAME=test_proxy_local
B=$W/bitsd
HOST=127.0.0.240
PORT=28401
CANARY=127.0.0.241:28411
HTTP=127.0.0.1:28441
SOCKS=127.0.0.1:28442
BPID=""
CPID=""
TPID=""
cleanup() {
	[ -z "$TPID" ] || kill -KILL "$TPID" 2>/dev/null
	[ -z "$BPID" ] || kill -KILL "$BPID" 2>/dev/null
	[ -z "$CPID" ] || kill "$CPID" 2>/dev/null
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT INT TERM
for tool in curl strace python3; do
	command -v $tool >/dev/null ||
		{ bad "$tool is not installed"; result $NAME; exit 1; }
done

umask 077
mkdir -p "$B" "$W/site"
printf '<!DOCTYPE html><h1>hosted by bitsd</h1><img src="a.png">\n' \
	>"$W/site/index.html"
head -c 1048576 /dev/urandom >"$W/site/big.bin"
printf '\211PNG\r\n\032\n' >"$W/site/a.png"
"$BITSD" --datadir "$B" --init --netid 77 --host $HOST --port $PORT \
	--floodfill >"$W/init.log" 2>&1 ||
	{ bad "bitsd --init failed"; result $NAME; exit 1; }
cat >"$B/bits.conf" <<CONF
host = $HOST
port = $PORT
proxy = true
[proxy]
http-port = ${HTTP#*:}
socks-port = ${SOCKS#*:}
[exploratory]
inbound.length = 0
outbound.length = 0
[sam]
hops = 0
CONF
cat >"$B/tunnels.conf" <<CONF
[site]
type = web
root = $W/site
keys = site.dat
CONF

# The canary: counts connections on the clearnet address we ask for.
python3 - "$CANARY" "$W/canary.log" <<'PY' &
import socket, sys
host, port = sys.argv[1].split(':')
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, int(port))); s.listen(8)
open(sys.argv[2], 'w').write('listening\n')
while True:
    c, _ = s.accept()
    open(sys.argv[2], 'a').write('connection\n'); c.close()
PY
CPID=$!

# (LeakSanitizer cannot run under ptrace: leaks are checked by the unit
# tests and test_proxy_i2pd; other sanitizer reports still fail this.)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
strace -f -qq -o "$W/strace.log" -e trace=connect,open,openat,sendto \
	sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$W/bitsd.pid" \
	"$BITSD" --datadir "$B" --loglevel info --logfile "$B/bitsd.log" \
	>"$W/stdout.log" 2>&1 &
BPID=$!	# strace, which exits with bitsd's status
i=0
until [ -s "$W/bitsd.pid" ] || [ $i -gt 300 ]; do sleep 0.1; i=$((i + 1)); done
TPID=$(cat "$W/bitsd.pid" 2>/dev/null)	# bitsd (the shell exec'd it)
wait_log "$B/bitsd.log" "HTTP proxy on 127.0.0.1:${HTTP#*:}" 60 ||
	{ bad "the proxies did not start: $(tail -5 "$B/bitsd.log")"; result $NAME; exit 1; }
i=0
until [ -s "$B/site.dat.b32" ] && grep -q listening "$W/canary.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 300 ] || break; sleep 0.1
done
SITE=$(cat "$B/site.dat.b32")
ok "proxies up, site at ${SITE%%.*}"
cmp -s "$B/site.dat.b32" /dev/null && { bad "no site address"; result $NAME; exit 1; }

# get URL OUT [curl args]: the HTTP status (000 on a transport error)
get() {
	u=$1; o=$2; shift 2
	curl -s -m 90 -o "$o" -w '%{http_code}' "$@" "$u" 2>/dev/null
}
# The LeaseSet is published a moment after the tunnels: retry a while.
i=0
until [ "$(get "http://$SITE/" "$W/index.out" -x "http://$HTTP")" = 200 ]; do
	i=$((i + 1)); [ $i -lt 40 ] || break; sleep 3
done
if cmp -s "$W/index.out" "$W/site/index.html"; then
	ok "HTTP proxy: the bitsd-hosted page"
else
	bad "HTTP proxy: no page after $i tries"
fi
c=$(get "http://$SITE/big.bin" "$W/big.out" -x "http://$HTTP")
[ "$c" = 200 ] && cmp -s "$W/big.out" "$W/site/big.bin" &&
	ok "HTTP proxy: 1 MiB byte-exact" || bad "HTTP proxy 1 MiB: $c"
c=$(get "http://$SITE/big.bin" "$W/range.out" -x "http://$HTTP" -r 1000-1999)
[ "$c" = 206 ] && [ "$(wc -c <"$W/range.out")" = 1000 ] &&
	cmp -s "$W/range.out" "$(dd if="$W/site/big.bin" bs=1000 skip=1 count=1 of="$W/range.want" 2>/dev/null; echo "$W/range.want")" &&
	ok "HTTP proxy: a range (206)" || bad "HTTP proxy range: $c"
t=$(curl -s -m 90 -o /dev/null -w '%{content_type}' -x "http://$HTTP" "http://$SITE/a.png")
[ "$t" = image/png ] && ok "image/png served" || bad "image type: $t"
c=$(get "http://$SITE/" "$W/s5.out" --socks5-hostname "$SOCKS")
[ "$c" = 200 ] && cmp -s "$W/s5.out" "$W/site/index.html" &&
	ok "SOCKS5 (names to the proxy): the page" || bad "SOCKS5: $c"
c=$(get "http://$SITE/" "$W/s4.out" --socks4a "$SOCKS")
[ "$c" = 200 ] && cmp -s "$W/s4.out" "$W/site/index.html" &&
	ok "SOCKS4a: the page" || bad "SOCKS4a: $c"

# Clearnet and unknown names.
c=$(get "http://$CANARY/" "$W/cl.out" -x "http://$HTTP")
[ "$c" = 403 ] && grep -q 'Outproxy not configured' "$W/cl.out" &&
	ok "clearnet URL: the 403 error page" || bad "clearnet URL: $c"
c=$(get "http://example.com/" "$W/cl2.out" -x "http://$HTTP")
[ "$c" = 403 ] && ok "clearnet name: 403" || bad "clearnet name: $c"
c=$(curl -s -m 30 -o /dev/null -w '%{http_connect}' -x "http://$HTTP" https://example.com/)
[ "$c" = 403 ] && ok "clearnet CONNECT: 403" || bad "clearnet CONNECT: $c"
curl -s -m 30 -o /dev/null --socks5-hostname "$SOCKS" "http://$CANARY/"
[ $? = 97 ] && ok "SOCKS5 to a clearnet address: refused" ||
	bad "SOCKS5 clearnet not refused"
curl -s -m 30 -o /dev/null --socks5-hostname "$SOCKS" "http://example.com/"
[ $? = 97 ] && ok "SOCKS5 to a clearnet name: refused" ||
	bad "SOCKS5 clearnet name not refused"
c=$(get "http://nobody.i2p/" "$W/nf.out" -x "http://$HTTP")
[ "$c" = 404 ] && grep -q 'Unknown host' "$W/nf.out" &&
	ok "unknown .i2p name: the 404 page" || bad "unknown name: $c"
grep -q connection "$W/canary.log" && bad "the canary got a connection" ||
	ok "no connection reached the clearnet address"

kill -TERM "$TPID" 2>/dev/null
i=0
while kill -0 "$BPID" 2>/dev/null && [ $i -lt 120 ]; do sleep 0.25; i=$((i + 1)); done
if kill -0 "$BPID" 2>/dev/null; then
	bad "bitsd did not stop on SIGTERM"
elif wait "$BPID"; then
	BPID=""
	ok "bitsd stopped cleanly"
else
	BPID=""
	bad "bitsd exit status"
fi
grep -qE 'AddressSanitizer|runtime error' "$W/stdout.log" &&
	bad "sanitizer report (see $W/stdout.log)"
if log_clean "$B/bitsd.log" >"$W/unclean.log"; then
	ok "no warning or error logged"
else
	bad "log: $(head -3 "$W/unclean.log")"
fi
if grep -E 'resolv\.conf|/etc/hosts|nsswitch|htons\(53\)' "$W/strace.log" >"$W/dns.log"; then
	bad "resolver use: $(head -3 "$W/dns.log")"
elif grep -q "${CANARY%:*}" "$W/strace.log"; then
	bad "bitsd connected to the canary"
elif grep -q 'connect(' "$W/strace.log" || grep -q 'openat(' "$W/strace.log"; then
	ok "strace: no resolver file, no port 53, no clearnet connect"
else
	bad "strace saw nothing (trace broken?)"
fi
result $NAME
