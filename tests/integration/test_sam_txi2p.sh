#!/bin/sh
# A SAM client library that Debian packages, unchanged, against our SAM
# bridge (issue G2): txi2p (python3-txi2p-tahoe, Twisted, SAM v3.0-3.2)
# through tests/integration/sam-txi2p.py: a SAMI2PStreamServerEndpoint on
# one session, a SAMI2PStreamClientEndpoint on another, 1 MiB each way
# with the SHA-256 checked at both ends.
#  1. tools/sam-local (apps/sam over the in-process network) on
#     127.0.1.80:31371 (UDP 31372), both sessions on it;
#  2. four bitsd routers (127.0.1.81-84, NTCP2 31301-31304, API
#     31351-31354 on 127.0.0.1) that know each other; b1 (floodfill) and b2
#     run SAM bridges on 127.0.0.1:31362 and :31364 (UDP one below): the
#     server session on b1, the client on b2, one-hop tunnels; then all
#     four routers stop cleanly with no sanitizer report.
# Fails loudly when txi2p or Twisted is missing (apt-get install
# python3-txi2p-tahoe; it installs for Debian's /usr/bin/python3).
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
. "${top_srcdir:-.}/tests/integration/ntcp2-lib.sh"
. "${top_srcdir:-.}/tests/integration/sam-lib.sh"
NAME=test_sam_txi2p
HELPER="${top_srcdir:-.}/tests/integration/sam-txi2p.py"
SAMLOCAL="${top_builddir:-.}/tools/sam-local"
PY=/usr/bin/python3
W=$(mktemp -d "${TMPDIR:-/tmp}/sam-txi2p.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	[ "$FAIL" = 0 ] && [ -z "$KEEP_WORK" ] && rm -rf "$W" || echo "kept $W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077

if ! "$PY" -c 'import txi2p.sam, twisted' >"$W/import.log" 2>&1; then
	bad "txi2p missing for $PY (apt-get install python3-txi2p-tahoe): $(tail -1 "$W/import.log")"
	result $NAME; exit 1
fi
ok "txi2p $(dpkg-query -W -f '${Version}' python3-txi2p-tahoe 2>/dev/null) imports"

# txi2p LABEL SAM_SERVER SAM_CLIENT [helper options]: one exchange
txi2p() {
	tx_label=$1 tx_s=$2 tx_c=$3
	shift 3
	mkdir -p "$W/$tx_label"
	if timeout 900 "$PY" "$HELPER" --sam-server "$tx_s" --sam-client "$tx_c" \
		--dir "$W/$tx_label" "$@" >"$W/$tx_label.log" 2>&1 &&
	   [ "$(grep -c '^OK .*sha256' "$W/$tx_label.log")" = 2 ] &&
	   grep -q '^OK both ways verified' "$W/$tx_label.log"; then
		ok "txi2p $tx_label: 1 MiB each way, SHA-256 verified at both ends"
	else
		bad "txi2p $tx_label: $(grep -v '^OK' "$W/$tx_label.log" | tail -4 | tr '\n' ' ')"
	fi
}

# ---- 1. sam-local ----
"$SAMLOCAL" --host 127.0.1.80 --port 31371 --udp-port 31372 \
	>"$W/sam-local.log" 2>&1 &
SLPID=$!
PIDS="$SLPID"
if wait_log "$W/sam-local.log" "listening on" 60; then
	ok "sam-local listens on 127.0.1.80:31371"
	txi2p local 127.0.1.80:31371 127.0.1.80:31371 --timeout 300
else
	bad "sam-local did not start: $(cat "$W/sam-local.log")"
fi
kill -TERM $SLPID; wait $SLPID
PIDS=""

# ---- 2. two bitsd SAM bridges over one-hop tunnels ----
bitsd_mesh "$W" 127.0.1 80 31300 || { result $NAME; exit 1; }
bitsd_sam_mesh "$W" 127.0.1 80 31300 31350 31362 31364
# the client's CONNECT is retried while the server's LeaseSet is not out
txi2p bitsd 127.0.0.1:31362 127.0.0.1:31364 --tries 100 --retry-delay 3 \
	--timeout 600

bitsd_mesh_stop "$W"
PIDS=""
result $NAME
