#!/bin/sh
# Port mapping (router/nat.h) through a real NAT: namespaces lan
# (198.18.1.2) -- gw (198.18.1.1 | 198.18.0.1, nftables masquerade and
# Debian's miniupnpd-nftables serving NAT-PMP and UPnP IGD) -- wan
# (198.18.0.2, no route back to the lan: only mappings reach it), as in
# TESTBEDS.md §2, with a small STUN responder in wan (miniupnpd counts
# 198.18.0.0/15 as reserved and learns its external address by STUN).
# tests/integration/nat_probe maps a UDP port and echoes what reaches it.
# Checks, for NAT-PMP and then UPnP (NAT-PMP switched off):
#  - the mapping is made (external address and port reported);
#  - a datagram from wan to the gateway's mapped port is echoed back;
#  - the NAT-PMP mapping is renewed before its (short) lifetime ends;
#  - after the mapper is freed the rule is gone and nothing gets through.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/netns-lib.sh"
NAME=test_ssu2_nat
PROBE="${top_builddir:-.}/tests/integration/nat_probe"
MINIUPNPD=${MINIUPNPD:-/usr/sbin/miniupnpd}
netns_need_root $NAME
[ -x "$MINIUPNPD" ] || { bad "no $MINIUPNPD (tools/lib.sh installs miniupnpd-nftables)"; result $NAME; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/ssu2-nat.XXXXXX")
cleanup() {
	netns_teardown
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! netns_plain gw || ! netns_plain wan || ! netns_lan_behind gw ||
   ! netns_veth gw wan0 198.18.0.1/24 wan eth0 198.18.0.2/24; then
	bad "cannot build the NAT namespaces"; result $NAME; exit 1
fi
# The gateway: masquerade lan -> wan; forward only lan -> wan, replies,
# and what miniupnpd opens (it does not create its tables itself).
if ! netns_exec gw nft -f - <<'NFT'
table inet miniupnpd {
	chain forward { type filter hook forward priority 0; policy drop;
		jump miniupnpd;
		ct state established,related accept;
		iifname "lan0" oifname "wan0" accept; }
	chain miniupnpd { }
	chain prerouting { type nat hook prerouting priority -100; policy accept;
		jump prerouting_miniupnpd; }
	chain postrouting { type nat hook postrouting priority 100; policy accept;
		jump postrouting_miniupnpd;
		oifname "wan0" masquerade; }
	chain prerouting_miniupnpd { }
	chain postrouting_miniupnpd { }
}
NFT
then
	bad "cannot set up nftables in the gateway"; result $NAME; exit 1
fi
# STUN (RFC 5389 Binding) responder in wan, before miniupnpd.
cat > "$W/stun.py" <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.2", 3478))
while True:
    d, a = s.recvfrom(2048)
    if len(d) < 20 or struct.unpack(">H", d[:2])[0] != 1:
        continue
    cookie = 0x2112A442
    ip = struct.unpack(">I", socket.inet_aton(a[0]))[0]
    attr = struct.pack(">HHBBHI", 0x20, 8, 0, 1, a[1] ^ (cookie >> 16), ip ^ cookie)
    s.sendto(struct.pack(">HHI", 0x101, len(attr), cookie) + d[8:20] + attr, a)
PY
netns_bg wan "$W/stun.log" python3 "$W/stun.py"
sleep 0.3
cat > "$W/miniupnpd.conf" <<CONF
ext_ifname=wan0
listening_ip=lan0
port=5000
enable_natpmp=yes
enable_upnp=yes
ext_perform_stun=yes
ext_stun_host=198.18.0.2
ext_stun_port=3478
secure_mode=yes
system_uptime=yes
lease_file=$W/upnp.leases
uuid=3d6b8a0c-7d1e-4bd2-9c1a-5b5a7e0f0a01
upnp_table_name=miniupnpd
upnp_nat_table_name=miniupnpd
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1024-65535 198.18.1.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
netns_bg gw "$W/miniupnpd.log" "$MINIUPNPD" -d -f "$W/miniupnpd.conf" -P "$W/miniupnpd.pid"
# It asks STUN first (a few seconds), then listens.
if ! wait_log "$W/miniupnpd.log" "Listening for NAT-PMP" 20 ||
   ! wait_log "$W/miniupnpd.log" "HTTP listening" 5; then
	bad "miniupnpd did not start (see $W/miniupnpd.log)"; result $NAME; exit 1
fi

# echo_test PORT SECONDS: 0 when a datagram from wan to gw:PORT comes back
echo_test() {
	netns_exec wan python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    s.sendto(b"bits-nat-probe", ("198.18.0.1", int(sys.argv[1])))
    try:
        d, a = s.recvfrom(100)
        if d == b"bits-nat-probe":
            sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
PY
}

# one_round METHOD PORT LIFETIME SECONDS
one_round() {
	out="$W/probe-$1.log"
	netns_bg lan "$out" "$PROBE" "$2" "$4" "$1" "$3"
	pid=$NETNS_LAST
	wait_log "$out" "^mapped" 15 && ok "$1: mapped" || { bad "$1: no mapping (see $out)"; return; }
	grep -q "^mapped method=$5 ext=198.18.0.1:$2 " "$out" &&
		ok "$1: $5 reports the gateway's address 198.18.0.1:$2" ||
		bad "$1: unexpected mapping: $(grep ^mapped "$out" | head -1)"
	netns_exec gw nft list chain inet miniupnpd prerouting_miniupnpd | grep -q "dport $2 " &&
		ok "$1: miniupnpd's DNAT rule for port $2 is there" ||
		bad "$1: no DNAT rule for port $2 in the gateway"
	echo_test "$2" 3 && ok "$1: a datagram from wan came through the mapping" ||
		bad "$1: nothing came through the mapping"
	wait_log "$out" "^removed" $(($4 + 10)) || bad "$1: the probe did not finish"
	wait "$pid" 2>/dev/null
	sleep 0.5
	! netns_exec gw nft list chain inet miniupnpd prerouting_miniupnpd | grep -q "dport $2 " &&
		ok "$1: the rule is gone after removal" || bad "$1: the mapping rule stayed"
	echo_test "$2" 2 && bad "$1: still reachable after removal" ||
		ok "$1: unreachable after removal"
}

one_round natpmp 24200 6 10 NAT-PMP
n=$(grep -c "^mapped method=NAT-PMP" "$W/probe-natpmp.log")
[ "$n" -ge 2 ] && ok "natpmp: renewed before its lifetime ended ($n mappings in 10 s)" ||
	bad "natpmp: no renewal ($n mappings; lifetime $(sed -n 's/.*lifetime=\([0-9]*\).*/\1/p' "$W/probe-natpmp.log" | head -1) s)"
one_round upnp 24201 600 6 UPnP
grep -qiE "AddressSanitizer|runtime error" "$W"/probe-*.log &&
	bad "sanitizer report in the probe" || ok "no sanitizer report"
result $NAME
