#!/bin/sh
# tests/e2e/acceptance.sh: the acceptance suite.  Starts tools/demo's
# living network (full size, or the reduced one with --ci) and drives it
# through the project's user stories:
#  1. a viewer finds both creators' cards in its feed (gossip);
#  2. the viewer browses through its HTTP proxy: creator A's page;
#  3. the viewer buys creator A's video (a relayed purchase, the key from
#     creator A's agent over tunnels): payer, relayer, creator, agent and
#     protocol to the wei (the creator earns);
#  4. the viewer plays it while it downloads: a Range request at 75 % on
#     the console's streaming endpoint, made while the viewer holds none
#     of its chunks, answers 206 with exactly those bytes; then the whole
#     file, byte-exact;
#  5. a paid relay earns: winning tickets redeemed from the viewer's pot
#     and withdrawn; each relay's withdraw address holds exactly what it
#     withdrew, the pot fell by exactly the face values redeemed;
#  6. the licence is resold: listed by the viewer through its API (its
#     holder has no ETH: relayed), bought on chain by another account;
#     the sale's parts add up to the price to the wei, the creator gets a
#     royalty, the seller's payout reaches its wallet to the wei;
#  7. a router (a paid relay and seeder) is killed with SIGKILL: the
#     proxy fetches the page again and a card published afterwards
#     reaches the viewer's feed (timed);
#  8. no IP where it must not be: no router's address (text or packed)
#     or identity hash in any transaction's calldata or event log on the
#     chain, in any card of the viewer's feed, in any swarm frame (every
#     bitsd captures them), or in any bitsd's log at info level;
#  9. the demo stops on TERM and leaves nothing running; every bitsd left
#     stopped cleanly, with no sanitizer report (top_builddir may be an
#     ASan build).
# tools/check runs it with --ci beside its gcc tests (about 3 minutes on
# a quiet machine; the full size about 5).  By hand:
#   tools/test-netns tests/e2e/acceptance.sh [--ci]
# with top_srcdir and top_builddir set as make check does (default: the
# checkout and its _build/plain).  Times of each story are printed.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/_build/plain}
top_builddir=$(cd "$top_builddir" && pwd)
. "$top_srcdir/tests/integration/chain-lib.sh"
. "$top_srcdir/tests/integration/i2pd-lib.sh"
. "$top_srcdir/tests/integration/market-lib.sh"
NAME=e2e_acceptance
SIZE=""
[ "${1:-}" = --ci ] && SIZE=--ci
W=$(mktemp -d "${TMPDIR:-/tmp}/e2e.XXXXXX")
DPID=""
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
T0=$(date +%s)
el() { echo $(($(date +%s) - T0)); }
story() { echo "== [$(el) s] $*"; }
need_tools $NAME

story "starting tools/demo $SIZE"
BITS_BUILD=$top_builddir DEMO_SWARM_CAPTURE=1 bash "$top_srcdir/tools/demo" $SIZE \
	--dir "$W/net" --ready "$W/ready.env" --no-sam-copy </dev/null >"$W/demo.log" 2>&1 &
DPID=$!
i=0
while [ ! -s "$W/ready.env" ] && kill -0 $DPID 2>/dev/null && [ $i -lt 900 ]; do sleep 1; i=$((i + 1)); done
[ -s "$W/ready.env" ] || { bad "the demo did not come up: $(tail -5 "$W/demo.log")"; result $NAME; exit 1; }
. "$W/ready.env"
ok "the demo is up in $(el) s ($N_I2PD i2pd, $N_BITSD bitsd)"
API_BASE=$((BP + 100))
for n in $(seq 1 "$N_BITSD"); do ln -s "$DEMO_DIR/bitsd$n" "$W/b$n"; done
REG=$(jget "$DEMO_DIR/deploy.json" licenseRegistry)
V=$VIEWER
tok() { view "$TOKEN" 70a08231 "$1"; }
owed() { view "$REG" df18e047 "$1"; }
AGENT=$("$CAST" wallet address --private-key "0x$(cat "$W/b$CREATOR_A/market-agent.key")")
AG=$(tr -d '\n' <"$W/b$CREATOR_A/market-agent.b32")

