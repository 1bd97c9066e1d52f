#!/bin/sh
# The swarm at the size issue [W] names, in a mixed network (run by hand:
# tens of minutes; too long for TESTS):
#   make check TESTS=tests/integration/test_swarm_full.sh
# Three i2pd routers (2 floodfills) and nine bitsd routers that know each
# other's RouterInfos; every tunnel has 2 hops drawn from all twelve, so
# the swarm's tunnels mix bitsd and i2pd hops.  `swarm = true` on each
# bitsd:
#  - b1 is a floodfill and the swarm tracker; the others know only its b32;
#  - b2, the creator, publishes SIZE (default 200 MiB) into its store;
#    b3-b6, the four seeders, hold copies of that store when they start
#    (they seed what the creator published);
#  - b7, b8 and b9, the viewers, know the content only by hash and key and
#    fetch it at the same time: b7 and b8 with `bits get`, b9 by playing
#    its streaming endpoint: the first 2 MiB (Range) come while most of
#    the content is still missing (playback order: the start first), a
#    seek to 75 % (1 MiB from there) likewise, then the whole file;
#  - b4, a seeder, is killed (SIGKILL) once b7 has 5 % of the chunks;
#  - every viewer ends byte-identical to the published file, and the
#    routers that still run stop cleanly (no warning, BUG or sanitizer
#    report), and some of the bitsd tunnels had i2pd hops.
# Counts and times are printed; nothing is asserted on speed.
# bitsd on 127.0.1.71-79, NTCP2 29901-29909, streaming endpoints on
# 127.0.0.1:29951-29959; i2pd on 127.0.0.235-237, NTCP2 29921-29923,
# consoles 30021-30023, SAM 30121-30126.
# SWARM_FULL_SIZE (bytes) changes the size.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_swarm_full
W=$(mktemp -d "${TMPDIR:-/tmp}/swarm-full.XXXXXX")
BITS=${BITS:-${top_builddir:-.}/apps/bits}
SIZE=${SWARM_FULL_SIZE:-209715200}
CHUNK=65536
PIDS=""
NET=$W/net
HOPS=2
GET_S=5400
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	"$TESTNET" down "$NET" >/dev/null 2>&1
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077
for tool in curl python3; do
	command -v $tool >/dev/null ||
		{ bad "$tool is not installed"; result $NAME; exit 1; }
done
need_i2pd $NAME
testnet_up_2ff 3 235 29920
I2PD_HEX=""
for n in 1 2 3; do
	eval "h=\$R${n}_HASH"
	I2PD_HEX="$I2PD_HEX $(b64_hex4 "$h")"
done
ok "i2pd testnet up (3 routers, 2 floodfills)"

for n in 1 2 3 4 5 6 7 8 9; do
	mkdir -p "$W/b$n"
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$((70 + n)) \
		--port $((29900 + n)) --netid 77 --init >"$W/b$n/init.log" 2>&1 ||
		{ bad "bitsd --init failed for router $n"; result $NAME; exit 1; }
done
for n in 1 2 3 4 5 6 7 8 9; do
	for m in 1 2 3 4 5 6 7 8 9; do
		[ $m = $n ] || seed_ri "$W/b$m/router.info" "$W/b$n"
	done
	seed_netdb "$NET" "$W/b$n"
done

# The content, published into the creator's store; the seeders' stores
# are copies of it.
python3 -c 'import random, sys
r, n = random.Random(20), int(sys.argv[1])
out = sys.stdout.buffer
while n > 0:
    k = min(n, 1 << 24)
    out.write(r.randbytes(k))
    n -= k' $SIZE >"$W/movie.bin"
"$BITS" publish "$W/movie.bin" --mime video/mp4 --datadir "$W/b2" \
	>"$W/pub.out" 2>"$W/pub.err" ||
	{ bad "bits publish: $(cat "$W/pub.err")"; result $NAME; exit 1; }
