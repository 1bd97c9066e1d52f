#!/bin/sh
# A stock SAM client against our SAM bridge without tunnels:
# tools/sam-local (apps/sam over apps/client's in-process network) on
# 127.0.0.205:27301 (UDP 27302), and tools/sam-bench.py creating two
# TRANSIENT STREAM sessions, STREAM ACCEPT on one, STREAM CONNECT from the
# other, 20 MiB through the streaming code, SHA-256 checked at both ends;
# twice with fresh sessions, then 8 streams one after another on the same
# bridge.  sam-local must stop cleanly on SIGTERM.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/integration/i2pd-lib.sh"	# ok, bad, result
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-sam.XXXXXX")
SAMBENCH="$top_srcdir/tools/sam-bench.py"
ADDR=127.0.0.205
PORT=27301
PID=""

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

if [ ! -f "$SAMBENCH" ] || ! command -v python3 >/dev/null; then
	bad "sam-bench.py ($SAMBENCH) or python3 missing"
	result test_sam_local; exit 1
fi
"$top_builddir/tools/sam-local" --host $ADDR --port $PORT \
	--udp-port $((PORT + 1)) >"$W/sam.log" 2>&1 &
PID=$!
i=0
until grep -q 'listening on' "$W/sam.log" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 $PID 2>/dev/null; then
		bad "sam-local did not start: $(cat "$W/sam.log")"
		result test_sam_local; exit 1
	fi
	sleep 0.1
done
ok "sam-local listens on $ADDR:$PORT"

if python3 "$SAMBENCH" hello --sam $ADDR:$PORT >"$W/hello.log" 2>&1; then
	ok "HELLO answered ($(tr '\n' ' ' <"$W/hello.log"))"
else
	bad "HELLO: $(cat "$W/hello.log")"
fi
if timeout 600 python3 "$SAMBENCH" bench --sam-a $ADDR:$PORT \
	--sam-b $ADDR:$PORT --size 20M --repeat 2 --pause 0 --linger 1 \
	--timeout 300 --json "$W/bench.json" >"$W/bench.log" 2>&1 &&
   [ "$(grep -c 'OK sha256 verified' "$W/bench.log")" = 2 ]; then
	ok "20 MiB twice, verified: $(grep '^median' "$W/bench.log" | head -1)"
else
	bad "sam-bench 20 MiB: $(tail -5 "$W/bench.log")"
fi
if timeout 600 python3 "$SAMBENCH" bench --sam-a $ADDR:$PORT \
	--sam-b $ADDR:$PORT --size 1M --repeat 8 --pause 0 --linger 1 \
	--timeout 300 >"$W/many.log" 2>&1 &&
   [ "$(grep -c 'OK sha256 verified' "$W/many.log")" = 8 ]; then
	ok "8 more streams of 1 MiB, verified"
else
	bad "sam-bench 8 x 1 MiB: $(tail -5 "$W/many.log")"
fi

kill -TERM $PID
i=0
while kill -0 $PID 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $PID 2>/dev/null; then
	bad "sam-local ignored SIGTERM"
else
	wait $PID; rc=$?
	PID=""
	if [ $rc = 0 ]; then ok "sam-local stopped cleanly"; else bad "sam-local exit $rc"; fi
fi
result test_sam_local
