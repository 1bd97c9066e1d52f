#!/bin/sh
# The swarm between bitsd routers over tunnels through bitsd hops (issue
# [W], reduced to fit CI): five bitsd routers that know each other's
# RouterInfos, one-hop exploratory and client tunnels, `swarm = true` on
# each:
#  - b1 is the floodfill and the swarm tracker (swarm.tracker); every other
#    router knows only the tracker's b32 (swarm.trackers);
#  - b2, the creator, publishes 4 MiB into its store before it starts and
#    seeds it (upload budget 150 KB/s, so transfers last a while);
#  - b3 fetches it with `bits get` (the tracker names b2) and then seeds
#    it too (150 KB/s);
#  - b4 plays it: curl asks its streaming endpoint for the bytes from
#    75 % (Range) and gets exactly those (206), then the whole file;
#  - b5 fetches it with `bits get` while b3 is killed (SIGKILL) once b5
#    has a chunk: the download completes byte-exact all the same;
#  - no IP in any swarm message: every router captures the frames it
#    sends and receives (swarm.capture); all of them parse, they include
#    handshakes, metadata, pieces, PEERS and ANNOUNCEs, and none holds a
#    router's address, as text or as 4 bytes (the sealed chunk bytes of
#    a PIECE are left out of the search: they are ciphertext);
#  - every router that still runs stops cleanly, with no warning, BUG or
#    sanitizer report.
# With I2PD_HOPS=1 three i2pd routers (2 floodfills) join the network and
# every tunnel has 2 hops, so the swarm's tunnels mix bitsd and i2pd hops;
# the test then also checks that some of them went through i2pd.
# 127.0.1.1-5, NTCP2 ports 29001-29005, the endpoints on
# 127.0.0.1:29051-29055; i2pd on 127.0.0.250-252, ports 29011-29013,
# consoles 29111-29113, SAM 29212-29217.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_swarm_bitsd
W=$(mktemp -d "${TMPDIR:-/tmp}/swarm-bitsd.XXXXXX")
BITS=${BITS:-${top_builddir:-.}/apps/bits}
SIZE=4194304
PIDS=""
NET=$W/net
HOPS=1
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	[ -z "${I2PD_HOPS:-}" ] || "$TESTNET" down "$NET" >/dev/null 2>&1
	[ "$FAIL" = 0 ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077
for tool in curl python3; do
	command -v $tool >/dev/null ||
		{ bad "$tool is not installed"; result $NAME; exit 1; }
done

if [ -n "${I2PD_HOPS:-}" ]; then
	need_i2pd $NAME
	testnet_up_2ff 3 250 29010
	HOPS=2
	I2PD_HEX=""
	for n in 1 2 3; do
		eval "h=\$R${n}_HASH"
		I2PD_HEX="$I2PD_HEX $(b64_hex4 "$h")"
	done
fi
for n in 1 2 3 4 5; do
	mkdir -p "$W/b$n"
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$n --port $((29000 + n)) \
		--netid 77 --init >"$W/b$n/init.log" 2>&1 ||
		{ bad "bitsd --init failed for router $n"; result $NAME; exit 1; }
done
for n in 1 2 3 4 5; do
	for m in 1 2 3 4 5; do
		[ $m = $n ] || seed_ri "$W/b$m/router.info" "$W/b$n"
	done
	[ -z "${I2PD_HOPS:-}" ] || seed_netdb "$NET" "$W/b$n"
done
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
http-port = $((29050 + $1))
capture = $W/b$1/capture.bin
$2
CONF
}
# start N [flags]
start() {
	n=$1; shift
	"$BITSD" --datadir "$W/b$n" --host 127.0.1.$n --port $((29000 + n)) \
		--netid 77 --loglevel debug --logfile "$W/b$n/bitsd.log" "$@" \
		>"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
}

# The content, published into the creator's store.
python3 -c 'import random, sys
sys.stdout.buffer.write(random.Random(7).randbytes(int(sys.argv[1])))' \
	$SIZE >"$W/movie.bin"
"$BITS" publish "$W/movie.bin" --mime video/mp4 --datadir "$W/b2" \
	>"$W/pub.out" 2>"$W/pub.err" ||
	{ bad "bits publish: $(cat "$W/pub.err")"; result $NAME; exit 1; }
HASH=$(sed -n 's/^content  *\([0-9a-f]\{64\}\)$/\1/p' "$W/pub.out")
KEY=$(sed -n 's/^key  *\([0-9a-f]\{64\}\)$/\1/p' "$W/pub.out")
[ -n "$HASH" ] && [ -n "$KEY" ] && ok "4 MiB published in b2's store" ||
	{ bad "no hash or key: $(cat "$W/pub.out")"; result $NAME; exit 1; }

conf 1 "tracker = true"
start 1 --floodfill
wait_log "$W/b1/bitsd.log" "swarm: our destination is" 60 ||
	{ bad "b1's swarm did not start: $(tail -3 "$W/b1/bitsd.log")"; result $NAME; exit 1; }
TRACKER=$(cat "$W/b1/swarm.b32")
ok "tracker at ${TRACKER%%.*}"
conf 2 "trackers = $TRACKER
upload = 150"
conf 3 "trackers = $TRACKER
upload = 150"
conf 4 "trackers = $TRACKER
upload = 150"
conf 5 "trackers = $TRACKER"
for n in 2 3 4 5; do start $n; done
for n in 2 3 4 5; do
	wait_log "$W/b$n/bitsd.log" "swarm: streaming on" 60 ||
		bad "b$n's swarm did not start: $(tail -2 "$W/b$n/bitsd.log")"
