#!/bin/sh
# The chain client against bad nodes and bad input: malformed, huge and
# deeply nested JSON-RPC replies, HTTP errors, a wrong id, a node that
# hangs or trickles, a node on another chain, no node at all, a
# non-loopback URL, a wrong passphrase and a wallet others can read.
# Each must end in a clear message and exit status 1 (never a crash), in
# bounded time.
set -u
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-chain-bad.XXXXXX")
FPID=
trap '[ -n "$FPID" ] && kill "$FPID" 2>/dev/null; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
export BITS_WALLET_PASSWORD=bad-pass

# A deploy file for a chain that the fake node pretends to be.
cat >"$W/deploy.json" <<'JSON'
{"chainId":31337,"token":"0x5FbDB2315678afecb367f032d93F642f64180aa3",
 "licenseRegistry":"0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
 "keyRelease":"0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9",
 "paymentHub":"0x5FC8d32690cc91D4c39d9d3abcBD16989F875707",
 "didRegistry":"0x0165878A594ca255338adfa4d48449f69242Eb8F"}
JSON
python3 "$top_srcdir/tests/integration/chain-fakenode.py" >"$W/port" 2>"$W/fake.log" &
FPID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat "$W/port")
[ -n "$PORT" ] || { bad "fake node did not start: $(cat "$W/fake.log")"; result chain-bad; exit 1; }
A=0x7e5f4552091a69125d5dfcb7b8c2659029395bdf

# expect NAME MODE WANT_TEXT [MAX_SECONDS [DEADLINE_MS]]: balance against
# the fake node.  The deadline is short only where the test is of the
# deadline: a loaded machine can take more than 1.5 s to send 20 MiB.
expect() {
	t0=$(date +%s)
	"$BC" --rpc "http://127.0.0.1:$PORT/$2" --deploy "$W/deploy.json" \
		--timeout-ms "${5:-8000}" balance "$A" >"$W/out" 2>"$W/err"
	rc=$? dt=$(( $(date +%s) - t0 ))
	if [ $rc != 1 ]; then
		bad "$1: exit $rc (want 1): $(cat "$W/err")"
	elif ! grep -q -- "$3" "$W/err"; then
		bad "$1: message lacks '$3': $(cat "$W/err")"
	elif [ $dt -gt "${4:-10}" ]; then
		bad "$1: took $dt s"
	else
		ok "$1: $(head -c 150 "$W/err")"
	fi
}
expect "not JSON" garbage "not a JSON object"
expect "HTTP 502" html502 "HTTP error status"
expect "20 MiB reply" huge "too long"
expect "200000-deep nesting" deep "too big"
expect "reply for another id" wrongid "id does not match"
expect "JSON-RPC error object" error "node error -32601: method not found"
expect "node on chain 1" chain1 "wrong chain"
expect "node that hangs (1.5 s deadline)" hang "did not answer in time" 6 1500
expect "node that trickles bytes" trickle "did not answer in time" 6 1500
kill "$FPID" 2>/dev/null
wait "$FPID" 2>/dev/null
FPID=

# no node at all: retried, then a clear error
"$BC" --rpc "http://127.0.0.1:$PORT" --deploy "$W/deploy.json" balance "$A" >"$W/out" 2>"$W/err"
rc=$?
[ $rc = 1 ] && grep -q "cannot reach the node" "$W/err" && ok "no node: $(cat "$W/err")" ||
	bad "no node: exit $rc: $(cat "$W/err")"
# only loopback until the overlay carries RPC: refused before any traffic
"$BC" --rpc "http://10.1.2.3:8545" --deploy "$W/deploy.json" balance "$A" >"$W/out" 2>"$W/err"
rc=$?
[ $rc = 1 ] && grep -q "loopback only" "$W/err" && ok "non-loopback URL refused" ||
	bad "non-loopback URL: exit $rc: $(cat "$W/err")"
# a deploy file for another chain than --chain-id
"$BC" --chain-id 5 --deploy "$W/deploy.json" balance "$A" >"$W/out" 2>"$W/err"
[ $? = 1 ] && grep -q "deploy file is for chain 31337" "$W/err" && ok "chain id disagrees with the deploy file" ||
	bad "chain id vs deploy: $(cat "$W/err")"
# a deploy file that is not one
printf '{"chainId":31337,"paymentHub":"0x12"}' >"$W/bad-deploy.json"
"$BC" --deploy "$W/bad-deploy.json" balance "$A" >"$W/out" 2>"$W/err"
[ $? = 1 ] && grep -q "bad value" "$W/err" && ok "malformed deploy file" || bad "malformed deploy: $(cat "$W/err")"

# wallets: wrong passphrase, readable by others, truncated
"$BC" --wallet "$W/w" wallet new --kdf-min >"$W/out" 2>"$W/err" || bad "wallet new: $(cat "$W/err")"
BITS_WALLET_PASSWORD=wrong "$BC" --wallet "$W/w" wallet show >"$W/out" 2>"$W/err"
[ $? = 1 ] && grep -q "wrong passphrase" "$W/err" && ok "wrong passphrase" || bad "wrong passphrase: $(cat "$W/err")"
"$BC" --wallet "$W/w" wallet new --kdf-min >"$W/out" 2>"$W/err"
[ $? = 1 ] && grep -q "exists" "$W/err" && ok "wallet new keeps an existing wallet" || bad "overwrite: $(cat "$W/err")"
chmod 644 "$W/w"
"$BC" --wallet "$W/w" wallet show >"$W/out" 2>"$W/err"
[ $? = 1 ] && grep -q "readable by others" "$W/err" && ok "wallet readable by others refused" || bad "mode 644: $(cat "$W/err")"
chmod 600 "$W/w"
head -c 100 "$W/w" >"$W/w2" && chmod 600 "$W/w2"
"$BC" --wallet "$W/w2" wallet show >"$W/out" 2>"$W/err"
[ $? = 1 ] && grep -q "truncated" "$W/err" && ok "truncated wallet" || bad "truncated wallet: $(cat "$W/err")"
"$BC" --wallet "$W/w" wallet show >"$W/out" 2>"$W/err" && grep -q '^address: 0x' "$W/out" &&
	ok "the wallet still opens" || bad "wallet show: $(cat "$W/err")"

result chain-bad
