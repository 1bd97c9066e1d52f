#!/bin/sh
# chain/relaypay against PaymentHub on an anvil this test starts
# (tests/integration/relaypay_xcheck.c makes the tickets and plays the
# relay): our domain separator and every ticket's EIP-712 digest equal
# hashTicket's; every ticket the relay drew as a winner redeems alone
# (eth_call) and every loser reverts NotWinning; the winners' batch pays
# each stealth address face - 2 % and replaying it reverts TicketUsed; once
# the pot is unlocking the relay refuses new tickets.
set -u
. "${top_srcdir:-.}/tests/integration/chain-lib.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-relaypay.XXXXXX")
trap 'stop_anvil; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
need_tools relaypay-anvil
start_anvil "$W" && deploy "$W" || { result relaypay-anvil; exit 1; }
D=$W/deploy.json
TOKEN=$(jget "$D" token) HUB=$(jget "$D" paymentHub)
X=$top_builddir/tests/integration/relaypay_xcheck
# anvil's first funded account pays for the pot
K0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
A0=$("$CAST" wallet address --private-key "$K0")
SIGNER=$("$CAST" wallet address --private-key 0x4444444444444444444444444444444444444444444444444444444444444444)
N=16
TT='(address,uint256,uint256,uint256,bytes32,uint64)'

# cast exits 0 on a revert too: judge by what it prints
send() {
	"$CAST" send --rpc-url "$RPC" --private-key "$K0" "$@" >"$W/send" 2>&1 &&
		grep -q '^status *1' "$W/send"
}
# redeem TUPLE SIG: eth_call redeemTicket; fails on a revert (in W/cerr)
redeem() {
	"$CAST" call --rpc-url "$RPC" "$HUB" "redeemTicket($TT,bytes,bytes32)" \
		"$1" "$2" "$RAND" </dev/null >"$W/cerr" 2>&1 &&
		! grep -q 'Error\|revert' "$W/cerr"
}
send "$TOKEN" 'mint(address,uint256)' "$A0" 10000000000 || bad "mint: $(tail -n 3 "$W/send")"
send "$TOKEN" 'approve(address,uint256)' "$HUB" 10000000000 || bad "approve: $(tail -n 3 "$W/send")"
send "$HUB" 'fund(address,uint96,uint96)' "$SIGNER" 1000000000 1000000000 || bad "fund: $(tail -n 3 "$W/send")"
POT=$("$CAST" call --rpc-url "$RPC" "$HUB" 'pots(address)' "$SIGNER")
NOW=$("$CAST" block latest --field timestamp --rpc-url "$RPC")
CHAIN=$("$CAST" chain-id --rpc-url "$RPC")

if ! "$X" "$CHAIN" "$HUB" "$NOW" "$POT" 1 "$N" >"$W/x" 2>"$W/xerr"; then
	bad "relaypay_xcheck failed: $(cat "$W/xerr")"
	result relaypay-anvil
	exit 1
fi
check "domain separator = PaymentHub.domainSeparator()" \
	"$(lc "$("$CAST" call --rpc-url "$RPC" "$HUB" 'domainSeparator()(bytes32)')")" \
	"$(lc "$(awk '$1 == "domain" { print $2 }' "$W/x")")"
check "pot signer" "$(lc "$SIGNER")" "$(lc "$(awk '$1 == "signer" { print $2 }' "$W/x")")"
RAND=$(awk '$1 == "rand" { print $2 }' "$W/x")
[ -n "$RAND" ] || bad "no winners among $N tickets at p = 1/2 (or no rand)"
NW=$(awk '$1 == "winners" { print $2 }' "$W/x")
NOTWIN=$("$CAST" sig 'NotWinning()')
dig_ok=0 win_ok=0 lose_ok=0 wins=0 losses=0
while read -r kind i tup sig dig verdict; do
	[ "$kind" = ticket ] || continue
	got=$("$CAST" call --rpc-url "$RPC" "$HUB" "hashTicket($TT)(bytes32)" "$tup" </dev/null)
	if [ "$(lc "$got")" = "$(lc "$dig")" ]; then
		dig_ok=$((dig_ok + 1))
	else
		bad "ticket $i: hashTicket $got, ours $dig"
	fi
	case $verdict in
	win)
		wins=$((wins + 1))
		if redeem "$tup" "$sig"; then
			win_ok=$((win_ok + 1))
		else
			bad "ticket $i: we drew a win, the contract: $(tail -n 2 "$W/cerr")"
		fi ;;
	lose)
		losses=$((losses + 1))
		if redeem "$tup" "$sig"; then
			bad "ticket $i: we drew a loss, the contract pays it"
		elif grep -qi "$NOTWIN\|NotWinning" "$W/cerr"; then
			lose_ok=$((lose_ok + 1))
		else
			bad "ticket $i: loss reverted otherwise: $(tail -n 2 "$W/cerr")"
		fi ;;
	*) bad "ticket $i refused by the relay: $verdict" ;;
	esac
done <"$W/x"
check "digests equal hashTicket" "$N" "$dig_ok"
check "the relay's winners all redeem on the contract" "$wins" "$win_ok"
check "the relay's losers all revert NotWinning" "$losses" "$lose_ok"
check "the batch holds every winner" "$wins" "$NW"
[ $((wins + losses)) = "$N" ] && ok "$wins wins, $losses losses of $N" || bad "draws: $wins + $losses of $N"

# the batch as the relay would send it: each winner's stealth address gets
# the face value less the 2 % protocol fee
BATCH=$(awk '$1 == "batch" { print $2 }' "$W/x")
if [ -n "$BATCH" ] && send "$HUB" --data "$BATCH"; then
	ok "redeemTickets batch of $NW mined"
else
	bad "redeemTickets batch: $(tail -n 3 "$W/send")"
fi
paid=0
for a in $(awk '$1 == "ticket" && $6 == "win" { sub(/^\(/, "", $3); split($3, f, ","); print f[1] }' "$W/x"); do
	paid=$((paid + $(ccall "$HUB" 'balances(address)(uint256)' "$a")))
done
check "winners' stealth balances = winners x 980000" $((wins * 980000)) "$paid"
if [ -n "$BATCH" ] && send "$HUB" --data "$BATCH"; then
	bad "the same batch twice must revert"
else
	grep -q "TicketUsed\|$("$CAST" sig 'TicketUsed(address,uint256)')" "$W/send" &&
		ok "replayed batch reverts TicketUsed" || bad "replay: $(tail -n 3 "$W/send")"
fi

# an unlocking pot: the relay refuses every new ticket
send "$HUB" 'requestUnlock(address)' "$SIGNER" || bad "requestUnlock: $(tail -n 3 "$W/send")"
POT=$("$CAST" call --rpc-url "$RPC" "$HUB" 'pots(address)' "$SIGNER")
if "$X" "$CHAIN" "$HUB" "$NOW" "$POT" 1000 4 >"$W/x2" 2>"$W/xerr"; then
	check "tickets of an unlocking pot refused" 4 \
		"$(grep -c '^ticket .* refused:pot unlocking$' "$W/x2")"
else
	bad "relaypay_xcheck (unlocking): $(cat "$W/xerr")"
fi
result relaypay-anvil
