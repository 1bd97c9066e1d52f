#!/bin/sh
# A fatal signal (router/crashlog.h): bitsd killed with SIGSEGV writes the
# signal and a backtrace to DATADIR/crash.log and to its log and dies of
# it (under ASan the sanitizer's report follows ours); the next start
# reports the crash in its log and in /api/status, keeps the record as
# crash.log.old, and runs normally; a crash log of junk bytes is reported
# as printable text only; a clean stop leaves no crash record.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/integration/i2pd-lib.sh"	# ok, bad, result
BITSD="$top_builddir/apps/bitsd"
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-crash.XXXXXX")
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM
D=$W/d

start() { # LOG: bitsd in the background until its API answers
	"$BITSD" --datadir "$D" --netid 77 --host 127.0.0.93 --port 28911 \
		--api-port 28910 --loglevel info --logfile "$1" >>"$W/stderr" 2>&1 &
	PID=$!
	i=0
	until grep -q "console on" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 120 ] && return 1
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.25
	done
}
stopped() { # wait for PID to end; its status in $st
	i=0
	while kill -0 "$PID" 2>/dev/null && [ $i -lt 120 ]; do sleep 0.25; i=$((i + 1)); done
	wait "$PID"; st=$?; PID=""
}
status_field() {
	python3 -c 'import sys, json, urllib.request
j = json.load(urllib.request.urlopen("http://127.0.0.1:28910/api/status", timeout=10))
print(j["router"].get(sys.argv[1], ""))' "$1"
}

"$BITSD" --datadir "$D" --init --netid 77 --host 127.0.0.93 --port 28911 >"$W/init.log" 2>&1 ||
	{ bad "bitsd --init failed"; result test_bitsd_crash; exit 1; }
start "$W/run1.log" || { bad "bitsd did not start (see run1.log)"; cat "$W/run1.log"; result test_bitsd_crash; exit 1; }
[ -z "$(status_field last_crash)" ] && ok "a first start reports no crash" || bad "a first start reports a crash"
kill -SEGV "$PID"
stopped
[ "$st" != 0 ] && ok "bitsd died of SIGSEGV (status $st)" || bad "bitsd exited 0 after SIGSEGV"
head -n 1 "$D/crash.log" 2>/dev/null | grep -q "fatal signal 11 (SIGSEGV) at unix time [0-9]*; backtrace:" &&
	ok "crash.log names the signal" || bad "crash.log: $(head -n 2 "$D/crash.log" 2>&1)"
n=$(grep -c "bitsd\|libc\|0x" "$D/crash.log" 2>/dev/null)
[ "${n:-0}" -ge 3 ] && ok "crash.log holds a backtrace ($n frames)" || bad "crash.log has $n frames"
grep -q "fatal signal 11 (SIGSEGV)" "$W/run1.log" && ok "the log has the record too" ||
	bad "the log lacks the crash record"
[ "$(stat -c %a "$D/crash.log" 2>/dev/null)" = 600 ] && ok "crash.log is private (0600)" || bad "crash.log mode"

start "$W/run2.log" || { bad "bitsd did not start after the crash"; cat "$W/run2.log"; result test_bitsd_crash; exit 1; }
grep -q "the last run ended with a crash" "$W/run2.log" && grep -q "  .*fatal signal 11 (SIGSEGV)" "$W/run2.log" &&
	ok "the next start reports the crash in its log" || bad "no crash report at the next start"
case "$(status_field last_crash)" in
*"fatal signal 11 (SIGSEGV)"*) ok "/api/status shows the last crash" ;;
*) bad "/api/status last_crash: $(status_field last_crash)" ;;
esac
[ ! -e "$D/crash.log" ] && [ -s "$D/crash.log.old" ] && ok "the record is kept as crash.log.old" ||
	bad "crash.log / crash.log.old: $(ls "$D")"
kill -TERM "$PID"
stopped
[ "$st" = 0 ] && ok "a clean stop exits 0" || bad "clean stop: status $st"
[ ! -e "$D/crash.log" ] && ok "a clean stop leaves no crash record" || bad "a clean stop left crash.log"

# junk in crash.log: reported as printable text, bitsd runs
printf 'fatal \001\033[31mjunk\377\n\n\n' >"$D/crash.log"
head -c 100000 /dev/urandom >>"$D/crash.log"
start "$W/run3.log" || { bad "bitsd did not start with a junk crash.log"; result test_bitsd_crash; exit 1; }
grep -q "the last run left .*crash.log, which cannot be read: .*too big\|the last run ended with a crash" "$W/run3.log" &&
	ok "a junk or oversized crash.log is reported, not fatal" || bad "junk crash.log: $(grep crash "$W/run3.log")"
LC_ALL=C grep -q "$(printf '\033')" "$W/run3.log" && bad "control bytes reached the log" || ok "no control bytes reach the log"
printf 'fatal \001\033[31mjunk\n' >"$D/crash.log"
kill -TERM "$PID"; stopped
start "$W/run4.log" || { bad "bitsd did not start with a short junk crash.log"; result test_bitsd_crash; exit 1; }
grep -q "  fatal ??\[31mjunk" "$W/run4.log" && ok "a junk record is logged with its control bytes replaced" ||
	bad "junk record: $(grep -A1 'ended with a crash' "$W/run4.log")"
kill -TERM "$PID"; stopped
[ "$st" = 0 ] && ok "it still stops cleanly" || bad "stop: status $st"
result test_bitsd_crash
