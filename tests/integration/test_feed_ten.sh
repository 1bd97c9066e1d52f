#!/bin/sh
# The feed at the issue's size in a mixed network (issue [H]'s test, run
# by hand: about ten minutes; too long for TESTS):
#   make check TESTS=tests/integration/test_feed_ten.sh
# Three i2pd routers (2 floodfills) and ten bitsd routers that know each
# other's RouterInfos; every tunnel has 2 hops drawn from all thirteen, so
# the feed's datagrams cross bitsd and i2pd hops.  `feed = true` on each
# bitsd (rounds of 10 s), b1 a floodfill.  Each router gossips with three
# others, set through POST /api/feed/peers: a ring b1 - b2 - ... - b10 -
# b1 and the chords n - n+5.
#  - b6 keeps only followed creators' cards (feed.followed-only) and
#    follows b1's and b3's creators through POST /api/feed/follow;
#  - a card published on b1 appears in the nine others' feeds;
#  - b3's new card reaches b6 (a followed creator), b4's reaches the
#    eight others but not b6, which refuses it (rej_follow);
#  - b10 stops; cards published on b2 and b7 meanwhile reach the others;
#    b10 started again catches up with both by reconciliation (its
#    SUMMARY and its peers' rounds: it was offline when they were
#    pushed), and nothing else is new to it; then a card of b10's
#    reaches the others and one of b5's reaches b10;
#  - some of the bitsd routers' tunnels had an i2pd first hop, and every
#    router stops cleanly, with no sanitizer report.
# Counts and times are printed; nothing is asserted on speed.  b10 is
# offline for as long as two cards take to spread, or OFFLINE_S seconds
# if that is longer: OFFLINE_S=3600 keeps it down for an hour, past the
# lifetimes of its tunnels, leases and LeaseSet (about 75 minutes in all;
# an hour of the test clock over localnet is gossip/ten_nodes).
# bitsd on 127.0.1.91-100, NTCP2 30201-30210, the APIs on
# 127.0.0.1:30251-30260; i2pd on 127.0.0.225-227, NTCP2 30221-30223,
# consoles 30321-30323, SAM 30421-30426.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_feed_ten
W=$(mktemp -d "${TMPDIR:-/tmp}/feed-ten.XXXXXX")
PIDS=""
NET=$W/net
HOPS=2
WAIT=600
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	"$TESTNET" down "$NET" >/dev/null 2>&1
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077
command -v python3 >/dev/null || { bad "python3 is not installed"; result $NAME; exit 1; }
need_i2pd $NAME
testnet_up_2ff 3 225 30220
I2PD_HEX=""
for n in 1 2 3; do
	eval "h=\$R${n}_HASH"
	I2PD_HEX="$I2PD_HEX $(b64_hex4 "$h")"
done
ok "i2pd testnet up (3 routers, 2 floodfills)"

ALL="1 2 3 4 5 6 7 8 9 10"
for n in $ALL; do
	mkdir -p "$W/b$n"
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$((90 + n)) \
		--port $((30200 + n)) --netid 77 --init >"$W/b$n/init.log" 2>&1 ||
		{ bad "bitsd --init failed for router $n"; result $NAME; exit 1; }
done
for n in $ALL; do
	for m in $ALL; do
		[ $m = $n ] || seed_ri "$W/b$m/router.info" "$W/b$n"
	done
	seed_netdb "$NET" "$W/b$n"
	fo=""; [ $n = 6 ] && fo="followed-only = true"
	cat >"$W/b$n/bits.conf" <<CONF
