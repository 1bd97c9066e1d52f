#!/bin/sh
# The console's own calls (apps/bitsd_console.h) on one bitsd with the
# swarm and the feed on and no network:
#  - /api/swarm, /api/publish and /api/console need the token; a browser
#    session's POST without its CSRF token is refused;
#  - uploads: a size over the limit (413), a bad MIME type (400), a piece
#    at the wrong offset or past the size (409), sealing before the whole
#    file is there (409), a fifth upload at once (429);
#  - a free file uploaded in two pieces is sealed, stored and seeded: its
#    card (seeded by our swarm destination) carries its key, which opens
#    the content; the content comes back byte for byte through
#    /api/swarm/content without a key (the creator's key book), a Range
#    gives the slice, a wrong key gets 403; HTML is answered as text/plain
#    under a sandbox CSP; the chunk map shows every chunk;
#  - a paid file's card has the price and no key; the feed takes the card;
#  - the key book survives a restart (0600), and the earnings samples and
#    the router's proxy settings answer.
# 127.0.0.93, ports 28960 (API on 127.0.0.1), 28961 (NTCP2), 28962 (swarm).
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/integration/i2pd-lib.sh"	# ok, bad, result
BITSD="$top_builddir/apps/bitsd"
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-console-api.XXXXXX")
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM
finish() { result test_console_api; exit $?; }

start() {
	"$BITSD" --datadir "$W/d" --netid 77 --host 127.0.0.93 --port 28961 \
		--api-port 28960 --feed --swarm --swarm.http-port 28962 \
		--loglevel info >>"$W/log" 2>&1 &
	PID=$!
	i=0
	until [ -s "$W/d/api.token" ] && grep -q "console on" "$W/log"; do
		i=$((i + 1))
		[ $i -gt 120 ] && { bad "bitsd did not start its console"; tail -n 20 "$W/log"; finish; }
		sleep 0.25
	done
}
stop() {
	kill -TERM "$PID"; i=0
	while kill -0 "$PID" 2>/dev/null && [ $i -lt 80 ]; do sleep 0.25; i=$((i + 1)); done
	if ! kill -0 "$PID" 2>/dev/null && wait "$PID"; then ok "bitsd stopped cleanly"
	else bad "bitsd did not stop cleanly"; fi
	PID=""
}

mkdir -p "$W/d"
start
head -c 200000 /dev/urandom >"$W/paid.bin"
python3 - "$(cat "$W/d/api.token")" "$W" <<'PY'
import sys, json, os, http.client, time, re, stat
tok, W = sys.argv[1], sys.argv[2]
fails = 0
def ok(c, m):
    global fails
    print(("ok   " if c else "FAIL ") + m)
    fails += 0 if c else 1

def req(method, path, body=None, headers=None, auth=True):
    h = dict(headers or {})
    if auth: h["Authorization"] = "Bearer " + tok
    c = http.client.HTTPConnection("127.0.0.1", 28960, timeout=60)
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode(); h["Content-Type"] = "application/json"
    c.request(method, path, body, h)
    r = c.getresponse()
    data = r.read()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

def js(data):
    try: return json.loads(data)
    except Exception: return {}

h = "ab" * 32
for p in ("/api/swarm/" + h, "/api/swarm/content/" + h, "/api/publish", "/api/console/router",
          "/api/console/earnings"):
    ok(req("GET", p, auth=False)[0] == 401, p + " needs the token")
# a browser session: POST without the CSRF token is refused
s, hd, d = req("POST", "/api/login", {"token": tok}, auth=False)
cookie = hd.get("set-cookie", "").split(";")[0]
s, _, _ = req("POST", "/api/publish", {"name": "a", "size": 1, "mime": "text/plain"},
              {"Cookie": cookie}, auth=False)
ok(s == 403, "a session's POST /api/publish without X-Bits-CSRF is 403 (%d)" % s)

