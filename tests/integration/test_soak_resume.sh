#!/bin/sh
# tools/soak in segments, paused and resumed (run by hand: about 9
# minutes, too long for TESTS):
#   make check TESTS=tests/integration/test_soak_resume.sh
# A --ci soak of this build (4 bitsd and an i2pd in the soak's own network
# namespace; a SIGKILL every 20 s +-50 % after the first minute):
#  1. runs for 2 minutes and ends;
#  2. is resumed; 20 s after its network is up it is paused (SIGUSR1) for
#     20 s (SIGUSR2), and 60 s later ended with SIGTERM;
#  3. is resumed, and the soak itself killed with SIGKILL 40 s after its
#     network is up (its routers left running);
#  4. is resumed for 1.5 minutes;
#  5. its records alone (run.json, samples.csv, events.log) are copied to a
#     new dir, as to a machine that did not keep the network, and resumed
#     from there for 1.5 minutes.
# Then, of segments 1-4:
#  - every router kept its identity: the SHA-256 of each bitsd's router.keys
#    and swarm.dest and the i2pd's router.keys and ntcp2.keys after each
#    segment are those after the first;
#  - while paused, every router and client was stopped (state T), and ran
#    again after; the routers the killed soak left were killed by the next
#    --resume, and nothing of the run runs after the end;
#  - run.json and summary.json: four segments, ended by minutes, SIGTERM,
#    the kill and minutes, each starting at the time of the run the one
#    before ended; one pause, in segment 2, as long as the time between
#    the signals; segment 2's run time is its time to the SIGTERM less the
#    pause;
#  - samples.csv: every row of run.json's count; the run's time never goes
#    back; each round of samples follows the one before in its segment by
#    at most 15 s of the run's time, also across the pause (20 s and more
#    of wall time between them); each segment's samples within its times;
#  - kills, streams and fetches: the summary's are the sums of the
#    segments' and the lines of events.log; no crash; each router's process
#    judged is its longest-lived one of the whole run; soak.svg marks the
#    segments and the pause.
# And of segment 5: events.log says the network began anew; every
# identity is new; the run's time, counts and samples go on from segment
# 4's (five segments, the fifth starting where the fourth ended).
# (The soak's own verdict on so short a run is FAILED: no bitsd lives the
# 7 minutes its heap is judged over.  That verdict is not what is tested.)
# Needs root (the soak's network namespace).  SOAK_RESUME_KEEP=1 keeps the
# run's dir.
set -u
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
NAME=test_soak_resume
SOAK="$top_srcdir/tools/soak"
W=$(mktemp -d "${TMPDIR:-/tmp}/soak-resume.XXXXXX")
OUT=$W/run
PID=""
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
result() {
	echo "RESULT $NAME: $pass passed, $fail failed"
	[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
	exit $?
}
# What run.json names as running (each by its pid and start time):
# "states" prints "what pid state" of each ("gone" when it is not the same
# process any more), "check" those still running, "kill" kills them
procs() {
	python3 - "$OUT/run.json" "$1" <<'EOF'
import json, os, signal, sys
def state(pid, st):
    try:
        rest = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return rest[0] if int(rest[19]) == st and rest[0] not in "ZX" else "gone"
    except (OSError, IndexError, ValueError):
        return "gone"
try:
    procs = json.load(open(sys.argv[1]))["procs"]
except (OSError, ValueError, KeyError):
    sys.exit(0)
if sys.argv[2] == "states":
    for p, st, w in procs:
        print(w, p, state(p, st))
    sys.exit(0)
alive = [(p, w) for p, st, w in procs if state(p, st) != "gone"]
if sys.argv[2] == "kill":
    for p, _ in alive:
        os.kill(p, signal.SIGKILL)
print(" ".join("%s:%d" % (w, p) for p, w in alive))
EOF
}
cleanup() {
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && sleep 5
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	[ -f "$OUT/run.json" ] && procs kill >/dev/null
	if [ "${SOAK_RESUME_KEEP:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "$NAME: needs root (the soak runs in a network namespace of its own)"
	bad "not root"
	result
fi
[ -x "$top_builddir/apps/bitsd" ] || { bad "no $top_builddir/apps/bitsd"; result; }

# The run's identities: a line per key file
idents() {
	for f in "$OUT"/net/b*/router.keys "$OUT"/net/b*/swarm.dest \
		"$OUT"/net/i2pd/r*/router.keys "$OUT"/net/i2pd/r*/ntcp2.keys; do
		[ -s "$f" ] && sha256sum "$f"
	done
}
# Wait (at most $2 s) for a line of events.log matching $1
wait_event() {
	i=0
	while [ $i -lt "$2" ]; do
		grep -q "$1" "$OUT/events.log" 2>/dev/null && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 1; i=$((i + 1))
	done
	return 1
}
# Whether no process of the run is left (after a segment's end)
none_left() {
	left=$(procs check)
	if [ -z "$left" ]; then ok "segment $1: nothing of the run left running"
	else bad "segment $1: left running: $left"; fi
}
B="--build $top_builddir"

# 1. a new run, 2 minutes
"$SOAK" --ci --minutes 2 --kill-every 20 --seed 18 $B --out "$OUT" >"$W/seg1.txt" 2>&1 &
PID=$!
wait "$PID"; PID=""
grep -q '^RESULT soak:' "$W/seg1.txt" && ok "segment 1 ran (its verdict: $(grep '^soak: ' "$W/seg1.txt" | tail -1))" ||
	{ bad "segment 1: no verdict"; tail -20 "$W/seg1.txt"; result; }
idents >"$W/idents1"
n=$(wc -l <"$W/idents1")
[ "$n" = 10 ] && ok "10 identity files (4 bitsd x 2, an i2pd's 2)" || bad "$n identity files, not 10"
none_left 1

# 2. resumed: paused 20 s, ended with SIGTERM
sleep 5
"$SOAK" --resume "$OUT" --minutes 10 >"$W/seg2.txt" 2>&1 &
PID=$!
wait_event 'up: .*; segment 2$' 180 || { bad "segment 2 did not come up"; tail -20 "$W/seg2.txt"; result; }
sleep 20
usr1=$(date +%s.%N)
kill -USR1 "$PID"
wait_event 'paused (SIGUSR1)' 10 || bad "no pause in events.log"
sleep 3
procs states >"$W/paused"
nr=$(grep -vc '^client' "$W/paused")
nt=$(grep -v '^client' "$W/paused" | grep -c ' T$')
nc=$(grep -c '^client' "$W/paused")
nct=$(grep '^client' "$W/paused" | grep -c ' T$')
[ "$nr" -ge 3 ] && [ "$nt" = "$nr" ] && [ "$nct" = "$nc" ] &&
	ok "paused: $nt routers and $nct clients stopped" ||
	{ bad "paused: not all stopped"; cat "$W/paused"; }
sleep 17
usr2=$(date +%s.%N)
kill -USR2 "$PID"
wait_event 'continued after a pause' 10 || bad "not continued in events.log"
sleep 3
procs states >"$W/continued"
grep -v '^client' "$W/continued" | grep -q ' [RSD]$' && ! grep -q ' T$' "$W/continued" &&
	ok "continued: none stopped" || { bad "continued: still stopped"; cat "$W/continued"; }
sleep 57
term=$(date +%s.%N)
kill -TERM "$PID"
wait "$PID"; PID=""
grep -q '^RESULT soak:' "$W/seg2.txt" && ok "segment 2 ended by SIGTERM with a verdict" ||
	{ bad "segment 2: no verdict"; tail -20 "$W/seg2.txt"; }
idents >"$W/idents2"
cmp -s "$W/idents1" "$W/idents2" && ok "segment 2: the same identities" ||
	{ bad "segment 2: identities changed"; diff "$W/idents1" "$W/idents2"; }
none_left 2

# 3. resumed; the soak killed (SIGKILL), its routers left
"$SOAK" --resume "$OUT" --minutes 10 >"$W/seg3.txt" 2>&1 &
PID=$!
wait_event 'up: .*; segment 3$' 180 || { bad "segment 3 did not come up"; tail -20 "$W/seg3.txt"; result; }
sleep 40
kill -KILL "$PID"
wait "$PID" 2>/dev/null; PID=""
sleep 1
left=$(procs check)
n=$(echo "$left" | tr ' ' '\n' | grep -vc '^client\|^$')
[ "$n" -ge 3 ] && ok "the soak killed: $n routers left running ($left)" ||
	bad "the soak killed: $n routers left running, expected 3 or more ($left)"
echo "$left" >"$W/left3"

# 4. resumed for 1.5 minutes
"$SOAK" --resume "$OUT" --minutes 1.5 >"$W/seg4.txt" 2>&1 &
PID=$!
wait "$PID"; PID=""
grep -q '^RESULT soak:' "$W/seg4.txt" && ok "segment 4 ran" || { bad "segment 4: no verdict"; tail -20 "$W/seg4.txt"; }
grep -q "killed what the last segment's soak left running" "$OUT/events.log" &&
	ok "segment 4 killed what segment 3 left" || bad "no leftovers killed in events.log"
still=""
for e in $(cat "$W/left3"); do
	p=${e#*:}
	# (the same pid of a process started since is not the one left)
	[ -r "/proc/$p/cmdline" ] && tr '\0' ' ' <"/proc/$p/cmdline" | grep -q "$OUT" && still="$still $e"
done
[ -z "$still" ] && ok "none of segment 3's leftovers runs" || bad "still running:$still"
idents >"$W/idents4"
cmp -s "$W/idents1" "$W/idents4" && ok "segment 4: the same identities" ||
	{ bad "segment 4: identities changed"; diff "$W/idents1" "$W/idents4"; }
none_left 4

# The records of the whole run
python3 - "$OUT" "$usr1" "$usr2" "$term" >"$W/checks" 2>&1 <<'EOF'
import csv, json, re, sys
out, usr1, usr2, term = sys.argv[1], *map(float, sys.argv[2:])
run = json.load(open(out + "/run.json"))
summ = json.load(open(out + "/summary.json"))
ev = open(out + "/events.log").read().splitlines()
def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
segs = summ["segments"]
check(segs == run["segments"], "summary.json and run.json: the same segments")
check([s["ended"] for s in segs] == ["minutes", "SIGTERM", "soak killed", "minutes"],
      "four segments, ended by: %s" % [s["ended"] for s in segs])
check(segs[0]["start"] == 0 and all(b["start"] == a["end"] for a, b in zip(segs, segs[1:])),
      "each segment starts at the run's time the one before ended: %s"
      % [(s["start"], s["end"]) for s in segs])
check(abs(segs[3]["end"] - segs[3]["start"] - 90) < 1, "segment 4: 1.5 minutes of the run")
check(summ["minutes"] == round(segs[3]["end"] / 60, 2),
      "the summary's minutes (%s) are the whole run's" % summ["minutes"])
p = run["pauses"]
check(len(p) == 1 and p[0]["segment"] == 2 and abs(p[0]["seconds"] - (usr2 - usr1)) < 3 and
      p[0]["seconds"] >= 18, "one pause, in segment 2, of %s s (signals %.1f s apart)"
      % ([x["seconds"] for x in p], usr2 - usr1))
s2 = segs[1]
want = term - s2["wall_start"] - p[0]["seconds"]
check(abs(s2["end"] - s2["start"] - want) < 5 and abs(s2["paused_s"] - p[0]["seconds"]) < 0.2,
      "segment 2: %.1f s of the run, %.1f s to its SIGTERM less the pause"
      % (s2["end"] - s2["start"], want))
check(summ["paused_s"] == p[0]["seconds"], "the summary's pause")
rows = list(csv.reader(open(out + "/samples.csv")))
check(rows[0] == ["t", "router", "pid", "rss_kib", "fds", "heap_kib", "segment", "wall"],
      "samples.csv's columns")
rows = [(float(r[0]), r[1], int(r[2]), int(r[6]), float(r[7])) for r in rows[1:]]
check(len(rows) == run["samples_rows"], "samples.csv: %d rows, run.json %d"
      % (len(rows), run["samples_rows"]))
check(all(b[0] >= a[0] and b[3] >= a[3] for a, b in zip(rows, rows[1:])),
      "the run's time and the segments never go back")
check(sorted({r[3] for r in rows}) == [1, 2, 3, 4], "samples of the four segments")
for s in segs:
    ts = sorted({(r[0], r[4]) for r in rows if r[3] == s["n"]})
    gaps = [b[0] - a[0] for a, b in zip(ts, ts[1:])]
    check(ts and s["start"] <= ts[0][0] <= s["start"] + 90 and ts[-1][0] <= s["end"] and
          max(gaps) <= 15, "segment %d: %d rounds of samples at %.1f-%.1f s (the segment "
          "%.1f-%.1f), each at most 15 s after the one before (%.1f)"
          % (s["n"], len(ts), ts[0][0], ts[-1][0], s["start"], s["end"], max(gaps)))
    if s["n"] == 2:
        before = [x for x in ts if x[1] < usr1]
        after = [x for x in ts if x[1] > usr2]
        check(before and after and after[0][0] - before[-1][0] <= 15 and
              after[0][1] - before[-1][1] >= 20,
              "across the pause: %.1f s of the run, %.1f s of wall time"
              % (after[0][0] - before[-1][0], after[0][1] - before[-1][1]))
nk = len([l for l in ev if re.search(r" killed \S+ \(SIGKILL\)$", l)])
check(summ["kills"] == len(run["kills"]) == sum(s["kills"] for s in segs) == nk,
      "kills: %d in the summary, %s a segment, %d in events.log"
      % (summ["kills"], [s["kills"] for s in segs], nk))
so = len([l for l in ev if re.search(r" stream \d+: .* moved", l)])
sb = len([l for l in ev if re.search(r" stream \d+: failed", l) and "not counted" not in l])
fo = len([l for l in ev if re.search(r" fetch \d+: .* byte-exact$", l)])
fb = len([l for l in ev if re.search(r" fetch \d+: .* failed", l) and "not counted" not in l])
check(summ["streams"] == [sum(s["streams"][0] for s in segs), sum(s["streams"][1] for s in segs)]
      == [so, sb], "streams: %s in the summary, %s a segment, %s in events.log"
      % (summ["streams"], [s["streams"] for s in segs], [so, sb]))
check(summ["fetches"] == [sum(s["fetches"][0] for s in segs), sum(s["fetches"][1] for s in segs)]
      == [fo, fb], "fetches: %s in the summary, %s a segment, %s in events.log"
      % (summ["fetches"], [s["fetches"] for s in segs], [fo, fb]))
check(summ["streams"][0] > 0 and summ["fetches"][0] > 0, "traffic flowed")
check(summ["crashes"] == [] and run["crashes"] == [], "no crash: %s" % summ["crashes"])
longest = {}
for r in rows:
    longest.setdefault(r[1], {}).setdefault((r[3], r[2]), 0)
    longest[r[1]][(r[3], r[2])] += 1
for name, v in sorted(summ["routers"].items()):
    best = max(longest[name].values())
    check(longest[name][(v["segment"], v["pid"])] == best,
          "%s: its process judged (segment %d, pid %d, %d samples) is its longest-lived "
          "of the run (%d)" % (name, v["segment"], v["pid"], longest[name][(v["segment"],
                                                                           v["pid"])], best))
check(len(summ["routers"]) == 5, "5 routers judged")
svg = open(out + "/soak.svg").read()
check(all(("seg %d " % n) in svg for n in (2, 3, 4)) and "paused" in svg,
      "soak.svg marks segments 2-4 and the pause")
EOF
cat "$W/checks"
pass=$((pass + $(grep -c '^ok: ' "$W/checks")))
fail=$((fail + $(grep -c '^FAIL: ' "$W/checks")))
grep -q '^ok: 5 routers judged' "$W/checks" || bad "the checks did not all run"
tail -n 12 "$W/seg4.txt"

# 5. the records alone, in a new dir: the network begins anew
OLD=$OUT
OUT=$W/moved
mkdir "$OUT"
cp "$OLD/run.json" "$OLD/samples.csv" "$OLD/events.log" "$OUT/"
"$SOAK" --resume "$OUT" --minutes 1.5 $B >"$W/seg5.txt" 2>&1 &
PID=$!
wait "$PID"; PID=""
grep -q '^RESULT soak:' "$W/seg5.txt" && ok "segment 5 ran from the records alone" ||
	{ bad "segment 5: no verdict"; tail -20 "$W/seg5.txt"; }
grep -q "segment 5: .* holds the run's records but not its network: the routers begin anew" \
	"$OUT/events.log" && ok "segment 5: events.log says the network began anew" ||
	bad "segment 5: no word of a new network in events.log"
idents >"$W/idents5"
n=$(wc -l <"$W/idents5")
cut -d' ' -f1 "$W/idents1" >"$W/h1"
same=$(cut -d' ' -f1 "$W/idents5" | grep -cxFf "$W/h1")
[ "$n" = 10 ] && [ "$same" = 0 ] && ok "segment 5: 10 identity files, all new" ||
	bad "segment 5: $n identity files, $same of them segment 1's"
none_left 5
python3 - "$OUT" >"$W/checks5" 2>&1 <<'EOF5'
import csv, json, re, sys
out = sys.argv[1]
run = json.load(open(out + "/run.json"))
summ = json.load(open(out + "/summary.json"))
ev = open(out + "/events.log").read().splitlines()
def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
segs = run["segments"]
check(segs == summ["segments"] and len(segs) == 5 and segs[4]["start"] == segs[3]["end"]
      and abs(segs[4]["end"] - segs[4]["start"] - 90) < 1,
      "five segments, the fifth 1.5 minutes from the fourth's end: %s"
      % [(s["start"], s["end"]) for s in segs])
rows = list(csv.reader(open(out + "/samples.csv")))[1:]
check(len(rows) == run["samples_rows"] and {int(r[6]) for r in rows} == {1, 2, 3, 4, 5}
      and all(float(b[0]) >= float(a[0]) for a, b in zip(rows, rows[1:])),
      "samples.csv: %d rows (run.json %d), segments 1-5, the run's time never back"
      % (len(rows), run["samples_rows"]))
nk = len([l for l in ev if re.search(r" killed \S+ \(SIGKILL\)$", l)])
check(summ["kills"] == len(run["kills"]) == sum(s["kills"] for s in segs) == nk,
      "kills: %d in the summary, %s a segment, %d in events.log"
      % (summ["kills"], [s["kills"] for s in segs], nk))
check(segs[4]["streams"][0] > 0 and segs[4]["fetches"][0] > 0,
      "segment 5: traffic flowed (streams %s, fetches %s)"
      % (segs[4]["streams"], segs[4]["fetches"]))
anew = [i for i, l in enumerate(ev) if "but not its network" in l]
pub = [l for l in ev[anew[-1]:] if " published item " in l] if anew else []
check(pub and " published item 0 " in pub[0] and len(pub) == len(run["items"]),
      "the creator's items published again: %d after the new network's line, "
      "run.json %d" % (len(pub), len(run["items"])))
check(summ["crashes"] == [], "no crash: %s" % summ["crashes"])
EOF5
cat "$W/checks5"
pass=$((pass + $(grep -c '^ok: ' "$W/checks5")))
fail=$((fail + $(grep -c '^FAIL: ' "$W/checks5")))
grep -q '^ok: no crash' "$W/checks5" || bad "segment 5's checks did not all run"
OUT=$OLD
result
