# Helpers for the integration tests that stream through SAM bridges with
# tools/sam-bench.py (sourced after i2pd-lib.sh; W is the work dir).
SAMBENCH=${top_srcdir:-.}/tools/sam-bench.py

# sam_bench LABEL SAM_A SAM_B [sam-bench options]: one sam-bench run of
# 20 MiB over one-hop tunnels (SAM_HOPS, by hand: another length): B (HOST:PORT) connects to A and sends, A
# checks the SHA-256 and sends it back; W/LABEL.log, W/LABEL.json.
# Generous timeouts: sessions, lookups and tunnels under a loaded machine.
sam_bench() {
	sb_label=$1 sb_a=$2 sb_b=$3
	shift 3
	python3 "$SAMBENCH" bench --sam-a "$sb_a" --sam-b "$sb_b" --size 20M \
		--hops "${SAM_HOPS:-1}" --session-timeout 600 --connect-tries 100 \
		--connect-retry-delay 3 --linger 2 -v --json "$W/$sb_label.json" \
		"$@" >"$W/$sb_label.log" 2>&1
}

# bench LABEL SAM_A SAM_B: sam_bench, reported as a check
bench() {
	if sam_bench "$1" "$2" "$3" --timeout 900; then
		ok "20 MiB $1, SHA-256 verified: $(grep -m1 'MiB/s' "$W/$1.log")"
	else
		bad "20 MiB $1 failed: $(tail -3 "$W/$1.log" | tr '\n' ' ')"
	fi
}

# bits_conf_short FILE: a bits.conf for a loopback testnet: one-hop
# exploratory tunnels, two each way, hops on one subnet
bits_conf_short() {
	cat >"$1" <<CONF
[exploratory]
inbound.length = 1
outbound.length = 1
inbound.quantity = 2
outbound.quantity = 2
[tunnels]
same-subnet = true
CONF
}

# bitsd_i2pd_init N IP_PREFIX PORT_BASE: bitsd's datadir $B for
# $HOST:$PORT (the testnet's floodfill, bits_conf_short) and the i2pd.conf
# of N i2pd routers W/r1..rN on IP_PREFIXn, port PORT_BASE+n
# (high-bandwidth caps, so both sides take them as hops), each knowing
# bitsd's RouterInfo; ends the test ($NAME) when bitsd cannot init
bitsd_i2pd_init() {
	mkdir -p "$B"
	"$BITSD" --datadir "$B" --init --netid 77 --host $HOST --port $PORT \
		--floodfill >"$W/init.log" 2>&1 ||
		{ bad "bitsd --init failed (see $W/init.log)"; result $NAME; exit 1; }
	bits_conf_short "$B/bits.conf"
	bi_ours=$(ri_b64hash "$B/router.info")
	bi_c=$(printf %s "$bi_ours" | cut -c1)
	for bi_n in $(seq 1 "$1"); do
		bi_d="$W/r$bi_n"; mkdir -p "$bi_d/netDb/r$bi_c"
		i2pd_conf "$bi_d" "$2$bi_n" $(($3 + bi_n)) ""
		sed -i 's/^\[ntcp2\]$/bandwidth = X\nshare = 100\n[ntcp2]/' \
			"$bi_d/i2pd.conf"
		cp "$B/router.info" "$bi_d/netDb/r$bi_c/routerInfo-$bi_ours.dat"
	done
}

# i2pd_sam DIR IP PORT: enable the SAM bridge of the i2pd in DIR on
# IP:PORT (its UDP port one below)
i2pd_sam() {
	sed -i "/^\[sam\]$/{n;s/^enabled = false$/enabled = true\naddress = $2\nport = $3/}" \
		"$1/i2pd.conf"
}

# bitsd_sam_mesh W IP_PREFIX IP_BASE PORT_BASE API_BASE SAM1 SAM2: the
# four routers of bitsd_mesh W started (pids P1..P4, and in PIDS): router n
# on IP_PREFIX.(IP_BASE+n), NTCP2 port PORT_BASE+n, API API_BASE+n; b1 the
# floodfill with a SAM bridge on 127.0.0.1:SAM1, b2 with one on SAM2 (UDP
# one below each); checks that both bridges came up
bitsd_sam_mesh() {
	for n in 1 2 3 4; do
		bm_extra=""
		[ $n = 1 ] && bm_extra="--floodfill --sam-port $6"
		[ $n = 2 ] && bm_extra="--sam-port $7"
		"$BITSD" --datadir "$1/b$n" --host "$2.$(($3 + n))" \
			--port $(($4 + n)) --netid 77 --api-port $(($5 + n)) \
			--loglevel debug --logfile "$1/b$n/bitsd.log" $bm_extra \
			>"$1/b$n/stdout.log" 2>&1 &
		PIDS="$PIDS $!"
		eval "P$n=$!"
	done
	for n in 1 2; do
		eval "bm_sam=\$$((5 + n))"
		wait_log "$1/b$n/bitsd.log" "SAM bridge on 127.0.0.1:$bm_sam" 60 &&
			ok "b$n runs its SAM bridge on 127.0.0.1:$bm_sam" ||
			bad "no SAM bridge in b$n"
	done
}