# 1. the feed
story "1. the viewer's feed"
t=$(date +%s) i=0
titles() { api $V GET "/api/feed?limit=100" | jq_ '"|".join(sorted(c.get("title", "") for c in j["cards"]))' 2>/dev/null; }
WANT="A coloured square|A quiet tone|A test pattern|Notes on garlic routing"
while [ "$(titles)" != "$WANT" ] && [ $i -lt 300 ]; do sleep 1; i=$((i + 1)); done
check "the viewer's feed holds both creators' four cards ($(($(date +%s) - t)) s after the demo was up)" "$WANT" "$(titles)"

# 2. the proxy
story "2. browsing through the viewer's proxy"
t=$(date +%s) i=0
until curl -s -m 60 -x "http://$PROXY_HTTP" "http://$SITE/" >"$W/page.html" 2>/dev/null &&
	grep -q "Hosted by bitsd$CREATOR_A" "$W/page.html" || [ $i -gt 60 ]; do sleep 2; i=$((i + 1)); done
grep -q "Hosted by bitsd$CREATOR_A" "$W/page.html" &&
	ok "creator A's page through the HTTP proxy ($(($(date +%s) - t)) s)" ||
	bad "no page through the proxy: $(head -c 300 "$W/page.html")"
curl -s -m 60 -x "http://$PROXY_HTTP" "http://example.com/" -o /dev/null -w '%{http_code}' >"$W/clear.code" 2>/dev/null
[ "$(cat "$W/clear.code")" != 200 ] && ok "the proxy refuses the clearnet ($(cat "$W/clear.code"))" ||
	bad "the proxy fetched a clearnet page"

# 3. the purchase
story "3. the viewer buys the video"
RL=$(tr -d '\n' <"$W/b$CREATOR_A/market-relayer.b32")
RELAYER=$("$CAST" wallet address --private-key "0x$RELAYER_KEY")
BPS=$(view "$REG" 35659fb8)
p0=$(tok "$PAYER") r0=$(tok "$RELAYER") c0=$(owed "$CREATOR") a0=$(owed "$AGENT") f0=$(view "$REG" 75c3fc13)
t=$(date +%s)
out=$(api $V POST /api/market/buy "{\"contentHash\":\"$VIDEO_HASH\",\"licence\":{\"index\":\"$VIDEO_LICENCE\"},\"keyAgent\":\"$AG\"}")
ID=$(printf '%s' "$out" | jq_ 'j.get("id")' 2>/dev/null)
follow $V "$ID"
if printf '%s' "$OUT" | jq_ 'j["state"] == "done" and j["route"] == "relayed" and j["has_key"]' | grep -q True; then
	ok "the video bought through the relayer, its key from creator A's agent over tunnels ($(($(date +%s) - t)) s)"
else
	bad "the purchase: $out / $OUT"
fi
PRICE=$(printf '%s' "$OUT" | jq_ 'j.get("price")' 2>/dev/null)
TID=$(printf '%s' "$OUT" | jq_ 'j["token_id"]' 2>/dev/null)
HOLDER=$(printf '%s' "$OUT" | jq_ 'j["holder"]' 2>/dev/null)
[ "$PRICE" = 1000000 ] || { PRICE=1000000; echo "(price not in the answer: 1 USDC assumed)"; }
dp=$((p0 - $(tok "$PAYER"))) dr=$(($(tok "$RELAYER") - r0))
dc=$(($(owed "$CREATOR") - c0)) da=$(($(owed "$AGENT") - a0)) df=$(($(view "$REG" 75c3fc13) - f0))
check "the payer paid the price and the relayer's fee" $((PRICE + RELAYER_FEE)) $dp
check "the relayer got its fee" "$RELAYER_FEE" $dr
check "the protocol's cut" $((PRICE * BPS / 10000)) $df
check "creator, agent and protocol share the price to the wei" "$PRICE" $((dc + da + df))
[ $dc -gt 0 ] && [ $dc -ge $da ] && ok "the creator earned $dc, its agent $da, the protocol $df" || bad "creator $dc, agent $da"

