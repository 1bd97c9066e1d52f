# Helpers for the integration tests that stream through SAM bridges with
# tools/sam-bench.py (sourced after i2pd-lib.sh; W is the work dir).
SAMBENCH=${top_srcdir:-.}/tools/sam-bench.py

# sam_bench LABEL SAM_A SAM_B [sam-bench options]: one sam-bench run of
# 20 MiB over one-hop tunnels: B (HOST:PORT) connects to A and sends, A
# checks the SHA-256 and sends it back; W/LABEL.log, W/LABEL.json.
# Generous timeouts: sessions, lookups and tunnels under a loaded machine.
sam_bench() {
	sb_label=$1 sb_a=$2 sb_b=$3
	shift 3
	python3 "$SAMBENCH" bench --sam-a "$sb_a" --sam-b "$sb_b" --size 20M \
		--hops 1 --session-timeout 600 --connect-tries 100 \
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
