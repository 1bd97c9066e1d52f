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

# start_rpc_capture UPSTREAM: a JSON-RPC proxy on a free 127.0.0.1 port
# that forwards each POST to UPSTREAM (anvil), for a chain gateway to use
# as its node.  Every request body it forwards goes as one JSON string a
# line to W/rpc-capture.jsonl, and every TCP connection it accepts to
# W/rpc-capture.conns as "PEER_PORT PID", the pid of the process holding
# the peer's socket (found through /proc: the test's own network
# namespace).  Sets CAPTURE (the proxy's URL) and CAPPID.
start_rpc_capture() {
	cport=$(free_port)
	: >"$W/rpc-capture.jsonl"
	: >"$W/rpc-capture.conns"
	rm -f "$W/rpc-capture.ready"
	python3 - "$cport" "$1" "$W/rpc-capture.jsonl" "$W/rpc-capture.conns" \
		>"$W/rpc-capture.log" 2>&1 <<'PY' &
import http.server, json, os, socket, sys, threading, urllib.request
port, upstream, cap, conns = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
lock = threading.Lock()

def owner(peer):
    """The pid holding the socket whose local end is peer (ip, port)."""
    ip, pt = peer
    want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(ip), "little"), pt)
    inode = None
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            c = line.split()
            if c[1] == want:
                inode = c[9]
    if not inode:
        return "none"
    link = "socket:[%s]" % inode
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == link:
                    return pid
        except OSError:
            pass
    return "none"

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock, open(cap, "a") as f:
            f.write(json.dumps(body.decode("utf-8", "replace")) + "\n")
        req = urllib.request.Request(upstream, body,
                                     {"Content-Type": "application/json"})
        try:
            r = urllib.request.urlopen(req, timeout=120)
            code, out = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, out = e.code, e.read()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
    def process_request(self, request, client_address):
        with lock, open(conns, "a") as f:
            f.write("%d %s\n" % (client_address[1], owner(client_address)))
        super().process_request(request, client_address)

srv = S(("127.0.0.1", port), H)
open(conns.replace(".conns", ".ready"), "w").close()
srv.serve_forever()
PY
	CAPPID=$!
	CAPTURE=http://127.0.0.1:$cport
	i=0
	while [ ! -e "$W/rpc-capture.ready" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] && kill -0 "$CAPPID" 2>/dev/null || return 1
		sleep 0.2
	done
}

# rpc_capture_scan FORBIDDEN: every body start_rpc_capture recorded,
# searched for each "LABEL STRING" line of the file FORBIDDEN (case
# insensitive; a STRING of digits only must stand alone, not inside a
# longer run of hex digits).  Prints "N" (the bodies searched) or
# "N LABEL..." for each string found.
rpc_capture_scan() {
	python3 - "$W/rpc-capture.jsonl" "$1" <<'PY'
import json, re, sys
bodies = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
found = []
for line in open(sys.argv[2]):
    if not line.strip():
        continue
    label, s = line.split()
    if s.isdigit():
        pat = re.compile(r"(?<![0-9a-fA-F])" + s + r"(?![0-9a-fA-F])")
        hit = any(pat.search(b) for b in bodies)
    else:
        hit = any(s.lower() in b.lower() for b in bodies)
    if hit:
        found.append(label)
print(" ".join([str(len(bodies))] + found))
PY
}

# forbid_router N: the strings naming router n (127.0.1.(30+n), NTCP2 port
# 29310+n) for rpc_capture_scan: its address and port in text and packed,
# its identity hash and each destination hash /api/market lists, in I2P
# base64, base32 and hex
forbid_router() {
	h=$(api "$1" GET /api/status | jq_ 'j["router"]["hash"]')
	m=$(api "$1" GET /api/market | jq_ '" ".join(j[k] for k in ("gateway", "agent", "buyer", "relayer") if j.get(k))' 2>/dev/null)
	python3 - "$1" "$h" $m <<'PY'
import base64, sys
n = int(sys.argv[1])
ip, port = "127.0.1.%d" % (30 + n), 29310 + n
print("b%d_ip %s" % (n, ip))
print("b%d_port %d" % (n, port))
print("b%d_ip_hex %s" % (n, bytes([127, 0, 1, 30 + n]).hex()))
print("b%d_ip_port_hex %s%04x" % (n, bytes([127, 0, 1, 30 + n]).hex(), port))
def forms(label, raw):
    print("%s_b64 %s" % (label, base64.b64encode(raw).decode().translate(str.maketrans("+/", "-~"))))
    print("%s_b32 %s" % (label, base64.b32encode(raw).decode().lower().rstrip("=")))
    print("%s_hex %s" % (label, raw.hex()))
forms("b%d_router" % n, base64.b64decode(sys.argv[2].translate(str.maketrans("-~", "+/"))))
for i, b32 in enumerate(sys.argv[3:]):
    s = b32.split(".")[0].upper()
    forms("b%d_dest%d" % (n, i), base64.b32decode(s + "=" * (-len(s) % 8)))
PY
}
# hub_word N ADDR SIG: the Nth 32-byte word (from 0) of the PaymentHub
# ($HUB) view SIG at ADDR, as a number
hub_word() {
	"$CAST" call --rpc-url "$RPC" "$HUB" "$3" "$2" |
		python3 -c 'import sys; n = int(sys.argv[1]); h = sys.stdin.read().strip()[2:]; print(int(h[64 * n:64 * n + 64], 16))' "$1"
}
# hub_balance ADDR: its PaymentHub balance
hub_balance() { hub_word 0 "$1" 'balances(address)'; }
# hub_send KEY TO SIG ARGS...: a transaction from KEY's account, mined
# with status 1 (cast's output in W/send)
hub_send() {
	k=$1; shift
	"$CAST" send --rpc-url "$RPC" --private-key "$k" "$@" >"$W/send" 2>&1 &&
		grep -q '^status *1' "$W/send"
}
# pot_fund KEY SIGNER DEPOSIT ESCROW: the account of KEY (with ETH) mints
# DEPOSIT + ESCROW tokens, lets the hub ($HUB) take them and funds
# SIGNER's pot
pot_fund() {
	t=$(($3 + $4))
	hub_send "$1" "$TOKEN" 'mint(address,uint256)' \
		"$("$CAST" wallet address --private-key "$1")" $t &&
		hub_send "$1" "$TOKEN" 'approve(address,uint256)' "$HUB" $t &&
		hub_send "$1" "$HUB" 'fund(address,uint96,uint96)' "$2" "$3" "$4"
}
# earn N EXPR: a Python expression over router n's console earnings
# (/api/console/earnings: j, and m its current money figures)
earn() {
	curl -s -m 30 -H "Authorization: Bearer $(cat "$W/b$1/api.token")" \
		"http://127.0.0.1:$((API_BASE + $1))/api/console/earnings" | python3 -c '
import sys, json
j = json.load(sys.stdin); m = j["now"]["money"]
print(eval(sys.argv[1]))' "$2" 2>/dev/null
}
