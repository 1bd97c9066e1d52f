# Helpers of the feed tests that drive bitsd's /api/feed (sourced): W
# (work dir) and FEED_API_BASE (router n's API on 127.0.0.1:FEED_API_BASE+n,
# its token in W/bn/api.token) set by the test.

# feed N METHOD PATH [JSON]: the JSON answer of router n's /api/feed call
# (printed), exit status 0 for a 2xx answer; "HTTP nnn" on stderr else
feed() {
	python3 - "$(cat "$W/b$1/api.token" 2>/dev/null)" $((FEED_API_BASE + $1)) "$2" "$3" "${4:-}" <<'PY'
import sys, json, urllib.request, urllib.error
tok, port, method, path, body = sys.argv[1:6]
req = urllib.request.Request("http://127.0.0.1:%s/api/feed%s" % (port, path),
                             body.encode() if body else None, method=method,
                             headers={"Authorization": "Bearer " + tok,
                                      "Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, timeout=30).read().decode())
except urllib.error.HTTPError as e:
    print(e.read().decode()); sys.stderr.write("HTTP %d\n" % e.code); sys.exit(1)
except Exception as e:
    sys.stderr.write("%s\n" % e); sys.exit(2)
PY
}
# jget JSON PATH: a value from JSON, PATH dotted ("cards.0.id", "gossip.rej_sig")
jget() {
	python3 -c 'import sys, json
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1" "$2" 2>/dev/null
}
