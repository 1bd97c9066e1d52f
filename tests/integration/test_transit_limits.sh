#!/bin/sh
# The [limits] section on a running bitsd (docs/limits.md), driven by
# transit_flood: one-hop inbound tunnel builds from one throwaway router
# over one NTCP2 session, bitsd the gateway.
#  1. 1,000 transit tunnels (the build limits lifted): every one accepted,
#     /api/status lists them, the heap within the 64 MiB budget (and, in
#     a build without AddressSanitizer, the whole RSS), nothing shed.
#  2. The default builds-per-peer (300 a minute, a burst of 50): of a
#     flood of 200, at most the burst plus what the bucket regained is
#     answered; the rest are dropped unanswered and counted.
#  3. A memory budget below what bitsd uses: every build is refused
#     (reply 30, counted as the memory budget's) and /api/status says
#     transit is refused and shed.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_transit_limits
FLOOD="${top_builddir:-.}/tests/integration/transit_flood"
HOST=127.0.0.143
PORT=25530
API=25531
W=$(mktemp -d "${TMPDIR:-/tmp}/transit-limits.XXXXXX")
cleanup() {
	[ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
umask 077
for prog in "$FLOOD" "$BITSD"; do
	[ -x "$prog" ] || { bad "$prog is not built"; result $NAME; exit 1; }
done
# A small ASan quarantine, so freed memory is reused and RSS means something.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=2"
export ASAN_OPTIONS

# fresh DIR CONF: a new bitsd in DIR with bits.conf CONF, up and listening
fresh() {
	rm -rf "$1"; mkdir -p "$1"
	printf 'api-port = %s\n%s\n' $API "$2" >"$1/bits.conf"
	bitsd_start "$1" $HOST $PORT
	i=0
	while ! grep -q "NTCP2 listening" "$1/bitsd.log" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1; i=$((i + 1))
	done
	until status_get >/dev/null 2>&1 || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
}
# status_get [EXPR]: /api/status, or a Python expression on it (j)
status_get() {
	python3 - "${1:-j}" <<PY
import json, sys, urllib.request
j = json.load(urllib.request.urlopen("http://127.0.0.1:$API/api/status", timeout=10))
print(eval(sys.argv[1]))
PY
}
# field OUT NAME: the number after NAME in transit_flood's line
field() { printf '%s\n' "$1" | sed -n "s/.* $2 \([0-9]*\).*/\1/p; s/^$2 \([0-9]*\).*/\1/p" | head -1; }
stop_checked() { # LABEL DIR [ALLOWED-WARNING-REGEX]
	bitsd_stop && ok "$1: bitsd stopped cleanly" || bad "$1: unclean stop"
	w=$(grep -E '\[(warn|error)\]|BUG' "$2/bitsd.log" | grep -vE "${3:-^$}" | head -3)
	[ -z "$w" ] && ok "$1: no unexpected warning, error or BUG" || bad "$1: $w"
	grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$2/stdout.log" &&
		bad "$1: sanitizer report (see $2/stdout.log)" || ok "$1: no sanitizer report"
}

# 1. A thousand transit tunnels within the budget.
D=$W/thousand
fresh "$D" "[limits]
builds = 0
builds-per-peer = 0
transit-per-peer = 0"
out=$("$FLOOD" "$D/router.info" 77 1000 100) && ok "flood: $out" || bad "flood: $out"
[ "$(field "$out" accepted)" = 1000 ] && ok "1,000 builds accepted" ||
	bad "1,000 builds: $out"
n=$(status_get 'j["tunnels"]["transit"]')
[ "${n:-0}" -ge 1000 ] && ok "/api/status: $n transit tunnels" || bad "/api/status: ${n:-no} transit tunnels"
heap=$(status_get 'j["limits"]["memory"]["heap_bytes"]')
budget=$(status_get 'j["limits"]["memory"]["budget_bytes"]')
[ "$budget" = $((64 << 20)) ] && ok "memory budget 64 MiB by default" || bad "budget: $budget"
[ "${heap:-0}" -gt 0 ] && [ "$heap" -le "$budget" ] &&
	ok "heap with 1,000 transit tunnels: $((heap / 1024)) KiB of $((budget / 1024))" ||
	bad "heap with 1,000 transit tunnels: ${heap:-?} bytes"
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$BPID/status")
if grep -qa __asan_init "$BITSD"; then
	ok "RSS with 1,000 transit tunnels: $rss KiB (ASan build: shadow memory; the heap is checked above)"
elif [ "${rss:-99999999}" -le 65536 ]; then
	ok "RSS with 1,000 transit tunnels: $rss KiB (≤ 64 MiB)"
else
	bad "RSS with 1,000 transit tunnels: $rss KiB"
fi
[ "$(status_get 'j["limits"]["memory"]["shedding_transit"]')" = False ] &&
	ok "nothing shed" || bad "shedding at $heap bytes"
stop_checked thousand "$D"

# 2. The default build limits: one previous hop gets its burst of 50 and
#    what its bucket regains (5 a second) while the flood waits for the
#    answers it will never get (10 s per batch).
D=$W/flood
fresh "$D" ""
t0=$(date +%s)
out=$("$FLOOD" "$D/router.info" 77 200 100) && ok "flood: $out" || bad "flood: $out"
dt=$(($(date +%s) - t0 + 1))
acc=$(field "$out" accepted); un=$(field "$out" unanswered)
[ "${acc:-0}" -ge 50 ] && [ "$acc" -le $((50 + 5 * dt)) ] &&
	ok "builds-per-peer: $acc of 200 answered in ${dt}s (burst 50, 5/s)" ||
	bad "builds-per-peer: ${acc:-?} answered in ${dt}s"
thr=$(status_get 'j["limits"]["builds_throttled"]')
[ "${un:-0}" -gt 0 ] && [ "$thr" = "$un" ] &&
	ok "$un dropped unanswered, counted as throttled" ||
	bad "unanswered ${un:-?}, throttled ${thr:-?}"
[ "$(status_get 'j["limits"]["config"]["builds_per_peer"]')" = 300 ] &&
	ok "/api/status shows the limits in force" || bad "limits.config"
stop_checked flood "$D"

# 3. A budget below what bitsd uses: no transit at all.
D=$W/memory
fresh "$D" "[limits]
memory = 1"
i=0
until [ "$(status_get 'j["limits"]["memory"]["refusing_transit"]' 2>/dev/null)" = True ] || [ $i -ge 100 ]; do
	sleep 0.1; i=$((i + 1))
done
out=$("$FLOOD" "$D/router.info" 77 20 20) && ok "flood: $out" || bad "flood: $out"
[ "$(field "$out" accepted)" = 0 ] && [ "$(field "$out" rejected)" = 20 ] &&
	ok "over the budget: 20 of 20 builds refused" || bad "over the budget: $out"
[ "$(status_get 'j["limits"]["builds_refused_memory"]')" = 20 ] &&
	ok "counted as the memory budget's" || bad "refusals: $(status_get 'j["limits"]')"
[ "$(status_get 'j["limits"]["memory"]["shedding_transit"]')" = True ] &&
	ok "transit shed" || bad "not shedding: $(status_get 'j["limits"]["memory"]')"
[ "$(status_get 'j["tunnels"]["transit"]')" = 0 ] && ok "no transit tunnel joined" ||
	bad "transit tunnels: $(status_get 'j["tunnels"]["transit"]')"
grep -q "budget: over budget" "$D/bitsd.log" && ok "the log says why" || bad "no memory line in the log"
stop_checked memory "$D" 'memory: .* budget'
result $NAME
