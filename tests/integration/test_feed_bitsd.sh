#!/bin/sh
# The feed between bitsd routers over tunnels through bitsd hops (issue
# [H]): four bitsd routers that know each other's RouterInfos, one-hop
# exploratory and client tunnels, `feed = true` on each, b1 the floodfill.
# Each router learns its neighbour's feed address at run time through
# POST /api/feed/peers, so gossip runs on a line b1 - b2 - b3 - b4 and
# every card crosses up to three routers as datagrams over tunnels.
#  - a card published from fields on b1 (signed by b1's creator key)
#    appears in the feeds of b2, b3 and b4 (GET /api/feed);
#  - a card made by `bits publish` with a title byte changed after
#    signing is refused by b3's /api/feed/publish (422, counted as
#    rej_sig) and never appears anywhere; the genuine card posted to b4
#    reaches b1;
#  - a like on b4 shows in b1's count;
#  - every router stops cleanly, with no sanitizer report.
# Waits are on conditions with generous timeouts.  127.0.1.11-14, NTCP2
# ports 29101-29104, the APIs on 127.0.0.1:29151-29154.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_feed_bitsd
W=$(mktemp -d "${TMPDIR:-/tmp}/feed-bitsd.XXXXXX")
BITS=${BITS:-${top_builddir:-.}/apps/bits}
PIDS=""
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077
command -v python3 >/dev/null || { bad "python3 is not installed"; result $NAME; exit 1; }

bitsd_mesh "$W" 127.0.1 10 29100 "feed = true" "[feed]
round = 5" || { result $NAME; exit 1; }
for n in 1 2 3 4; do
	ff=""; [ $n = 1 ] && ff=--floodfill
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$((10 + n)) \
		--port $((29100 + n)) --netid 77 --api-port $((29150 + n)) $ff \
		--loglevel debug --logfile "$W/b$n/bitsd.log" \
		>"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
done

FEED_API_BASE=29150
. "${top_srcdir:-.}/tests/integration/feed-lib.sh"
# rows N QUERY: cards in router n's feed for QUERY (-1 when unanswered)
rows() {
	out=$(feed "$1" GET "?$2" 2>/dev/null) || { echo -1; return; }
	python3 -c 'import sys, json; print(len(json.loads(sys.argv[1])["cards"]))' "$out" 2>/dev/null || echo -1
}
# wait_rows N QUERY COUNT SECONDS: 0 when router n shows COUNT cards in time
wait_rows() {
	i=0
	while [ "$(rows "$1" "$2")" != "$3" ] && [ $i -lt "$4" ]; do sleep 1; i=$((i + 1)); done
	[ "$(rows "$1" "$2")" = "$3" ]
}
# status N FIELD: a number from router n's /api/feed/status (dotted)
status() { jget "$(feed "$1" GET /status 2>/dev/null)" "$2"; }

for n in 1 2 3 4; do
	wait_log "$W/b$n/bitsd.log" "feed: our destination is" 60 &&
		wait_log "$W/b$n/bitsd.log" "feed: 0 peers, /api/feed served" 60 ||
		{ bad "b$n: no feed service (see $W/b$n/bitsd.log)"; result $NAME; exit 1; }
done
ok "every router runs its feed on /api/feed"
# the line b1 - b2 - b3 - b4, set through the API
for pair in "1 2" "2 1" "2 3" "3 2" "3 4" "4 3"; do
	set -- $pair
	feed "$1" POST /peers "{\"peer\":\"$(tr -d '\n' <"$W/b$2/feed.b32")\"}" >/dev/null ||
		bad "b$1 does not take b$2 as a feed peer"
done
for n in 1 2 3 4; do
	want=2; [ $n = 1 ] || [ $n = 4 ] && want=1
	i=0
	while [ "$(status $n peers_up)" != $want ] && [ $i -lt 300 ]; do sleep 1; i=$((i + 1)); done
	[ "$(status $n peers_up)" = $want ] && ok "b$n found its $want feed peer(s) through the netDb" ||
		bad "b$n found $(status $n peers_up) of its $want feed peers in 300 s"
done

