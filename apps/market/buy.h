/*
 * Buying a licence with no ETH (CHAIN.md §5 step 2, issue 13): the payer
 * signs an EIP-712 Purchase for LicenseRegistry.buyFor and an EIP-2612
 * permit for the price and the relayer's fee, so neither the payer nor the
 * holder address needs ETH; any relayer with ETH submits the transaction
 * and takes the fee in the token.  The holder is a fresh or stealth
 * address of the buyer's choosing.
 *
 * The calls here block on the chain client (chain/rpc.h): run them where
 * its transport may block (a tool, a worker; apps/market/rpc.h).
 */
#ifndef APPS_MARKET_BUY_H
#define APPS_MARKET_BUY_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/calls.h"
#include "chain/eip712.h"
#include "chain/rpc.h"
#include "chain/secp.h"
#include "crypto/base/bytes.h"

#define MARKET_PERMIT_TYPE "Permit(address owner,address spender," \
	"uint256 value,uint256 nonce,uint256 deadline)"

/* The EIP-712 digest of struct_hash under the registry's domain. */
void market_registry_digest(const struct chain_deploy *dep,
			    const uint8_t struct_hash[32],
			    uint8_t digest[32]);

/* What the payer hands to a relayer. */
struct market_purchase {
	struct eip712_purchase p;	/* nonce: the registry's for payer */
	uint8_t payer[ETH_ADDR_BYTES];
	uint8_t sig[SECP_SIG_BYTES];	/* over p, by payer */
	bool has_permit;
	struct u256 permit_value;
	uint64_t permit_deadline;
	uint8_t permit_sig[SECP_SIG_BYTES];	/* r ‖ s ‖ v */
};

/*
 * Payer side: read the content's price and the payer's nonces, then sign a
 * Purchase of content `index` for `holder` at the current price (maxPrice
 * = price) with relayer_fee, valid ttl_s seconds of chain time, and a
 * permit for price + fee.  Errors of the chain client (the reason in
 * chain_client_error()).
 */
int market_purchase_sign(struct chain_client *cc,
			 const struct chain_deploy *dep,
			 const struct secp_sk *payer,
			 const struct u256 *index, const uint8_t holder[20],
			 const struct u256 *relayer_fee, uint64_t ttl_s,
			 struct market_purchase *out);
/* buyFor(req, payer, permit, sig) calldata. */
void market_buy_for_call(struct bbuf *out, const struct market_purchase *mp);
/*
 * Relayer side: submit mp from the relayer's account and return the new
 * licence's token id.  ERR_BAD_STATE when it reverts (expired, used
 * nonce, bad signature; the reason in chain_client_error()).
 */
int market_purchase_relay(struct chain_client *cc,
			  const struct chain_deploy *dep,
			  const struct secp_sk *relayer,
			  const struct market_purchase *mp,
			  struct u256 *token_id);

/* Resale (CHAIN.md §5 step 7): list(tokenId, price) by the holder, and
 * buyListed(tokenId, holder, maxPrice) by a buyer who approved the
 * registry; fees and royalty are enforced by the contract.  price must fit
 * uint96 (ERR_RANGE). */
int market_list_call(struct bbuf *out, const struct u256 *token_id,
		     const struct u256 *price);
void market_buy_listed_call(struct bbuf *out, const struct u256 *token_id,
			    const uint8_t holder[20],
			    const struct u256 *max_price);

/*
 * Relayed resale listing (LicenseRegistry.listFor): the licence owner, who
 * may hold no ETH, signs an EIP-712 Listing; any relayer submits it and is
 * owed relayer_fee out of the seller's share when the licence sells.
 */
struct market_listing {
	struct eip712_listing l;	/* nonce: the registry's for the owner */
	uint8_t sig[SECP_SIG_BYTES];	/* over l, by the owner */
};

/* Owner side: read the owner's nonce and the chain time, sign a Listing of
 * token_id at price (must fit uint96: ERR_RANGE) with relayer_fee, valid
 * ttl_s seconds of chain time. */
int market_listing_sign(struct chain_client *cc,
			const struct chain_deploy *dep,
			const struct secp_sk *owner,
			const struct u256 *token_id, const struct u256 *price,
			const struct u256 *relayer_fee, uint64_t ttl_s,
			struct market_listing *out);
/* listFor((tokenId, price, relayerFee, deadline), sig) calldata. */
void market_list_for_call(struct bbuf *out, const struct market_listing *ml);
/* Relayer side: submit ml from the relayer's account.  ERR_BAD_STATE when
 * it reverts (expired, used nonce, bad signature, not the owner, fee
 * above the seller's share; the reason in chain_client_error()). */
int market_listing_relay(struct chain_client *cc,
			 const struct chain_deploy *dep,
			 const struct secp_sk *relayer,
			 const struct market_listing *ml);

/* askPrice(tokenId) calldata: the standing listing's price, 0 if none. */
void market_ask_price_call(struct bbuf *out, const struct u256 *token_id);

/*
 * Relayed unlisting (LicenseRegistry.cancelFor): the licence owner signs an
 * EIP-712 CancelListing; any relayer submits it and gets relayer_fee from
 * the owner's tokens (which needs the owner's allowance to the registry:
 * an owner with no ETH offers 0).
 */
struct market_cancel {
	struct eip712_cancel_listing c;	/* nonce: the registry's for the owner */
	uint8_t sig[SECP_SIG_BYTES];	/* over c, by the owner */
};

int market_cancel_sign(struct chain_client *cc,
		       const struct chain_deploy *dep,
		       const struct secp_sk *owner,
		       const struct u256 *token_id,
		       const struct u256 *relayer_fee, uint64_t ttl_s,
		       struct market_cancel *out);
/* cancelFor(tokenId, relayerFee, deadline, sig) calldata. */
void market_cancel_for_call(struct bbuf *out, const struct market_cancel *mc);
/* ERR_BAD_STATE when it reverts (not listed, expired, used nonce, bad
 * signature, the fee not allowed). */
int market_cancel_relay(struct chain_client *cc,
			const struct chain_deploy *dep,
			const struct secp_sk *relayer,
			const struct market_cancel *mc);

/*
 * Relayed payout (LicenseRegistry.withdrawFor, the calldata of
 * hub_withdraw_for_call): an account owed by the registry (a seller, a
 * creator) with no ETH signs a Withdraw under the registry's domain; `to`
 * gets amount and the relayer fee, both from what it is owed.
 */
struct market_payout {
	struct eip712_withdraw w;	/* nonce: the registry's for w.from */
	uint8_t sig[SECP_SIG_BYTES];
};

int market_payout_sign(struct chain_client *cc,
		       const struct chain_deploy *dep,
		       const struct secp_sk *owner, const uint8_t to[20],
		       const struct u256 *amount, const struct u256 *fee,
		       uint64_t ttl_s, struct market_payout *out);
/* ERR_BAD_STATE when it reverts (more than owed, used nonce, expired). */
int market_payout_relay(struct chain_client *cc,
			const struct chain_deploy *dep,
			const struct secp_sk *relayer,
			const struct market_payout *mp);

#endif /* APPS_MARKET_BUY_H */
