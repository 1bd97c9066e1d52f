#!/bin/sh
# bitsd's local JSON API: /api/status answers on 127.0.0.1 with the router
# and transport sections, and the transit limits set by the options; a
# non-loopback Host header, other methods and unknown paths are refused;
# bitsd still stops cleanly.
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
	--transit.share 40 --bandwidth 500 >"$W/log" 2>&1 &
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
printf '%s' "$out" | grep -q "\"hash\":\"$id\"" && ok "the hash is router.info's identity hash" || bad "hash differs from router.info ($id)"
out=$(get /api/status evil.example:26390)
case "$out" in 403*) ok "a non-loopback Host is refused" ;; *) bad "foreign Host: $out" ;; esac
out=$(get /nope)
case "$out" in 404*) ok "unknown path is 404" ;; *) bad "unknown path: $out" ;; esac
out=$(python3 -c '
import http.client; c = http.client.HTTPConnection("127.0.0.1", 26390, timeout=5)
c.request("DELETE", "/api/status"); print(c.getresponse().status)')
[ "$out" = 405 ] && ok "other methods are refused" || bad "DELETE gave $out"
kill -TERM "$PID"; i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
if ! kill -0 "$PID" 2>/dev/null && wait "$PID"; then ok "bitsd stopped cleanly"; else bad "bitsd did not stop cleanly"; fi
PID=""
grep -q "listening on http://127.0.0.1:26390" "$W/log" && ok "the listen address is logged" || bad "no listen log line"
echo "RESULT test_bitsd_api: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
