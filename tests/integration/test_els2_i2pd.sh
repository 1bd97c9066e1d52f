#!/bin/sh
# Encrypted LeaseSet2s from i2pd 2.45.1, opened by our code (router/els2,
# crypto/blinding):
#  1. bitsd is the only floodfill; one i2pd runs three server tunnels with
#     i2cp.leaseSetType = 5: without client authorization, with DH
#     (i2cp.leaseSetAuthType = 1, a client key we made) and with PSK (2);
#  2. each destination publishes its encrypted LeaseSet to bitsd, which
#     checks the blinded RedDSA signature and stores it;
#  3. from the stored bytes and the destination's public key alone we
#     derive the blinded key for today and find each LeaseSet under the
#     netDb key we compute, verify it, and decrypt all three layers (with
#     the client's DH private key or PSK) to the destination's own inner
#     LeaseSet2; without the client key the DH and PSK ones stay closed.
# Everything stays on 127.0.0.0/8.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
NAME=test_els2_i2pd
TOOL="${top_builddir:-.}/tests/integration/dest_keys_tool"
W=$(mktemp -d "${TMPDIR:-/tmp}/els2-i2pd.XXXXXX")
B=$W/bitsd
HOST=127.0.0.171
PORT=25906
R=127.0.0.172
cleanup() {
	[ -n "${BPID:-}" ] && kill -KILL "$BPID" 2>/dev/null
	i2pd_stop "$W/r1"
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
need_i2pd $NAME
umask 077

mkdir -p "$B"
if ! "$BITSD" --datadir "$B" --init --netid 77 --host $HOST --port $PORT \
	--floodfill >"$W/init.log" 2>&1; then
	bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1
fi
OURS=$(ri_b64hash "$B/router.info")
c=$(printf %s "$OURS" | cut -c1)
d="$W/r1"; mkdir -p "$d/netDb/r$c"
i2pd_conf "$d" $R 25907 ""
cp "$B/router.info" "$d/netDb/r$c/routerInfo-$OURS.dat"
# the clients' secrets: an X25519 private key (DH) and a PSK
DH_SK=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
PSK=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
DH_PK=$("$TOOL" x25519 "$DH_SK")
PSK_B64=$(python3 -c "import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1]), altchars=b'-~').decode())" "$PSK")
# server tunnel NAME [option lines]: an encrypted-LeaseSet destination
# with zero-hop tunnels (it publishes straight to bitsd)
server() {
	printf '[%s]\ntype = server\nhost = %s\nport = 25909\nkeys = %s.dat\n' "$1" $R "$1"
	printf 'inbound.length = 0\noutbound.length = 0\ni2cp.leaseSetType = 5\n'
	shift
	for o in "$@"; do printf '%s\n' "$o"; done
}
{
	server none
	server dh "i2cp.leaseSetAuthType = 1" "i2cp.leaseSetClient.dh.0 = alice:$DH_PK"
	server psk "i2cp.leaseSetAuthType = 2" "i2cp.leaseSetClient.psk.0 = bob:$PSK_B64"
} > "$d/tunnels.conf"
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 --floodfill \
	--loglevel debug --logfile "$B/bitsd.log" --reseed.threshold 1 \
	>"$B/stdout.log" 2>&1 &
BPID=$!
i2pd_start "$d"
wait_log "$B/bitsd.log" "acting as a floodfill" 30 && ok "bitsd runs as a floodfill" ||
	bad "bitsd is not a floodfill"

# ---- 2. three encrypted LeaseSets reach bitsd ----
end=$(($(date +%s) + 240))
while [ "$(grep -c 'kept LeaseSet .*(store type 5)' "$B/bitsd.log" 2>/dev/null)" -lt 3 ] &&
      [ "$(date +%s)" -lt $end ]; do
	sleep 1
done
n=$(grep 'kept LeaseSet .*(store type 5)' "$B/bitsd.log" | sed 's/.*kept LeaseSet \([0-9a-f]*\).*/\1/' | sort -u | wc -l)
[ "$n" -ge 3 ] && ok "bitsd verified and stored $n encrypted LeaseSets (type 5) from i2pd" ||
	bad "bitsd stored $n of 3 encrypted LeaseSets (see $B/bitsd.log, $d/i2pd.log)"
NOW=$(date +%s)
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
BPID=

# the stored encrypted LeaseSets, one file each
python3 - "$B/netdb.sqlite" "$W" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for i, (data,) in enumerate(db.execute("SELECT data FROM leasesets WHERE type = 5")):
    open("%s/els2-%d.bin" % (sys.argv[2], i), "wb").write(data)
PY

# ---- 3. our blinding, netDb key and decryption ----
# pub KEYFILE: the Base64 Destination at the start of an i2pd key file
pub() {
	python3 - "$1" <<'PY'
import sys, struct, base64
d = open(sys.argv[1], 'rb').read()
cl = struct.unpack('>H', d[385:387])[0]
print(base64.b64encode(d[:387 + cl], altchars=b'-~').decode())
PY
}
for t in none dh psk; do
	case $t in
	none) cred= ;;
	dh) cred="dh $DH_SK" ;;
	psk) cred="psk $PSK" ;;
	esac
	P=$(pub "$d/$t.dat")
	B32=$(python3 -c "
import sys, base64, hashlib
d = base64.b64decode(sys.argv[1], altchars=b'-~')
print(base64.b32encode(hashlib.sha256(d).digest()).decode().lower().rstrip('=') + '.b32.i2p')" "$P")
	found=
	for f in "$W"/els2-*.bin; do
		# i2pd blinded for its UTC day: now, or just before midnight
		for when in $NOW $((NOW - 600)); do
			# shellcheck disable=SC2086
			out=$("$TOOL" els2 "$P" "$f" $when $cred 2>&1) || continue
			printf '%s\n' "$out" | grep -q '^key_match=1' || continue
			found=$f; break 2
		done
	done
	if [ -z "$found" ]; then
		bad "$t: no stored LeaseSet opens under our blinded key for $B32"
		continue
	fi
	ok "$t: found under our netDb key $(printf '%s\n' "$out" | sed -n 's/^store_key=//p' | cut -c1-16)…, blinded signature verified"
	inner=$(printf '%s\n' "$out" | sed -n 's/^inner_b32=//p')
	leases=$(printf '%s\n' "$out" | sed -n 's/^leases=//p')
	[ "$inner" = "$B32" ] && [ "${leases:-0}" -ge 1 ] &&
		ok "$t: decrypted to $B32's own LeaseSet2 ($leases leases)" ||
		bad "$t: inner LeaseSet is '$inner' with '$leases' leases, want $B32"
	if [ -n "$cred" ]; then
		if "$TOOL" els2 "$P" "$found" $when >/dev/null 2>&1; then
			bad "$t: opened without the client key"
		else
			ok "$t: stays closed without the client key"
		fi
	fi
done
result $NAME
