# Shared helpers for the content integration tests (sourced, not run):
# a scratch directory W removed on exit, result counting, file helpers.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-content.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
# ok/bad count results; result prints the RESULT line and sets the status.
PASS=0 FAIL=0
ok() { echo "ok   $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAIL=$((FAIL + 1)); }
result() { echo "RESULT $1: $PASS passed, $FAIL failed"; [ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]; }
# check NAME CMD...: ok when CMD succeeds.
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

BITS="$top_builddir/apps/bits"
# gen FILE BYTES SEED: reproducible pseudo-random bytes (not from
# /dev/urandom, which can be slow on a busy machine).
gen() {
	python3 -c 'import random, sys
n, r = int(sys.argv[1]), random.Random(int(sys.argv[2]))
w = sys.stdout.buffer.write
while n > 0:
    k = min(n, 1 << 20); w(r.randbytes(k)); n -= k' "$2" "$3" >"$1"
}
# publish FILE OUTDIR ARGS...: publish, set DIR and KEY from the output.
publish() {
	f=$1 out=$2; shift 2
	"$BITS" publish "$f" --out "$out" "$@" >"$W/pub.out" 2>"$W/pub.err" || return 1
	DIR=$(sed -n 's/^dir  *//p' "$W/pub.out")
	KEY=$(sed -n 's/^key  *\([0-9a-f]\{64\}\)$/\1/p' "$W/pub.out")
	[ -d "$DIR" ] && [ -n "$KEY" ]
}
# flip FILE OFFSET: invert one byte in place.
flip() {
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((255 - b)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# slice FILE FROM LEN: bytes [FROM, FROM + LEN) of FILE on stdout.
slice() { tail -c +$(($2 + 1)) "$1" | head -c "$3"; }
# sanitized: true in a build with sanitizers (slower: smaller sizes).
sanitized() { grep -q '^BITS_CFLAGS = .*-fsanitize=' "$top_builddir/Makefile" 2>/dev/null; }
