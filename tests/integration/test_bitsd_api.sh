#!/bin/sh
# bitsd's local JSON API: /api/status answers on 127.0.0.1 with the router
# and transport sections, and the transit limits set by the options; a
# non-loopback Host header, other methods and unknown paths are refused;
# the console's token, login cookie, CSRF and security headers hold (see
# apps/api/api.h); bitsd still stops cleanly.
set -u
top_builddir=${top_builddir:-.}
BITSD="$top_builddir/apps/bitsd"
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-api.XXXXXX")
PASS=0 FAIL=0
ok() { echo "ok   $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAIL=$((FAIL + 1)); }
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM

get() { # PATH [HOST] -> "CODE BODY"
	python3 - "$1" "${2:-127.0.0.1:26390}" <<'PY'
import sys, http.client
c = http.client.HTTPConnection('127.0.0.1', 26390, timeout=5)
c.putrequest(sys.argv[3] if len(sys.argv) > 3 else 'GET', sys.argv[1], skip_host=True)
c.putheader('Host', sys.argv[2]); c.endheaders()
r = c.getresponse(); print(r.status, r.read().decode())
PY
}

"$BITSD" --datadir "$W/d" --netid 77 --host 127.0.0.91 --port 26391 \
	--api-port 26390 --loglevel info --transit.max-tunnels 123 \
	--transit.share 40 --bandwidth 500 --limits.netdb-routers 7 \
	>"$W/log" 2>&1 &
PID=$!
i=0
until out=$(get /api/status 2>/dev/null) && [ -n "$out" ]; do
	i=$((i + 1)); [ $i -gt 40 ] && break; sleep 0.25
done
if printf '%s' "$out" | python3 -c '
import sys, json
code, body = sys.stdin.read().split(" ", 1)
j = json.loads(body)
assert code == "200", code
r = j["router"]; t = j["transports"]
assert r["netid"] == 77 and r["host"] == "127.0.0.91"
assert len(r["hash"]) == 44 and r["hash"].endswith("=")
assert isinstance(t["sessions"], int) and isinstance(t["peers"], list)
'; then ok "/api/status has the router and transport sections"; else bad "/api/status: $out"; fi
id=$(python3 -c 'import sys,hashlib,base64; d=open(sys.argv[1],"rb").read(); cl=int.from_bytes(d[385:387],"big"); print(base64.b64encode(hashlib.sha256(d[:387+cl]).digest(),altchars=b"-~").decode())' "$W/d/router.info")
if printf '%s' "$out" | python3 -c '
import sys, json
j = json.loads(sys.stdin.read().split(" ", 1)[1])
l = j["tunnels"]["transit_limits"]
assert l == {"max_tunnels": 123, "share_pct": 40, "bandwidth_Bps": 500000,
             "share_Bps": 200000}, l
'; then ok "/api/status shows the transit limits of the options"; else bad "transit limits: $out"; fi
if printf '%s' "$out" | python3 -c '
import sys, json
j = json.loads(sys.stdin.read().split(" ", 1)[1])
c = j["limits"]["config"]; n = j["netdb"]
assert c["netdb_routers_mib"] == 7 and c["netdb_leasesets_mib"] == 16, c
for k in ("routers_bytes", "leasesets_bytes", "refused_full"):
    assert isinstance(n[k], int) and n[k] >= 0, (k, n)
assert (n["routers"] == 0) == (n["routers_bytes"] == 0), n
'; then ok "/api/status shows the netDb's heap and its limits"; else bad "netdb heap/limits: $out"; fi
printf '%s' "$out" | grep -q "\"hash\":\"$id\"" && ok "the hash is router.info's identity hash" || bad "hash differs from router.info ($id)"
out=$(get /api/status evil.example:26390)
case "$out" in 403*) ok "a non-loopback Host is refused" ;; *) bad "foreign Host: $out" ;; esac
out=$(get /nope)
case "$out" in 401*) ok "unknown path without the token is 401" ;; *) bad "unknown path: $out" ;; esac
out=$(python3 -c '
import http.client; c = http.client.HTTPConnection("127.0.0.1", 26390, timeout=5)
c.request("DELETE", "/api/status"); print(c.getresponse().status)')
[ "$out" = 405 ] && ok "other methods are refused" || bad "DELETE gave $out"
tok=$(cat "$W/d/api.token" 2>/dev/null)
case "$(stat -c %a "$W/d/api.token" 2>/dev/null)/${#tok}" in
600/64) ok "api.token: 64 hex digits, mode 0600" ;; *) bad "api.token: $(ls -l "$W/d/api.token" 2>&1)" ;; esac
# The console's access rules, as a browser and a script meet them.
python3 - "$tok" <<'PY'
import sys, json, time, http.client
tok = sys.argv[1]
P = F = 0
def ok(c, m):
    global P, F
    print(("ok   " if c else "FAIL ") + m); P += c; F += not c
