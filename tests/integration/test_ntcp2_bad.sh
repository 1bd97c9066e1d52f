#!/bin/sh
# Bad NTCP2 input against the bitsd daemon: garbage, a truncated
# handshake, a replayed SessionRequest, a wrong netId, a skewed clock,
# oversize blocks and corrupt or short frames.  Each runs against a fresh
# bitsd and must end the connection as the spec says (checked by
# test_ntcp2_attack), with exactly one info line in bitsd's log, no
# warning, no crash, a clean exit (and no sanitizer report in the ASan
# build).  Then 1,000 bad connections in a row must not grow bitsd's
# memory.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_ntcp2_bad
ATTACK="${top_builddir:-.}/tests/integration/test_ntcp2_attack"
HOST=127.0.0.140
PORT=25500
W=$(mktemp -d "${TMPDIR:-/tmp}/ntcp2-bad.XXXXXX")
cleanup() {
	[ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
umask 077
for prog in "$ATTACK" "$BITSD"; do
	[ -x "$prog" ] || { bad "$prog is not built"; result $NAME; exit 1; }
done
# A small ASan quarantine, so freed memory is reused and RSS means something.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=2"
export ASAN_OPTIONS

fresh() { # DIR [FLAG...]: start a new bitsd there and wait until it listens
	fd=$1; shift
	rm -rf "$fd"; mkdir -p "$fd"
	bitsd_start "$fd" $HOST $PORT "$@"
	i=0
	while ! grep -q "NTCP2 listening" "$fd/bitsd.log" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.1; i=$((i + 1))
	done
}

sanitizer_clean() {
	! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$1/stdout.log"
}

finish() { # WHAT: the bitsd in $D stops cleanly, with clean logs
	bitsd_stop && ok "$1: bitsd stopped cleanly" || bad "$1: unclean stop"
	log_clean "$D/bitsd.log" >/dev/null && sanitizer_clean "$D" &&
		ok "$1: no warning, BUG or sanitizer report" ||
		bad "$1: warning, BUG or sanitizer report (see $D)"
}

for sc in garbage truncated replay netid skew oversize_i2np oversize_ri aead shortlen; do
	D=$W/$sc
	fresh "$D"
	if out=$("$ATTACK" "$D/router.info" 77 $sc 2>&1); then ok "$out"; else bad "$out"; fi
	sleep 0.5
	lines=$(grep -c '\[info\] ntcp2: sess_log()' "$D/bitsd.log")
	[ "$lines" = 1 ] && ok "$sc: one info line" ||
		bad "$sc: $lines info lines (see $D/bitsd.log)"
	kill -0 "$BPID" 2>/dev/null && ok "$sc: bitsd still running" ||
		bad "$sc: bitsd died"
	finish "$sc"
done

# The [limits] pending-handshake cap and the NTCP2 handshake timeout
# reach the transport: two connections from one address held open
# without a byte, a third closed at once (the default allows four); a
# silent connection closed after the 2 s asked for (10 s by default).
# SSU2 is given its settings from the same keys (its log line says).
D=$W/limits
fresh "$D" --limits.pending-handshakes-per-ip 2 --ntcp2.handshake-timeout 2 \
	--limits.pending-handshakes 9 --ntcp2.idle-timeout 40 \
	--ssu2 --ssu2.handshake-timeout 3 --ssu2.idle-timeout 30
for tr in "NTCP2: handshake timeout 2 s, idle timeout 40 s, 9 handshakes under way at most (2 from one address)" \
	"SSU2: handshake timeout 3 s, idle timeout 30 s, 9 handshakes under way at most (2 from one address)"; do
	grep -q "$tr" "$D/bitsd.log" && ok "bitsd says \"$tr\"" ||
		bad "bitsd's log lacks \"$tr\" (see $D/bitsd.log)"
done
if out=$("$ATTACK" "$D/router.info" 77 held 2); then ok "$out"; else bad "$out"; fi
out=$("$ATTACK" "$D/router.info" 77 silent) || bad "silent: $out"
ms=$(printf %s "$out" | sed -n 's/^silent: closed after \([0-9]*\) ms$/\1/p')
[ -n "$ms" ] && [ "$ms" -ge 1500 ] && [ "$ms" -le 5000 ] &&
	ok "a silent connection closed after $ms ms (ntcp2.handshake-timeout 2)" ||
	bad "a silent connection: $out (want 2 s)"
finish "limits"

# Memory: 200 bad connections to warm up, then 1,000 more.
D=$W/many
fresh "$D"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$BPID/status"; }
"$ATTACK" "$D/router.info" 77 many 200 >/dev/null
sleep 2
r1=$(rss)
if out=$("$ATTACK" "$D/router.info" 77 many 1000); then ok "$out"; else bad "$out"; fi
sleep 3
r2=$(rss)
grow=$((r2 - r1))
[ "$grow" -lt 4096 ] && ok "1,000 bad connections: RSS $r1 -> $r2 KiB" ||
	bad "1,000 bad connections: RSS grew $r1 -> $r2 KiB"
lines=$(grep -c '\[info\] ntcp2: sess_log()' "$D/bitsd.log")
[ "$lines" -ge 1 ] && [ "$lines" -le 10 ] &&
	ok "1,200 bad connections: $lines info lines (rate-limited)" ||
	bad "1,200 bad connections: $lines info lines"
finish "many"
result $NAME
