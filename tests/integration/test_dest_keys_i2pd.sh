#!/bin/sh
# Destination keys against Debian's i2pd 2.45.1 (router/dest_keys, router/b33):
#  1. i2pd's SAM "DEST GENERATE" blobs (Ed25519 with X25519 and with
#     ElGamal-sized crypto keys, and RedDSA) parse and check with our code,
#     give i2pd's public Destination, the b32 of its SHA-256 (computed here
#     in Python) and re-encode to i2pd's exact blob; a truncated blob is
#     refused;
#  2. keys we generate are taken by i2pd's SAM (SESSION CREATE with our
#     blob, zero-hop tunnels, encrypted LeaseSet type 5): NAMING LOOKUP ME
#     answers our Destination, and i2pd's console shows the same b33
#     address we compute, for ours and for one of its own blobs.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-dest-keys.XXXXXX")
. "$top_srcdir/tests/integration/i2pd-lib.sh"
TOOL="$top_builddir/tests/integration/dest_keys_tool"
IP=127.0.0.170
NTCP2_PORT=25905
SAM_PORT=25902		# i2pd's SAM UDP port is the one below: 25901
HTTP_PORT=25904

cleanup() {
	i2pd_stop "$W/i"
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
need_i2pd test_dest_keys_i2pd

mkdir -p "$W/i"
i2pd_conf "$W/i" "$IP" "$NTCP2_PORT" ""
python3 - "$W/i/i2pd.conf" "$IP" "$SAM_PORT" "$HTTP_PORT" <<'PY'
import sys
p, ip, sam, http = sys.argv[1:]
s = open(p).read()
s = s.replace("[sam]\nenabled = false",
              "[sam]\nenabled = true\naddress = %s\nport = %s" % (ip, sam))
s = s.replace("[http]\nenabled = false",
              "[http]\nenabled = true\naddress = %s\nport = %s\n"
              "strictheaders = false" % (ip, http))
open(p, "w").write(s)
PY
i2pd_start "$W/i"
end=$(($(date +%s) + 60))
until python3 -c "import socket,sys; socket.create_connection(('$IP', $SAM_PORT), 1)" 2>/dev/null; do
	if [ "$(date +%s)" -ge $end ]; then
		bad "i2pd's SAM did not listen on $IP:$SAM_PORT within 60 s"
		tail -20 "$W/i/i2pd.log" "$W/i/stdout.log" 2>/dev/null
		result test_dest_keys_i2pd; exit 1
	fi
	sleep 0.5
done
ok "i2pd is up with SAM on $IP:$SAM_PORT"

# sam SCRIPT-LINES...: run SAM commands on one connection; prints each reply
sam() {
	python3 - "$IP" "$SAM_PORT" "$@" <<'PY'
import socket, sys
ip, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((ip, port), timeout=120)
f = s.makefile("rwb")
for c in ["HELLO VERSION MIN=3.1 MAX=3.1"] + sys.argv[3:]:
    f.write((c + "\n").encode()); f.flush()
    print(f.readline().decode().strip())
PY
}
# field NAME LINE: the value of NAME=... in a SAM reply
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# b32 of a Base64 Destination, computed independently
py_b32() {
	python3 -c "
import sys, base64, hashlib
d = base64.b64decode(sys.argv[1], altchars=b'-~')
print(base64.b32encode(hashlib.sha256(d).digest()).decode().lower().rstrip('=') + '.b32.i2p')" "$1"
}
# console_b33 B32: the 'Encrypted B33 address' i2pd shows for a local dest
console_b33() {
	python3 - "$IP" "$HTTP_PORT" "${1%.b32.i2p}" <<'PY'
import re, sys, time, urllib.request
ip, port, b32 = sys.argv[1:]
url = "http://%s:%s/?page=local_destination&b32=%s" % (ip, port, b32)
for _ in range(60):
    page = urllib.request.urlopen(url, timeout=10).read().decode()
    m = re.search(r"Encrypted B33 address:.*?<div class=\"slidecontent\">\s*"
                  r"([a-z2-7]+\.b32\.i2p)", page, re.S)
    if m:
        print(m.group(1)); break
    time.sleep(0.5)
PY
}

# ---- 1. i2pd's blobs through our parser ----
I2PD_DEST4=""
for args in "SIGNATURE_TYPE=7 CRYPTO_TYPE=4" "SIGNATURE_TYPE=7" "SIGNATURE_TYPE=11 CRYPTO_TYPE=4"; do
	reply=$(sam "DEST GENERATE $args" | tail -1)
	pub=$(field PUB "$reply")
	priv=$(field PRIV "$reply")
	if [ -z "$pub" ] || [ -z "$priv" ]; then
		bad "DEST GENERATE $args: no keys in '$reply'"; continue
	fi
	[ -z "$I2PD_DEST4" ] && I2PD_DEST4=$priv
	if ! out=$("$TOOL" parse "$priv" 2>&1); then
		bad "$args: our parser refused i2pd's blob: $out"; continue
	fi
	v() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }
	want_sig=${args#SIGNATURE_TYPE=}; want_sig=${want_sig%% *}
	case $args in *CRYPTO_TYPE=4*) want_enc=4 ;; *) want_enc=0 ;; esac
	[ "$(v pub)" = "$pub" ] && ok "$args: same public Destination as i2pd's PUB" ||
		bad "$args: Destination differs from i2pd's PUB"
	[ "$(v b32)" = "$(py_b32 "$pub")" ] && ok "$args: b32 $(v b32)" ||
		bad "$args: b32 $(v b32), want $(py_b32 "$pub")"
	[ "$(v sig)" = "$want_sig" ] && [ "$(v enc)" = "$want_enc" ] &&
		ok "$args: sig type $(v sig), crypto type $(v enc)" ||
		bad "$args: types $(v sig)/$(v enc), want $want_sig/$want_enc"
	[ "$(v priv)" = "$priv" ] && ok "$args: re-encodes to i2pd's exact blob" ||
		bad "$args: re-encoded blob differs"