s, _, _ = req("POST", "/api/publish", {"name": "big", "size": (256 << 20) + 1, "mime": "video/mp4"})
ok(s == 413, "an upload over 256 MiB is refused (%d)" % s)
s, _, _ = req("POST", "/api/publish", {"name": "x", "size": 10, "mime": "Text/<html>"})
ok(s == 400, "a bad MIME type is refused (%d)" % s)

def upload(name, mime, data, pieces):
    s, _, d = req("POST", "/api/publish", {"name": name, "size": len(data), "mime": mime})
    up = js(d)
    assert s == 201 and up["state"] == "receiving", (s, d)
    n = (len(data) + pieces - 1) // pieces
    for off in range(0, len(data), n):
        s, _, d = req("POST", "/api/publish/%d/data?offset=%d" % (up["id"], off), data[off:off + n],
                      {"Content-Type": "application/octet-stream"})
        assert s == 200 and js(d)["received"] == off + len(data[off:off + n]), (s, d)
    return up["id"]

def sealed(i, meta):
    s, _, d = req("POST", "/api/publish/%d/seal" % i, meta)
    assert s == 202, (s, d)
    for _ in range(600):
        up = js(req("GET", "/api/publish/%d" % i)[2])
        if up["state"] in ("done", "failed"): return up
        time.sleep(0.1)
    return up

html = b"<html><script>alert(1)</script>" + os.urandom(150000) + b"</html>"
s, _, d = req("POST", "/api/publish", {"name": "page.html", "size": len(html), "mime": "text/html"})
i = js(d)["id"]
s, _, _ = req("POST", "/api/publish/%d/data?offset=5" % i, html[:10])
ok(s == 409, "a piece at the wrong offset is refused (%d)" % s)
s, _, _ = req("POST", "/api/publish/%d/seal" % i, {"title": "t"})
ok(s == 409, "sealing before the whole file is there is refused (%d)" % s)
s, _, d = req("POST", "/api/publish/%d/data?offset=0" % i, html[:100000])
s, _, _ = req("POST", "/api/publish/%d/data?offset=100000" % i, html[100000:] + b"toolong")
ok(s == 409, "a piece past the size is refused (%d)" % s)
s, _, d = req("POST", "/api/publish/%d/data?offset=100000" % i, html[100000:])
ok(s == 200 and js(d)["received"] == len(html), "the file arrives in two pieces")
up = sealed(i, {"title": "A page", "description": "hello", "tags": ["web", "test"],
                "excerpt": "a page", "royalty": 5})
ok(up["state"] == "done" and up["free"], "the free upload is sealed, stored and seeded: %s" %
   up.get("error", up["state"]))
ch = up["content_hash"]
# the card, through the feed
s, _, d = req("POST", "/api/feed/publish", {"card": up["card"]})
ok(s == 200, "the feed takes the card (%d %s)" % (s, d[:80]))
s, _, d = req("GET", "/api/feed/card/" + up["card_id"])
card = js(d).get("card", {})
m = re.search(r"bits-key: ([0-9a-f]{64})$", card.get("description", ""))
ok(card.get("contentHash") == ch and m and card["price"]["free"] and card["tags"] == ["test", "web"] and
   card["description"].startswith("hello") and len(card["seeds"]) == 1,
   "the free card names the content, its tags, one seed and carries its key")
s, hd, d = req("GET", "/api/swarm/content/" + ch)
ok(s == 200 and d == html, "the content comes back whole without a key (the key book) (%d, %d bytes)" % (s, len(d)))
ok(hd.get("content-type") == "text/plain; charset=utf-8", "HTML is answered as text/plain (%s)" % hd.get("content-type"))
csp = [v for k, v in req("GET", "/api/swarm/content/" + ch)[1].items() if k == "content-security-policy"]
ok(any("sandbox" in v for v in csp), "the content carries a sandbox CSP")
s, hd, d = req("GET", "/api/swarm/content/%s?key=%s" % (ch, m.group(1) if m else ""), None, {"Range": "bytes=70000-70099"})
ok(s == 206 and d == html[70000:70100], "the card's key opens a Range of it (%d)" % s)
s, _, _ = req("GET", "/api/swarm/content/%s?key=%s" % (ch, "00" * 32))
ok(s == 403, "a wrong key gets 403 (%d)" % s)
st = js(req("GET", "/api/swarm/" + ch)[2])
ok(st.get("chunks") == 3 and st.get("have") == 3 and st.get("have_map") == "07",
   "the chunk map shows the three chunks: %s" % {k: st.get(k) for k in ("chunks", "have", "have_map")})
