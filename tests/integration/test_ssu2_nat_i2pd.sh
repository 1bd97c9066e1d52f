#!/bin/sh
# bitsd behind a real NAT (namespace lan 198.18.1.2 -- gw with nftables
# masquerade and miniupnpd-nftables -- the 198.18.0.0/24 bridge where
# three i2pd 2.45.1 live: r1, floodfill and "B", and r4, r5 with "B").
# bitsd knows only r1 and asks it for peer tests (r1 picks r4 or r5 as
# Charlie, who then writes to the NAT's public address unasked):
#  - with --nat: bitsd maps its port (NAT-PMP through miniupnpd; the DNAT
#    rule shows in the gateway) and the peer test says "reachable";
#  - after it stops the mapping is gone; run again without --nat (the
#    gateway's connection tracking flushed), the NAT drops Charlie's
#    message 5 and the peer test says "firewalled"; bitsd then re-signs
#    its RouterInfo as unreachable (caps U, no host).
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/netns-lib.sh"
NAME=test_ssu2_nat_i2pd
MINIUPNPD=${MINIUPNPD:-/usr/sbin/miniupnpd}
need_i2pd $NAME
netns_need_root $NAME
[ -x "$MINIUPNPD" ] || { bad "no $MINIUPNPD (tools/lib.sh installs miniupnpd-nftables)"; result $NAME; exit 1; }
command -v conntrack >/dev/null 2>&1 ||
	{ bad "no conntrack (tools/lib.sh installs it)"; result $NAME; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/ssu2-nat-i2pd.XXXXXX")
B=$W/bitsd
cleanup() {
	netns_teardown
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
umask 077
BPORT=24100

if ! netns_hub || ! netns_node gw 198.18.0.1/24 || ! netns_node stun 198.18.0.2/24 ||
   ! netns_node r1 198.18.0.21/24 || ! netns_node r4 198.18.0.24/24 ||
   ! netns_node r5 198.18.0.25/24 || ! netns_lan_behind gw; then
	bad "cannot build the namespace network"; result $NAME; exit 1
fi
if ! netns_exec gw nft -f - <<'NFT'
table inet miniupnpd {
	chain forward { type filter hook forward priority 0; policy drop;
		jump miniupnpd;
		ct state established,related accept;
		iifname "lan0" oifname "eth0" accept; }
	chain miniupnpd { }
	chain prerouting { type nat hook prerouting priority -100; policy accept;
		jump prerouting_miniupnpd; }
	chain postrouting { type nat hook postrouting priority 100; policy accept;
		jump postrouting_miniupnpd;
		oifname "eth0" masquerade; }
	chain prerouting_miniupnpd { }
	chain postrouting_miniupnpd { }
}
NFT
then
	bad "cannot set up nftables in the gateway"; result $NAME; exit 1
fi
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
netns_bg stun "$W/stun.log" python3 "$W/stun.py"
sleep 0.3
cat > "$W/miniupnpd.conf" <<CONF
ext_ifname=eth0
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
uuid=3d6b8a0c-7d1e-4bd2-9c1a-5b5a7e0f0a02
upnp_table_name=miniupnpd
upnp_nat_table_name=miniupnpd
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1024-65535 198.18.1.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
netns_bg gw "$W/miniupnpd.log" "$MINIUPNPD" -d -f "$W/miniupnpd.conf" -P "$W/miniupnpd.pid"
if ! wait_log "$W/miniupnpd.log" "Listening for NAT-PMP" 20; then
	bad "miniupnpd did not start (see $W/miniupnpd.log)"; result $NAME; exit 1
fi

mkdir -p "$B" "$W/r1" "$W/r4" "$W/r5"
if ! "$BITSD" --datadir "$B" --init --netid 77 --host 198.18.1.2 --port $BPORT \
	--ssu2 >"$W/init.log" 2>&1; then
	bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1
fi
i2pd_ns_conf "$W/r1" 198.18.0.21 24021 false true true
i2pd_ns_conf "$W/r4" 198.18.0.24 24024 false true false
i2pd_ns_conf "$W/r5" 198.18.0.25 24025 false true false
for n in 1 4 5; do i2pd_ns_zero_hop "$W/r$n"; done
i2pd_ns_mesh "$W" r1 198.18.0.21 r4 r5 || { result $NAME; exit 1; }

# run_bitsd LOG [FLAGS]: bitsd in lan, knowing only r1; no tunnel joins
# it with r4 or r5 (netns-lib.sh, BITSD_ZERO_HOP; no transit either)
run_bitsd() {
	log=$1; shift
	rm -rf "$B/netDb"
	netdb_put "$B" "$W/r1/router.info"
	# shellcheck disable=SC2086
	netns_bg lan "$B/stdout.log" "$BITSD" --datadir "$B" --netid 77 --host 198.18.1.2 \
		--port $BPORT --ssu2 --loglevel debug --logfile "$log" \
		$BITSD_ZERO_HOP --transit.max-tunnels 0 "$@"
	BPID=$NETNS_LAST
}
rule_there() {
	netns_exec gw nft list chain inet miniupnpd prerouting_miniupnpd | grep -q "dport $BPORT "
}

run_bitsd "$B/mapped.log" --nat
wait_log "$B/mapped.log" "NAT: port $BPORT mapped" 20 &&
	ok "bitsd mapped its port on the NAT" || bad "no mapping (see $B/mapped.log)"
grep -q "by NAT-PMP" "$B/mapped.log" && ok "the mapping came from NAT-PMP" ||
	bad "the mapping did not come from NAT-PMP"
rule_there && ok "miniupnpd's DNAT rule for port $BPORT is in the gateway" ||
	bad "no DNAT rule for port $BPORT"
wait_log "$B/mapped.log" "peer test: reachable" 90 &&
	ok "with the mapping, the peer test says reachable" ||
	bad "with the mapping, no \"reachable\" (see $B/mapped.log)"
grep -q "peer test: firewalled" "$B/mapped.log" &&
	bad "with the mapping, bitsd also said firewalled" || ok "never firewalled with the mapping"
netns_stop_pid "$BPID"
sleep 0.5
rule_there && bad "the mapping stayed after bitsd stopped" ||
	ok "bitsd removed the mapping when it stopped"
log_clean "$B/mapped.log" >/dev/null && ok "no warning, error or BUG (mapped run)" ||
	bad "bitsd logged a warning, error or BUG (mapped run)"

# The gateway still tracks the flows Charlie's earlier messages made
# through the mapping; a real NAT forgets them in time: forget them now.
netns_exec gw conntrack -F >/dev/null 2>&1 || bad "cannot flush the gateway's conntrack table"
run_bitsd "$B/plain.log"
wait_log "$B/plain.log" "peer test: firewalled" 90 &&
	ok "without a mapping, the peer test says firewalled" ||
	bad "without a mapping, no \"firewalled\" (see $B/plain.log)"
grep -q "peer test: reachable" "$B/plain.log" &&
	bad "without a mapping, bitsd said reachable" || ok "never reachable without a mapping"
# Firewalled, bitsd re-signs its RouterInfo: caps U, and its addresses
# without host (introducers come from relay tags, when a peer gives one).
wait_log "$B/plain.log" "publishing: firewalled" 20 &&
	ok "firewalled, bitsd publishes itself as such" ||
	bad "no \"publishing: firewalled\" (see $B/plain.log)"
i=0
until LC_ALL=C grep -aq 'caps=.LU;' "$B/router.info" || [ $i -gt 40 ]; do
	sleep 0.25; i=$((i + 1))
done
LC_ALL=C grep -aq 'caps=.LU;' "$B/router.info" &&
	ok "router.info says U (unreachable)" || bad "router.info does not say U"
LC_ALL=C grep -aq 'host=.198.18.1.2;' "$B/router.info" &&
	bad "router.info still publishes the LAN host" ||
	ok "router.info publishes no host"
netns_stop_pid "$BPID"
log_clean "$B/plain.log" >/dev/null && ok "no warning, error or BUG (plain run)" ||
	bad "bitsd logged a warning, error or BUG (plain run)"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$B/stdout.log" &&
	bad "sanitizer report (see $B/stdout.log)" || ok "no sanitizer report"
result $NAME
