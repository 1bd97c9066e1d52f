#!/bin/sh
# bits publish / verify / cat end to end (apps/bits.c): round trips of
# 0 B, 1 B and chunk-boundary sizes; reads from random offsets; a tampered
# chunk, tree, manifest or card, and a wrong key, each rejected with a
# clear message and no unchecked output; the store under --datadir,
# lookups by hash, the keyframe index; kill -9 during a publish into the
# store leaves a store that opens and keeps what it had.
set -u
. "${top_srcdir:-.}/tests/integration/content-lib.sh"	# W, ok, bad, ...
ID="$W/creator.key"

# ---- round trips at the chunk boundaries (64 KiB chunks) ----
for n in 0 1 65535 65536 65537 131072 200003; do
	gen "$W/f$n" "$n" "$n"
	if publish "$W/f$n" "$W/out" --identity "$ID" --title "size $n" &&
	   "$BITS" verify "$DIR" >"$W/v.out" 2>&1 &&
	   "$BITS" cat "$DIR" --key "$KEY" | cmp -s - "$W/f$n"; then
		ok "round trip $n bytes"
	else
		bad "round trip $n bytes: $(cat "$W/pub.err" "$W/v.out" 2>/dev/null)"
	fi
done

# ---- random offsets and lengths (1 MiB + 7, 16 KiB chunks) ----
gen "$W/mid" 1048583 7
publish "$W/mid" "$W/out" --identity "$ID" --chunk-log2 14 --threads 2 || bad "publish mid"
MID=$DIR MIDKEY=$KEY
fails=0
for pair in $(awk 'BEGIN { srand(42); for (i = 0; i < 25; i++)
	printf "%d:%d\n", int(rand() * 1048583), int(rand() * 90000) }'); do
	from=${pair%:*} len=${pair#*:}
	"$BITS" cat "$MID" --key "$MIDKEY" --from "$from" --length "$len" >"$W/part" &&
		slice "$W/mid" "$from" "$len" | cmp -s - "$W/part" || fails=$((fails + 1))
done
check "25 random offsets read back exactly" [ "$fails" = 0 ]
"$BITS" cat "$MID" --key "$MIDKEY" --from 1048583 >"$W/part" 2>&1
check "reading from the very end gives nothing" [ ! -s "$W/part" ]
"$BITS" cat "$MID" --key "$MIDKEY" --from 1048584 >/dev/null 2>"$W/err"
check "reading past the end is refused" grep -q "past the end" "$W/err"

# ---- tampering: a copy per case ----
gen "$W/t" 300000 3
publish "$W/t" "$W/tam" --identity "$ID" --chunk-log2 14 || bad "publish t"
T=$DIR TKEY=$KEY
fresh() { rm -rf "$W/c"; cp -r "$T" "$W/c"; }

fresh; flip "$W/c/data" $((5 * 16400 + 99))
"$BITS" verify "$W/c" >"$W/out1" 2>"$W/err"; rc=$?
check "a flipped chunk byte fails verify (exit 1)" [ "$rc" = 1 ]
check "... and says which chunk" grep -q "chunk 5 rejected" "$W/err"
"$BITS" cat "$W/c" --key "$TKEY" >"$W/part" 2>"$W/err"; rc=$?
check "cat stops at the bad chunk (exit 1)" [ "$rc" = 1 ]
slice "$W/t" 0 $((5 * 16384)) | cmp -s - "$W/part"
check "... having written only the verified chunks before it" [ $? = 0 ]

fresh; flip "$W/c/tree" $((19 * 32 + 3))
"$BITS" verify "$W/c" >/dev/null 2>"$W/err"
check "a flipped tree node is rejected" grep -q "merkle tree rejected" "$W/err"
# The manifest is checked against the name (the content hash) and the card.
rm -rf "$W/named"; mkdir "$W/named"; cp -r "$T" "$W/named/"
flip "$W/named/$(basename "$T")/manifest" 20
"$BITS" verify "$W/named/$(basename "$T")" >/dev/null 2>"$W/err"
check "a flipped manifest byte is rejected" grep -q "manifest rejected" "$W/err"
fresh; flip "$W/c/manifest" 20
"$BITS" verify "$W/c" >/dev/null 2>"$W/err"
check "... and under another name, by the card" grep -q "another content hash" "$W/err"
fresh; flip "$W/c/card" 12
"$BITS" verify "$W/c" >/dev/null 2>"$W/err"
check "a flipped card byte is rejected" grep -q "card rejected" "$W/err"
fresh; truncate -s -1 "$W/c/data"
"$BITS" verify "$W/c" >/dev/null 2>"$W/err"
check "a truncated data file is rejected" grep -q "data file rejected" "$W/err"
WRONG=$(printf '%s' "$TKEY" | tr '0-9a-f' '1-9a-f0')
"$BITS" cat "$T" --key "$WRONG" >"$W/part" 2>"$W/err"; rc=$?
check "a wrong key is refused before any output" \
	sh -c "[ $rc = 1 ] && [ ! -s '$W/part' ] && grep -q keyCommitment '$W/err'"
rm "$T/card"
"$BITS" cat "$T" --key "$WRONG" >"$W/part" 2>"$W/err"; rc=$?
check "without a card, a wrong key fails on chunk 0 with nothing written" \
	sh -c "[ $rc = 1 ] && [ ! -s '$W/part' ] && grep -q 'chunk 0 does not open' '$W/err'"

# ---- the card: fields, limits, JSON view ----
publish "$W/t" "$W/card" --identity "$ID" --title "Night train" \
	--tag film --tag short --price 2.5 --currency USDC --decimals 6 \
	--did did:ethr:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf \
	--licence 0x00000000000000000000000000000000000000aa --licence-index 3 \
	--excerpt "It begins at midnight." --mime video/mp4 || bad "publish with card fields"
"$BITS" verify "$DIR" --json >"$W/json" 2>&1
check "the card's JSON view carries its fields" sh -c \
	"grep -q '\"amount\":\"2.5\"' '$W/json' && grep -q '\"tags\":\[\"film\",\"short\"\]' '$W/json' &&
	 grep -q '\"index\":\"3\"' '$W/json' && grep -q 'did:ethr:0x7e5f' '$W/json'"
long=$(head -c 201 /dev/zero | tr '\0' a)
"$BITS" publish "$W/t" --out "$W/x" --identity "$ID" --title "$long" >/dev/null 2>"$W/err"
check "a title over 200 bytes is refused" grep -q "limit of 200" "$W/err"
"$BITS" publish "$W/t" --out "$W/x" --identity "$ID" --price 1.5 >/dev/null 2>"$W/err"
check "a price without a currency is refused" [ -s "$W/err" ]
"$BITS" publish "$W/t" --out "$W/x" --identity "$ID" --tag Bad >/dev/null 2>"$W/err"
check "a capitalised tag is refused" grep -q "card fields" "$W/err"
left=$(ls -A "$W/x" 2>/dev/null)
check "refused publishes leave nothing" [ -z "$left" ]
"$BITS" frobnicate x >/dev/null 2>&1; rc=$?
check "an unknown command is a usage error (exit 2)" [ "$rc" = 2 ]

# ---- keyframe index: --at seeks to the keyframe at or before ----
printf '0 0\n1000 50000\n2000 120000\n' >"$W/idx"
publish "$W/t" "$W/vid" --identity "$ID" --mime video/webm --index "$W/idx" || bad "publish with index"
"$BITS" cat "$DIR" --key "$KEY" --at 1500 --length 1000 >"$W/part"
slice "$W/t" 50000 1000 | cmp -s - "$W/part"
check "--at 1500 ms starts at the 1000 ms keyframe" [ $? = 0 ]

# ---- the store: publish by datadir, read by hash ----
D="$W/data"
"$BITS" publish "$W/t" --datadir "$D" >"$W/pub.out" 2>"$W/pub.err"
H=$(sed -n 's/^content  *//p' "$W/pub.out")
K=$(sed -n 's/^key  *\([0-9a-f]\{64\}\)$/\1/p' "$W/pub.out")
"$BITS" cat "$H" --datadir "$D" --key "$K" | cmp -s - "$W/t"
check "publish into the store, cat by hash" [ $? = 0 ]
check "the creator key file is private" [ "$(stat -c %a "$D/creator.key")" = 600 ]

# ---- kill -9 during a publish into the store ----
gen "$W/big" $((48 << 20)) 9
for delay in 0.05 0.2 0.5; do
	"$BITS" publish "$W/big" --datadir "$D" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
"$BITS" publish "$W/f65537" --datadir "$D" >"$W/pub.out" 2>"$W/pub.err"
check "after kill -9 the store opens and takes a new publish" [ $? = 0 ]
"$BITS" verify "$H" --datadir "$D" >/dev/null 2>&1 &&
	"$BITS" cat "$H" --datadir "$D" --key "$K" | cmp -s - "$W/t"
check "... and what it held before is intact" [ $? = 0 ]
left="$(ls -A "$D/content/tmp")$(ls -A "$D/content/objects" | grep '^\.')"
check "... and no temporary directory is left" [ -z "$left" ]

result content-cli
