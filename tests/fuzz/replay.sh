#!/bin/sh
# Replay every fuzz target's seed corpus (tests/fuzz/corpus/NAME) once.
# Works with both the replay build and the libFuzzer build (-runs=0).
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
pass=0 fail=0
for dir in "$src"/tests/fuzz/corpus/*/; do
	[ -d "$dir" ] || continue
	name=$(basename "$dir")
	bin="$bld/tests/fuzz/fuzz_$name"
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz_$name: not built"; fail=$((fail + 1)); continue
	fi
	if "$bin" -runs=0 "$dir" >/dev/null 2>"$bld/tests/fuzz/fuzz_$name.replay.log"; then
		echo "ok   fuzz_$name"; pass=$((pass + 1))
	else
		echo "FAIL fuzz_$name (see tests/fuzz/fuzz_$name.replay.log)"
		fail=$((fail + 1))
	fi
done
echo "RESULT fuzz-replay: $pass passed, $fail failed"
[ "$fail" = 0 ]
