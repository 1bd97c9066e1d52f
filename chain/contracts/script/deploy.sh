#!/bin/sh
# Deploy the whole Bits contract set from a genesis file and write the
# addresses as JSON (what the C side reads).
#   script/deploy.sh RPC_URL OUT.json [GENESIS.json]
# Env: DEPLOYER_KEY (hex; default anvil's first account).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 RPC_URL OUT.json [GENESIS.json]" >&2; exit 2; }
rpc=$1 out=$2 genesis=${3:-$top/genesis/demo.json}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
case $genesis in /*) ;; *) genesis=$(pwd)/$genesis ;; esac
cd "$top"
mkdir -p deployments
# forge may only read and write under deployments/ (foundry.toml fs_permissions)
tmpg=deployments/.genesis-$$.json tmpo=deployments/.out-$$.json
trap 'rm -f "$tmpg" "$tmpo"' EXIT
cp "$genesis" "$tmpg"
# the platform's own forge, not npm's node wrapper around it (which exits
# 0 whatever forge's exit status)
. "$top/../../tools/lib.sh"
forge=$(foundry_bin "$top" forge)
[ -x "$forge" ] || { echo "deploy.sh: no forge binary under node_modules/@foundry-rs (run tools/chain-deps)" >&2; exit 1; }
# One deploy at a time in this tree: forge writes out/, cache/ and
# broadcast/<chain id>/run-latest.json, which parallel tests on anvils
# (same chain id) would otherwise share mid-write.
GENESIS=$tmpg DEPLOY_OUT=$tmpo flock deployments/.deploy.lock \
	"$forge" script script/Deploy.s.sol:Deploy \
	--rpc-url "$rpc" --broadcast --slow --non-interactive ${DEPLOYER_KEY:+--private-key "$DEPLOYER_KEY"}
mv "$tmpo" "$out"
echo "deployed: $out"
