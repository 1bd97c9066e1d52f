#!/bin/sh
# The C chain client end to end on anvil (CHAIN.md §5 flows), driven only
# through bits-chain; cast checks balances and state after each step:
#  publish → buy → key request / deliver / fetch (commitment checked) →
#  fund a pot → vouchers to a seeder's stealth address, latest redeemed,
#  a stale one refused → tickets to relays' stealth addresses redeemed in
#  a batch → withdrawal signed by a stealth key, submitted by a relayer →
#  a DID attribute set and read back from logs.
set -u
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-chain-e2e.XXXXXX")
trap 'stop_anvil; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
need_tools chain-e2e
export BITS_WALLET_PASSWORD=e2e-pass
start_anvil "$W" && deploy "$W" || { result chain-e2e; exit 1; }
D=$W/deploy.json
TOKEN=$(jget "$D" token) HUB=$(jget "$D" paymentHub)
REG=$(jget "$D" licenseRegistry) KR=$(jget "$D" keyRelease)

# bc NAME ARGS...: bits-chain with NAME's wallet; output in W/out
bc() {
	who=$1; shift
	"$BC" --rpc "$RPC" --deploy "$D" --wallet "$W/$who.w" "$@" >"$W/out" 2>"$W/err"
}
# must NAME WHAT ARGS...: bc that has to succeed
must() {
	who=$1 what=$2; shift 2
	if bc "$who" "$@"; then ok "$what"; else bad "$what: $(cat "$W/err")"; fi
}
tok() { ccall "$TOKEN" 'balanceOf(address)(uint256)' "$1"; }
hubbal() { ccall "$HUB" 'balances(address)(uint256)' "$1"; }

for who in creator buyer payer seeder relay relayer; do
	if bc "$who" wallet new --kdf-min; then
		eval "ADDR_$who=$(field "$W/out" address)"
		eval "META_$who=$(field "$W/out" stealth-meta)"
		eval "PUB_$who=$(field "$W/out" pubkey)"
	else
		bad "wallet new $who: $(cat "$W/err")"
	fi
done
[ "$(stat -c %a "$W/creator.w")" = 600 ] && ok "wallet file is 0600" || bad "wallet mode $(stat -c %a "$W/creator.w")"
for who in creator buyer payer seeder relay relayer; do
	eval "a=\$ADDR_$who"
	"$CAST" rpc --rpc-url "$RPC" anvil_setBalance "$a" 0x8ac7230489e80000 >/dev/null
done
must creator "mint to the buyer" mint "$ADDR_buyer" 100000
must creator "mint to the payer" mint "$ADDR_payer" 1000000
check "buyer's tokens (cast)" 100000 "$(tok "$ADDR_buyer")"

# ---- publish and buy (fee 2 %, agent = creator)
H=$("$CAST" keccak "content manifest")
K=$("$CAST" keccak "the content key")
must creator "publish" publish "$H" 1000 "$K" --royalty 500
check "publish: index" 1 "$(field "$W/out" index)"
check "indexOf(contentHash) (cast)" 1 "$(ccall "$REG" 'indexOf(bytes32)(uint256)' "$H")"
check "keyCommitment = keccak(K ‖ hash) (cast)" "$(lc "$("$CAST" keccak "$K${H#0x}")")" "$(lc "$(field "$W/out" key-commitment)")"
must buyer "buy" buy 1
TID=$(field "$W/out" token-id)
check "token id = 1 << 64" 18446744073709551616 "$TID"
check "ownerOf(tokenId) = buyer (cast)" "$(lc "$ADDR_buyer")" "$(lc "$(ccall "$REG" 'ownerOf(uint256)(address)' "$TID")")"
check "buyer paid 1000 (cast)" 99000 "$(tok "$ADDR_buyer")"
check "creator owed 980 after the 2 % fee (cast)" 980 "$(ccall "$REG" 'owed(address)(uint256)' "$ADDR_creator")"

# ---- key: request (holder), deliver (agent), fetch (holder)
must buyer "key request" key request "$TID"
must creator "key deliver" key deliver "$TID" "$K"
check "delivered to the holder" "$(lc "$ADDR_buyer")" "$(lc "$(field "$W/out" holder)")"
n=$("$CAST" logs --rpc-url "$RPC" --from-block 0 --address "$KR" 'KeyDelivered(uint256,address,bytes32)' | grep -c transactionHash)
check "one KeyDelivered log (cast)" 1 "$n"
must buyer "key fetch" key fetch "$TID" --agent-pub "$PUB_creator"
check "fetched key = K" "$(lc "$K")" "$(lc "$(field "$W/out" key)")"
check "commitment verified" ok "$(field "$W/out" commitment)"
if bc buyer key fetch "$TID" --agent-pub "$PUB_relay"; then
	bad "key fetch with the wrong agent key must fail"
else
	grep -q "key commitment" "$W/err" && ok "wrong agent key: commitment mismatch reported" ||
		bad "wrong agent key: $(cat "$W/err")"
fi

