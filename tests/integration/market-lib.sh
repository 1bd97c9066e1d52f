# Helpers of the market tests that run bitsd over anvil (sourced after
# chain-lib.sh): W (work dir), RPC (anvil) and API_BASE (router n's API on
# 127.0.0.1:API_BASE+n, its token in W/bn/api.token) set by the test.

# view TO SELECTOR [ARG]: a view with one static argument (an address, a
# bytes32 or a number) through anvil's JSON-RPC, the word as a number
# (python: cast takes a second a call on a loaded machine).  Selectors:
# balanceOf(address) 70a08231, owed(address) df18e047, treasuryOwed()
# 75c3fc13, protocolFeeBps() 35659fb8, indexOf(bytes32) 6f4ce56a,
# ownerOf(uint256) 6352211e.
view() {
	python3 - "$RPC" "$@" <<'PY'
import sys, json, urllib.request
rpc, to, sel = sys.argv[1:4]
data = "0x" + sel
if len(sys.argv) > 4:
    a = sys.argv[4]
    data += (a[2:].lower().rjust(64, "0") if a.startswith("0x") else "%064x" % int(a))
req = {"jsonrpc": "2.0", "id": 1, "method": "eth_call",
       "params": [{"to": to, "data": data}, "latest"]}
r = urllib.request.urlopen(urllib.request.Request(rpc, json.dumps(req).encode(),
    {"Content-Type": "application/json"}), timeout=60)
print(int(json.loads(r.read())["result"], 16))
PY
}
# mine: one block (the agent wants the licence 3 blocks deep)
mine() {
	python3 - "$RPC" <<'PY'
import sys, json, urllib.request
req = {"jsonrpc": "2.0", "id": 1, "method": "anvil_mine", "params": []}
urllib.request.urlopen(urllib.request.Request(sys.argv[1], json.dumps(req).encode(),
    {"Content-Type": "application/json"}), timeout=60).read()
PY
}
# api N METHOD PATH [BODY]: router n's answer, "CODE BODY"
api() {
	python3 - "$(cat "$W/b$1/api.token" 2>/dev/null)" $((API_BASE + $1)) "$2" "$3" "${4:-}" <<'PY'
import sys, http.client
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[2]), timeout=200)
h = {'Authorization': 'Bearer ' + sys.argv[1], 'Content-Type': 'application/json'}
c.request(sys.argv[3], sys.argv[4], body=sys.argv[5] or None, headers=h)
r = c.getresponse(); print(r.status, r.read().decode())
PY
}
# jq_ EXPR: evaluate a Python expression over the "CODE BODY" on stdin
# (code, j), print it
jq_() {
	python3 -c '
import sys, json
code, body = sys.stdin.read().split(" ", 1)
j = json.loads(body)
print(eval(sys.argv[1]))' "$1"
}
# follow N ID: poll router n's purchase ID to its end, mining a block each
# second (the agent wants the licence 3 blocks deep); sets OUT, its last
# state
follow() {
	i=0
	while [ $i -lt 240 ]; do
		OUT=$(api "$1" GET "/api/market/buy/$2")
		st=$(printf '%s' "$OUT" | jq_ 'j["state"]' 2>/dev/null)
		[ "$st" = done ] || [ "$st" = failed ] && break
		mine
		sleep 1; i=$((i + 1))
	done
	echo "$OUT" >>"$W/api.log"
}
