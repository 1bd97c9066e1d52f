#!/bin/sh
# bitsd's command line and life cycle, one bitsd at a time on loopback:
#  --help/--version/bad flags; --init creates the data directory (0700),
#  router.keys (0600) and a router.info with our netId, host and port; a
#  second --init keeps the keys and the identity; a corrupt or truncated
#  key file stops bitsd with a clear message and is left untouched; a bad
#  config line is reported as file:line; SIGTERM and SIGINT stop a running
#  bitsd cleanly (exit 0) in bounded time; SIGHUP re-reads the config.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-cli.XXXXXX")
. "$top_srcdir/tests/integration/i2pd-lib.sh"	# ok, bad, result, wait_log
BITSD="$top_builddir/apps/bitsd"
EXIT_SECONDS=10
PIDS=""

cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

mode() { stat -c %a "$1" 2>/dev/null; }
has() { LC_ALL=C grep -a -q -- "$2" "$1"; }
# the RouterIdentity: the first 391 bytes of our router.info
ident() { head -c 391 "$1" | od -An -tx1 | tr -d ' \n'; }

# wait_exit PID: wait up to EXIT_SECONDS for PID to exit; set rc to its
# exit status, or to "timeout" after killing it.  (Not in a $(...)
# subshell: only this shell can wait for its children.)
wait_exit() {
	i=0
	while [ $i -lt $((EXIT_SECONDS * 10)) ]; do
		if ! kill -0 "$1" 2>/dev/null ||
		   grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; then
			wait "$1"; rc=$?; return
		fi
		sleep 0.1; i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; rc=timeout
}

# start NAME ARGS...: run bitsd in the background logging to W/NAME.log;
# sets PID.  0 once it says it is running.
start() {
	name=$1; shift
	"$BITSD" --logfile "$W/$name.log" "$@" >"$W/$name.out" 2>&1 &
	PID=$!
	PIDS="$PIDS $PID"
	wait_log "$W/$name.log" "running (datadir" 10
}

# ---- command line ----
if "$BITSD" --help >"$W/help" 2>&1; then
	missing=""
	for o in --datadir --conf --loglevel --logfile --host --port --netid \
		 --floodfill --help --version --init; do
		grep -q -- "$o" "$W/help" || missing="$missing $o"
	done
	[ -z "$missing" ] && ok "--help lists every option" || bad "--help lacks:$missing"
else
	bad "--help exited non-zero"
fi
v=$("$BITSD" --version 2>&1) && case $v in "bits "[0-9]*) true ;; *) false ;; esac &&
	ok "--version prints '$v'" || bad "--version printed '$v'"
"$BITSD" --colour blue >"$W/badflag" 2>&1; rc=$?
[ $rc = 2 ] && has "$W/badflag" "unknown option --colour" &&
	ok "an unknown flag exits 2 and names it" || bad "unknown flag: exit $rc, $(cat "$W/badflag")"

# ---- --init ----
D="$W/data"
"$BITSD" --datadir "$D" --init --netid 77 --host 127.0.0.9 --port 24999 >"$W/init1" 2>&1; rc=$?
[ $rc = 0 ] && ok "--init exits 0" || { bad "--init exited $rc"; cat "$W/init1"; }
[ "$(mode "$D")" = 700 ] && ok "datadir is 0700" || bad "datadir mode $(mode "$D")"
[ "$(mode "$D/router.keys")" = 600 ] && ok "router.keys is 0600" || bad "router.keys mode $(mode "$D/router.keys")"
if [ -s "$D/router.info" ] && has "$D/router.info" "netId=.77;" &&
   has "$D/router.info" "host=.127.0.0.9;" && has "$D/router.info" "port=.24999;" &&
   has "$D/router.info" "NTCP2" && has "$D/router.info" "router.version="; then
	ok "router.info has netId 77 and the NTCP2 host and port"
else
	bad "router.info lacks netId/host/port"
fi
cp "$D/router.keys" "$W/keys.1"
id1=$(ident "$D/router.info")
"$BITSD" --datadir "$D" --init --netid 77 --host 127.0.0.9 --port 24999 >"$W/init2" 2>&1; rc=$?
[ $rc = 0 ] && cmp -s "$D/router.keys" "$W/keys.1" && ! has "$W/init2" "created new router keys" &&
	ok "a second --init reuses the key file byte for byte" || bad "second --init: exit $rc or keys changed"
[ -n "$id1" ] && [ "$(ident "$D/router.info")" = "$id1" ] &&
	ok "the identity in router.info stays the same" || bad "the identity changed"

