/*
 * EIP-712 typed-data hashes for every type of CHAIN.md §3.  Type strings
 * match the contracts' typehashes byte for byte; the domain is
 * EIP712Domain(string name,string version,uint256 chainId,address
 * verifyingContract) with version "1".
 *
 * digest = keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message)).
 */
#ifndef CHAIN_EIP712_H
#define CHAIN_EIP712_H

#include <stddef.h>
#include <stdint.h>

#include "chain/secp.h"
#include "chain/u256.h"

#define EIP712_TYPE_TICKET "Ticket(address recipient,uint256 faceValue," \
	"uint256 winProb,uint256 senderNonce,bytes32 recipientRandHash," \
	"uint64 expiry)"
#define EIP712_TYPE_VOUCHER "Voucher(address recipient,bytes32 lane," \
	"uint256 cumulative,uint64 expiry)"
#define EIP712_TYPE_WITHDRAW "Withdraw(address from,address to," \
	"uint256 amount,uint256 fee,uint256 nonce,uint64 deadline)"
#define EIP712_TYPE_FUNDPOT "FundPot(address from,address signer," \
	"uint256 amount,uint256 nonce,uint64 deadline)"
#define EIP712_TYPE_PURCHASE "Purchase(uint256 contentIndex,address holder," \
	"uint256 maxPrice,uint256 relayerFee,uint256 nonce,uint64 deadline)"
#define EIP712_TYPE_LISTING "Listing(uint256 tokenId,uint256 price," \
	"uint256 relayerFee,uint256 nonce,uint64 deadline)"
#define EIP712_TYPE_CANCEL_LISTING "CancelListing(uint256 tokenId," \
	"uint256 relayerFee,uint256 nonce,uint64 deadline)"
#define EIP712_TYPE_REDEEM_FEE "RedeemFee(address payee,bytes32 batch," \
	"uint256 fee,uint256 nonce,uint64 deadline)"
#define EIP712_TYPE_KEYREQUEST "KeyRequest(uint256 tokenId," \
	"bytes ephemeralPubKey,uint64 deadline)"

#define EIP712_NAME_HUB "PaymentHub"
#define EIP712_NAME_LICENSE "LicenseRegistry"
#define EIP712_NAME_KEYRELEASE "KeyRelease"

struct eip712_domain {
	const char *name;		/* borrowed */
	uint64_t chain_id;
	uint8_t verifying[ETH_ADDR_BYTES];
};

struct eip712_ticket {
	uint8_t recipient[ETH_ADDR_BYTES];
	struct u256 face_value;
	struct u256 win_prob;
	struct u256 sender_nonce;
	uint8_t recipient_rand_hash[32];
	uint64_t expiry;
};

struct eip712_voucher {
	uint8_t recipient[ETH_ADDR_BYTES];
	uint8_t lane[32];
	struct u256 cumulative;
	uint64_t expiry;
};

struct eip712_withdraw {
	uint8_t from[ETH_ADDR_BYTES];
	uint8_t to[ETH_ADDR_BYTES];
	struct u256 amount;
	struct u256 fee;
	struct u256 nonce;
	uint64_t deadline;
};

struct eip712_fundpot {
	uint8_t from[ETH_ADDR_BYTES];
	uint8_t signer[ETH_ADDR_BYTES];
	struct u256 amount;
	struct u256 nonce;
	uint64_t deadline;
};

struct eip712_purchase {
	struct u256 content_index;
	uint8_t holder[ETH_ADDR_BYTES];
	struct u256 max_price;
	struct u256 relayer_fee;
	struct u256 nonce;
	uint64_t deadline;
};

/* LicenseRegistry.listFor: a relayed resale listing by the licence owner. */
struct eip712_listing {
	struct u256 token_id;
	struct u256 price;
	struct u256 relayer_fee;
	struct u256 nonce;
	uint64_t deadline;
};

/* LicenseRegistry.cancelFor: a relayed unlisting by the licence owner. */
struct eip712_cancel_listing {
	struct u256 token_id;
	struct u256 relayer_fee;
	struct u256 nonce;
	uint64_t deadline;
};

/* PaymentHub.redeemVouchersFor: a payee pays the relayer of a batch. */
struct eip712_redeem_fee {
	uint8_t payee[ETH_ADDR_BYTES];
	uint8_t batch[32];		/* eip712_redeem_batch_hash() */
	struct u256 fee;
	struct u256 nonce;		/* the hub's nonces(payee) */
	uint64_t deadline;
};

struct eip712_key_request {
	struct u256 token_id;
	uint8_t eph_pub[SECP_PK_BYTES];	/* the `bytes ephemeralPubKey` */
	uint64_t deadline;
};

/* keccak256 of a type string. */
void eip712_typehash(uint8_t out[32], const char *type);
void eip712_domain_separator(const struct eip712_domain *d, uint8_t out[32]);
/* keccak256(0x19 ‖ 0x01 ‖ separator ‖ struct_hash). */
void eip712_digest(const uint8_t separator[32], const uint8_t struct_hash[32],
		   uint8_t out[32]);

/* hashStruct() of each type. */
void eip712_hash_ticket(const struct eip712_ticket *t, uint8_t out[32]);
void eip712_hash_voucher(const struct eip712_voucher *v, uint8_t out[32]);
void eip712_hash_withdraw(const struct eip712_withdraw *w, uint8_t out[32]);
void eip712_hash_fundpot(const struct eip712_fundpot *f, uint8_t out[32]);
void eip712_hash_purchase(const struct eip712_purchase *p, uint8_t out[32]);
void eip712_hash_listing(const struct eip712_listing *l, uint8_t out[32]);
void eip712_hash_cancel_listing(const struct eip712_cancel_listing *c,
				uint8_t out[32]);
void eip712_hash_redeem_fee(const struct eip712_redeem_fee *f,
			    uint8_t out[32]);
/* PaymentHub.batchHash: keccak256 of the vouchers' digests under the
 * hub's domain separator sep, in order. */
void eip712_redeem_batch_hash(const uint8_t sep[32],
			      const struct eip712_voucher *v, size_t n,
			      uint8_t out[32]);
void eip712_hash_key_request(const struct eip712_key_request *k,
			     uint8_t out[32]);

#endif /* CHAIN_EIP712_H */