# 4. play while downloading
story "4. the viewer plays the video while it downloads"
SZ=$(stat -c %s "$DEMO_DIR/video.webm")
OFF=$((SZ * 3 / 4))
swarm_have() { curl -s -m 20 "http://127.0.0.1:$((BP + 150 + V))/swarm/$VIDEO_HASH" | jq_x 'str(j.get("have", 0)) + " " + str(j.get("chunks", 0))'; }
jq_x() { python3 -c 'import sys, json
try:
    j = json.load(sys.stdin)
except Exception:
    j = {}
print(eval(sys.argv[1]))' "$1"; }
set -- $(swarm_have)
H0=${1:-0}
t=$(python3 -c 'import time; print(time.time())')
code=$(curl -s -m 300 -H "Authorization: Bearer $(cat "$W/b$V/api.token")" -H "Range: bytes=$OFF-" \
	-o "$W/tail.bin" -w '%{http_code} %{time_starttransfer}' \
	"http://127.0.0.1:$((API_BASE + V))/api/swarm/content/$VIDEO_HASH")
set -- $(swarm_have)
H1=${1:-0} CH=${2:-0}
tail -c +$((OFF + 1)) "$DEMO_DIR/video.webm" >"$W/tail.want"
[ "${code%% *}" = 206 ] && cmp -s "$W/tail.bin" "$W/tail.want" &&
	ok "Range from 75 % answered 206 with exactly those $((SZ - OFF)) bytes, first byte in ${code#* } s (chunks held: $H0 before, $H1 of $CH after)" ||
	bad "Range from 75 %: $code, $(stat -c %s "$W/tail.bin" 2>/dev/null) bytes"
check "no chunk of the video was held when the Range request was made" 0 "$H0"
curl -s -m 300 -H "Authorization: Bearer $(cat "$W/b$V/api.token")" -o "$W/video.bin" \
	"http://127.0.0.1:$((API_BASE + V))/api/swarm/content/$VIDEO_HASH"
cmp -s "$W/video.bin" "$DEMO_DIR/video.webm" && ok "then the whole video, byte-exact ($SZ bytes)" ||
	bad "the whole video differs ($(stat -c %s "$W/video.bin" 2>/dev/null) bytes)"

# 5. a relay earns
story "5. the paid relays earn"
# rp: the relays' withdrawn and withdrawn_amount sums, redeemed_face sum, won, redeemed
rp() {
	python3 - "$BP" $RELAYS <<'PY'
import sys, json, urllib.request
bp = int(sys.argv[1]); s = [0, 0, 0, 0, 0]
for n in sys.argv[2:]:
    try:
        r = json.load(urllib.request.urlopen('http://127.0.0.1:%d/api/status' % (bp + 100 + int(n)), timeout=20))['relaypay']['relay']
    except Exception:
        continue
    for i, f in enumerate(('withdrawn', 'withdrawn_amount', 'redeemed_face', 'won', 'redeemed')):
        s[i] += int(r[f])
print(*s)
PY
}
wto_sum() { s=0; for n in $RELAYS; do s=$((s + $(tok "0x00000000000000000000000000000000000b175$n"))); done; echo $s; }
dep() { "$CAST" call --rpc-url "$RPC" "$HUB" 'pots(address)' "$POT" | python3 -c 'import sys; print(int(sys.stdin.read().strip()[2:66], 16))'; }
t=$(date +%s) i=0 good=0
while [ $i -lt 150 ]; do
	set -- $(rp); a=$*
	w=$(wto_sum) d=$(dep)
	set -- $(rp)
	if [ "$a" = "$*" ] && [ "$1" -gt 0 ] && [ "$w" = "$2" ] && [ $((1000000000 - d)) = "$3" ]; then good=1; break; fi
	sleep 2; i=$((i + 1))
done
set -- $a
[ $good = 1 ] && ok "the relays won $4 tickets, redeemed $5 (face $3: the pot fell by exactly that), withdrew $1 ($2: exactly what their withdraw addresses hold) in $(($(date +%s) - t)) s" ||
	bad "relays: withdrawn $1 ($2), redeemed face $3, won $4, redeemed $5; withdraw addresses hold $(wto_sum), the pot fell by $((1000000000 - $(dep)))"

# 6. the resale
story "6. the viewer resells its licence"
ASK=3000000
ask() { view "$REG" e26f1c6d "$TID"; }
s0=$(owed "$HOLDER") c0=$(owed "$CREATOR") a0=$(owed "$AGENT") f0=$(view "$REG" 75c3fc13) ro0=$(owed "$RELAYER")
out=$(api $V POST /api/market/resale "{\"content_hash\":\"$VIDEO_HASH\",\"action\":\"list\",\"price\":\"$ASK\"}")
echo "$out" >>"$W/api.log"
printf '%s' "$out" | jq_ 'code == "200"' | grep -q True && [ "$(ask)" = $ASK ] &&
	ok "listed at $ASK through the API (relayed: the holder has $("$CAST" balance "$HOLDER" --rpc-url "$RPC") wei of ETH)" ||
	bad "list: $out"
B2KEY=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
B2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
NEWHOLDER=0x00000000000000000000000000000000000000b2
send() { "$CAST" send --rpc-url "$RPC" "$@" >>"$W/cast.log" 2>&1; }
send --private-key "$B2KEY" "$TOKEN" 'mint(address,uint256)' "$B2" $ASK &&
	send --private-key "$B2KEY" "$TOKEN" 'approve(address,uint256)' "$REG" $ASK &&
	send --private-key "$B2KEY" "$REG" 'buyListed(uint256,address,uint256)' "$TID" "$NEWHOLDER" $ASK ||
	bad "buyListed (see $W/cast.log)"
check "the licence's new holder" "$(python3 -c 'import sys; print(int(sys.argv[1], 16))' $NEWHOLDER)" "$(view "$REG" 6352211e "$TID")"
ds=$(($(owed "$HOLDER") - s0)) dc=$(($(owed "$CREATOR") - c0)) da=$(($(owed "$AGENT") - a0))
df=$(($(view "$REG" 75c3fc13) - f0)) dro=$(($(owed "$RELAYER") - ro0))
check "seller, creator (royalty), agent, protocol and the listing's relayer share the price to the wei" $ASK $((ds + dc + da + df + dro))
[ $dc -gt 0 ] && [ $ds -gt 0 ] && ok "the creator's royalty $dc, the seller's share $ds, the relayer's fee $dro" ||
	bad "royalty $dc, seller $ds"
p3=$(tok "$PAYER") r3=$(tok "$RELAYER")
out=$(api $V POST /api/market/resale "{\"content_hash\":\"$VIDEO_HASH\",\"action\":\"payout\"}")
echo "$out" >>"$W/api.log"
AMT=$(printf '%s' "$out" | jq_ 'j.get("amount")' 2>/dev/null)
check "the payout: the seller's share less the relayer's fee" $((ds - RELAYER_FEE)) "$AMT"
check "the viewer's wallet got it to the wei" $((p3 + ds - RELAYER_FEE)) "$(tok "$PAYER")"
check "the seller owed nothing now" 0 "$(owed "$HOLDER")"

# 7. a router killed
story "7. a router is killed"
K=${RELAYS##* }
eval "KPID=\$PID$K"
kill -KILL "$KPID" && ok "bitsd$K (paid relay, seeder) killed with SIGKILL" || bad "could not kill bitsd$K"
t=$(date +%s) i=0
until curl -s -m 60 -x "http://$PROXY_HTTP" "http://$SITE/?after-kill" 2>/dev/null | grep -q "Hosted by" || [ $i -gt 100 ]; do sleep 2; i=$((i + 1)); done
[ $i -le 100 ] && ok "the page through the proxy again $(($(date +%s) - t)) s after the kill" ||
	bad "no page through the proxy in 200 s after the kill"
t=$(date +%s)
s=$(python3 - "$W/b$CREATOR_A/api.token" $((API_BASE + CREATOR_A)) <<'PY'
import json, sys, time, http.client
tok = open(sys.argv[1]).read().strip()
def req(method, path, body=None, ctype='application/json'):
    c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[2]), timeout=120)
    if isinstance(body, dict): body = json.dumps(body).encode()
    c.request(method, path, body, {'Authorization': 'Bearer ' + tok, 'Content-Type': ctype})
    r = c.getresponse(); return r.status, json.loads(r.read() or b'{}')
data = b'Written after a router was killed.\n'
s, up = req('POST', '/api/publish', {'name': 'after.txt', 'size': len(data), 'mime': 'text/plain'})
s, up = req('POST', '/api/publish/%d/data?offset=0' % up['id'], data, 'application/octet-stream')
s, up = req('POST', '/api/publish/%d/seal' % up['id'], {'price': '0', 'title': 'After the kill', 'tags': ['text']})
while up.get('state') in ('sealing', 'seeding', 'registering'):
    time.sleep(0.3); s, up = req('GET', '/api/publish/%d' % up['id'])
print(req('POST', '/api/feed/publish', {'card': up['card']})[0])
PY
)
i=0
until api $V GET "/api/feed?limit=100" | grep -q '"After the kill"' || [ $i -gt 150 ]; do sleep 2; i=$((i + 1)); done
[ "$s" = 200 ] && [ $i -le 150 ] && ok "a card published after the kill reached the viewer's feed in $(($(date +%s) - t)) s" ||
	bad "the card published after the kill (publish $s) did not reach the viewer in 300 s"

