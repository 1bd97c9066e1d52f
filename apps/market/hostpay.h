/*
 * Hosts paid per epoch (CHAIN.md §5 flow 4: "Hosters: same, paid by the
 * creator per epoch"; docs/market.md §8).
 *
 * A seeder serves chunks to whoever asks and is paid by the viewer, per
 * chunk (chunkpay.h).  A host keeps a creator's content whole in its
 * store, under its storage budget (swarm.storage), whether anyone fetches
 * it or not, and is paid by the creator for each epoch it holds it.  The
 * money goes the same way: cumulative PaymentHub vouchers on a lane of
 * their own to a stealth address of the host, checked by the host's
 * chunkpay payee (signature, expiry, lane, growth, pot and exposure
 * policy), kept, saved and redeemed with the seeder's vouchers.  Only the
 * unit differs: an epoch, not a chunk.
 *
 * Requests to the host's service (one frame each, apps/market/service.h):
 *   TERMS    'T' ‖ content hash (32) ‖ challenge (16) ‖ chunk index (u32)
 *            → 0 ‖ TERMS (chunkpay's, price per epoch, credit 1) ‖
 *              proof (32), or 1 (not hosted: not held whole here),
 *              3 (bad request), 4 (busy: the service's rate per creator)
 * The proof is SHA-256(challenge ‖ index ‖ the chunk's bytes), which only
 * a router holding that chunk can give: the creator draws the challenge
 * and the chunk at random and checks the proof against its own copy.
 *   VOUCHER  'V' ‖ content hash (32) ‖ VOUCHER (chunkpay's, 151)
 *            → 0 ‖ reason (enum chunkpay_reason: OK, or NEED_POT while
 *              the host reads the pot: kept), or 1, or 2 ‖ reason
 *              (refused), or 3
 * The creator asks TERMS at each epoch's end (the host says whether it
 * holds the content whole now and proves it holds the chunk asked) and,
 * when the proof is right, signs the voucher for every epoch held so far
 * on its lane for that (host, content).
 *
 * Pure computation: no clock (callers pass now_s), no I/O.  Loop thread.
 */
#ifndef APPS_MARKET_HOSTPAY_H
#define APPS_MARKET_HOSTPAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/market/chunkpay.h"
#include "crypto/base/bytes.h"

#define HOSTPAY_REQ_TERMS 'T'
#define HOSTPAY_REQ_VOUCHER 'V'
#define HOSTPAY_CHALLENGE_BYTES 16
#define HOSTPAY_PROOF_BYTES 32
#define HOSTPAY_TERMS_REQ_BYTES (1 + 32 + HOSTPAY_CHALLENGE_BYTES + 4)
#define HOSTPAY_VOUCHER_REQ_BYTES (1 + 32 + CHUNKPAY_VOUCHER_BYTES)
#define HOSTPAY_REQ_MAX_BYTES HOSTPAY_VOUCHER_REQ_BYTES
#define HOSTPAY_REPLY_MAX_BYTES (1 + CHUNKPAY_TERMS_BYTES + \
				 HOSTPAY_PROOF_BYTES)

enum hostpay_status {
	HOSTPAY_OK = 0,
	HOSTPAY_NOT_HOSTED = 1,
	HOSTPAY_REFUSED = 2,
	HOSTPAY_BAD_REQUEST = 3,
	HOSTPAY_BUSY = 4,		/* the service's rate per peer */
};

/* Lanes a host follows, and deals a creator keeps, at most. */
#define HOSTPAY_SESSIONS_MAX 1024
#define HOSTPAY_DEALS_MAX 256

/* A challenge's proof: SHA-256(challenge ‖ idx (u32) ‖ the chunk). */
void hostpay_proof(const uint8_t challenge[HOSTPAY_CHALLENGE_BYTES],
		   uint32_t idx, const uint8_t *chunk, size_t len,
		   uint8_t out[HOSTPAY_PROOF_BYTES]);

/* ----------------------------------------------------------------- host */

/* Whether the content of hash is held whole here (the store's word). */
typedef bool (*hostpay_held_fn)(void *ctx, const uint8_t hash[32]);
/* The proof for chunk idx of hash held here (hostpay_proof() over the
 * stored chunk, checked against the content's root): 0, or non-zero
 * when that chunk is not held (answered as not hosted). */
typedef int (*hostpay_prove_fn)(void *ctx, const uint8_t hash[32],
				const uint8_t challenge[HOSTPAY_CHALLENGE_BYTES],
				uint32_t idx,
				uint8_t proof[HOSTPAY_PROOF_BYTES]);

struct hostpay_host_stats {
	uint64_t terms_sent, not_hosted, bad_requests;	/* proofs: terms */
	uint64_t vouchers_ok, vouchers_pending, vouchers_refused;
	uint64_t lanes;			/* creators' lanes followed */
	struct u256 earned;		/* accepted on them (held + redeemed) */
	struct u256 redeemed;		/* of which the chain paid */
};

struct hostpay_host;

/*
 * A host asking price (per content per epoch, uint96) whose vouchers go
 * to payee (borrowed: the seeder's, so that they are kept and redeemed
 * with its own; it must outlive the host).  Caller owns the result.
 */
struct hostpay_host *hostpay_host_new(struct chunkpay_payee *payee,
				      const struct u256 *price,
				      hostpay_held_fn held,
				      hostpay_prove_fn prove, void *ctx);
void hostpay_host_free(struct hostpay_host *h);
/*
 * One request from peer (untrusted; its destination hash), answered in
 * out.  A voucher on a lane not seen opens a session for (peer, content,
 * lane); one refused on a new lane leaves nothing behind.  Returns the
 * payee's reason for a voucher (CHUNKPAY_NEED_POT: *signer names the pot
 * to read, then chunkpay_payee_pot_set()), CHUNKPAY_MALFORMED for a bad
 * request, CHUNKPAY_OK otherwise.
 */
