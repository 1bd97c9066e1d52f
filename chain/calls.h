/*
 * The contract layer for the [C1] set (chain/contracts/src): calldata
 * encoders for what the client sends, decoders for the events it reads,
 * the names of the contracts' custom errors (for revert messages), the
 * deploy JSON, and "paper": a signed voucher or ticket as one ABI blob
 * that payers hand to payees.
 *
 * Encoders append calldata (selector ‖ ABI arguments) to out.  Decoders
 * take untrusted log data and fail with ERR_FORMAT/ERR_TRUNCATED.
 */
#ifndef CHAIN_CALLS_H
#define CHAIN_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "chain/eip712.h"
#include "chain/jsonrpc.h"
#include "chain/secp.h"
#include "chain/u256.h"

/* ------------------------------------------------------------ deployment */

/* Largest deploy JSON accepted. */
#define CHAIN_DEPLOY_MAX_BYTES (64u * 1024)

struct chain_deploy {
	uint64_t chain_id;
	uint8_t token[20];
	uint8_t treasury[20];		/* FeeSplitter */
	uint8_t genesis[20];		/* NetworkGenesis */
	uint8_t license_registry[20];
	uint8_t key_release[20];
	uint8_t payment_hub[20];
	uint8_t did_registry[20];
	bool has_network_id;
	uint8_t network_id[32];
	uint64_t start_block;		/* first block worth scanning */
};

/*
 * Parse the deploy script's JSON (chain/contracts/script): an object with
 * chainId and the contract addresses, keys matched without regard to
 * case (token, treasury or feeSplitter, genesis or networkGenesis,
 * licenseRegistry, keyRelease, paymentHub, didRegistry), possibly nested
 * under "contracts".  ERR_FORMAT names nothing; *why (may be NULL) gets a
 * static reason.
 */
int chain_deploy_parse(const char *json, size_t len, struct chain_deploy *out,
		       const char **why);

/* -------------------------------------------------------------- ERC-20 */
void erc20_balance_of(struct bbuf *out, const uint8_t who[20]);
void erc20_allowance(struct bbuf *out, const uint8_t owner[20],
		     const uint8_t spender[20]);
void erc20_approve(struct bbuf *out, const uint8_t spender[20],
		   const struct u256 *amount);
void erc20_transfer(struct bbuf *out, const uint8_t to[20],
		    const struct u256 *amount);
/* BitsTestToken.mint (test token only). */
void erc20_mint(struct bbuf *out, const uint8_t to[20],
		const struct u256 *amount);

/* ----------------------------------------------------- LicenseRegistry */
struct license_publish {
	uint8_t content_hash[32];
	struct u256 price;		/* uint96: ERR_RANGE above */
	uint16_t royalty_bps;
	uint8_t key_agent[20];
	uint16_t agent_fee_bps;
	uint8_t key_commitment[32];
};
int license_publish_call(struct bbuf *out, const struct license_publish *p);
void license_buy_call(struct bbuf *out, const struct u256 *index,
		      const uint8_t holder[20], const struct u256 *max_price);
void license_withdraw_call(struct bbuf *out, const uint8_t to[20]);
void license_owner_of_call(struct bbuf *out, const struct u256 *token_id);
void license_owed_call(struct bbuf *out, const uint8_t who[20]);
void license_index_of_call(struct bbuf *out, const uint8_t content_hash[32]);
/* content(index) → (creator, serial, royaltyBps, agentFeeBps, keyAgent,
 * price, keyCommitment). */
void license_content_call(struct bbuf *out, const struct u256 *index);
struct license_content {
	uint8_t creator[20];
	uint64_t serial;
	uint16_t royalty_bps;
	uint16_t agent_fee_bps;
	uint8_t key_agent[20];
	struct u256 price;
	uint8_t key_commitment[32];
};
int license_content_decode(const uint8_t *ret, size_t len,
			   struct license_content *out);
/* keyCommitment = keccak256(K ‖ contentHash) (CHAIN.md §5.1). */
void license_key_commitment(const uint8_t key[32],
			    const uint8_t content_hash[32], uint8_t out[32]);

/* ---------------------------------------------------------- KeyRelease */
void keyrel_request_call(struct bbuf *out, const struct u256 *token_id,
			 const struct secp_pk *eph);
