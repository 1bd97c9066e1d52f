#!/bin/sh
# Our own tunnels through bitsd hops only (issue [T]): four bitsd routers
# that know each other's RouterInfos (no i2pd, no floodfill); the first
# builds its exploratory pool, 3 hops each way, 2 tunnels each way, so
# every tunnel goes through the three others.  Checks:
#  - the creator's /api/status counts 2 inbound and 2 outbound tunnels,
#    and every hop it logged is one of the three bitsd hops;
#  - each hop's /api/status counts the transit tunnels it joined;
#  - tunnel tests pass through them;
#  - every bitsd stops cleanly, with no warning, error, BUG or sanitizer
#    report.
# Everything stays on 127.0.0.0/8.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_tunnels_build_bitsd
W=$(mktemp -d "${TMPDIR:-/tmp}/tunnels-bitsd.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
umask 077

# router n: 127.0.0.(194+n), NTCP2 port 26700+n, API 26750+n
for n in 1 2 3 4; do
	mkdir -p "$W/b$n"
	"$BITSD" --datadir "$W/b$n" --host 127.0.0.$((194 + n)) \
		--port $((26700 + n)) --netid 77 --init >"$W/b$n/init.log" 2>&1 ||
		bad "bitsd --init failed for router $n"
done
HEX=""
for n in 1 2 3 4; do
	h=$(ri_b64hash "$W/b$n/router.info")
	eval "H$n=$h"
	[ $n -gt 1 ] && HEX="$HEX $(b64_hex4 "$h")"
	for m in 1 2 3 4; do
		[ $m = $n ] || seed_ri "$W/b$n/router.info" "$W/b$m"
	done
done
cat >"$W/b1/bits.conf" <<CONF
[exploratory]
inbound.length = 3
outbound.length = 3
inbound.quantity = 2
outbound.quantity = 2
[tunnels]
same-subnet = true
CONF
for n in 1 2 3 4; do
	"$BITSD" --datadir "$W/b$n" --host 127.0.0.$((194 + n)) \
		--port $((26700 + n)) --netid 77 --api-port $((26750 + n)) \
		--loglevel debug --logfile "$W/b$n/bitsd.log" \
		>"$W/b$n/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "P$n=$!"
done

# status N PATH: a number from router N's /api/status (0 when absent)
status() { api_num $((26750 + $1)) "$2"; }
# wait_status N PATH MIN SECONDS
wait_status() { wait_api $((26750 + $1)) "$2" "$3" "$4"; }

wait_status 1 tunnels.own.inbound 2 240 && ok "2 inbound tunnels through bitsd hops" ||
	bad "inbound tunnels: $(status 1 tunnels.own.inbound) (builds ok $(status 1 tunnels.own.builds_ok), rejected $(status 1 tunnels.own.builds_rejected), timed out $(status 1 tunnels.own.builds_timeout))"
wait_status 1 tunnels.own.outbound 2 240 && ok "2 outbound tunnels through bitsd hops" ||
	bad "outbound tunnels: $(status 1 tunnels.own.outbound) (builds ok $(status 1 tunnels.own.builds_ok), rejected $(status 1 tunnels.own.builds_rejected), timed out $(status 1 tunnels.own.builds_timeout))"
strangers=$(grep -o "hop [0-9]: [0-9a-f]* receives on" "$W/b1/bitsd.log" |
	awk '{print $3}' | sort -u | while read -r h; do
		case " $HEX " in *" $h "*) ;; *) echo "$h" ;; esac
	done)
hops=$(grep -c "hop [0-9]: [0-9a-f]* receives on" "$W/b1/bitsd.log")
[ -z "$strangers" ] && [ "$hops" -ge 12 ] &&
	ok "all $hops hops are the other bitsd routers" ||
	bad "hops: $hops, not ours: $strangers"
for n in 2 3 4; do
	[ "$(status $n tunnels.transit)" -ge 4 ] &&
		ok "router $n joined $(status $n tunnels.transit) transit tunnels" ||
		bad "router $n joined $(status $n tunnels.transit) transit tunnels"
done
wait_status 1 tunnels.own.tests_ok 2 120 &&
	ok "tunnel tests passed ($(status 1 tunnels.own.tests_ok))" ||
	bad "tunnel tests: $(status 1 tunnels.own.tests_ok) passed, $(status 1 tunnels.own.tests_failed) failed"
for n in 1 2 3 4; do
	eval "BPID=\$P$n"
	bitsd_finish $n "$W/b$n"
done
result $NAME
