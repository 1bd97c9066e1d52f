#!/bin/sh
# tools/soak --segments DIR: each segment's figures from a run's records
# (run.json and events.log), no network.  A made-up run of two segments:
# the kills counted by router and segment, a crash named, and each failed
# stream and fetch put down to its cause (within 90 s of a kill; for a
# fetch, "no swarm"; else listed), streams cut by a pause or the end not
# counted as failed; a directory without records refused.
set -u
top_srcdir=${top_srcdir:-.}
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-soakseg.XXXXXX")
PASS=0 FAIL=0
ok() { echo "ok   $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAIL=$((FAIL + 1)); }
trap 'rm -rf "$W"' EXIT INT TERM

cat >"$W/run.json" <<'JSON'
{"version": 1, "segments": [
  {"n": 1, "start": 0.0, "end": 600.0, "ended": "minutes", "paused_s": 0.0},
  {"n": 2, "start": 600.0, "end": 900.0, "ended": "SIGTERM", "paused_s": 30.0}],
 "kills": [{"t": 100.0, "router": "b2"}, {"t": 500.0, "router": "r1"},
           {"t": 520.0, "router": "r1"}, {"t": 700.0, "router": "b3"}],
 "crashes": [{"t": 650.0, "router": "b4", "why": "exit status 1"}]}
JSON
cat >"$W/events.log" <<'LOG'
   12.0 up: 5 bitsd (ASan), 2 i2pd; out /x
   50.0 stream 1: 2M moved, SHA-256 checked
   60.0 fetch 1: b3 0011223344556677 byte-exact
  100.0 killed b2 (SIGKILL)
  120.0 fetch 2: b4 0011223344556677 failed: bits: no swarm at 127.0.0.1:30104 (is bitsd running with swarm = true?)
  150.0 stream 2: failed (see stream.log)
  400.0 stream 3: failed (see stream.log)
  599.0 stream 4: failed (see stream.log), across a pause or the end: not counted
  601.0 up: 5 bitsd (ASan), 2 i2pd; out /x; segment 2
  620.0 stream 5: 2M moved, SHA-256 checked
  720.0 fetch 3: b3 8899aabbccddeeff failed: bits: the swarm stopped answering
  850.0 fetch 4: b5 8899aabbccddeeff failed: bits: the content was cut short (65536 of 524288 bytes)
LOG

out=$(python3 "$top_srcdir/tools/soak" --segments "$W" 2>&1)
rc=$?
echo "$out" | sed 's/^/  | /'
[ $rc = 0 ] && ok "exit status 0" || bad "exit status $rc"
has() { # LINE DESCRIPTION
	if echo "$out" | grep -qxF -- "$1"; then ok "$2"; else bad "$2: no line \"$1\""; fi
}
has "segment 1: 0.0-10.0 min (10.0), ended minutes" "segment 1's minutes and end"
has "  kills 3 (r1 2, b2 1), crashes 0" "segment 1's kills by router"
has "  streams 1 ok, 2 failed: 1 within 90 s of a kill, 1 else; 1 cut by a pause or the end" \
	"segment 1's streams: one near a kill, one not, one cut"
has "    400.0 stream 3: failed (see stream.log)" "the unexplained stream failure listed"
has "  fetches 1 ok, 1 failed: 1 \"no swarm\" (the fetching router down), 0 within 90 s of a kill, 0 else" \
	"segment 1's fetches"
has "segment 2: 10.0-15.0 min (5.0), ended SIGTERM, paused 30 s (not counted)" \
	"segment 2's minutes, end and pause"
has "  kills 1 (b3 1), crashes 1" "segment 2's kill and crash"
has "    crash at 650.0 s: b4: exit status 1" "the crash named"
has "  fetches 0 ok, 2 failed: 0 \"no swarm\" (the fetching router down), 1 within 90 s of a kill, 1 else" \
	"segment 2's fetches: one near a kill, one not"
has "    850.0 fetch 4: b5 8899aabbccddeeff failed: bits: the content was cut short (65536 of 524288 bytes)" \
	"the unexplained fetch failure listed"
has "run: 15.0 minutes in 2 segments, 4 kills, 1 crashes; streams 2 ok / 2 failed, fetches 1 ok / 3 failed" \
	"the run's totals"

out=$(python3 "$top_srcdir/tools/soak" --segments "$W/none" 2>&1)
rc=$?
[ $rc = 2 ] && echo "$out" | grep -q "holds no soak's records" &&
	ok "a directory without records: exit 2 and why" || bad "no records: exit $rc, \"$out\""

echo "RESULT soak-segments: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