void keyrel_deliver_call(struct bbuf *out, const struct u256 *token_id,
			 const uint8_t holder[20], const uint8_t wrapped[32]);
/*
 * The key wrap of CHAIN.md §5.3: w = K ⊕ keccak256(address(dh) ‖
 * requestId) where dh = a·E (agent side) = e·A (holder side).  `self` is
 * our secret key (a or e), `peer` the other public key (E or A).  The same
 * call wraps and unwraps.
 */
int keyrel_wrap(uint8_t out[32], const uint8_t in[32],
		const struct secp_sk *self, const struct secp_pk *peer,
		const uint8_t request_id[32]);

/* ---------------------------------------------------------- PaymentHub */
int hub_fund_call(struct bbuf *out, const uint8_t signer[20],
		  const struct u256 *deposit, const struct u256 *escrow);
void hub_request_unlock_call(struct bbuf *out, const uint8_t signer[20]);
void hub_withdraw_pot_call(struct bbuf *out, const uint8_t signer[20]);
void hub_balances_call(struct bbuf *out, const uint8_t who[20]);
void hub_nonces_call(struct bbuf *out, const uint8_t who[20]);
/* isNonceUsed(signer, nonce): a ticket's nonce spent on the chain (its
 * answer: one ABI bool, abi_dec_bool). */
void hub_is_nonce_used_call(struct bbuf *out, const uint8_t signer[20],
			    const struct u256 *nonce);
void hub_pots_call(struct bbuf *out, const uint8_t signer[20]);
struct hub_pot {
	struct u256 deposit;
	struct u256 fees;
	uint64_t unlock_at;
	uint8_t funder[20];
	struct u256 escrow;
};
int hub_pot_decode(const uint8_t *ret, size_t len, struct hub_pot *out);
void hub_withdraw_call(struct bbuf *out, const uint8_t to[20],
		       const struct u256 *amount);
/* withdrawFor(from, to, amount, fee, deadline, sig): w.nonce is not sent
 * (the contract uses nonces[from]). */
void hub_withdraw_for_call(struct bbuf *out, const struct eip712_withdraw *w,
			   const uint8_t sig[SECP_SIG_BYTES]);
int hub_fund_from_balance_call(struct bbuf *out,
			       const struct eip712_fundpot *f,
			       const uint8_t sig[SECP_SIG_BYTES]);
void hub_redeem_voucher_call(struct bbuf *out, const struct eip712_voucher *v,
			     const uint8_t sig[SECP_SIG_BYTES]);
void hub_redeem_vouchers_call(struct bbuf *out, size_t n,
			      const struct eip712_voucher *v,
			      const uint8_t (*sigs)[SECP_SIG_BYTES]);
/* redeemVouchersFor(vs, sigs, payee, fee, deadline, feeSig): the batch
 * and its relayer's fee, a RedeemFee signed by f->payee. */
void hub_redeem_vouchers_for_call(struct bbuf *out, size_t n,
				  const struct eip712_voucher *v,
				  const uint8_t (*sigs)[SECP_SIG_BYTES],
				  const struct eip712_redeem_fee *f,
				  const uint8_t fee_sig[SECP_SIG_BYTES]);
void hub_redeem_ticket_call(struct bbuf *out, const struct eip712_ticket *t,
			    const uint8_t sig[SECP_SIG_BYTES],
			    const uint8_t rand[32]);
void hub_redeem_tickets_call(struct bbuf *out, size_t n,
			     const struct eip712_ticket *t,
			     const uint8_t (*sigs)[SECP_SIG_BYTES],
			     const uint8_t rand[32]);
void hub_hash_voucher_call(struct bbuf *out, const struct eip712_voucher *v);
void hub_hash_ticket_call(struct bbuf *out, const struct eip712_ticket *t);
void hub_domain_separator_call(struct bbuf *out);
/* Off-chain win check (CHAIN.md §7): keccak256(sig ‖ rand) < winProb. */
bool hub_ticket_wins(const struct eip712_ticket *t,
		     const uint8_t sig[SECP_SIG_BYTES], const uint8_t rand[32]);

