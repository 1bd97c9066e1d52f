#!/bin/sh
# SAM streams between two bitsd routers over tunnels through bitsd hops
# (issue G2): four bitsd routers that know each other's RouterInfos; b1 is
# the floodfill and runs a SAM bridge, b2 runs one too, b3 and b4 are hops
# only (one-hop exploratory and SAM tunnels).  Checks:
#  - 20 MiB from a SAM session on b2 to one on b1, and 20 MiB from b1 to
#    b2 (sam-bench.py: the acceptor verifies the SHA-256 of the payload
#    and sends it back);
#  - 20 MiB from b2 to b1 again, b3 and b4 killed once it is under way:
#    the stream recovers through tunnels via b1 and b2, or ends with an
#    error; it never stalls;
#  - b1 and b2 stop cleanly, with no sanitizer report.
# Everything stays on 127.0.0.0/8 (127.0.0.245-248, ports 28501-28504,
# API 28551-28554, SAM 28561-28562 on 127.0.0.1 and its UDP port one
# below).
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/sam-lib.sh"
NAME=test_sam_bitsd
W=$(mktemp -d "${TMPDIR:-/tmp}/sam-bitsd.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	[ "$FAIL" = 0 ] && [ -z "$KEEP_WORK" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077

# router n: 127.0.0.(244+n), NTCP2 port 28500+n, API 28550+n
bitsd_mesh "$W" 127.0.0 244 28500 || { result $NAME; exit 1; }
bitsd_sam_mesh "$W" 127.0.0 244 28500 28550 28561 28562

bench b2-to-b1 127.0.0.1:28561 127.0.0.1:28562
bench b1-to-b2 127.0.0.1:28562 127.0.0.1:28561

# ---- hops killed mid-transfer: b3 and b4 (SIGKILL) once 20 MiB from b2
# to b1 are under way; the stream recovers through tunnels via b1 and b2
# or ends with an error, and never stalls (sam-bench gives up after
# 300 s without progress: "timed out") ----
sam_bench kill 127.0.0.1:28561 127.0.0.1:28562 --timeout 300 &
KPID=$!
if wait_log "$W/kill.log" "; sending" 600; then
	kill -KILL "$P3" "$P4"
	PIDS="$P1 $P2"
	ok "b3 and b4 killed while 20 MiB go from b2 to b1"
else
	bad "the transfer for the kill did not start: $(tail -2 "$W/kill.log" | tr '\n' ' ')"
fi
wait "$KPID"; krc=$?
if [ $krc = 0 ]; then
	ok "the stream recovered: $(grep -m1 'MiB/s' "$W/kill.log")"
elif grep -q "timed out\|no answer within" "$W/kill.log"; then
	bad "the stream stalled: $(grep -m1 'FAIL\|rror' "$W/kill.log")"
else
	ok "the stream ended with an error, not a stall: $(grep -m1 'FAIL\|rror' "$W/kill.log")"
fi

for n in 1 2; do
	eval "BPID=\$P$n"
	bitsd_stop && ok "bitsd $n stopped cleanly" || bad "bitsd $n did not stop cleanly"
	grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$W/b$n/stdout.log" &&
		bad "sanitizer report from $n (see $W/b$n/stdout.log)" ||
		ok "no sanitizer report from $n"
done
PIDS=""
result $NAME
