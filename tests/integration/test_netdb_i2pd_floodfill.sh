#!/bin/sh
# bitsd as the only floodfill of an i2pd 2.45.1 testnet (issue [D]):
#  1. 4 i2pd routers with floodfill off, each seeded with our RouterInfo
#     only; bitsd runs with --floodfill;
#  2. every i2pd publishes its RouterInfo to us: bitsd stores it, and i2pd
#     logs "Publishing confirmed" (our DeliveryStatus reached it);
#  3. they find each other through us (their consoles count every router);
#  4. bitsd answered lookups, and stops cleanly with no warning, error,
#     BUG or sanitizer report.
# Everything stays on 127.0.0.0/8.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_netdb_i2pd_floodfill
W=$(mktemp -d "${TMPDIR:-/tmp}/netdb-ff.XXXXXX")
B=$W/bitsd
HOST=127.0.0.190
PORT=25950
N=4
cleanup() {
	[ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
	for n in $(seq 1 $N); do i2pd_stop "$W/r$n"; done
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
need_i2pd $NAME
umask 077

mkdir -p "$B"
if ! "$BITSD" --datadir "$B" --init --netid 77 --host $HOST --port $PORT \
	--floodfill >"$W/init.log" 2>&1; then
	bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1
fi
python3 - "$B/router.info" <<'PY' && ok "our RouterInfo says floodfill (caps f)" || bad "no 'f' in our caps"
import sys
d = open(sys.argv[1], 'rb').read()
sys.exit(0 if b'caps' in d and b'LfR' in d else 1)
PY
# i2pd routers that are not floodfills, each knowing only our RouterInfo
# (i2pd-lib.sh's standalone config, with the web console on).
OURS=$(ri_b64hash "$B/router.info")
c=$(printf %s "$OURS" | cut -c1)
for n in $(seq 1 $N); do
	d="$W/r$n"; mkdir -p "$d/netDb/r$c"
	i2pd_conf "$d" 127.0.0.18$n 2590$n ""
	python3 - "$d/i2pd.conf" 127.0.0.18$n 2600$n <<'PY'
import sys
p, ip, port = sys.argv[1:4]
t = open(p).read().replace('[http]\nenabled = false',
    '[http]\nenabled = true\naddress = %s\nport = %s' % (ip, port))
# high-bandwidth caps, so i2pd takes these routers as client tunnel hops
t = t.replace('[ntcp2]\n', 'bandwidth = X\nshare = 100\n[ntcp2]\n', 1)
open(p, 'w').write(t)
PY
	cp "$B/router.info" "$d/netDb/r$c/routerInfo-$OURS.dat"
done
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 --floodfill \
	--loglevel debug --logfile "$B/bitsd.log" --reseed.threshold 1 \
	>"$B/stdout.log" 2>&1 &
BPID=$!
for n in $(seq 1 $N); do i2pd_start "$W/r$n"; done
wait_log "$B/bitsd.log" "acting as a floodfill" 10 && ok "bitsd runs as a floodfill" ||
	bad "bitsd is not a floodfill"
for n in $(seq 1 $N); do
	i=0
	while [ ! -s "$W/r$n/router.info" ] && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
	eval "R${n}_HASH=$(ri_b64hash "$W/r$n/router.info")"
	eval "R${n}_HTTP=127.0.0.18$n:2600$n"
done

# ---- 2. every i2pd publishes to us ----
for n in $(seq 1 $N); do
	if wait_log "$W/r$n/i2pd.log" "Publishing confirmed" 120; then
		ok "r$n: i2pd logged \"Publishing confirmed\" (our DeliveryStatus)"
	else
		bad "r$n never confirmed a publish to us"
	fi
done
for n in $(seq 1 $N); do
	eval "b64=\$R${n}_HASH"
	c=$(printf %s "$b64" | cut -c1)
	i=0
	while [ ! -f "$B/netDb/r$c/routerInfo-$b64.dat" ] && [ $i -lt 40 ]; do sleep 0.5; i=$((i + 1)); done
	[ -f "$B/netDb/r$c/routerInfo-$b64.dat" ] && ok "bitsd stored r$n's RouterInfo" ||
		bad "bitsd does not hold r$n's RouterInfo"
done

# ---- 3. they find each other through us ----
all=$((N + 1))
i=0
while [ $i -lt 240 ]; do
	k=0
	for n in $(seq 1 $N); do
		eval "http=\$R${n}_HTTP"
		[ "$(console_routers "$http")" -ge $all ] && k=$((k + 1))
	done
	[ $k -eq $N ] && break
	sleep 1; i=$((i + 1))
done
for n in $(seq 1 $N); do
	eval "http=\$R${n}_HTTP"
	got=$(console_routers "$http")
	[ "$got" -ge $all ] && ok "r$n's netDb holds all $all routers" ||
		bad "r$n's netDb holds $got of $all routers"
done
a=$(grep -c "answered with a DatabaseStore" "$B/bitsd.log")
s=$(grep -c "answered with a DatabaseSearchReply" "$B/bitsd.log")
[ "$a" -ge 1 ] && ok "bitsd answered $a lookups with the entry and $s with a DatabaseSearchReply" ||
	bad "bitsd answered no lookup with an entry ($s search replies)"

# ---- 4. clean ----
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
log_clean "$B/bitsd.log" && ok "no warning, error or BUG in bitsd's log" ||
	{ bad "bitsd logged a warning, error or BUG"; grep -E '\[(warn|error)\]|BUG' "$B/bitsd.log" | head -5; }
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