HASH=$(sed -n 's/^content  *\([0-9a-f]\{64\}\)$/\1/p' "$W/pub.out")
KEY=$(sed -n 's/^key  *\([0-9a-f]\{64\}\)$/\1/p' "$W/pub.out")
[ -n "$HASH" ] && [ -n "$KEY" ] && ok "$SIZE bytes published in b2's store" ||
	{ bad "no hash or key: $(cat "$W/pub.out")"; result $NAME; exit 1; }
for n in 3 4 5 6; do cp -r "$W/b2/content" "$W/b$n/"; done
CHUNKS=$(((SIZE + CHUNK - 1) / CHUNK))

# conf N EXTRA: bits.conf of router n, EXTRA lines in its [swarm] section
conf() {
	cat >"$W/b$1/bits.conf" <<CONF
swarm = true
[exploratory]
inbound.length = $HOPS
outbound.length = $HOPS
[tunnels]
same-subnet = true
[sam]
hops = $HOPS
[swarm]
http-port = $((29950 + $1))
$2
CONF
}
# start N [flags]
start() {
	n=$1; shift
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$((70 + n)) \
		--port $((29900 + n)) --netid 77 --loglevel info \
		--logfile "$W/b$n/bitsd.log" "$@" >"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
}
conf 1 "tracker = true"
start 1 --floodfill
wait_log "$W/b1/bitsd.log" "swarm: our destination is" 120 ||
	{ bad "b1's swarm did not start: $(tail -3 "$W/b1/bitsd.log")"; result $NAME; exit 1; }
TRACKER=$(cat "$W/b1/swarm.b32")
ok "tracker at ${TRACKER%%.*}"
for n in 2 3 4 5 6 7 8 9; do
	conf $n "trackers = $TRACKER"
	start $n
done
for n in 2 3 4 5 6 7 8 9; do
	wait_log "$W/b$n/bitsd.log" "swarm: streaming on" 120 ||
		bad "b$n's swarm did not start: $(tail -2 "$W/b$n/bitsd.log")"
done

# have N: chunks b$n holds of the content (0 before its metadata)
have() {
	curl -s -m 20 "http://127.0.0.1:$((29950 + $1))/swarm/$HASH" |
		sed -n 's/^[^[]*"have":\([0-9]*\).*/\1/p'
}
T0=$(date +%s)
# The viewers start together.
timeout $GET_S "$BITS" get "$HASH" --key "$KEY" --port 29957 \
	--output "$W/b7.out" 2>"$W/b7.get" &
G7=$!
timeout $GET_S "$BITS" get "$HASH" --key "$KEY" --port 29958 \
	--output "$W/b8.out" 2>"$W/b8.get" &
G8=$!
# b4 dies once b7 has 5 % of the chunks, watched from the start (at a
# fast rate b7 had the whole file before b9's seek below was done).
(
	i=0
	until h=$(have 7); [ "${h:-0}" -ge $((CHUNKS / 20)) ] ||
		[ $i -gt $((GET_S * 2)) ] || ! kill -0 "$G7" 2>/dev/null; do
		sleep 0.5; i=$((i + 1))
	done
	if kill -0 "$G7" 2>/dev/null; then
		kill -KILL "$P4"
		echo "$h of $CHUNKS chunks at b7, $(have 8) at b8, $(have 9) at b9" \
			>"$W/b4.killed"
	fi
) &
KW=$!
URL="http://127.0.0.1:29959/content/$HASH?key=$KEY"
# b9 plays: the first 2 MiB, while most chunks are still missing.
FIRST=2097152
c=$(curl -s -m $GET_S -o "$W/b9.first" -w '%{http_code}' -r "0-$((FIRST - 1))" "$URL")
h=$(have 9)
head -c $FIRST "$W/movie.bin" >"$W/want.first"
if [ "$c" = 206 ] && cmp -s "$W/b9.first" "$W/want.first"; then
	ok "b9: the first 2 MiB (206), exact, after $(($(date +%s) - T0)) s"
