#!/bin/sh
# Paid relaying (docs/relaypay.md §6): a relay's withdrawals to try again
# outlive a restart.  bitsd as a relay (relay.pay, a redeem key, no chain
# client: no withdrawal is tried) starts with
# DATADIR/relaypay-withdraw.retry holding two withdrawals left by a
# former run and three lines that do not read (not a point, a round count
# over the limit, garbage): it takes the two (/api/status
# withdraw_retrying, a log line) and warns of the three, and at stop
# writes the two back, in order, with their round counts.  Started again
# without relay.pay.withdraw-to, it keeps them (not tried, written back).
# Then a crash during a withdrawal round keeps the round's withdrawals:
# with a chain client (its own gateway, market.gateway) and the round 1 s
# after start (relay.pay.test-withdraw-retry), against a chain stand-in
# on 127.0.0.1 that takes each request and never answers, bitsd is
# killed (SIGKILL) in the round's first chain call; the file must still
# hold both.  Started again against a stand-in that answers (chain id
# 31337, a balance of 0 at each stealth address: nothing left to move),
# it takes them from the file and withdraws them; the file is empty
# after the stop.  127.0.2.91, NTCP2 29791, API 29790; about 15 s, no
# network.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
BITSD="$top_builddir/apps/bitsd"
. "$top_srcdir/tests/integration/chain-lib.sh"
. "$top_srcdir/tests/integration/i2pd-lib.sh"
. "$top_srcdir/tests/integration/ntcp2-lib.sh"
NAME=test_relaypay_wretry
W=$(mktemp -d "${TMPDIR:-/tmp}/relaypay-wretry.XXXXXX")
BPID= NPID=
cleanup() {
	[ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null
	[ -n "$NPID" ] && kill "$NPID" 2>/dev/null
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
umask 077
D=$W/d
mkdir -p "$D"
# chain id and PaymentHub (the EIP-712 domain): no chain is reached
cat >"$W/deploy.json" <<'J'
{"chainId":31337,"deployBlock":0,"didRegistry":"0x0165878A594ca255338adfa4d48449f69242Eb8F","feeSplitter":"0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0","genesis":"0xa513E6E4b8f2a923D98304ec87F64353C4D5C853","keyRelease":"0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9","licenseRegistry":"0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9","networkId":"0x0841e5fa2b779f137f55134af0b378aed856493cf523d1b6b1f11d792e4c143a","paymentHub":"0x5FC8d32690cc91D4c39d9d3abcBD16989F875707","token":"0x5FbDB2315678afecb367f032d93F642f64180aa3"}
J
printf '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d\n' >"$W/redeem.key"
# two points (secp256k1's G and 2G, compressed), then lines to leave out
G=0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798
G2=02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5
BADX=02ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
printf '%s 1\n%s 3\n%s 0\n%s 6\nnot a line\n' "$G" "$BADX" "$G2" "$G" \
	>"$D/relaypay-withdraw.retry"

run() {
	"$BITSD" --datadir "$D" --host 127.0.2.91 --port 29791 --netid 77 \
		--api-port 29790 --loglevel info --logfile "$D/bitsd.log" \
		--market.deploy "$W/deploy.json" --relay.pay \
		--relay.pay.price 1000 --relay.pay.redeem-key "$W/redeem.key" \
		"$@" >>"$D/stdout.log" 2>&1 &
	BPID=$!
}
# retrying N: withdraw_retrying once it is N (10 s at most)
retrying() {
	i=0
	until [ "$(api_num 29790 relaypay.relay.withdraw_retrying)" = "$1" ] ||
		[ $i -gt 40 ]; do
		sleep 0.25; i=$((i + 1))
	done
	api_num 29790 relaypay.relay.withdraw_retrying
}
run --relay.pay.withdraw-to 0x000000000000000000000000000000000000b175
wait_log "$D/bitsd.log" "relaypay: relay on" 60 ||
	{ bad "relaypay not on (see $D/bitsd.log)"; result $NAME; exit 1; }
check "the retries taken from the file" \
	"2 withdrawals to try again" \
	"$(sed -n 's/.*relaypay: \([0-9]* withdrawals to try again\) from.*/\1/p' "$D/bitsd.log")"
check "the lines that do not read left out" "3 lines" \
	"$(sed -n 's/.*relaypay: \([0-9]* lines\) of .* do not read.*/\1/p' "$D/bitsd.log")"
check "withdraw_retrying" 2 "$(retrying 2)"
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
check "written back at stop" "$(printf '%s 1\n%s 0' "$G" "$G2")" \
	"$(cat "$D/relaypay-withdraw.retry")"
mode=$(stat -c %a "$D/relaypay-withdraw.retry")
check "the file is the owner's alone" 600 "$mode"

# without relay.pay.withdraw-to: kept, not tried, written back (the
# line that does not read added here is gone)
echo garbage >>"$D/relaypay-withdraw.retry"
run
i=0
until [ "$(grep -c 'withdrawals to try again' "$D/bitsd.log")" = 2 ] || [ $i -gt 240 ]; do
	sleep 0.25; i=$((i + 1))
done
check "taken again after a restart" 2 "$(grep -c '2 withdrawals to try again' "$D/bitsd.log")"
check "withdraw_retrying after the restart" 2 "$(retrying 2)"
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
check "kept without relay.pay.withdraw-to" "$(printf '%s 1\n%s 0' "$G" "$G2")" \
	"$(cat "$D/relaypay-withdraw.retry")"

# a crash during a withdrawal round
# node MODE: the chain stand-in (hang: read each request, never answer;
# answer: chain id, a block, 32 zero bytes for eth_call); each request's
# method goes to $W/node.log.  Sets NODE_URL and NPID.
node() {
	rm -f "$W/node.port"
	python3 - "$1" "$W/node.log" "$W/node.port" <<'PY' &
import json, socket, sys, threading
mode, logf, portf = sys.argv[1:4]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
open(portf + ".tmp", "w").write(str(srv.getsockname()[1]))
import os; os.rename(portf + ".tmp", portf)
held = []
def serve(c):
    f = c.makefile("rb")
    while True:
        hdr, n = f.readline(), 0
        if not hdr:
            return
        while True:
            line = f.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode().partition(":")
            if k.strip().lower() == "content-length":
                n = int(v)
        req = json.loads(f.read(n))
        with open(logf, "a") as lf:
            lf.write(req["method"] + "\n")
        if mode == "hang":
            held.append(c)
            return
        m = req["method"]
        if m == "eth_chainId":
            res = {"result": "0x7a69"}
        elif m == "eth_getBlockByNumber":
            res = {"result": {"number": "0x1", "timestamp": "0x6553f100"}}
        elif m == "eth_call":
            res = {"result": "0x" + "00" * 32}
        else:
            res = {"error": {"code": -32601, "message": "not here"}}
        res.update(jsonrpc="2.0", id=req["id"])
        body = json.dumps(res).encode()
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	NPID=$!
	i=0
	until [ -s "$W/node.port" ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$W/node.port" ] ||
		{ bad "the chain stand-in did not start"; result $NAME; exit 1; }
	NODE_URL=http://127.0.0.1:$(cat "$W/node.port")
}
crun() {
	"$BITSD" --datadir "$D" --host 127.0.2.91 --port 29791 --netid 77 \
		--api-port 29790 --loglevel info --logfile "$D/bitsd.log" \
		--market.deploy "$W/deploy.json" --market.gateway \
		--market.gateway.rpc "$NODE_URL" --relay.pay \
		--relay.pay.price 1000 --relay.pay.redeem-key "$W/redeem.key" \
		--relay.pay.withdraw-to 0x000000000000000000000000000000000000b175 \
		--relay.pay.test-withdraw-retry 1 >>"$D/stdout.log" 2>&1 &
	BPID=$!
}
WANT=$(printf '%s 1\n%s 0' "$G" "$G2")
printf '%s\n' "$WANT" >"$D/relaypay-withdraw.retry"
: >"$D/bitsd.log"

node hang
crun
wait_log "$D/bitsd.log" "relaypay: relay on.*chain client on" 60 ||
	{ bad "relaypay not on with a chain client (see $D/bitsd.log)"; result $NAME; exit 1; }
# the round is under way once the node is asked (the chain id first)
wait_log "$W/node.log" "eth_chainId" 30 &&
	ok "the withdrawal round asks the chain" ||
	bad "the chain was never asked (see $D/bitsd.log)"
check "withdraw_retrying during the round" 2 \
	"$(api_num 29790 relaypay.relay.withdraw_retrying)"
sleep 3		# a tick or more: a save of the state would be written
kill -KILL "$BPID"
wait "$BPID" 2>/dev/null
BPID=
check "the round's withdrawals kept across the crash" "$WANT" \
	"$(cat "$D/relaypay-withdraw.retry")"
kill "$NPID"; wait "$NPID" 2>/dev/null; NPID=

: >"$W/node.log"
node answer
crun
i=0
until [ "$(grep -c '2 withdrawals to try again' "$D/bitsd.log")" = 2 ] ||
	[ $i -gt 240 ]; do
	sleep 0.25; i=$((i + 1))
done
check "taken again after the crash" 2 \
	"$(grep -c '2 withdrawals to try again' "$D/bitsd.log")"
wait_api 29790 relaypay.relay.withdrawn 2 60 &&
	ok "withdrawn after the restart" ||
	bad "withdrawn after the restart: $(api_num 29790 relaypay.relay.withdrawn) of 2"
check "withdraw_retrying once done" 0 \
	"$(api_num 29790 relaypay.relay.withdraw_retrying)"
check "withdraw_retried" 1 "$(api_num 29790 relaypay.relay.withdraw_retried)"
bitsd_stop && ok "bitsd stopped cleanly" || bad "bitsd did not stop cleanly"
check "nothing left to try" "" "$(cat "$D/relaypay-withdraw.retry")"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$D/stdout.log" &&
	bad "sanitizer report (see $D/stdout.log)"
result $NAME
