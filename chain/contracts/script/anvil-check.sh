#!/bin/sh
# Start anvil on 127.0.0.1 (a free port), deploy from genesis/demo.json with
# script/deploy.sh, check the deployment with cast, then send the CHAIN.md §6
# operations (script/GasBench.s.sol) and check their full transaction gas
# against the targets. Stops anvil on exit. Fails loudly on any error.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# the platform's own binaries, not npm's node wrappers around them: those
# exit 0 whatever the tool's exit status, so "until cast chain-id" passed
# before anvil listened and the deploy could find no one there
fbin() {
	for f in "$top"/node_modules/@foundry-rs/"$1"-*/bin/"$1"; do [ -x "$f" ] && break; done
	[ -x "$f" ] || { echo "FAIL: no $1 binary under node_modules/@foundry-rs (run tools/chain-deps)" >&2; exit 1; }
	echo "$f"
}
anvil=$(fbin anvil)
cast=$(fbin cast)
forge=$(fbin forge)
mkdir -p deployments
log=deployments/anvil.log
# Port 0: anvil binds a free port itself and names it in its log (a port
# found free beforehand could be taken by another listener first).
"$anvil" --host 127.0.0.1 --port 0 --chain-id 31337 >"$log" 2>&1 &
apid=$!
stop_anvil() { kill "$apid" 2>/dev/null; wait "$apid" 2>/dev/null; apid=; }
trap '[ -z "$apid" ] || stop_anvil' EXIT
trap 'exit 130' INT TERM
i=0 port=
until [ -n "$port" ] && "$cast" chain-id --rpc-url "http://127.0.0.1:$port" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 $apid 2>/dev/null; then
		echo "FAIL: anvil did not start; its log:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.2
	port=$(sed -n 's/^Listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
done
rpc=http://127.0.0.1:$port
echo "anvil up on $rpc (pid $apid)"

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