# 8. no IP where it must not be
story "8. no IP where it must not be"
for n in $(seq 1 "$N_BITSD"); do
	[ "$n" = "$K" ] && continue
	curl -s -m 20 "http://127.0.0.1:$((API_BASE + n))/api/status" | jq_x 'j["router"]["hash"]' >>"$W/idents"
done
api $V GET "/api/feed?limit=100" >"$W/feed.json"
python3 - "$RPC" "$W/idents" "$W/feed.json" "$DEMO_DIR" "$N_BITSD" "$N_I2PD" <<'PY' >"$W/noip.log" 2>&1
import base64, glob, json, os, socket, sys, urllib.request
rpc, idents, feed, d, nb, ni = sys.argv[1:7]
ips = ['127.0.0.%d' % (50 + n) for n in range(1, int(nb) + 1)] + ['127.0.0.%d' % (39 + n) for n in range(1, int(ni) + 2)]
packed = [socket.inet_aton(ip) for ip in ips]
ids = [base64.b64decode(l.strip(), altchars=b'-~') for l in open(idents) if l.strip()]
def hits(blob, what):
    out = []
    low = blob.lower()
    for ip, p in zip(ips, packed):
        if ip.encode() in blob or p.hex().encode() in low or p in blob:
            out.append('%s: %s' % (what, ip))
    for i in ids:
        if i.hex().encode() in low or i in blob or base64.b64encode(i, altchars=b'-~').rstrip(b'=') in blob:
            out.append('%s: router %s' % (what, base64.b64encode(i, altchars=b'-~')[:8].decode()))
    return out
