#!/bin/sh
# chain/ against cast, run inside the test (tests/integration/chain_xcheck.c):
# Keccak, selectors, calldata, ABI decoding, RLP, EIP-1559 raw transactions
# and EIP-712 signatures for every CHAIN.md §3 type.
set -u
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
need_tools chain-xcheck
exec "$top_builddir/tests/integration/chain_xcheck" "$CAST"
