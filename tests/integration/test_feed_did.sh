#!/bin/sh
# Favoured creators by DID in bitsd (issue [H], docs/feed.md §4, §9): one
# bitsd with the feed and the market over an anvil started here (the
# contracts deployed) fills its DID index from the DIDRegistry's
# DIDAttributeChanged events, read through its own chain RPC gateway on
# a worker, each feed round, from the last block read.
#  - creator c1 is named as the feed key did/pub/Ed25519/veriKey/hex of
#    identity A2 (setAttribute from A2), c3 of A3: their cards, naming
#    those did:ethr, are taken as a favoured creator's (the feed's
#    "favoured" counter); c2, an impostor whose card names A2's DID with
#    its own key, is not;
#  - A3 then sets c3's key again with no validity left: once read, and
#    the chain's time of it past, c3's next card is not favoured;
#  - bitsd stops cleanly and saves the index (the pair whose validity
#    ended left out); started again it reads it back, goes on from the
#    block it had reached, and c1 is favoured again.
# Waits are on conditions with generous timeouts.  127.0.1.26, NTCP2 port
# 29306, the API on 127.0.0.1:29356, anvil on a free port.
set -u
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
NAME=test_feed_did
BITSD=$top_builddir/apps/bitsd
BITS=$top_builddir/apps/bits
W=$(mktemp -d "${TMPDIR:-/tmp}/feed-did.XXXXXX")
API_BASE=29355
PID=
cleanup() {
	if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
	stop_anvil
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
. "${top_srcdir:-.}/tests/integration/market-lib.sh"
# anvil's accounts 2 and 3: the identities
A2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
K2=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
A3=0x90F79bf6EB2c4f870365E785982E1f101E93b906
K3=0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6
ATTR=0x$(printf 'did/pub/Ed25519/veriKey/hex' | od -An -v -tx1 | tr -d ' \n')
ATTR=$(printf '%-66s' "$ATTR" | tr ' ' 0)

need_tools $NAME
start_anvil "$W" || { result $NAME; exit 1; }
deploy "$W" || { result $NAME; exit 1; }
DIDREG=$(jget "$W/deploy.json" didRegistry)

# card WHO TITLE DID: a card signed by WHO's creator key (made on first
# use) naming DID; its hex in W/WHO-TITLE.hex, the creator key in W/WHO.pub
card() {
	head -c 2000 /dev/urandom >"$W/$1-$2.bin"
	"$BITS" publish "$W/$1-$2.bin" --title "$2" --mime text/plain \
		--did "$3" --identity "$W/$1.key" --out "$W/c-$1-$2" \
		>"$W/publish.log" 2>&1 || { bad "bits publish $1 $2: $(tail -n 2 "$W/publish.log")"; return 1; }
	od -An -v -tx1 "$W/c-$1-$2"/*/card | tr -d ' \n' >"$W/$1-$2.hex"
	"$BITS" verify "$W/c-$1-$2"/* --json 2>/dev/null | python3 -c '
import sys, json
for line in sys.stdin:
    if line.startswith("{"):
        print(json.loads(line)["creator"]["key"])' >"$W/$1.pub"
	[ -s "$W/$1.pub" ] || { bad "no creator key for $1"; return 1; }
}
# status FIELD: a value of /api/feed/status (dotted), "" when unanswered
status() {
	api 1 GET /api/feed/status 2>/dev/null | jq_ "j$(printf '%s' "$1" | sed 's/\([^.]*\)/["\1"]/g; s/\.//g')" 2>/dev/null
}
# wait_status EXPR SECONDS: until the Python EXPR over the status (j)
# holds
wait_status() {
	i=0
	while [ $i -lt "$2" ]; do
		[ "$(api 1 GET /api/feed/status 2>/dev/null | jq_ "$1" 2>/dev/null)" = True ] && return 0
		sleep 1; i=$((i + 1))
	done
	return 1
}
# publish WHO TITLE: post the card to bitsd's feed
publish() {
	out=$(api 1 POST /api/feed/publish "{\"card\":\"$(cat "$W/$1-$2.hex")\"}")
	case "$out" in 200*) return 0 ;; esac
	bad "bitsd refuses $1's card $2: $out"; return 1
}
# set_key WHO IDENTITY PRIVKEY VALIDITY: IDENTITY names WHO's feed key
set_key() {
	"$CAST" send --rpc-url "$RPC" --private-key "$3" "$DIDREG" \
		'setAttribute(address,bytes32,bytes,uint256)' "$2" "$ATTR" \
		"0x$(cat "$W/$1.pub")" "$4" >"$W/cast.log" 2>&1 ||
		{ bad "setAttribute for $1: $(tail -n 3 "$W/cast.log")"; return 1; }
	"$CAST" block-number --rpc-url "$RPC"
}
start_bitsd() {
	"$BITSD" --datadir "$W/b1" --netid 77 --host 127.0.1.26 --port 29306 \
		--api-port $((API_BASE + 1)) --loglevel info --feed --feed.round 2 \
		--market.gateway --market.gateway.rpc "$RPC" \
		--market.deploy "$W/deploy.json" >>"$W/b1.log" 2>&1 &
	PID=$!
	i=0
	until [ -s "$W/b1/api.token" ] &&
		[ "$(status did.reading)" = True ] && [ "$(status did.scans)" != 0 ]; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$PID" 2>/dev/null; then
			bad "bitsd did not come up reading the DID registry"; tail -n 30 "$W/b1.log"
			return 1
		fi
		sleep 1
	done
}
stop_bitsd() {
	kill -TERM "$PID"
	wait "$PID"; rc=$?
	PID=
	[ $rc = 0 ] && ok "bitsd stops cleanly" || bad "bitsd exits with $rc"
	grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$W/b1.log" &&
		bad "sanitizer report (see $W/b1.log)" || true
}

card c1 one "did:ethr:$A2" && card c2 two "did:ethr:$A2" &&
	card c3 three "did:ethr:$A3" && card c3 four "did:ethr:$A3" &&
	card c1 five "did:ethr:$A2" || { result $NAME; exit 1; }
mkdir -p "$W/b1"
start_bitsd || { result $NAME; exit 1; }
ok "bitsd reads the DID registry through its gateway (block $(status did.next_block))"

# ---- c1 named by A2, c3 by A3, for an hour ----
set_key c1 "$A2" "$K2" 3600 >/dev/null && B=$(set_key c3 "$A3" "$K3" 3600) ||
	{ result $NAME; exit 1; }
wait_status "j['did']['next_block'] > $B and j['did']['pairs'] == 2" 120 &&
	ok "the index holds both keys after block $B" ||
	bad "the index never read block $B: $(api 1 GET /api/feed/status)"
publish c1 one && [ "$(status gossip.favoured)" = 1 ] &&
	ok "c1's card, its key named by A2, is a favoured creator's" ||
	bad "c1's card is not favoured: $(status gossip.favoured)"
publish c2 two && [ "$(status gossip.favoured)" = 1 ] &&
	ok "c2's card, naming A2's DID with another key, is not favoured" ||
	bad "the impostor's card: favoured $(status gossip.favoured)"
publish c3 three && [ "$(status gossip.favoured)" = 2 ] &&
	ok "c3's card, its key named by A3, is favoured" ||
	bad "c3's card is not favoured: $(status gossip.favoured)"

# ---- c3's key set again with no validity left ----
B=$(set_key c3 "$A3" "$K3" 0) || { result $NAME; exit 1; }
TS=$(python3 - "$RPC" "$B" <<'PY'
import sys, json, urllib.request
req = {"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
       "params": [hex(int(sys.argv[2])), False]}
r = urllib.request.urlopen(urllib.request.Request(sys.argv[1], json.dumps(req).encode(),
    {"Content-Type": "application/json"}), timeout=60)
print(int(json.loads(r.read())["result"]["timestamp"], 16))
PY
)
wait_status "j['did']['next_block'] > $B" 120 ||
	bad "the index never read block $B"
# the chain's clock may run ahead of ours: wait until it is past
i=0
while [ "$(date +%s)" -le "$TS" ] && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
publish c3 four && [ "$(status gossip.favoured)" = 2 ] &&
	ok "c3's next card, its key's validity ended, is not favoured" ||
	bad "c3's card after its validity ended: favoured $(status gossip.favoured)"
[ "$(status did.events)" = 3 ] && [ "$(status did.errors)" = 0 ] &&
	ok "three key events applied, no error" ||
	bad "events $(status did.events), errors $(status did.errors): $(status did.error)"

# ---- the index saved and read back ----
stop_bitsd
[ -s "$W/b1/feed-did.idx" ] && ok "the index is saved in feed-did.idx" ||
	bad "no saved index"
start_bitsd || { result $NAME; exit 1; }
line=$(grep "feed: DID index: .* pairs from" "$W/b1.log" | tail -n 1)
from=$(printf '%s' "$line" | sed -n 's/.*reading from block \([0-9]*\).*/\1/p')
case "$line" in
*"DID index: 1 pairs from"*) [ "${from:-0}" -gt "$B" ] &&
	ok "started again: 1 pair read back (c3's ended), reading from block $from" ||
	bad "read back, but from block ${from:-?} (want > $B): $line" ;;
*) bad "the index is not read back: $line" ;;
esac
publish c1 five && [ "$(status gossip.favoured)" = 1 ] &&
	ok "c1 is favoured again after the restart" ||
	bad "c1 after the restart: favoured $(status gossip.favoured)"
stop_bitsd
result $NAME