done
reply=$(sam "DEST GENERATE SIGNATURE_TYPE=7 CRYPTO_TYPE=4" | tail -1)
priv=$(field PRIV "$reply")
short=$(printf '%s' "$priv" | cut -c1-$((${#priv} - 8)))
if "$TOOL" parse "$short" >/dev/null 2>&1; then
	bad "a truncated i2pd blob was accepted"
else
	ok "a truncated i2pd blob is refused"
fi

# ---- 2. our keys in i2pd; b33 addresses compared with i2pd's console ----
out=$("$TOOL" generate)
v() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }
n=0
for who in ours i2pd; do
	n=$((n + 1))
	if [ $who = ours ]; then
		priv=$(v priv); pub=$(v pub); b32=$(v b32); b33=$(v b33)
	else
		o2=$("$TOOL" parse "$I2PD_DEST4") || { bad "i2pd blob does not parse"; continue; }
		priv=$I2PD_DEST4
		pub=$(printf '%s\n' "$o2" | sed -n 's/^pub=//p')
		b32=$(printf '%s\n' "$o2" | sed -n 's/^b32=//p')
		b33=$(printf '%s\n' "$o2" | sed -n 's/^b33=//p')
	fi
	# keep the session's connection open while the console is read
	mkfifo "$W/hold$n"
	python3 - "$IP" "$SAM_PORT" "$priv" "bits$n" "$W/hold$n" > "$W/session$n" <<'PY' &
import socket, sys
ip, port, priv, sid, hold = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
s = socket.create_connection((ip, port), timeout=120)
f = s.makefile("rwb")
for c in ["HELLO VERSION MIN=3.1 MAX=3.1",
          "SESSION CREATE STYLE=STREAM ID=%s DESTINATION=%s "
          "inbound.length=0 outbound.length=0 i2cp.leaseSetType=5 "
          "i2cp.leaseSetEncType=4" % (sid, priv),
          "NAMING LOOKUP NAME=ME"]:
    f.write((c + "\n").encode()); f.flush()
    print(f.readline().decode().strip(), flush=True)
open(hold).read()
PY
	spid=$!
	end=$(($(date +%s) + 120))
	while [ "$(grep -c . "$W/session$n" 2>/dev/null)" -lt 3 ] &&
	      [ "$(date +%s)" -lt $end ]; do
		sleep 0.5
	done
	status=$(sed -n 2p "$W/session$n")
	lookup=$(sed -n 3p "$W/session$n")
	case $status in
	*RESULT=OK*) [ "$(field DESTINATION "$status")" = "$priv" ] &&
		ok "$who: i2pd's SAM took the blob (SESSION STATUS RESULT=OK, same blob back)" ||
		bad "$who: SESSION STATUS gave another blob back" ;;
	*) bad "$who: SESSION CREATE refused: '$status'" ;;
	esac
	[ "$(field VALUE "$lookup")" = "$pub" ] &&
		ok "$who: NAMING LOOKUP ME is the Destination we derive" ||
		bad "$who: NAMING LOOKUP ME: '$(printf '%.80s' "$lookup")'"
	got=$(console_b33 "$b32")
	[ -n "$got" ] && [ "$got" = "$b33" ] &&
		ok "$who: i2pd's console shows our b33 $b33" ||
		bad "$who: i2pd's console b33 '$got', ours $b33"
	echo > "$W/hold$n"
	wait $spid 2>/dev/null
done
result test_dest_keys_i2pd
