#!/bin/sh
# NTCP2 over IPv6 and dual stack (issue [N]), in a network namespace this
# test creates and removes (its loopback carries 2001:db8::1, ::2,
# 198.18.0.1 and .3; nothing leaves it):
#  - A publishes two NTCP2 addresses (host 198.18.0.1 and host6
#    2001:db8::1, one port) and listens on both;
#  - B is IPv6 only (host 2001:db8::2), C is IPv4 only (host 198.18.0.3);
#  - A is a floodfill; B and C reseed from a directory and publish to
#    it, so A ends up with a session to B over IPv6 and to C over IPv4
#    at once; B never touches IPv4 and C never IPv6;
#  - bad host6 values are refused with a clear error.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/netns-lib.sh"
NAME=test_ntcp2_ipv6
W=$(mktemp -d "${TMPDIR:-/tmp}/ntcp2-v6.XXXXXX")
cleanup() { netns_teardown; [ "$FAIL" = 0 ] && rm -rf "$W" || echo "kept $W"; }
trap cleanup EXIT INT TERM
netns_need_root $NAME
NS=$(netns_name v6)
ip netns add "$NS" && NETNS_LIST="$NETNS_LIST $NS"
ip -n "$NS" link set lo up &&
ip -n "$NS" addr add 198.18.0.1/32 dev lo &&
ip -n "$NS" addr add 198.18.0.3/32 dev lo &&
ip -n "$NS" addr add 2001:db8::1/128 dev lo nodad &&
ip -n "$NS" addr add 2001:db8::2/128 dev lo nodad ||
	{ bad "cannot set up namespace $NS"; result $NAME; exit 1; }

# --init refuses a host6 that is not IPv6
out=$("$BITSD" --datadir "$W/bad" --init --netid 77 --host6 198.18.0.9 2>&1) &&
	bad "host6 = an IPv4 address was accepted" ||
	case "$out" in *"host6: expected an IPv6 address"*) ok "host6 = IPv4 refused: $out" ;;
	*) bad "host6 = IPv4 refused without a clear error: $out" ;; esac

init() { # DIR ARGS...: init a router, copy its RI to the reseed dir
	d=$1; shift
	if "$BITSD" --datadir "$d" --init --netid 77 "$@" >"$d.init.log" 2>&1; then
		cp "$d/router.info" "$W/seed/routerInfo-$(ri_b64hash "$d/router.info").dat"
	else
		bad "bitsd --init $* failed"; cat "$d.init.log"
	fi
}
mkdir -p "$W/seed"
init "$W/a" --host 198.18.0.1 --host6 2001:db8::1 --port 26001 --floodfill
init "$W/b" --host 2001:db8::2 --port 26002
init "$W/c" --host 198.18.0.3 --port 26003
n=$(grep -a -c "2001:db8::1" "$W/a/router.info")
v4=$(grep -a -c "198.18.0.1" "$W/a/router.info")
[ "$n" -ge 1 ] && [ "$v4" -ge 1 ] && ok "A's RouterInfo publishes both addresses" ||
	bad "A's RouterInfo lacks an address (v6 $n, v4 $v4)"
HA=$(b64_hex4 "$(ri_b64hash "$W/a/router.info")")
HB=$(b64_hex4 "$(ri_b64hash "$W/b/router.info")")
HC=$(b64_hex4 "$(ri_b64hash "$W/c/router.info")")
run() { # NAME ARGS...
	r=$1; shift
	netns_bg v6 "$W/$r.out" "$BITSD" --datadir "$W/$r" --netid 77 \
		--reseed.dir "$W/seed" --loglevel debug --logfile "$W/$r/bitsd.log" "$@"
}
run a --host 198.18.0.1 --host6 2001:db8::1 --port 26001 --floodfill
run b --host 2001:db8::2 --port 26002
run c --host 198.18.0.3 --port 26003
up() { grep -q -E "(inbound|outbound) session with $2 is up" "$W/$1/bitsd.log" 2>/dev/null; }
i=0
until up a "$HB" && up a "$HC" || [ $i -ge 240 ]; do sleep 0.25; i=$((i + 1)); done
up a "$HB" && ok "A and B have a session" || bad "no session between A and B"
up a "$HC" && ok "A and C have a session" || bad "no session between A and C"
S=$(ip netns exec "$NS" ss -Htn state established 2>/dev/null)
echo "$S" | grep -q -E "\[2001:db8::1\]:26001 +\[2001:db8::2\]|\[2001:db8::2\]:[0-9]+ +\[2001:db8::1\]:26001|\[2001:db8::1\]:[0-9]+ +\[2001:db8::2\]:26002|\[2001:db8::2\]:26002 +\[2001:db8::1\]" &&
	ok "A-B runs over IPv6" || { bad "no A-B TCP connection over IPv6"; echo "$S"; }
echo "$S" | grep -q -E "198\.18\.0\.1:[0-9]+ +198\.18\.0\.3:[0-9]+" &&
	ok "A-C runs over IPv4" || { bad "no A-C TCP connection over IPv4"; echo "$S"; }
echo "$S" | grep -q "2001:db8::2.*198\.18\|198\.18.*2001:db8::2\|198\.18\.0\.3.*2001:db8\|2001:db8.*198\.18\.0\.3" &&
	bad "a family was mixed" || ok "B stays on IPv6 and C on IPv4"
ip netns exec "$NS" ss -Htln 2>/dev/null | grep -q "\[2001:db8::1\]:26001" &&
	ok "A listens on [2001:db8::1]:26001" || bad "A does not listen on IPv6"
netns_teardown
for r in a b c; do
	if grep -q -E "BUG|Sanitizer|\[err\]" "$W/$r/bitsd.log" "$W/$r.out" 2>/dev/null; then
		bad "$r logged an error"; grep -E "BUG|Sanitizer|\[err\]" "$W/$r/bitsd.log" "$W/$r.out" | head -3
	else
		ok "$r: no error, BUG or sanitizer report"
	fi
	grep -q "stopped cleanly" "$W/$r/bitsd.log" && ok "$r stopped cleanly" || bad "$r did not stop cleanly"
done
result $NAME