# ---- a card from fields on b1 reaches b2, b3 and b4 ----
out=$(feed 1 POST /publish '{"content_hash":"'"$(printf 'ab%.0s' $(seq 32))"'","size":4096,"mime":"video/mp4","title":"Harbour lights at dusk","tags":["film"],"description":"over tunnels"}') &&
	ok "b1 publishes a card: $(jget "$out" id | cut -c1-16)…" || bad "b1 cannot publish: $out"
CARD=$(jget "$out" id)
for n in 2 3 4; do
	wait_rows $n "text=harbour&tag=film" 1 300 &&
		ok "the card is in b$n's feed" || bad "the card never reached b$n"
done

# ---- a forged card is refused; the genuine one travels b4 -> b1 ----
head -c 3000 /dev/urandom >"$W/clip.bin"
"$BITS" publish "$W/clip.bin" --title "Forest engine" --tag music \
	--mime audio/ogg --identity "$W/b4/creator.key" --out "$W/content" \
	>"$W/publish.log" 2>&1 || bad "bits publish failed: $(tail -n 2 "$W/publish.log")"
GENUINE=$(od -An -v -tx1 "$W/content"/*/card | tr -d ' \n')
FORGED=$(python3 -c 'import sys
h = sys.argv[1]; b = bytearray.fromhex(h); i = b.find(b"Forest")
b[i] ^= 1; print(b.hex())' "$GENUINE")
if feed 3 POST /publish "{\"card\":\"$FORGED\"}" >"$W/forged.json" 2>"$W/forged.err"; then
	bad "b3 took a forged card"
else
	grep -q "HTTP 422" "$W/forged.err" && [ "$(status 3 gossip.rej_sig)" = 1 ] &&
		ok "b3 refuses the forged card (422) and counts it" ||
		bad "b3's answer to a forged card: $(cat "$W/forged.err") $(cat "$W/forged.json")"
fi
feed 4 POST /publish "{\"card\":\"$GENUINE\"}" >/dev/null &&
	ok "b4 takes the genuine card" || bad "b4 refuses the genuine card"
wait_rows 1 "text=forest" 1 300 && ok "the genuine card reached b1 from b4" ||
	bad "the genuine card never reached b1"
for n in 1 2 3 4; do
	[ "$(rows $n "text=eorest")" = 0 ] || bad "a forged title shows at b$n"
done

# ---- a like on b4 counts at b1 ----
feed 4 POST /react "{\"card\":\"$CARD\",\"reaction\":\"like\"}" >/dev/null ||
	bad "b4 cannot like the card"
i=0
while [ "$(jget "$(feed 1 GET "/card/$CARD" 2>/dev/null)" stats.likes)" != 1 ] && [ $i -lt 300 ]; do
	sleep 1; i=$((i + 1))
done
[ "$(jget "$(feed 1 GET "/card/$CARD" 2>/dev/null)" stats.likes)" = 1 ] &&
	ok "b4's like is counted at b1" || bad "b4's like never reached b1"

# ---- filters by media type and owned, trending (the liked card first,
#      though the other is newer; no market here: nothing owned) ----
[ "$(rows 1 "media=audio")" = 1 ] && [ "$(rows 1 "media=video%2Fmp4")" = 1 ] &&
	[ "$(rows 1 "media=image")" = 0 ] && [ "$(rows 1 "price=owned")" = 0 ] &&
	ok "b1 filters by media type and owned" ||
	bad "b1's media/owned filters: audio $(rows 1 "media=audio"), video/mp4 $(rows 1 "media=video%2Fmp4"), owned $(rows 1 "price=owned")"
[ "$(jget "$(feed 1 GET "?sort=trending&limit=1" 2>/dev/null)" cards.0.id)" = "$CARD" ] &&
	[ "$(jget "$(feed 1 GET "?sort=new&limit=1" 2>/dev/null)" cards.0.id)" != "$CARD" ] &&
	ok "b1's trending puts the liked card first, newest the other" ||
	bad "b1's trending: $(feed 1 GET "?sort=trending" 2>/dev/null)"

for n in 1 2 3 4; do
	eval "BPID=\$P$n"
	bitsd_stop && ok "bitsd $n stopped cleanly" || bad "bitsd $n did not stop cleanly"
	grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$W/b$n/stdout.log" &&
		bad "sanitizer report from $n (see $W/b$n/stdout.log)" ||
		ok "no sanitizer report from $n"
done
PIDS=""
result $NAME
