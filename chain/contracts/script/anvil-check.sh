#!/bin/sh
# Start anvil on 127.0.0.1 (a free port), deploy from genesis/demo.json with
# script/deploy.sh, check the deployment with cast, then send the CHAIN.md §6
# operations (script/GasBench.s.sol) and check their full transaction gas
# against the targets. Stops anvil on exit. Fails loudly on any error.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# foundry_bin: the platform's own binaries, not npm's node wrappers around
# them, which exit 0 whatever the tool's exit status (so a wait on "cast
# chain-id" passed before anvil listened); anvil_up: anvil on port 0
. "$top/../../tools/lib.sh"
for t in anvil cast forge; do
	[ -x "$(foundry_bin "$top" $t)" ] ||
		{ echo "FAIL: no $t binary under node_modules/@foundry-rs (run tools/chain-deps)" >&2; exit 1; }
done
cast=$(foundry_bin "$top" cast) forge=$(foundry_bin "$top" forge)
mkdir -p deployments
log=deployments/anvil.log
APID=
stop_anvil() { kill "$APID" 2>/dev/null; wait "$APID" 2>/dev/null; APID=; }
trap '[ -z "$APID" ] || stop_anvil' EXIT
trap 'exit 130' INT TERM
anvil_up "$(foundry_bin "$top" anvil)" "$cast" "$log" ||
	{ echo "FAIL: anvil did not start; its log:" >&2; cat "$log" >&2; exit 1; }
rpc=$RPC
echo "anvil up on $rpc (pid $APID)"

out=deployments/anvil-check.json
script/deploy.sh "$rpc" "$out" genesis/demo.json >deployments/deploy.log 2>&1 ||
	{ echo "FAIL: deploy" >&2; tail -n 40 deployments/deploy.log >&2; exit 1; }

fail=0
j() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[process.argv[2]])' "$out" "$1"; }
for k in token feeSplitter licenseRegistry keyRelease paymentHub didRegistry genesis; do
	a=$(j "$k")
	code=$("$cast" code "$a" --rpc-url "$rpc")
	if [ "${#code}" -le 2 ]; then echo "FAIL: no code for $k at $a"; fail=1; else echo "ok   $k $a"; fi
done
g=$(j genesis)
id=$("$cast" call "$g" 'networkId()(bytes32)' --rpc-url "$rpc")
[ "$id" = "$(j networkId)" ] || { echo "FAIL: networkId $id != $(j networkId)"; fail=1; }
hub=$("$cast" call "$g" 'paymentHub()(address)' --rpc-url "$rpc")
[ "$(echo "$hub" | tr A-F a-f)" = "$(j paymentHub | tr A-F a-f)" ] || { echo "FAIL: genesis.paymentHub"; fail=1; }
[ "$("$cast" chain-id --rpc-url "$rpc")" = "$(j chainId)" ] || { echo "FAIL: chainId"; fail=1; }
echo "networkId $id"

DEPLOY_OUT=$out "$forge" script script/GasBench.s.sol:GasBench --rpc-url "$rpc" --broadcast --slow \
	--non-interactive >deployments/gasbench.log 2>&1 ||
	{ echo "FAIL: gas bench" >&2; tail -n 40 deployments/gasbench.log >&2; exit 1; }
node script/gas-table.js broadcast/GasBench.s.sol/31337/run-latest.json deployments/gasbench-labels.txt || fail=1
stop_anvil || true
[ $fail = 0 ] && echo "anvil check: ok"
exit $fail