enum chunkpay_reason hostpay_host_request(struct hostpay_host *h,
					  const uint8_t peer[32],
					  const uint8_t *in, size_t len,
					  uint64_t now_s, struct bbuf *out,
					  uint8_t signer[ETH_ADDR_BYTES]);
/* Counters, and earned/redeemed summed over the lanes followed. */
void hostpay_host_stats(const struct hostpay_host *h,
			struct hostpay_host_stats *out);
/* Whether the payee's lane id is one of the host's (its figures are then
 * a host's, not a seeder's). */
bool hostpay_host_has_lane(const struct hostpay_host *h, uint32_t id);

/* ------------------------------------------- host: kept across restarts */

/*
 * The host's lanes (the creator's destination, the content, the lane and
 * E), kept beside the seeder's vouchers file so that after a restart the
 * lanes it restores are the host's again at once: followed, counted as
 * the host's, and never dropped once redeemed while the creator goes on
 * paying on them.  File: magic ‖ count (u32) ‖ count records, big-endian.
 */
#define HOSTPAY_LANES_MAGIC "BHL1"
#define HOSTPAY_LANE_REC_BYTES (3 * 32 + SECP_PK_BYTES)
#define HOSTPAY_LANES_MAX_BYTES (8 + HOSTPAY_SESSIONS_MAX * \
				 HOSTPAY_LANE_REC_BYTES)
/* Grows with every lane added or dropped. */
uint64_t hostpay_host_changes(const struct hostpay_host *h);
void hostpay_host_lanes_encode(const struct hostpay_host *h,
			       struct bbuf *out);
/*
 * The lanes of a file (untrusted bytes): each one the payee holds as a
 * closed lane (restored from the kept vouchers) is followed again;
 * *adopted counts them, the rest (paid in full before the restart) are
 * left.  ERR_FORMAT, ERR_TRUNCATED, ERR_TOO_BIG (past
 * HOSTPAY_SESSIONS_MAX): nothing adopted.
 */
int hostpay_host_lanes_load(struct hostpay_host *h, const uint8_t *in,
			    size_t len, size_t *adopted);

/* -------------------------------------------------------------- creator */

struct hostpay_creator_config {
	struct u256 max_price;		/* per content per epoch */
	struct u256 budget;		/* per (host, content) in all; 0: none */
	uint64_t ttl_s;			/* voucher expiry = now + ttl_s */
};

struct hostpay_creator_stats {
	uint64_t epochs_paid, vouchers_sent, vouchers_ok, vouchers_refused;
	uint64_t not_hosted, terms_refused, over_budget;
	uint64_t proofs_failed;		/* a wrong proof: not paid */
	struct u256 paid;		/* signed to hosts in all */
};

/* One (host, content) deal, for the status. */
struct hostpay_deal_info {
	uint8_t host[32], hash[32];
	uint64_t epochs;
	struct u256 paid;		/* cumulative over its lanes */
	struct u256 price;
	uint8_t recipient[ETH_ADDR_BYTES];	/* its current lane's */
};

struct hostpay_creator;

/* pot_sk borrowed (it must outlive the creator); cfg copied. */
struct hostpay_creator *hostpay_creator_new(
	const struct hostpay_creator_config *cfg,
	const struct secp_sk *pot_sk, const uint8_t domain_sep[32]);
void hostpay_creator_free(struct hostpay_creator *c);
/* The TERMS request for hash, challenging chunk idx. */
void hostpay_terms_request(const uint8_t hash[32],
			   const uint8_t challenge[HOSTPAY_CHALLENGE_BYTES],
			   uint32_t idx, uint8_t out[HOSTPAY_TERMS_REQ_BYTES]);
/*
 * The host's answer to TERMS for hash (untrusted), whose proof must be
 * `expect` (hostpay_proof() over our own copy of the chunk challenged).
 * When it holds the content whole, proves it, asks an acceptable price
 * and the budget allows another epoch, the voucher for every epoch held
 * so far is signed and its request written to req
 * (HOSTPAY_VOUCHER_REQ_BYTES): 0.  ERR_NOT_FOUND (not hosted: this epoch
 * is not paid), ERR_AUTH (a wrong proof: not paid), ERR_RANGE (a price
 * over our maximum), ERR_LIMIT (the budget is spent, or too many deals),
 * ERR_FORMAT/ERR_TRUNCATED (a bad answer).
 */
int hostpay_creator_terms(struct hostpay_creator *c, const uint8_t host[32],
			  const uint8_t hash[32],
			  const uint8_t expect[HOSTPAY_PROOF_BYTES],
			  const uint8_t *reply, size_t len, uint64_t now_s,
			  uint8_t req[HOSTPAY_VOUCHER_REQ_BYTES]);
/*
 * The host's answer to that voucher (untrusted).  0 when kept (accepted,
 * or waiting on its pot read); ERR_BAD_SIG etc. when refused: a lane the
 * host no longer follows (restarted, changed keys) is dropped and the
 * next epoch opens a new one, the budget spent so far still counted.
 */
int hostpay_creator_voucher_reply(struct hostpay_creator *c,
				  const uint8_t host[32],
				  const uint8_t hash[32],
				  const uint8_t *reply, size_t len);
void hostpay_creator_stats(const struct hostpay_creator *c,
			   struct hostpay_creator_stats *out);
/* Up to max deals into out; how many were written. */
size_t hostpay_creator_deals(const struct hostpay_creator *c,
			     struct hostpay_deal_info *out, size_t max);

#endif /* APPS_MARKET_HOSTPAY_H */