/* --------------------------------------------------------- DIDRegistry */
/* name: a short text of ≤ 32 bytes, as bytes32 ("stealth/meta"). */
int did_set_attribute_call(struct bbuf *out, const uint8_t identity[20],
			   const char *name, const uint8_t *value,
			   size_t value_len, uint64_t validity_s);
void did_identity_owner_call(struct bbuf *out, const uint8_t identity[20]);

/* -------------------------------------------------------------- events */
/* topic0 of an event signature, e.g. "Transfer(address,address,uint256)". */
void chain_event_topic(uint8_t out[32], const char *signature);

#define EV_CONTENT_PUBLISHED "ContentPublished(uint256,bytes32,address," \
	"uint256,uint256,address,bytes32)"
#define EV_LICENSE_PURCHASED "LicensePurchased(uint256,uint256)"
#define EV_KEY_REQUESTED "KeyRequested(uint256,address,bytes)"
#define EV_KEY_DELIVERED "KeyDelivered(uint256,address,bytes32)"
#define EV_POT_FUNDED "PotFunded(address,address,uint256,uint256)"
#define EV_VOUCHER_REDEEMED "VoucherRedeemed(address,address,bytes32,uint256)"
#define EV_TICKET_REDEEMED "TicketRedeemed(address,address,uint256)"
#define EV_HUB_WITHDRAWN "Withdrawn(address,address,uint256,uint256)"
#define EV_DID_ATTRIBUTE "DIDAttributeChanged(address,bytes32,bytes," \
	"uint256,uint256)"
#define EV_ANNOUNCEMENT "Announcement(uint256,address,address,bytes,bytes)"

struct ev_content_published {
	struct u256 index;
	uint8_t content_hash[32];
	uint8_t creator[20];
	struct u256 price;
	uint8_t key_agent[20];
	uint8_t key_commitment[32];
};
int ev_content_published_decode(const struct chain_log *l,
				struct ev_content_published *out);
/* LicensePurchased(tokenId indexed, price). */
int ev_license_purchased_decode(const struct chain_log *l,
				struct u256 *token_id, struct u256 *price);
struct ev_key_requested {
	struct u256 token_id;
	uint8_t holder[20];
	struct secp_pk eph;
};
int ev_key_requested_decode(const struct chain_log *l,
			    struct ev_key_requested *out);
int ev_key_delivered_decode(const struct chain_log *l, struct u256 *token_id,
			    uint8_t holder[20], uint8_t wrapped[32]);
struct ev_did_attribute {
	uint8_t identity[20];
	uint8_t name[32];
	const uint8_t *value;	/* borrowed from the log */
	size_t value_len;
	struct u256 valid_to;
};
int ev_did_attribute_decode(const struct chain_log *l,
			    struct ev_did_attribute *out);
/* ERC-5564 Announcement: stealth address, E (ephemeral key) and the view
 * tag (metadata[0]). */
struct ev_announcement {
	uint64_t scheme_id;
	uint8_t stealth[20];
	struct secp_pk eph;
	uint8_t view_tag;
};
int ev_announcement_decode(const struct chain_log *l,
			   struct ev_announcement *out);

/* ------------------------------------------------------- custom errors */
/* The name of a custom error of the [C1] contracts, or NULL. */
const char *chain_calls_error_name(const uint8_t sel[4]);

/* --------------------------------------------------------------- paper */
/* Largest encoded paper (a ticket and its signature). */
#define CHAIN_PAPER_MAX_BYTES 512
/* abi.encode(Voucher, bytes sig) / abi.encode(Ticket, bytes sig). */
void chain_voucher_paper_encode(struct bbuf *out,
				const struct eip712_voucher *v,
				const uint8_t sig[SECP_SIG_BYTES]);
int chain_voucher_paper_decode(const uint8_t *p, size_t len,
			       struct eip712_voucher *v,
			       uint8_t sig[SECP_SIG_BYTES]);
void chain_ticket_paper_encode(struct bbuf *out, const struct eip712_ticket *t,
			       const uint8_t sig[SECP_SIG_BYTES]);
int chain_ticket_paper_decode(const uint8_t *p, size_t len,
			      struct eip712_ticket *t,
			      uint8_t sig[SECP_SIG_BYTES]);

#endif /* CHAIN_CALLS_H */