# ---- damaged key files ----
cp -p "$D/router.keys" "$W/keys.good"
for kind in corrupt truncated; do
	cp -p "$W/keys.good" "$D/router.keys"
	if [ $kind = corrupt ]; then
		printf 'CORRUPT!' | dd of="$D/router.keys" bs=1 seek=40 conv=notrunc 2>/dev/null
	else
		head -c 100 "$W/keys.good" >"$D/router.keys"
	fi
	cp "$D/router.keys" "$W/keys.$kind"
	for how in --init run; do
		arg=$how; [ $how = run ] && arg=--loglevel=notice
		"$BITSD" --datadir "$D" "$arg" >"$W/$kind.$how" 2>&1 &
		p=$!; PIDS="$PIDS $p"
		wait_exit $p
		if [ "$rc" != 0 ] && [ "$rc" != timeout ] && has "$W/$kind.$how" "router.keys" &&
		   has "$W/$kind.$how" "not modified"; then
			ok "$kind key file ($how): exit $rc with a clear message"
		else
			bad "$kind key file ($how): exit $rc: $(cat "$W/$kind.$how")"
		fi
		cmp -s "$D/router.keys" "$W/keys.$kind" &&
			ok "$kind key file ($how) left untouched" || bad "$kind key file ($how) was changed"
	done
done
grep -h -i "router.keys" "$W/corrupt.--init" | head -1 | sed 's/^/    message: /'
cp -p "$W/keys.good" "$D/router.keys"

# ---- config file errors ----
printf 'netid = 77\nport = abc\n' >"$W/bad.conf"
"$BITSD" --datadir "$D" --conf "$W/bad.conf" >"$W/badconf" 2>&1; rc=$?
[ $rc = 2 ] && has "$W/badconf" "bad.conf:2: port" &&
	ok "a bad config value exits 2 naming file:line" || bad "bad config: exit $rc: $(cat "$W/badconf")"

# ---- signals ----
for sig in TERM INT; do
	if start "sig$sig" --datadir "$D" --netid 77; then
		ok "bitsd runs (SIG$sig case)"
	else
		bad "bitsd did not start (SIG$sig case)"; cat "$W/sig$sig.out" "$W/sig$sig.log"
	fi
	kill -$sig $PID
	wait_exit $PID
	[ "$rc" = 0 ] && ok "SIG$sig: clean exit 0 within ${EXIT_SECONDS}s" || bad "SIG$sig: exit $rc"
	has "$W/sig$sig.log" "stopped cleanly" && ok "SIG$sig: 'stopped cleanly' logged" ||
		bad "SIG$sig: no 'stopped cleanly' in the log"
	if grep -E '\[(warn|error)\]' "$W/sig$sig.log" "$W/sig$sig.out" >/dev/null; then
		bad "SIG$sig: warnings in a healthy run:"; grep -E '\[(warn|error)\]' "$W/sig$sig.log" | head -5
	else
		ok "SIG$sig: no warning or error logged"
	fi
done

# ---- SIGHUP reloads the config ----
C="$W/hup.conf"
printf 'loglevel = notice\nnetid = 77\n' >"$C"
if start hup --datadir "$D" --conf "$C"; then
	has "$W/hup.log" "\[debug\]" && bad "debug lines before the reload" || ok "no debug lines at loglevel notice"
	printf 'loglevel = debug\nnetid = 77\nport = 24998\n' >"$C"
	kill -HUP $PID
	if wait_log "$W/hup.log" "configuration reloaded (loglevel debug)" 10 &&
	   wait_log "$W/hup.log" "\[debug\] config" 10; then
		ok "SIGHUP: the new loglevel is in effect"
	else
		bad "SIGHUP: no reload seen"; tail -5 "$W/hup.log"
	fi
	i=0	# written by a worker: give it a moment
	while ! has "$D/router.info" "port=.24998;" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	has "$D/router.info" "port=.24998;" && ok "SIGHUP: router.info refreshed with the new port" ||
		bad "SIGHUP: router.info not refreshed"
	kill -0 $PID 2>/dev/null && ok "SIGHUP: still running" || bad "SIGHUP: bitsd died"
	printf 'loglevel = debug\nport = nonsense\n' >"$C"
	kill -HUP $PID
	wait_log "$W/hup.log" "reload failed, keeping the old configuration" 10 &&
		kill -0 $PID 2>/dev/null && ok "SIGHUP with a bad config: kept running, said why" ||
		bad "SIGHUP with a bad config"
	kill -TERM $PID
	wait_exit $PID
	[ "$rc" = 0 ] && ok "stopped after reloads: exit 0" || bad "after reloads: exit $rc"
else
	bad "bitsd did not start (SIGHUP case)"; cat "$W/hup.out"
fi

result test_bitsd_cli