# ---- pot (the payer's account key is the pot signer)
must payer "fund pot" fund-pot "$ADDR_payer" 100000 10000
check "pot deposit (cast)" 100000 "$("$CAST" call --rpc-url "$RPC" "$HUB" 'pots(address)(uint96,uint96,uint64,address,uint96)' "$ADDR_payer" | head -n 1 | awk '{print $1}')"
check "payer paid deposit + escrow (cast)" 890000 "$(tok "$ADDR_payer")"
NOW=$("$CAST" block latest --field timestamp --rpc-url "$RPC")
EXP=$((NOW + 3600))

# ---- vouchers to the seeder's stealth address
must payer "stealth address for the seeder" stealth new "$META_seeder"
S=$(field "$W/out" stealth-address) E=$(field "$W/out" ephemeral) TAG=$(field "$W/out" view-tag)
must seeder "seeder finds its stealth address" stealth scan "$E:$TAG:$S"
check "scan match" "$(lc "$S")" "$(lc "$(field "$W/out" match)")"
bc relay stealth scan "$E:$TAG:$S" && grep -q '^no-match' "$W/out" && ok "a stranger does not match" || bad "stranger scan"
LANE=$("$CAST" keccak "random lane")
must payer "voucher 300" voucher sign "$S" "$LANE" 300 "$EXP"
V1=$(field "$W/out" paper)
must payer "voucher 500" voucher sign "$S" "$LANE" 500 "$EXP"
V2=$(field "$W/out" paper)
must relayer "seeder's latest voucher redeemed (by a relayer)" voucher redeem "$V2"
check "stealth balance 490 after the fee (cast)" 490 "$(hubbal "$S")"
if bc relayer voucher redeem "$V1"; then
	bad "a stale voucher must be refused"
else
	grep -q "NothingNew" "$W/err" && ok "stale voucher: reverted with NothingNew" || bad "stale voucher: $(cat "$W/err")"
fi
check "pot deposit after 500 paid (cast)" 99500 "$("$CAST" call --rpc-url "$RPC" "$HUB" 'pots(address)(uint96,uint96,uint64,address,uint96)' "$ADDR_payer" | head -n 1 | awk '{print $1}')"

# ---- tickets to relays' stealth addresses, redeemed in a batch
R=$("$CAST" keccak "relay epoch secret")
RH=$("$CAST" keccak "$R")
PAPERS="" ADDRS=""
for i in 1 2 3 4 5 6; do
	bc payer stealth new "$META_relay" || bad "stealth new for relay"
	a=$(field "$W/out" stealth-address)
	ADDRS="$ADDRS $a"
	wp=1/2
	[ $i -le 2 ] && wp=1/1
	if bc payer ticket sign "$a" 1000 "$wp" "$i" "$RH" "$EXP"; then
		PAPERS="$PAPERS $(field "$W/out" paper)"
	else
		bad "ticket sign $i: $(cat "$W/err")"
	fi
done
# shellcheck disable=SC2086
must relay "relay redeems its winning tickets in one batch" ticket redeem "$R" $PAPERS
WIN=$(sed -n 's/^winners: \([0-9]*\) of 6$/\1/p' "$W/out")
[ -n "$WIN" ] && [ "$WIN" -ge 2 ] && ok "winners: $WIN of 6 (two sure ones)" || bad "winners: '$WIN'"
sum=0
for a in $ADDRS; do sum=$((sum + $(hubbal "$a"))); done
check "relays' stealth balances = winners × 980 (cast)" $((WIN * 980)) "$sum"
if bc relay ticket redeem "$R" $PAPERS; then
	bad "redeeming the same tickets twice must fail"
else
	grep -q "TicketUsed" "$W/err" && ok "replayed tickets: reverted with TicketUsed" || bad "replay: $(cat "$W/err")"
fi

# ---- withdraw from the stealth address through a relayer
must seeder "seeder signs a withdrawal with the stealth key" withdraw sign "$E" "$ADDR_seeder" 400 --fee 50
check "withdrawal is from the stealth address" "$(lc "$S")" "$(lc "$(field "$W/out" from)")"
WD=$(field "$W/out" withdrawal)
must relayer "relayer submits withdrawFor" withdraw relay "$WD"
check "seeder received 400 tokens (cast)" 400 "$(tok "$ADDR_seeder")"
check "stealth balance 490 - 450 (cast)" 40 "$(hubbal "$S")"
check "relayer fee 50 on its hub balance (cast)" 50 "$(hubbal "$ADDR_relayer")"
check "the stealth address holds no ether (cast)" 0 "$("$CAST" balance --rpc-url "$RPC" "$S")"
if bc relayer withdraw relay "$WD"; then
	bad "a used withdrawal must be refused"
else
	ok "a used withdrawal is refused before sending"
fi

# ---- DID attribute in events
must creator "did set stealth/meta" did set stealth/meta "$META_creator"
must buyer "did get" did get "$ADDR_creator" stealth/meta
check "attribute value read from logs" "$(lc "$META_creator")" "$(lc "$(field "$W/out" value)")"

result chain-e2e