def req(method, path, headers=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", 26390, timeout=5)
    h = {"Host": "127.0.0.1:26390"}; h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse(); b = r.read()
    return r.status, r, b
st, r, b = req("GET", "/")
ok(st == 303 and r.getheader("Location") == "/login", "/ without the token sends the browser to /login (%d)" % st)
st, r, b = req("GET", "/app.js")
ok(st == 401, "the console's files need the token (%d)" % st)
st, r, b = req("GET", "/login")
csp = r.getheader("Content-Security-Policy") or ""
ok(st == 200 and b"<form" in b, "the login page is served")
ok("default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
   and "unsafe" not in csp, "strict CSP: " + csp)
ok(r.getheader("X-Frame-Options") == "DENY" and r.getheader("X-Content-Type-Options") == "nosniff"
   and r.getheader("Referrer-Policy") == "no-referrer", "no framing, sniffing or referrer")
st, r, b = req("GET", "/nope", {"Authorization": "Bearer " + tok})
ok(st == 404, "unknown path with the token is 404 (%d)" % st)
st, r, b = req("GET", "/", {"Authorization": "Bearer " + "0" * 64})
ok(st == 303, "a wrong bearer token is not let in (%d)" % st)
st, r, b = req("GET", "/", {"Authorization": "Bearer " + tok})
ok(st == 200 and b"/app.js" in b, "the console page with the bearer token")
# wrong tokens: refused, then slowed
codes = [req("POST", "/api/login", {"Content-Type": "application/json"},
             json.dumps({"token": "f" * 64}))[0] for _ in range(5)]
ok(codes == [401] * 5, "wrong tokens refused: %s" % codes)
seen = False
for _ in range(50):
    if req("POST", "/api/login", {}, json.dumps({"token": "f" * 64}))[0] == 429:
        seen = True; break
ok(seen, "logins are slowed after repeated wrong tokens (429)")
st, r, b = req("POST", "/api/login", {}, "not json")
ok(st in (400, 429), "a malformed login body is refused (%d)" % st)
for _ in range(20):
    time.sleep(1.1)
    st, r, b = req("POST", "/api/login", {}, json.dumps({"token": tok}))
    if st != 429: break
cookie = (r.getheader("Set-Cookie") or "")
ok(st == 200 and "HttpOnly" in cookie and "SameSite=Strict" in cookie, "login sets an HttpOnly, SameSite=Strict cookie: " + cookie)
csrf = json.loads(b).get("csrf", "") if st == 200 else ""
sid = cookie.split(";")[0]
C = {"Cookie": sid}
st, r, b = req("GET", "/", C)
ok(st == 200 and r.getheader("Content-Type", "").startswith("text/html"), "the console page with the cookie")
st, r, b = req("GET", "/app.js", C)
ok(st == 200 and "javascript" in r.getheader("Content-Type", ""), "its script with the cookie")
st, r, b = req("GET", "/api/session", C)
ok(st == 200 and json.loads(b).get("csrf") == csrf and len(csrf) == 64, "/api/session gives the CSRF token")
st, r, b = req("POST", "/api/logout", C)
ok(st == 403, "a change without the CSRF token is refused (%d)" % st)
st, r, b = req("POST", "/api/logout", dict(C, **{"X-Bits-CSRF": "0" * 64}))
ok(st == 403, "a change with a wrong CSRF token is refused (%d)" % st)
st, r, b = req("POST", "/api/logout", dict(C, **{"X-Bits-CSRF": csrf, "Origin": "http://evil.example"}))
ok(st == 403, "a change from a foreign Origin is refused (%d)" % st)
st, r, b = req("POST", "/api/logout", dict(C, **{"X-Bits-CSRF": csrf, "Origin": "http://127.0.0.1:26390"}))
ok(st == 200, "logout with the CSRF token from our own origin (%d)" % st)
st, r, b = req("GET", "/app.js", C)
ok(st == 401, "the cookie is dead after logout (%d)" % st)
print("RESULT test_bitsd_api(console): %d passed, %d failed" % (P, F))
sys.exit(F != 0)
PY
[ $? = 0 ] && ok "console access rules" || bad "console access rules"
kill -TERM "$PID"; i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
if ! kill -0 "$PID" 2>/dev/null && wait "$PID"; then ok "bitsd stopped cleanly"; else bad "bitsd did not stop cleanly"; fi
PID=""
grep -q "console on http://127.0.0.1:26390/" "$W/log" && ok "the listen address is logged" || bad "no listen log line"
echo "RESULT test_bitsd_api: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