feed = true
[exploratory]
inbound.length = $HOPS
outbound.length = $HOPS
[tunnels]
same-subnet = true
[sam]
hops = $HOPS
[feed]
round = 10
$fo
CONF
done
# start N
start() {
	ff=""; [ "$1" = 1 ] && ff=--floodfill
	"$BITSD" --datadir "$W/b$1" --host 127.0.1.$((90 + $1)) \
		--port $((30200 + $1)) --netid 77 --api-port $((30250 + $1)) $ff \
		--loglevel info --logfile "$W/b$1/bitsd.log" \
		>>"$W/b$1/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$1=$!"
}
FEED_API_BASE=30250
. "${top_srcdir:-.}/tests/integration/feed-lib.sh"
# has N ID: 0 when router n's feed holds the card ID
has() { feed "$1" GET "/card/$2" >/dev/null 2>&1; }
status() { jget "$(feed "$1" GET /status 2>/dev/null)" "$2"; }
# wait_cards ID SECONDS ROUTERS...: 0 when every router shows the card
# in time; prints the seconds taken (from the call: the asking takes
# seconds too)
wait_cards() {
	id=$1 s=$2; shift 2
	t0=$(date +%s)
	while [ $(($(date +%s) - t0)) -lt "$s" ]; do
		left=""
		for n in "$@"; do has "$n" "$id" || left="$left $n"; done
		[ -z "$left" ] && { echo $(($(date +%s) - t0)); return 0; }
		sleep 2
	done
	echo "missing at:$left"
	return 1
}
# publish N TITLE: a card from fields on router n; sets CARD
publish() {
	out=$(feed "$1" POST /publish "{\"content_hash\":\"$(python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())' "$2")\",\"size\":4096,\"mime\":\"video/mp4\",\"title\":\"$2\",\"tags\":[\"ten\"]}") ||
		{ bad "b$1 cannot publish $2: $out"; return 1; }
	CARD=$(jget "$out" id)
}
# peers N: the ring and chord neighbours of router n
peers() {
	echo $(( $1 % 10 + 1 )) $(( ($1 + 8) % 10 + 1 )) $(( ($1 + 4) % 10 + 1 ))
}
# link N: give router n its three feed peers
link() {
	for m in $(peers "$1"); do
		feed "$1" POST /peers "{\"peer\":\"$(tr -d '\n' <"$W/b$m/feed.b32")\"}" >/dev/null ||
			bad "b$1 does not take b$m as a feed peer"
	done
}

T0=$(date +%s)
for n in $ALL; do start $n; done
for n in $ALL; do
	wait_log "$W/b$n/bitsd.log" "feed: 0 peers, /api/feed served" 120 &&
		[ -s "$W/b$n/feed.b32" ] ||
		{ bad "b$n: no feed service (see $W/b$n/bitsd.log)"; result $NAME; exit 1; }
done
ok "ten routers run their feed"
for n in $ALL; do link $n; done
for n in $ALL; do
	i=0
	while [ "$(status $n peers_up)" != 3 ] && [ $i -lt $WAIT ]; do sleep 2; i=$((i + 2)); done
	[ "$(status $n peers_up)" = 3 ] && ok "b$n found its 3 feed peers" ||
		bad "b$n found $(status $n peers_up) of its 3 feed peers in $WAIT s"
done
echo "     peers found after $(($(date +%s) - T0)) s; load: $(uptime)"
C1=$(status 1 creator) C3=$(status 3 creator)
for c in "$C1" "$C3"; do
	feed 6 POST /follow "{\"creator\":\"$c\",\"on\":true}" >/dev/null ||
		bad "b6 cannot follow $c"
done

# ---- a card from b1 reaches the nine others ----
publish 1 "Harbour lights" && t=$(wait_cards "$CARD" $WAIT 2 3 4 5 6 7 8 9 10) &&
	ok "b1's card is in the nine other feeds after $t s" ||
	bad "b1's card: $t"

# ---- follows: b3's card reaches b6, b4's does not ----
publish 3 "Forest engine" && t=$(wait_cards "$CARD" $WAIT 1 2 4 5 6 7 8 9 10) &&
	ok "b3's card, a creator b6 follows, reaches all, b6 too, after $t s" ||
	bad "b3's card: $t"
rf=$(status 6 gossip.rej_follow)
publish 4 "Quiet river" && C4=$CARD && t=$(wait_cards "$CARD" $WAIT 1 2 3 5 7 8 9 10) &&
	ok "b4's card reaches the eight others after $t s" || bad "b4's card: $t"
