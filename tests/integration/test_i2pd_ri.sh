#!/bin/sh
# Interop with Debian's i2pd 2.45.1 for [F]:
#  1. bitsd parses and verifies every RouterInfo of a live i2pd testnet
#     (their router.info files and the netDb copies they wrote), and refuses
#     a copy with one flipped byte;
#  2. i2pd accepts the RouterInfo `bitsd --init` wrote when it arrives by
#     reseed (i2pd verifies signatures only then), and refuses a copy with
#     one flipped signed byte.  Judged from i2pd's own log at level info.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-i2pd-ri.XXXXXX")
. "$top_srcdir/tests/integration/i2pd-lib.sh"
BITSD="$top_builddir/apps/bitsd"
VERIFY="$top_builddir/tests/integration/ri_verify"
NET="$W/net"

cleanup() {
	"$TESTNET" down "$NET" >/dev/null 2>&1
	for d in "$W"/reseed-*; do i2pd_stop "$d"; done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
need_i2pd test_i2pd_ri

# ---- 1. bitsd reads i2pd's RouterInfos ----
if "$TESTNET" up 4 "$NET" --ip-base 60 --base-port 24300 --floodfills 2 >"$W/testnet.log" 2>&1; then
	ok "i2pd testnet of 4 routers is up"
else
	bad "i2pd testnet did not start"; tail -20 "$W/testnet.log"
fi
# let them connect and rewrite their netDb copies for a few seconds
i=0
while [ $i -lt 40 ]; do
	n=$(find "$NET" -path '*/netDb/*' -name 'routerInfo-*.dat' 2>/dev/null | wc -l)
	[ "$n" -ge 12 ] && break
	sleep 0.5; i=$((i + 1))
done
files=$(find "$NET" \( -name router.info -o \( -path '*/netDb/*' -name 'routerInfo-*.dat' \) \) | sort)
count=$(printf '%s\n' $files | grep -c .)
if [ "$count" -ge 16 ]; then ok "found $count i2pd RouterInfo files"; else bad "only $count RouterInfo files"; fi
if out=$("$VERIFY" $files 2>&1); then
	ok "bitsd verified all $count i2pd RouterInfos"
else
	bad "bitsd refused an i2pd RouterInfo:"; printf '%s\n' "$out" | grep -v '^ok' | head
fi
# the hash bitsd computes matches the one in i2pd's file name
mism=0
for f in $(printf '%s\n' $files | grep routerInfo-); do
	want=$(basename "$f" .dat); want=${want#routerInfo-}
	got=$("$VERIFY" "$f" 2>/dev/null | awk '{print $2}')
	[ "$got" = "$want" ] || { mism=$((mism + 1)); echo "  $f: bitsd says $got"; }
done
[ "$mism" = 0 ] && ok "identity hashes match i2pd's file names" || bad "$mism identity hashes differ"
one=$(printf '%s\n' $files | head -1)
python3 -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); d[len(d)//2]^=1; open(sys.argv[2],'wb').write(d)" "$one" "$W/flipped.dat"
if "$VERIFY" "$W/flipped.dat" >/dev/null 2>&1; then bad "a flipped i2pd RouterInfo verified"; else ok "a flipped i2pd RouterInfo is refused"; fi
"$TESTNET" down "$NET" >/dev/null 2>&1

# ---- 2. i2pd accepts bitsd's RouterInfo ----
B="$W/bitsd"
if "$BITSD" --datadir "$B" --init --netid 77 --host 127.0.0.70 --port 24370 >"$W/init.log" 2>&1 &&
   [ -s "$B/router.info" ]; then
	ok "bitsd --init wrote router.info"
else
	bad "bitsd --init failed"; cat "$W/init.log"
fi
H=$(ri_b64hash "$B/router.info")
# flip the last byte of the published date: still parses, signature must fail
python3 -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); cl=int.from_bytes(d[385:387],'big'); d[387+cl+7]^=1; open(sys.argv[2],'wb').write(d)" "$B/router.info" "$W/bad.info"
make_zip "$W/good.zip" "$B/router.info" "routerInfo-$H.dat"
make_zip "$W/bad.zip" "$W/bad.info" "routerInfo-$H.dat"
for kind in good bad; do
	d="$W/reseed-$kind"; mkdir -p "$d"
	port=24371; [ $kind = bad ] && port=24372
	i2pd_conf "$d" 127.0.0.7$((port - 24370)) $port "zipfile = $W/$kind.zip"
	i2pd_start "$d"
done
if wait_log "$W/reseed-good/i2pd.log" "RouterInfo added: $H" 30; then
	ok "i2pd accepted bitsd's RouterInfo from a reseed zip"
else
	bad "i2pd did not add bitsd's RouterInfo"; grep -iE 'reseed|routerinfo|signature' "$W/reseed-good/i2pd.log" | head
fi
if wait_log "$W/reseed-bad/i2pd.log" "Signature verification failed" 30; then
	ok "i2pd refused the flipped copy (signature verification failed)"
else
	bad "i2pd did not report a bad signature for the flipped copy"
fi
grep -q "RouterInfo added: $H" "$W/reseed-bad/i2pd.log" && bad "i2pd added the flipped copy" || ok "the flipped copy was not added"
for kind in good bad; do i2pd_stop "$W/reseed-$kind"; done
result test_i2pd_ri
