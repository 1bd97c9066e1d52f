#!/bin/sh
# By hand (about 3 minutes; not in TESTS): our own tunnels when a hop is
# killed.  Five bitsd routers that know each other's RouterInfos (no
# floodfill); the first builds its exploratory pool, 2 hops each way, 2
# tunnels each way, through the four others.  Once the pool is full and
# tested, the hop that the most of its tunnels go through is killed with
# SIGKILL.  Checks:
#  - within 120 s the pool is full again: 2 inbound and 2 outbound
#    tunnels, built after the kill, none of whose hops is the killed
#    router, and tunnel tests pass through them;
#  - the tunnels through the killed router were dropped (failed tests or
#    a hop found unreachable);
#  - the routers left stop cleanly, with no warning, error, BUG or
#    sanitizer report.
# Everything stays on 127.0.0.0/8.
# router n: 127.0.0.(184+n), NTCP2 port 26800+n, API 26850+n
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_tunnels_killed_hop
W=$(mktemp -d "${TMPDIR:-/tmp}/tunnels-kill.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	if [ "$FAIL" = 0 ] && [ -z "$KEEP_WORK" ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077

for n in 1 2 3 4 5; do
	mkdir -p "$W/b$n"
	"$BITSD" --datadir "$W/b$n" --host 127.0.0.$((184 + n)) \
		--port $((26800 + n)) --netid 77 --init >"$W/b$n/init.log" 2>&1 ||
		bad "bitsd --init failed for router $n"
done
for n in 1 2 3 4 5; do
	h=$(ri_b64hash "$W/b$n/router.info")
	eval "X$n=$(b64_hex4 "$h")"
	for m in 1 2 3 4 5; do
		[ $m = $n ] || seed_ri "$W/b$n/router.info" "$W/b$m"
	done
done
cat >"$W/b1/bits.conf" <<CONF
[exploratory]
inbound.length = 2
outbound.length = 2
inbound.quantity = 2
outbound.quantity = 2
[tunnels]
same-subnet = true
CONF
for n in 1 2 3 4 5; do
	"$BITSD" --datadir "$W/b$n" --host 127.0.0.$((184 + n)) \
		--port $((26800 + n)) --netid 77 --api-port $((26850 + n)) \
		--loglevel debug --logfile "$W/b$n/bitsd.log" \
		>"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
done

status() { api_num $((26850 + $1)) "$2"; }
wait_status() { wait_api $((26850 + $1)) "$2" "$3" "$4"; }
# hops_after LINE: the hops (4-byte hex) b1 logged for tunnels built
# after line LINE of its log, one a line
hops_after() {
	tail -n +"$(($1 + 1))" "$W/b1/bitsd.log" |
		grep -o "hop [0-9]: [0-9a-f]* receives on" | awk '{print $3}'
}

wait_status 1 tunnels.own.inbound 2 240 && wait_status 1 tunnels.own.outbound 2 240 &&
	wait_status 1 tunnels.own.tests_ok 4 120 &&
	ok "the pool is full and tested: 2 inbound, 2 outbound tunnels of 2 hops" ||
	bad "the pool: $(status 1 tunnels.own.inbound) in, $(status 1 tunnels.own.outbound) out, $(status 1 tunnels.own.tests_ok) tests passed"

# the victim: the hop the most of the tunnels so far go through
V=$(hops_after 0 | sort | uniq -c | sort -rn | awk 'NR == 1 {print $2}')
K=""
for n in 2 3 4 5; do
	eval "x=\$X$n"
	[ "$x" = "$V" ] && K=$n
done
if [ -z "$K" ]; then
	bad "no hop found in b1's log"
	result $NAME
	exit 1
fi
through=$(hops_after 0 | grep -c "^$V\$")
L0=$(wc -l <"$W/b1/bitsd.log")
F0=$(status 1 tunnels.own.failed)
T0=$(status 1 tunnels.own.tests_ok)
eval "KP=\$P$K"
kill -KILL "$KP"
t0=$(date +%s)
ok "b$K killed (SIGKILL): a hop of $through of the tunnels built so far"
PIDS=""
for n in 1 2 3 4 5; do [ $n = $K ] || { eval "p=\$P$n"; PIDS="$PIDS $p"; }; done

# full again: 2 each way, built after the kill and none through b$K
full_again() {
	[ "$(status 1 tunnels.own.inbound)" -ge 2 ] &&
		[ "$(status 1 tunnels.own.outbound)" -ge 2 ] &&
		[ "$(status 1 tunnels.own.failed)" -gt "$F0" ] &&
		[ "$(status 1 tunnels.own.tests_ok)" -ge $((T0 + 4)) ] &&
		[ "$(hops_after "$L0" | wc -l)" -ge 8 ]
}
i=0
until full_again || [ $i -ge 120 ]; do sleep 1; i=$((i + 1)); done
took=$(($(date +%s) - t0))
new=$(hops_after "$L0" | wc -l)
bad_hops=$(hops_after "$L0" | grep -c "^$V\$")
if full_again && [ "$bad_hops" = 0 ]; then
	ok "full again $took s after the kill: $(status 1 tunnels.own.inbound) in, $(status 1 tunnels.own.outbound) out, $new hops built since, none through b$K; $(($(status 1 tunnels.own.tests_ok) - T0)) tests passed since"
else
	bad "after $took s: $(status 1 tunnels.own.inbound) in, $(status 1 tunnels.own.outbound) out, failed $F0 -> $(status 1 tunnels.own.failed), tests passed since $(($(status 1 tunnels.own.tests_ok) - T0)), $new hops built since, $bad_hops through b$K"
fi
dropped=$(tail -n +"$((L0 + 1))" "$W/b1/bitsd.log" | grep -c "tunnel failed .* replaced")
[ "$dropped" -ge 1 ] &&
	ok "$dropped tunnels through b$K dropped: $(tail -n +"$((L0 + 1))" "$W/b1/bitsd.log" | grep -o "tunnel failed [^\"]*replaced" | sort | uniq -c | tr -s ' ' | tr '\n' ';')" ||
	bad "no tunnel dropped after the kill"

for n in 1 2 3 4 5; do
	[ $n = $K ] && continue
	eval "BPID=\$P$n"
	bitsd_finish $n "$W/b$n"
done
PIDS=""
result $NAME