def call(m, p):
    r = urllib.request.urlopen(urllib.request.Request(rpc, json.dumps({'jsonrpc': '2.0', 'id': 1, 'method': m, 'params': p}).encode(),
                                                      {'Content-Type': 'application/json'}), timeout=60)
    return json.load(r)['result']
bad, ntx, nlog = [], 0, 0
last = int(call('eth_blockNumber', []), 16)
for b in range(last + 1):
    blk = call('eth_getBlockByNumber', [hex(b), True])
    for tx in blk['transactions']:
        ntx += 1
        bad += hits(tx['input'].encode(), 'tx %s calldata' % tx['hash'][:10])
        rc = call('eth_getTransactionReceipt', [tx['hash']])
        for lg in rc['logs']:
            nlog += 1
            bad += hits((lg['data'] + ''.join(lg['topics'])).encode(), 'tx %s log' % tx['hash'][:10])
body = open(feed, 'rb').read().split(b' ', 1)[1]
ncards = len(json.loads(body)['cards'])
bad += hits(body, 'card')
nframes = 0
import struct
for path in glob.glob(d + '/bitsd*/capture.bin'):
    data = open(path, 'rb').read(); o = 0
    while o + 37 <= len(data):
        n = struct.unpack('>I', data[o + 33:o + 37])[0]
        f = data[o + 37:o + 37 + n]; o += 37 + n
        if len(f) < 5:
            break
        nframes += 1
        if f[4] == 9:   # PIECE: the sealed chunk's bytes are random
            f = f[:11 + struct.unpack('>H', f[9:11])[0]]
        bad += hits(f, '%s frame type %d' % (os.path.basename(os.path.dirname(path)), f[4]))