else
	bad "b9: first 2 MiB: HTTP $c, $(wc -c <"$W/b9.first") bytes"
fi
[ -n "$h" ] && [ "$h" -lt $((CHUNKS / 2)) ] &&
	ok "b9 played the start with $h of $CHUNKS chunks in" ||
	bad "b9 held ${h:-no} of $CHUNKS chunks when the start played"
# A seek to 75 %: 1 MiB from there.
FROM=$((SIZE / 4 * 3 + 11))
c=$(curl -s -m $GET_S -o "$W/b9.seek" -w '%{http_code}' \
	-r "$FROM-$((FROM + 1048575))" "$URL")
h=$(have 9)
tail -c +$((FROM + 1)) "$W/movie.bin" | head -c 1048576 >"$W/want.seek"
if [ "$c" = 206 ] && cmp -s "$W/b9.seek" "$W/want.seek"; then
	ok "b9: 1 MiB from 75 % (206), exact, after $(($(date +%s) - T0)) s"
else
	bad "b9: seek to 75 %: HTTP $c, $(wc -c <"$W/b9.seek") bytes"
fi
[ -n "$h" ] && [ "$h" -lt $CHUNKS ] &&
	ok "b9 played from 75 % with $h of $CHUNKS chunks in" ||
	bad "b9 held ${h:-no} of $CHUNKS chunks when the seek played"
curl -s -m $GET_S -o "$W/b9.out" -w '%{http_code}' "$URL" >"$W/b9.code" &
G9=$!

wait "$KW"
if [ -s "$W/b4.killed" ]; then
	ok "seeder b4 killed with $(cat "$W/b4.killed")"
else
	bad "b7 ended before a seeder could be killed"
	kill -KILL "$P4"	# else it outlives the test (not stopped below)
fi
PIDS="$P1 $P2 $P3 $P5 $P6 $P7 $P8 $P9"

wait "$G7"; r7=$?
wait "$G8"; r8=$?
wait "$G9"
T1=$(date +%s)
[ $r7 = 0 ] && cmp -s "$W/b7.out" "$W/movie.bin" &&
	ok "b7: byte-identical ($(tail -1 "$W/b7.get"))" ||
	bad "b7: bits get $r7: $(tail -3 "$W/b7.get" | tr '\r\n' '  ')"
[ $r8 = 0 ] && cmp -s "$W/b8.out" "$W/movie.bin" &&
	ok "b8: byte-identical ($(tail -1 "$W/b8.get"))" ||
	bad "b8: bits get $r8: $(tail -3 "$W/b8.get" | tr '\r\n' '  ')"
[ "$(cat "$W/b9.code")" = 200 ] && cmp -s "$W/b9.out" "$W/movie.bin" &&
	ok "b9: the whole file played, byte-identical" ||
	bad "b9: whole file: HTTP $(cat "$W/b9.code"), $(wc -c <"$W/b9.out") bytes"
echo "     three viewers done in $((T1 - T0)) s ($(python3 -c "print('%.2f' % ($SIZE * 3 / 1e6 / max(1, $T1 - $T0)))") MB/s together); load: $(uptime)"

# "... tunnel ID built: N hops, first HEX": tunnels whose first hop is
# an i2pd router.
k=$(cat "$W"/b?/bitsd.log | grep -o "tunnel [0-9a-f]* built: [0-9]* hops, first [0-9a-f]*" |
	awk -v i="$I2PD_HEX" 'BEGIN { split(i, a, " "); for (x in a) isi[a[x]] = 1 }
		$7 in isi { t[$2] = 1 } END { for (x in t) n++; print n + 0 }')
[ "$k" -ge 1 ] && ok "$k of the bitsd routers' tunnels had an i2pd first hop" ||
	bad "no tunnel had an i2pd hop"
for n in 1 2 3 5 6 7 8 9; do
	eval "BPID=\$P$n"
	bitsd_finish "b$n" "$W/b$n"
done
PIDS=""
result $NAME
