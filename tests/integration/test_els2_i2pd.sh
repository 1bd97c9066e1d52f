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
#     LeaseSet2; without the client key the DH and PSK ones stay closed;
#  4. the other way: encrypted LeaseSets we build (none, DH, PSK), served
#     by bitsd, are found by i2pd client tunnels to their b33 addresses
#     and decrypted (i2pd's console lists the inner destination).
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
python3 - "$d/i2pd.conf" $R <<'PY'
import sys
p, ip = sys.argv[1:]
t = open(p).read().replace("[http]\nenabled = false",
    "[http]\nenabled = true\naddress = %s\nport = 25908\nstrictheaders = false" % ip)
open(p, "w").write(t)
PY
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

# ---- 4. our encrypted LeaseSets, opened by i2pd ----
# bitsd serves encrypted LeaseSets we built (injected into its netDb):
# none, DH to the client key above, PSK.  An i2pd client tunnel to each
# b33 address (with the client's key for DH and PSK) looks it up through
# bitsd; i2pd's console then lists the inner destination, which only a
# decryption can have told it.
NOW=$(date +%s)
for t in none dh psk; do
	case $t in
	none) auth= ;;
	dh) auth="dh $DH_PK" ;;
	psk) auth="psk $PSK" ;;
	esac
	keys=$("$TOOL" generate | sed -n 's/^priv=//p')
	# shellcheck disable=SC2086
	mk=$("$TOOL" els2-make "$keys" $NOW "$W/ours-$t.bin" $auth) ||
		bad "$t: els2-make failed"
	eval "SKEY_$t=$(printf '%s\n' "$mk" | sed -n 's/^store_key=//p')"
	eval "OB33_$t=$(printf '%s\n' "$mk" | sed -n 's/^b33=//p')"
	eval "OB32_$t=$(printf '%s\n' "$mk" | sed -n 's/^b32=//p')"
done
python3 - "$B/netdb.sqlite" "$W" $(((NOW + 600) * 1000)) "$SKEY_none" "$SKEY_dh" "$SKEY_psk" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for t, key in zip(("none", "dh", "psk"), sys.argv[4:7]):
    db.execute("INSERT OR REPLACE INTO leasesets (key, type, expires, data) "
               "VALUES (?, 5, ?, ?)", (bytes.fromhex(key), int(sys.argv[3]),
               open("%s/ours-%s.bin" % (sys.argv[2], t), "rb").read()))
db.commit()
PY
"$BITSD" --datadir "$B" --host $HOST --port $PORT --netid 77 --floodfill \
	--loglevel debug --logfile "$B/bitsd2.log" --reseed.threshold 1 \
	>"$B/stdout2.log" 2>&1 &
BPID=$!
wait_log "$B/bitsd2.log" "acting as a floodfill" 30 || bad "bitsd did not restart"
DH_SK_B64=$(python3 -c "import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1]), altchars=b'-~').decode())" "$DH_SK")
{
	printf '[cli-none]\ntype = client\naddress = %s\nport = 25910\ndestination = %s\n' $R "$OB33_none"
	printf 'inbound.length = 0\noutbound.length = 0\n'
	printf '[cli-dh]\ntype = client\naddress = %s\nport = 25911\ndestination = %s\n' $R "$OB33_dh"
	printf 'inbound.length = 0\noutbound.length = 0\n'
	printf 'i2cp.leaseSetAuthType = 1\ni2cp.leaseSetPrivKey = %s\n' "$DH_SK_B64"
	printf '[cli-psk]\ntype = client\naddress = %s\nport = 25912\ndestination = %s\n' $R "$OB33_psk"
	printf 'inbound.length = 0\noutbound.length = 0\n'
	printf 'i2cp.leaseSetAuthType = 2\ni2cp.leaseSetPrivKey = %s\n' "$PSK_B64"
} >> "$d/tunnels.conf"
kill -HUP "$(cat "$d/pid")"	# i2pd reloads tunnels.conf
# console_has B32: some local destination page of i2pd lists B32
console_has() {
	python3 - "$R" 25908 "${1%.b32.i2p}" <<'PY'
import re, sys, urllib.request
ip, port, want = sys.argv[1:]
base = "http://%s:%s/" % (ip, port)
try:
    page = urllib.request.urlopen(base + "?page=local_destinations", timeout=5).read().decode()
    for b32 in set(re.findall(r"b32=([a-z2-7]{52})", page)):
        p = urllib.request.urlopen(base + "?page=local_destination&b32=" + b32, timeout=5).read().decode()
        if want in p:
            sys.exit(0)
except Exception:
    pass
sys.exit(1)
PY
}
port=25910
for t in none dh psk; do
	eval "ob33=\$OB33_$t; ob32=\$OB32_$t"
	end=$(($(date +%s) + 120))
	got=
	while [ "$(date +%s)" -lt $end ]; do
		# a connection to the client tunnel makes i2pd look the b33 up
		python3 -c "
import socket
try:
    s = socket.create_connection(('$R', $port), 2); s.settimeout(3); s.recv(1)
except Exception:
    pass" 2>/dev/null
		if console_has "$ob32"; then got=1; break; fi
		sleep 2
	done
	[ -n "$got" ] && ok "$t: i2pd found our encrypted LeaseSet through $ob33 and decrypted it to $ob32" ||
		bad "$t: i2pd did not open our encrypted LeaseSet (b33 $ob33)"
	port=$((port + 1))
done
bitsd_stop || true
BPID=
result $NAME
