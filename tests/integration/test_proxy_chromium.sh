#!/bin/sh
# Headless Chromium (Debian's `chromium`, through tools/browse) browsing a
# bitsd-hosted site through bitsd's HTTP proxy:
#  1. one bitsd (zero-hop tunnels, `proxy = true`) publishes a folder with
#     its built-in web server (tunnels.conf type = web);
#  2. tools/browse --headless loads the page by its b32 name through the
#     proxy: the image loads, the media element plays, and a seek to
#     280 s of a 57.6 MB file plays on (tests/integration/proxy-page.py);
#  3. the web server answered Range requests (206), one of them from the
#     middle of the file (the seek); Chromium, traced by strace, made IP
#     connections to the proxy only and sent nothing to port 53;
#  4. bitsd stops cleanly with no warning or error logged.
# 127.0.0.87, port 28801, 127.0.0.1:28851-28852 (the proxies).
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-chromium.XXXXXX")
. "$top_srcdir/tests/integration/i2pd-lib.sh"	# ok, bad, result, wait_log
. "$top_srcdir/tests/integration/ntcp2-lib.sh"	# bitsd_stop, log_clean
NAME=test_proxy_chromium
B=$W/bitsd
HOST=127.0.0.87
PORT=28801
HTTP=127.0.0.1:28851
BPID=""
cleanup() {
	[ -z "$BPID" ] || kill -KILL "$BPID" 2>/dev/null
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT INT TERM
for tool in curl python3 chromium strace; do
	command -v $tool >/dev/null ||
		{ bad "$tool is not installed"; result $NAME; exit 1; }
done
umask 077
mkdir -p "$B"
python3 "$top_srcdir/tests/integration/proxy-page.py" "$W/site" ||
	{ bad "cannot make the test site"; result $NAME; exit 1; }
"$BITSD" --datadir "$B" --init --netid 77 --host $HOST --port $PORT \
	--floodfill >"$W/init.log" 2>&1 ||
	{ bad "bitsd --init failed"; result $NAME; exit 1; }
cat >"$B/bits.conf" <<CONF
host = $HOST
port = $PORT
proxy = true
[proxy]
http-port = ${HTTP#*:}
socks-port = $((${HTTP#*:} + 1))
[exploratory]
inbound.length = 0
outbound.length = 0
[sam]
hops = 0
CONF
printf '[site]\ntype = web\nroot = %s\nkeys = site.dat\n' "$W/site" \
	>"$B/tunnels.conf"
"$BITSD" --datadir "$B" --loglevel debug --logfile "$B/bitsd.log" \
	>"$W/stdout.log" 2>&1 &
BPID=$!
wait_log "$B/bitsd.log" "HTTP proxy on $HTTP" 60 ||
	{ bad "the proxy did not start"; result $NAME; exit 1; }
i=0
while [ ! -s "$B/site.dat.b32" ] && [ $i -lt 120 ]; do sleep 0.25; i=$((i + 1)); done
SITE=$(cat "$B/site.dat.b32")
# The LeaseSet is published a moment after the tunnels are up.
i=0
until [ "$(curl -s -m 60 -o /dev/null -w '%{http_code}' -x "http://$HTTP" "http://$SITE/")" = 200 ]; do
	i=$((i + 1)); [ $i -lt 40 ] || break; sleep 3
done
[ $i -lt 40 ] && ok "the site answers through the proxy" ||
	bad "the site never answered through the proxy"

# Chromium runs under strace: its only network connections must be to
# the proxy, and nothing may go to a DNS server (port 53).
timeout 600 strace -f -qq -o "$W/chromium.strace" \
	-e trace=socket,connect,sendto,sendmsg,sendmmsg \
	"$top_srcdir/tools/browse" --proxy "$HTTP" --headless \
	--autoplay-policy=no-user-gesture-required \
	--virtual-time-budget=60000 --dump-dom "http://$SITE/" \
	>"$W/dom.html" 2>"$W/chromium.log"
st=$(grep -o '<div id="s">[^<]*' "$W/dom.html" | sed 's/.*>//')
case $st in
*img=true*) ok "Chromium: the image loaded through the proxy" ;;
*) bad "Chromium: no image ($st)" ;;
esac
case $st in
*played=true*seeked=true*) ok "Chromium: the media played, and played on after a seek to 280 s" ;;
*) bad "Chromium: playback ($st)" ;;
esac
# Chromium probes IPv6 reachability with connect() on a UDP socket to
# 2001:4860:4860::8888 port 443, which sends no packet: allowed when the
# socket is a datagram socket and nothing is ever sent on the network.
python3 - "$W/chromium.strace" "${HTTP%:*}" "${HTTP#*:}" >"$W/leaks.log" <<'PY'
import re, sys
path, host, port = sys.argv[1], sys.argv[2], sys.argv[3]
kind, pending = {}, {}
for line in open(path, errors='replace'):
    m = re.match(r'(\d+) +socket\((AF_INET6?), (SOCK_\w+)', line)
    r = re.search(r'= (\d+)$', line.strip())
    if m:	# (with -f a call may be split: "<unfinished ...>", "resumed>")
        if r:
            kind[(m.group(1), r.group(1))] = m.group(3)
        else:
            pending[m.group(1)] = m.group(3)
        continue
    m = re.match(r'(\d+) +<\.\.\. socket resumed>', line)
    if m and r and m.group(1) in pending:
        kind[(m.group(1), r.group(1))] = pending.pop(m.group(1))
        continue
    if 'sa_family=AF_INET' not in line:
        continue
    m = re.match(r'(\d+) +(\w+)\((\d+),', line)
    call, fd = (m.group(2), m.group(3)) if m else ('?', '?')
    proxy = 'sin_port=htons(%s), sin_addr=inet_addr("%s")' % (port, host) in line
    probe = ('2001:4860:4860::8888' in line and 'htons(443)' in line and
             call == 'connect' and kind.get((m.group(1), fd)) == 'SOCK_DGRAM')
    if not proxy and not probe:
        print(line.strip())
PY
if grep -q 'htons(53)' "$W/chromium.strace"; then
	bad "Chromium sent to port 53: $(grep -m1 'htons(53)' "$W/chromium.strace")"
elif [ -s "$W/leaks.log" ]; then
	bad "Chromium connected elsewhere than the proxy: $(head -2 "$W/leaks.log")"
elif grep -q "htons(${HTTP#*:})" "$W/chromium.strace"; then
	ok "strace: Chromium's only IP connections went to the proxy, none to port 53"
else
	bad "strace saw no connection to the proxy (trace broken?)"
fi
n=$(grep -c 'web: bytes .* (206)' "$B/bitsd.log")
[ "$n" -ge 2 ] && ok "$n range requests answered (206)" ||
	bad "range requests: $n"
grep -qE 'web: bytes [1-9][0-9]*-' "$B/bitsd.log" &&
	ok "the seek fetched a range from the middle of the file" ||
	bad "no range from the middle of the file"

if bitsd_stop; then ok "bitsd stopped cleanly"; else bad "bitsd stop"; fi
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$W/stdout.log" &&
	bad "sanitizer report (see $W/stdout.log)"
if log_clean "$B/bitsd.log" >"$W/unclean.log"; then
	ok "no warning or error logged"
else
	bad "log: $(head -3 "$W/unclean.log")"
fi
result $NAME
