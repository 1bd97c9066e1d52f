# The IPv6 SSU2 test network shared by test_ssu2_peertest6.sh and
# test_ssu2_introducer6.sh (sourced after i2pd-lib.sh, ntcp2-lib.sh and
# netns-lib.sh, with netns_hub up): every node has an IPv4 address on
# 198.18.0.0/24 and an IPv6 one on 2001:2::/64 (i2pd 2.45.1 drops SSU2
# from fd00::/7; the 2001:2::/48 benchmarking range passes).

# ns_v6 SHORT ADDR: an IPv6 address on the node's eth0 (no DAD wait)
ns_v6() { ip -n "$(netns_name "$1")" addr add "$2/64" dev eth0 nodad; }

# i2pd_ns_v6 DIR ADDR6: the i2pd configured in DIR (i2pd_ns_conf) also
# speaks IPv6, on ADDR6
i2pd_ns_v6() { sed -i "s/^ipv6 = false/ipv6 = true\naddress6 = $2/" "$1/i2pd.conf"; }

# i2pd_ns_v6_only DIR: ...and IPv4 not at all (i2pd aborts at start
# with ipv4 = false and a host)
i2pd_ns_v6_only() { sed -i 's/^ipv4 = true/ipv4 = false/;/^host = /d' "$1/i2pd.conf"; }

# ssu2v6_routers W PORT1 PORT4 PORT5: namespaces and i2pd routers (SSU2,
# zero-hop exploratory tunnels) in W/r1, W/r4, W/r5: r1 (floodfill,
# 198.18.0.21 and 2001:2::21) speaks SSU2 over IPv6 only, so a session
# with it is IPv6; r4 and r5 (.24 and .25, ::24 and ::25) speak both.
# They run, meshed through r1 (i2pd_ns_mesh).  1 (said by bad) on
# failure.
ssu2v6_routers() {
	vw=$1; vp1=$2; vp4=$3; vp5=$4
	if ! netns_node r1 198.18.0.21/24 || ! netns_node r4 198.18.0.24/24 ||
	   ! netns_node r5 198.18.0.25/24 || ! ns_v6 r1 2001:2::21 ||
	   ! ns_v6 r4 2001:2::24 || ! ns_v6 r5 2001:2::25; then
		bad "cannot build the namespace network"; return 1
	fi
	mkdir -p "$vw/r1" "$vw/r4" "$vw/r5"
	i2pd_ns_conf "$vw/r1" 198.18.0.21 "$vp1" false true true
	i2pd_ns_conf "$vw/r4" 198.18.0.24 "$vp4" false true false
	i2pd_ns_conf "$vw/r5" 198.18.0.25 "$vp5" false true false
	i2pd_ns_v6_only "$vw/r1"
	for vn in 1 4 5; do
		i2pd_ns_v6 "$vw/r$vn" "2001:2::2$vn"
		i2pd_ns_zero_hop "$vw/r$vn"
	done
	i2pd_ns_mesh "$vw" r1 198.18.0.21 r4 r5 || return 1
	# (a string's length byte may be a newline: printable bytes only)
	vri=$(LC_ALL=C tr -c '[:print:]' '.' <"$vw/r1/router.info")
	case $vri in *"host=.2001:2::21;"*) ok "r1 publishes its IPv6 SSU2 address" ;;
	*) bad "r1's router.info has no IPv6 host"; return 1 ;; esac
	case $vri in *"host=.198.18.0.21;"*) bad "r1 publishes an IPv4 address"; return 1 ;;
	*) ok "r1 publishes no IPv4 address" ;; esac
}

# ri_text FILE: a RouterInfo's printable bytes (others as ".")
ri_text() { LC_ALL=C tr -c '[:print:]' '.' <"$1"; }