ok(js(req("GET", "/api/swarm/%s/key" % ch)[2]) == {"known": True} and
   js(req("GET", "/api/swarm/%s/key" % h)[2]) == {"known": False}, "/key says which keys the router holds")

paid = open(W + "/paid.bin", "rb").read()
up2 = sealed(upload("paid.bin", "application/octet-stream", paid, 1),
             {"title": "Paid", "price": "1.5", "currency": "ETH", "decimals": 18})
ok(up2["state"] == "done" and not up2["free"], "the paid upload is sealed")
req("POST", "/api/feed/publish", {"card": up2["card"]})
c2 = js(req("GET", "/api/feed/card/" + up2["card_id"])[2]).get("card", {})
ok(c2.get("price", {}).get("amount") == "1.5" and c2["price"]["currency"] == "ETH" and
   "bits-key" not in c2.get("description", "x"), "the paid card has its price and no key")
s, hd, d = req("GET", "/api/swarm/content/" + up2["content_hash"])
ok(s == 200 and d == paid and hd.get("content-type") == "application/octet-stream",
   "the creator's router plays its paid content")
kb = W + "/d/console/keys"
ok(stat.S_IMODE(os.stat(kb).st_mode) == 0o600 and ch in open(kb).read(), "the key book is 0600 and holds the key")
e = js(req("GET", "/api/console/earnings")[2])
keys = {"t", "seeded", "relayed", "hosted", "money"}
ok(e.get("interval_s") == 10 and len(e.get("samples", [])) >= 1 and
   set(e["samples"][0]) == keys and set(e.get("now", {})) == keys and
   e["now"]["seeded"] >= e["samples"][-1]["seeded"] and e["now"]["t"] >= e["samples"][-1]["t"],
   "the earnings samples and the current figures answer")
ok(e.get("hosting") is False and e["now"]["hosted"] == 0 and e["now"]["money"] == {},
   "no hosted sites, no paid traffic: nothing hosted, no money figures (%s)" % e.get("now"))
r = js(req("GET", "/api/console/router")[2])
ok(r.get("proxy", {}).get("on") is False and r["proxy"]["http"] == "127.0.0.1:4444" and r["sites"] == [],
   "the router's proxy settings answer (off, no sites)")
codes = [req("POST", "/api/publish", {"name": "w%d" % n, "size": 10, "mime": "text/plain"})[0] for n in range(5)]
ok(codes == [201] * 4 + [429], "four uploads at once, a fifth is asked to wait (429): %s" % codes)
open(W + "/hash", "w").write(ch)
sys.exit(1 if fails else 0)
PY
[ $? = 0 ] && ok "the console's calls" || bad "the console's calls"
stop
start
ch=$(cat "$W/hash" 2>/dev/null)
if python3 - "$(cat "$W/d/api.token")" "$ch" <<'PY'
import sys, http.client
c = http.client.HTTPConnection("127.0.0.1", 28960, timeout=60)
c.request("GET", "/api/swarm/content/" + sys.argv[2], headers={"Authorization": "Bearer " + sys.argv[1]})
r = c.getresponse(); d = r.read()
sys.exit(0 if r.status == 200 and d.startswith(b"<html><script>") else 1)
PY
then ok "after a restart the key book still opens the content"; else bad "the key book after a restart"; fi
stop
grep -qE 'AddressSanitizer|runtime error' "$W/log" && bad "sanitizer report" || ok "no sanitizer report"
finish