nlines = 0
for path in glob.glob(d + '/bitsd*/bitsd.log'):
    who = os.path.basename(os.path.dirname(path))
    for line in open(path, 'rb'):
        nlines += 1
        for h in hits(line, '%s log' % who):
            bad.append(h + ': ' + line.decode(errors='replace').strip()[:160])
print('%d transactions, %d logs, %d cards, %d swarm frames, %d log lines searched' % (ntx, nlog, ncards, nframes, nlines))
seen = set()
for b in bad:
    k = b.split(':')[0] + b.split(':')[1]
    if k not in seen:
        seen.add(k); print(b)
sys.exit(1 if bad or not ntx or not ncards or not nframes else 0)
PY
[ $? = 0 ] && ok "no router address or identity: $(head -1 "$W/noip.log")" ||
	bad "addresses found: $(head -12 "$W/noip.log")"

# 9. the end
story "9. the demo stops"
# what the demo runs: its children and theirs (anvil's npm wrapper runs anvil)
kids=$(pgrep -P $DPID | tr '\n' ' ')
for k in $kids; do kids="$kids $(pgrep -P "$k" | tr '\n' ' ')"; done
kill -TERM $DPID
i=0; while kill -0 $DPID 2>/dev/null && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
wait $DPID 2>/dev/null; DPID=""
left=""
for p in $kids $(pgrep -f -- "$W/net"); do
	kill -0 "$p" 2>/dev/null && [ "$(ps -o stat= -p "$p" | cut -c1)" != Z ] && left="$left $p"
done
[ -z "$left" ] && grep -q "nothing of the demo left running" "$W/demo.log" &&
	ok "the demo stopped on TERM: none of its $(echo $kids | wc -w) processes left running" ||
	bad "left running:$left ($(tail -1 "$W/demo.log"))"
clean=0 san=""
for n in $(seq 1 "$N_BITSD"); do
	[ "$n" = "$K" ] && continue
	grep -q 'stopped cleanly' "$DEMO_DIR/bitsd$n/bitsd.log" && clean=$((clean + 1))
	grep -q 'ERROR: [A-Za-z]*Sanitizer\|runtime error' "$DEMO_DIR/bitsd$n/stdout.log" \
		"$DEMO_DIR/bitsd$n/bitsd.log" 2>/dev/null && san="$san bitsd$n"
done
check "every bitsd left stopped cleanly" $((N_BITSD - 1)) $clean
check "no sanitizer report" "" "$san"
echo "total $(el) s"
result $NAME
