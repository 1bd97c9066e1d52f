#!/bin/sh
# The web console in headless Chromium (tests/integration/console.mjs):
# bitsd serves it on 127.0.0.1 behind its token; Debian's chromium driven
# by playwright-core (tools/browser-deps installs both, failing loudly).
# bitsd runs the feed, the swarm (its endpoint on 28902), the proxies
# (28903, 28904) and one web site from tunnels.conf: the page publishes a
# WAV file and plays it back through /api/swarm.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/integration/i2pd-lib.sh"	# ok, bad, result
. "$top_srcdir/tests/integration/console-lib.sh"
BITSD="$top_builddir/apps/bitsd"
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-console.XXXXXX")
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM
finish() { result test_console_browser; exit $?; }

if ! "$top_srcdir/tools/browser-deps" >"$W/deps.log" 2>&1; then
	bad "tools/browser-deps failed: $(tail -n 3 "$W/deps.log")"; finish
fi
mkdir -p "$W/d" "$W/site"
echo '<h1>hello</h1>' >"$W/site/index.html"
# A floodfill with zero-hop tunnels reaches its own site through its proxy.
cat >"$W/d/bits.conf" <<CONF
swarm = true
proxy = true
floodfill = true
[swarm]
http-port = 28902
[proxy]
http-port = 28903
socks-port = 28904
[exploratory]
inbound.length = 0
outbound.length = 0
[sam]
hops = 0
CONF
cat >"$W/d/tunnels.conf" <<CONF
[mysite]
type = web
root = $W/site
keys = mysite.dat
CONF
console_wav "$W/tone.wav"
"$BITSD" --datadir "$W/d" --netid 77 --host 127.0.0.92 --port 28901 \
	--api-port 28900 --feed --loglevel info >"$W/log" 2>&1 &
PID=$!
i=0
until [ -s "$W/d/api.token" ] && [ -s "$W/d/mysite.dat.b32" ] && grep -q "console on" "$W/log"; do
	i=$((i + 1)); [ $i -gt 80 ] && { bad "bitsd did not start its console (see log)"; cat "$W/log"; finish; }
	sleep 0.25
done
# The hosted site fetched through the router's own proxy: the bytes it
# served show on /api/console/router and in the earnings' current figures.
i=0
until [ "$(curl -s -m 30 -o "$W/site.out" -w '%{http_code}' -x 127.0.0.1:28903 \
	"http://$(cat "$W/d/mysite.dat.b32")/")" = 200 ]; do
	i=$((i + 1)); [ $i -gt 60 ] && break; sleep 1
done
cmp -s "$W/site.out" "$W/site/index.html" && ok "the hosted site answers through the proxy" ||
	bad "the hosted site through the proxy: $(head -c 200 "$W/site.out")"
if python3 - "$(cat "$W/d/api.token")" <<'PY'
import sys, json, urllib.request
def get(p):
    return json.load(urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:28900" + p,
        headers={"Authorization": "Bearer " + sys.argv[1]}), timeout=10))
site = get("/api/console/router")["sites"][0]
e = get("/api/console/earnings")
print("site served %s bytes, earnings now %s" % (site.get("served"), e["now"]))
sys.exit(0 if site["name"] == "mysite" and site["served"] > 15 and e["hosting"] and
         e["now"]["hosted"] == site["served"] else 1)
PY
then ok "the site's bytes served (headers and page) on the router and in the earnings"
else bad "the site's bytes served"; fi
hash=$(python3 -c 'import sys,hashlib,base64; d=open(sys.argv[1],"rb").read(); cl=int.from_bytes(d[385:387],"big"); print(base64.b64encode(hashlib.sha256(d[:387+cl]).digest(),altchars=b"-~").decode())' "$W/d/router.info")
# A creator's card made by `bits publish` (with a preview image), and two
# from fields signed by the router's creator key, all through the API.
python3 -c 'import zlib, struct, sys
row = b"\x00" + b"\xff\x00\x00" * 2
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) +
    chunk(b"IDAT", zlib.compress(row * 2)) + chunk(b"IEND", b""))' >"$W/preview.png"
head -c 5000 /dev/urandom >"$W/otters.webm"
i=0
until [ -s "$W/d/creator.key" ]; do i=$((i + 1)); [ $i -gt 40 ] && break; sleep 0.25; done
"$top_builddir/apps/bits" publish "$W/otters.webm" --title "Sea otters at dawn" --tag nature \
	--tag video --mime video/webm --preview "$W/preview.png" --identity "$W/d/creator.key" \
	--out "$W/content" >"$W/publish.log" 2>&1 || bad "bits publish failed: $(tail -n 2 "$W/publish.log")"
if python3 - "$(cat "$W/d/api.token")" "$W/cards.json" "$W/content"/*/card <<'PY'
import sys, json, urllib.request
tok, out, card = sys.argv[1], sys.argv[2], sys.argv[3]
def post(body):
    req = urllib.request.Request("http://127.0.0.1:28900/api/feed/publish", json.dumps(body).encode(),
                                 {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    json.load(urllib.request.urlopen(req, timeout=10))
post({"card": open(card, "rb").read().hex()})
cards = [
    {"title": "Sea otters at dawn"},
    {"title": "Night train ambience", "tags": ["music"], "mime": "audio/ogg",
     "price": "0.5", "currency": "ETH", "decimals": 18},
    {"title": "Notes on garlic routing", "tags": ["text"], "mime": "text/plain"},
]
for i, c in enumerate(cards[1:]):
    post(dict(c, content_hash="%064x" % (i + 1), size=1000 + i))
json.dump(cards, open(out, "w"))
PY
then ok "three cards published through /api/feed"; else bad "cannot publish cards through /api/feed"; fi
if PLAYWRIGHT_CORE="$top_srcdir/tools/browser/node_modules/playwright-core" \
	node "$top_srcdir/tests/integration/console.mjs" http://127.0.0.1:28900 \
	"$(cat "$W/d/api.token")" "$hash" "$W/cards.json" "$W/tone.wav" 127.0.0.1:28903 \
	"$(cat "$W/d/mysite.dat.b32")"; then
	ok "the console works in Chromium"
else
	bad "the console in Chromium"
fi
kill -TERM "$PID"; i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
if ! kill -0 "$PID" 2>/dev/null && wait "$PID"; then ok "bitsd stopped cleanly"; else bad "bitsd did not stop cleanly"; fi
PID=""
grep -qE 'AddressSanitizer|runtime error' "$W/log" && bad "sanitizer report" || ok "no sanitizer report"
finish
