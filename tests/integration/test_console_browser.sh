#!/bin/sh
# The web console in headless Chromium (tests/integration/console.mjs):
# bitsd serves it on 127.0.0.1 behind its token; Debian's chromium driven
# by playwright-core (tools/browser-deps installs both, failing loudly).
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/integration/i2pd-lib.sh"	# ok, bad, result
BITSD="$top_builddir/apps/bitsd"
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-console.XXXXXX")
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM
finish() { result test_console_browser; exit $?; }

if ! "$top_srcdir/tools/browser-deps" >"$W/deps.log" 2>&1; then
	bad "tools/browser-deps failed: $(tail -n 3 "$W/deps.log")"; finish
fi
"$BITSD" --datadir "$W/d" --netid 77 --host 127.0.0.92 --port 28901 \
	--api-port 28900 --loglevel info >"$W/log" 2>&1 &
PID=$!
i=0
until [ -s "$W/d/api.token" ] && grep -q "console on" "$W/log"; do
	i=$((i + 1)); [ $i -gt 80 ] && { bad "bitsd did not start its console (see log)"; cat "$W/log"; finish; }
	sleep 0.25
done
hash=$(python3 -c 'import sys,hashlib,base64; d=open(sys.argv[1],"rb").read(); cl=int.from_bytes(d[385:387],"big"); print(base64.b64encode(hashlib.sha256(d[:387+cl]).digest(),altchars=b"-~").decode())' "$W/d/router.info")
if PLAYWRIGHT_CORE="$top_srcdir/tools/browser/node_modules/playwright-core" \
	node "$top_srcdir/tests/integration/console.mjs" http://127.0.0.1:28900 \
	"$(cat "$W/d/api.token")" "$hash"; then
	ok "the console works in Chromium"
else
	bad "the console in Chromium"
fi
kill -TERM "$PID"; i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
if ! kill -0 "$PID" 2>/dev/null && wait "$PID"; then ok "bitsd stopped cleanly"; else bad "bitsd did not stop cleanly"; fi
PID=""
grep -qE 'AddressSanitizer|runtime error' "$W/log" && bad "sanitizer report" || ok "no sanitizer report"
finish
