#!/bin/sh
# A 1 GiB content end to end through bits: publish (2 threads), verify
# without the key, decrypt it all back, and read 1 MiB at random offsets.
# Memory stays bounded by design (a few MiB of batch buffers), so this is
# about the streaming paths, not speed.  Under sanitizers the same steps run
# on 96 MiB (BITS_CONTENT_BIG_MIB overrides either size).
set -u
. "${top_srcdir:-.}/tests/integration/content-lib.sh"	# W, ok, bad, ...

if sanitized; then mib=${BITS_CONTENT_BIG_MIB:-96}; else mib=${BITS_CONTENT_BIG_MIB:-1024}; fi
n=$((mib << 20))
gen "$W/src" "$n" 1
check "made a $mib MiB source file" [ "$(stat -c %s "$W/src")" = "$n" ]

# Run publish under python3 to read its peak resident size (KiB).
rss=$(python3 -c 'import resource, subprocess, sys
with open(sys.argv[1], "w") as out, open(sys.argv[2], "w") as err:
    subprocess.run(sys.argv[3:], stdout=out, stderr=err)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
	"$W/pub.out" "$W/pub.err" "$BITS" publish "$W/src" --out "$W/out" \
	--identity "$W/id" --threads 2)
DIR=$(sed -n 's/^dir  *//p' "$W/pub.out")
KEY=$(sed -n 's/^key  *\([0-9a-f]\{64\}\)$/\1/p' "$W/pub.out")
published=no
[ -d "$DIR" ] && [ -n "$KEY" ] && published=yes
check "publish $mib MiB" [ "$published" = yes ]
check "publish stays in bounded memory (max RSS ${rss} KiB < 64 MiB)" [ "${rss:-0}" -lt 65536 ]
check "data file is size + 16 bytes a chunk" \
	[ "$(stat -c %s "$DIR/data")" = $((n + 16 * (n >> 16))) ]
"$BITS" verify "$DIR" --threads 2 >"$W/v.out" 2>&1
check "verify without the key" grep -q "^ok " "$W/v.out"
"$BITS" cat "$DIR" --key "$KEY" | cmp -s - "$W/src"
check "cat gives back all $mib MiB" [ $? = 0 ]
fails=0
for from in $(awk -v n="$n" 'BEGIN { srand(7); for (i = 0; i < 8; i++)
	printf "%d\n", int(rand() * (n - 1048576)) }') $((n - 1048576)); do
	slice "$W/src" "$from" 1048576 >"$W/want"
	"$BITS" cat "$DIR" --key "$KEY" --from "$from" --length 1048576 |
		cmp -s - "$W/want" || fails=$((fails + 1))
done
check "1 MiB reads at 9 offsets (the last one up to the end)" [ "$fails" = 0 ]

result content-big