i=0
while [ "$(status 6 gossip.rej_follow)" = "$rf" ] && [ $i -lt 120 ]; do sleep 2; i=$((i + 2)); done
! has 6 "$C4" && [ "$(status 6 gossip.rej_follow)" -gt "${rf:-0}" ] &&
	ok "b6 refuses b4's card, a creator it does not follow (rej_follow $(status 6 gossip.rej_follow))" ||
	bad "b6 and b4's card: shown $(has 6 "$C4" && echo yes || echo no), rej_follow $(status 6 gossip.rej_follow)"

# ---- b10 offline while two cards spread, then catches up ----
BPID=$P10
bitsd_stop && ok "b10 stopped" || bad "b10 did not stop cleanly"
T0FF=$(date +%s)
publish 2 "Night market" && A=$CARD && publish 7 "Salt flats" && B=$CARD || true
t=$(wait_cards "$A" $WAIT 1 3 4 5 7 8 9) && t2=$(wait_cards "$B" $WAIT 1 2 3 4 5 8 9) &&
	ok "b2's and b7's cards spread while b10 is down ($t, $t2 s)" ||
	bad "cards while b10 is down: $t $t2"
has 10 "$A" 2>/dev/null && bad "b10 answers while stopped"
while [ $(($(date +%s) - T0FF)) -lt "${OFFLINE_S:-0}" ]; do sleep 10; done
echo "     b10 was offline $(($(date +%s) - T0FF)) s"
T1=$(date +%s)
start 10
wait_log "$W/b10/bitsd.log" "feed: 0 peers, /api/feed served" 120 || true
i=0
until [ -s "$W/b10/api.token" ] && status 10 peers >/dev/null 2>&1 && [ -n "$(status 10 peers)" ]; do
	[ $i -ge 120 ] && break
	sleep 1; i=$((i + 1))
done
link 10
t=$(wait_cards "$A" $WAIT 10) && t2=$(wait_cards "$B" $WAIT 10) &&
	ok "b10 catches up with both cards $(($(date +%s) - T1)) s after it started" ||
	bad "b10 after its restart: $t $t2"
[ "$(status 10 gossip.items_new)" = 2 ] &&
	ok "b10 took the two cards it lacked and nothing it held (duplicates dropped: $(status 10 gossip.items_dup))" ||
	bad "b10 after its restart: items_new $(status 10 gossip.items_new), items_dup $(status 10 gossip.items_dup)"
# Both ways again after the restart: b10's new card reaches the eight
# others that take it (b6 follows only b1 and b3), b5's reaches b10 (its
# peers kept it as a peer while it was down).
publish 10 "Morning tide" && t=$(wait_cards "$CARD" $WAIT 1 2 3 4 5 7 8 9) &&
	ok "b10's new card reaches the eight others after $t s" || bad "b10's new card: $t"
publish 5 "Low bridge" && t=$(wait_cards "$CARD" $WAIT 10) &&
	ok "b5's new card reaches b10 after $t s" || bad "b5's new card and b10: $t"

# "... tunnel ID built: N hops, first HEX": tunnels whose first hop is
# an i2pd router.
k=$(cat "$W"/b*/bitsd.log | grep -o "tunnel [0-9a-f]* built: [0-9]* hops, first [0-9a-f]*" |
	awk -v i="$I2PD_HEX" 'BEGIN { split(i, a, " "); for (x in a) isi[a[x]] = 1 }
		$7 in isi { t[$2] = 1 } END { for (x in t) n++; print n + 0 }')
[ "$k" -ge 1 ] && ok "$k of the bitsd routers' tunnels had an i2pd first hop" ||
	bad "no tunnel had an i2pd hop"
echo "     total $(($(date +%s) - T0)) s; load: $(uptime)"
for n in $ALL; do
	eval "BPID=\$P$n"
	bitsd_stop && ok "b$n stopped cleanly" || bad "b$n did not stop cleanly"
	grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$W/b$n/stdout.log" &&
		bad "sanitizer report from b$n (see $W/b$n/stdout.log)" || true
done
PIDS=""
result $NAME