done

# stats N: b$n's GET /swarm/HASH
stats() { curl -s -m 20 "http://127.0.0.1:$((29050 + $1))/swarm/$HASH"; }

# b3 fetches through the tracker, then seeds.
if timeout 900 "$BITS" get "$HASH" --key "$KEY" --port 29053 \
	--output "$W/b3.out" 2>"$W/b3.get" && cmp -s "$W/b3.out" "$W/movie.bin"; then
	ok "b3: bits get through the tracker, byte-exact ($(tail -1 "$W/b3.get"))"
else
	bad "b3: bits get failed: $(tail -3 "$W/b3.get" | tr '\r\n' '  ')"
fi
grep -q "^peer " "$W/b3.get" && ok "b3: per-peer stats printed" ||
	bad "b3: no per-peer table"

# b4 plays from 75 %: the range is exact.
FROM=$((SIZE / 4 * 3 + 11))
c=$(curl -s -m 900 -o "$W/b4.range" -w '%{http_code}' -r "$FROM-" \
	"http://127.0.0.1:29054/content/$HASH?key=$KEY")
tail -c +$((FROM + 1)) "$W/movie.bin" >"$W/want.range"
if [ "$c" = 206 ] && cmp -s "$W/b4.range" "$W/want.range"; then
	ok "b4: the bytes from 75 % (206), exact"
else
	bad "b4: range from 75 %: HTTP $c, $(wc -c <"$W/b4.range") bytes"
fi
c=$(curl -s -m 900 -o "$W/b4.out" -w '%{http_code}' \
	"http://127.0.0.1:29054/content/$HASH?key=$KEY")
[ "$c" = 200 ] && cmp -s "$W/b4.out" "$W/movie.bin" &&
	ok "b4: the whole file, byte-exact" || bad "b4: whole file: HTTP $c"

# b5 fetches while b3 is killed once b5 has a chunk.
timeout 900 "$BITS" get "$HASH" --key "$KEY" --port 29055 \
	--output "$W/b5.out" 2>"$W/b5.get" &
GPID=$!
i=0
until stats 5 | grep -q '^[^[]*"have":[1-9]' || [ $i -gt 1200 ]; do
	sleep 0.5; i=$((i + 1))
done
if kill -0 "$GPID" 2>/dev/null; then
	kill -KILL "$P3"
	PIDS="$P1 $P2 $P4 $P5"
	ok "b3 killed while b5 downloads ($(stats 5 | sed 's/^[^[]*"have":\([0-9]*\).*/\1/') chunks in)"
else
	bad "b5 finished before b3 could be killed (or never started)"
fi
wait "$GPID"; grc=$?
[ $grc = 0 ] && cmp -s "$W/b5.out" "$W/movie.bin" &&
	ok "b5: byte-exact after the seeder was killed" ||
	bad "b5: bits get $grc: $(tail -3 "$W/b5.get" | tr '\r\n' '  ')"

if [ -n "${I2PD_HOPS:-}" ]; then
	# "tunnel ID hop N: HEX receives on RID": tunnels with an i2pd hop.
	k=$(cat "$W"/b?/bitsd.log | grep -o "tunnel [0-9a-f]* hop [0-9]: [0-9a-f]* receives" |
		awk -v i="$I2PD_HEX" 'BEGIN { split(i, a, " "); for (x in a) isi[a[x]] = 1 }
			$5 in isi { t[$2] = 1 } END { for (x in t) n++; print n + 0 }')
	[ "$k" -ge 1 ] && ok "$k of the bitsd routers' tunnels had i2pd hops" ||
		bad "no tunnel had an i2pd hop"
fi
for n in 1 2 4 5; do
	eval "BPID=\$P$n"
	bitsd_finish "b$n" "$W/b$n"
done

# The plaintext of the protocol, as every router sent and received it.
if python3 - "$W"/b?/capture.bin >"$W/capture.log" 2>&1 <<'PY'; then
import socket, struct, sys
ips = [socket.inet_aton('127.0.1.%d' % i) for i in range(1, 6)]
frames, types, bad = 0, set(), []
for path in sys.argv[1:]:
    d = open(path, 'rb').read()
    o = 0
    while o < len(d):
        n = struct.unpack('>I', d[o + 33:o + 37])[0]
        f = d[o + 37:o + 37 + n]
        o += 37 + n
        if len(f) != n or n < 5 or struct.unpack('>I', f[:4])[0] != n - 4:
            bad.append('%s: a record that is not a frame' % path)
            break
        frames += 1
        types.add(f[4])
        if f[4] == 9:       # PIECE: index, proof length, proof, chunk
            f = f[:11 + struct.unpack('>H', f[9:11])[0]]
        if b'127.' in f or any(ip in f for ip in ips):
            bad.append('%s: an address in a type %d frame' % (path, f[4]))
need = {0, 7, 9, 13, 14, 16}
print('%d frames, types %s' % (frames, sorted(types)))
for b in bad[:5]:
    print(b)
sys.exit(1 if bad or not need <= types else 0)
PY
	ok "no IP in any swarm frame: $(cat "$W/capture.log")"
else
	bad "capture: $(head -5 "$W/capture.log" | tr '\n' ' ')"
fi
PIDS=""
result $NAME
