/*
 * Pay per chunk (CHAIN.md §5 flow 4 "Seed", docs/market.md §7): a viewer
 * pays each seeder by cumulative PaymentHub vouchers for the chunks it
 * received and verified; the seeder checks each voucher, keeps the latest
 * per lane and redeems them in batches.
 *
 * "Seed: session with seeder's hidden service; seeder sends price,
 * meta-address; downloader derives S, random lane L; pays a Voucher per
 * verified chunk (or growing batch); seeder keeps the latest."
 *
 * Messages (opaque to the swarm, which carries them in its PAY frames):
 *   TERMS   1 ‖ version 1 ‖ meta-address 66 ‖ price per chunk 12 (uint96)
 *           ‖ credit u16 (chunks the seeder serves ahead of payment)
 *   VOUCHER 2 ‖ E 33 ‖ lane 32 ‖ cumulative 12 (uint96) ‖ expiry 8 ‖ sig 65
 * All big-endian.  The recipient is not sent: the seeder derives its
 * stealth address S from E (a fresh e per session, so every payee address
 * is distinct and single-use, CHAIN.md §1.3).
 *
 * Payer policy, in code: the price must be at most the viewer's maximum;
 * one voucher per `batch` verified chunks (never ahead of what was
 * received); a fresh stealth address and random lane per session.
 * Payee policy (CHAIN.md §5): signature valid; expiry ≤ maxPaperTTL; the
 * lane, E and signer fixed for a session; cumulative growing; a chunk
 * served only while served - paid < credit; pot known, funded and not
 * unlocking; own outstanding exposure to the pot ≤ escrow / 8; a batch is
 * redeemed only when it is worth ≥ 100× the redemption cost per voucher
 * (or when forced: a pot unlocking, the end of a run).
 *
 * Pure computation: no clock (callers pass now_s), no I/O.  Not
 * thread-safe; one owner (the loop).
 */
#ifndef APPS_MARKET_CHUNKPAY_H
#define APPS_MARKET_CHUNKPAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/calls.h"
#include "crypto/base/bytes.h"
#include "chain/eip712.h"
#include "chain/secp.h"
#include "chain/stealth.h"
#include "chain/u256.h"

#define CHUNKPAY_VERSION 1
#define CHUNKPAY_MSG_TERMS 1
#define CHUNKPAY_MSG_VOUCHER 2
#define CHUNKPAY_AMOUNT_BYTES 12		/* uint96, as pots hold */
#define CHUNKPAY_TERMS_BYTES (2 + STEALTH_META_BYTES + \
			      CHUNKPAY_AMOUNT_BYTES + 2)
#define CHUNKPAY_VOUCHER_BYTES (1 + SECP_PK_BYTES + 32 + \
				CHUNKPAY_AMOUNT_BYTES + 8 + SECP_SIG_BYTES)
#define CHUNKPAY_MSG_MAX_BYTES CHUNKPAY_VOUCHER_BYTES
/* "face value ≥ 100× redemption cost": a batch's worth. */
#define CHUNKPAY_MIN_BATCH_PER_COST 100
/* "own outstanding exposure to the pot ≤ escrow / 8". */
#define CHUNKPAY_EXPOSURE_ESCROW_DIV 8
#define CHUNKPAY_LANES_MAX 4096
#define CHUNKPAY_POTS_MAX 4096

struct chunkpay_terms {
	struct stealth_meta meta;
	struct u256 price;		/* per chunk, uint96 */
	uint16_t credit;		/* chunks served before a voucher */
};

/* The first byte of a message (CHUNKPAY_MSG_*), or -1 when empty. */
int chunkpay_msg_type(const uint8_t *in, size_t len);
/* ERR_RANGE for a price over uint96. */
int chunkpay_terms_encode(const struct chunkpay_terms *t,
			  uint8_t out[CHUNKPAY_TERMS_BYTES]);
/* Untrusted bytes: ERR_TRUNCATED/ERR_TOO_BIG for a wrong size,
 * ERR_UNSUPPORTED for another version, ERR_FORMAT for a bad point or a
 * zero credit. */
int chunkpay_terms_decode(const uint8_t *in, size_t len,
			  struct chunkpay_terms *out);

/* A decoded VOUCHER (not checked yet). */
struct chunkpay_voucher {
	struct secp_pk eph;
	uint8_t lane[32];
	struct u256 cumulative;
	uint64_t expiry;
	uint8_t sig[SECP_SIG_BYTES];
};
int chunkpay_voucher_encode(const struct chunkpay_voucher *v,
			    uint8_t out[CHUNKPAY_VOUCHER_BYTES]);
/* As chunkpay_terms_decode(); ERR_FORMAT for E off the curve or a v
 * not 27/28. */
int chunkpay_voucher_decode(const uint8_t *in, size_t len,
			    struct chunkpay_voucher *out);

/* ---------------------------------------------------------------- payer */

struct chunkpay_payer_config {
	struct u256 max_price;		/* per chunk */
	unsigned max_batch;		/* pay every min(max_batch, credit)
					 * chunks at most (≥ 1) */
	uint64_t ttl_s;			/* voucher expiry = now + ttl_s */
};

/* One seeder session of a viewer. */
struct chunkpay_payer;

/*
 * A payer for one session, signing with pot_sk (borrowed: it must outlive
 * the payer) under the PaymentHub domain separator.  Caller owns it.
 */
struct chunkpay_payer *chunkpay_payer_new(const struct chunkpay_payer_config *c,
					  const struct secp_sk *pot_sk,
					  const uint8_t domain_sep[32]);
/* Wipe and release.  Accepts NULL. */
void chunkpay_payer_free(struct chunkpay_payer *p);
/*
 * The seeder's TERMS (untrusted).  Derives the stealth address S with a
 * fresh e and draws the lane.  ERR_RANGE for a price over the maximum,
 * ERR_EXISTS when terms came already (they are fixed per session),
 * decoding errors as chunkpay_terms_decode().
 */
int chunkpay_payer_terms(struct chunkpay_payer *p, const uint8_t *in,
			 size_t len);
bool chunkpay_payer_has_terms(const struct chunkpay_payer *p);
/*
 * One chunk received and verified.  When a voucher is due (every batch
 * chunks) it is signed for the cumulative price of every chunk received
 * so far, written to out and 1 is returned; 0 when none is due yet;
 * ERR_BAD_STATE without terms.
 */
int chunkpay_payer_chunk(struct chunkpay_payer *p, uint64_t now_s,
			 uint8_t out[CHUNKPAY_VOUCHER_BYTES]);
/* The voucher for everything received, whether due or not (at the end of
 * a content); 0 when nothing is unpaid. */
int chunkpay_payer_flush(struct chunkpay_payer *p, uint64_t now_s,
			 uint8_t out[CHUNKPAY_VOUCHER_BYTES]);
/* Chunks received, the cumulative signed so far, the stealth address. */
uint64_t chunkpay_payer_chunks(const struct chunkpay_payer *p);
struct u256 chunkpay_payer_paid(const struct chunkpay_payer *p);
void chunkpay_payer_recipient(const struct chunkpay_payer *p,
			      uint8_t out[ETH_ADDR_BYTES]);

/* ---------------------------------------------------------------- payee */

enum chunkpay_reason {
	CHUNKPAY_OK,
	CHUNKPAY_MALFORMED,	/* decode failed */
	CHUNKPAY_BAD_SIG,	/* the signature does not recover */
	CHUNKPAY_EXPIRED,	/* expiry ≤ now */
	CHUNKPAY_TTL_TOO_LONG,	/* expiry > now + maxPaperTTL */
	CHUNKPAY_WRONG_LANE,	/* E, lane or signer changed in a session */
	CHUNKPAY_STALE,		/* cumulative not above the last one */
	CHUNKPAY_NEED_POT,	/* pot state unknown: kept pending */
	CHUNKPAY_NO_POT,	/* no funded pot for the signer */
	CHUNKPAY_UNLOCKING,	/* the pot is unlocking */
	CHUNKPAY_EXPOSURE,	/* exposure to the pot over escrow / 8 */
};
const char *chunkpay_reason_str(enum chunkpay_reason r);

struct chunkpay_policy {
	struct u256 price;		/* per chunk */
	uint16_t credit;		/* chunks served ahead of payment */
	uint64_t max_paper_ttl_s;	/* NetworkGenesis maxPaperTTL */
	uint64_t min_ttl_s;		/* a voucher must live this long to be
					 * redeemed in time */
	struct u256 redeem_cost;	/* token cost of redeeming one voucher */
};

struct chunkpay_payee;

/*
 * A payee for the stealth keys (view secret copied and wiped on free,
 * spend public key) under the hub's domain separator and policy
 * (copied).  Caller owns the result.
 */
struct chunkpay_payee *chunkpay_payee_new(const struct chunkpay_policy *pol,
					  const uint8_t domain_sep[32],
					  const struct secp_sk *view,
					  const struct secp_pk *spend_pk);
void chunkpay_payee_free(struct chunkpay_payee *p);
/* The TERMS a new session is sent. */
void chunkpay_payee_terms(const struct chunkpay_payee *p,
			  uint8_t out[CHUNKPAY_TERMS_BYTES]);

/* TERMS at another price and credit (a host's per epoch, apps/market/
 * hostpay.h), with the payee's meta-address; ERR_RANGE-free: a price over
 * uint96 gives zeros. */
void chunkpay_payee_terms_at(const struct chunkpay_payee *p,
			     const struct u256 *price, uint16_t credit,
			     uint8_t out[CHUNKPAY_TERMS_BYTES]);

/* A session (one peer's lane) by id; ERR_LIMIT past CHUNKPAY_LANES_MAX. */
int chunkpay_session_open(struct chunkpay_payee *p, uint32_t *id);
/*
 * A closed lane (its peer gone, or restored after a restart) that is still
 * owed, bound to E and lane, open again as a session for a peer that goes
 * on paying on it (a creator paying a host per epoch): *id.  ERR_NOT_FOUND
 * when there is none (open a new session).
 */
int chunkpay_session_resume(struct chunkpay_payee *p,
			    const struct secp_pk *eph, const uint8_t lane[32],
			    uint32_t *id);
/* The peer went; its latest voucher stays until redeemed. */
void chunkpay_session_close(struct chunkpay_payee *p, uint32_t id);
/* May another chunk be served (served - paid < credit)? */
bool chunkpay_session_may_serve(const struct chunkpay_payee *p, uint32_t id);
/* A chunk was sent. */
void chunkpay_session_served(struct chunkpay_payee *p, uint32_t id);
/* Chunks served and chunks paid by accepted vouchers. */
void chunkpay_session_counts(const struct chunkpay_payee *p, uint32_t id,
			     uint64_t *served, uint64_t *paid);
/* The latest accepted cumulative of a session's lane (what was redeemed
 * when none is held) and what the chain paid of it; false for an unknown
 * id (a lane closed and paid in full is gone). */
bool chunkpay_session_value(const struct chunkpay_payee *p, uint32_t id,
			    struct u256 *accepted, struct u256 *redeemed);
/*
 * A VOUCHER from the session's peer (untrusted).  CHUNKPAY_NEED_POT: the
 * voucher is kept pending and *signer names the pot to fetch (then
 * chunkpay_payee_pot_set()).  signer may be NULL.
 */
enum chunkpay_reason chunkpay_session_voucher(struct chunkpay_payee *p,
					      uint32_t id, const uint8_t *in,
					      size_t len, uint64_t now_s,
					      uint8_t signer[ETH_ADDR_BYTES]);
/*
 * The chain's state of signer's pot (NULL: no pot).  Pending vouchers of
 * that signer are judged again; returns how many were accepted.
 */
size_t chunkpay_payee_pot_set(struct chunkpay_payee *p,
			      const uint8_t signer[ETH_ADDR_BYTES],
			      const struct hub_pot *pot, uint64_t now_s);
/* Accepted and not yet redeemed value of the vouchers of signer. */
struct u256 chunkpay_payee_exposure(const struct chunkpay_payee *p,
				    const uint8_t signer[ETH_ADDR_BYTES]);

/* A batch for PaymentHub.redeemVouchers: the latest voucher of each lane
 * with something unredeemed, and E for the stealth spend key. */
struct chunkpay_batch {
	struct eip712_voucher *v;
	uint8_t (*sig)[SECP_SIG_BYTES];
	struct secp_pk *eph;
	uint32_t *lane_id;
	struct u256 *owed;		/* each voucher's unredeemed value */
	size_t n;
	struct u256 total;		/* unredeemed value in it */
};
void chunkpay_batch_free(struct chunkpay_batch *b);
/*
 * The batch due at now_s: every lane with accepted value not redeemed,
 * when the total is worth ≥ 100× the redemption cost per voucher or
 * force is set (a pot unlocking, an expiry near).  0 with an empty
 * batch when nothing is due.
 */
int chunkpay_payee_batch(const struct chunkpay_payee *p, bool force,
			 struct chunkpay_batch *out);
/*
 * The batch to redeem at now_s: chunkpay_payee_batch(p, false), or the
 * forced one when a voucher in it expires within margin_s (it must reach
 * the chain before it expires, whatever it is worth).
 */
int chunkpay_payee_batch_due(const struct chunkpay_payee *p, uint64_t now_s,
			     uint64_t margin_s, struct chunkpay_batch *out);
/* The batch b was redeemed on chain: its lanes are paid up to it (closed
 * lanes paid in full are dropped). */
void chunkpay_payee_redeemed(struct chunkpay_payee *p,
			     const struct chunkpay_batch *b);
/* ------------------------------------------------ kept across restarts */

/* A lane's latest accepted voucher and what the chain paid of it. */
struct chunkpay_saved {
	struct secp_pk eph;
	uint8_t signer[ETH_ADDR_BYTES];
	struct eip712_voucher v;	/* recipient, lane, cumulative, expiry */
	uint8_t sig[SECP_SIG_BYTES];
	struct u256 redeemed;
};
#define CHUNKPAY_SAVED_MAGIC "BVS1"
#define CHUNKPAY_SAVED_HEAD_BYTES 8	/* magic ‖ count (u32) */
#define CHUNKPAY_SAVED_BYTES (SECP_PK_BYTES + 2 * ETH_ADDR_BYTES + 32 + \
			      32 + 8 + SECP_SIG_BYTES + 32)

/* Every lane owed something (a voucher accepted and not all redeemed),
 * in *out (the caller frees it); their count. */
size_t chunkpay_payee_saved(const struct chunkpay_payee *p,
			    struct chunkpay_saved **out);
/* Grows with every voucher accepted and every redemption noted: what
 * chunkpay_payee_saved() gives may have changed. */
uint64_t chunkpay_payee_changes(const struct chunkpay_payee *p);
/*
 * A lane saved before a restart, back as a closed lane (its peer is gone)
 * owed until redeemed, checked as a voucher received: the recipient is
 * our stealth address for E, the signature recovers to the signer,
 * something is owed, it expires after now_s.  ERR_EXPIRED, ERR_BAD_SIG,
 * ERR_FORMAT, ERR_EXISTS (that lane is held already), ERR_LIMIT.
 */
int chunkpay_payee_restore(struct chunkpay_payee *p,
			   const struct chunkpay_saved *s, uint64_t now_s);
/* The saved lanes as bytes: magic ‖ count (u32) ‖ count records of
 * E ‖ signer ‖ recipient ‖ lane ‖ cumulative ‖ expiry ‖ sig ‖ redeemed,
 * all big-endian.  Decoding takes untrusted bytes: ERR_TRUNCATED,
 * ERR_FORMAT, ERR_TOO_BIG past CHUNKPAY_LANES_MAX; *out freed by the
 * caller. */
void chunkpay_saved_encode(const struct chunkpay_saved *s, size_t n,
			   struct bbuf *out);
int chunkpay_saved_decode(const uint8_t *in, size_t len,
			  struct chunkpay_saved **out, size_t *n);
/* PaymentHub's key of a lane: keccak256(signer ‖ lane ‖ recipient), each
 * in a word (redeemed(key) is what the chain paid of it). */
void chunkpay_lane_key(const uint8_t signer[ETH_ADDR_BYTES],
		       const uint8_t lane[32],
		       const uint8_t recipient[ETH_ADDR_BYTES],
		       uint8_t key[32]);
/*
 * What the chain paid of a lane (PaymentHub.redeemed(key), read after a
 * restart or a redemption whose answer was lost): the lane's redeemed is
 * raised to it, so a voucher the chain paid is never sent again; a
 * closed lane paid in full is dropped.
 */
void chunkpay_payee_chain_redeemed(struct chunkpay_payee *p,
				   const uint8_t signer[ETH_ADDR_BYTES],
				   const uint8_t lane[32],
				   const uint8_t recipient[ETH_ADDR_BYTES],
				   const struct u256 *redeemed);

/* A random delay before the next redemption, in [min_ms, max_ms]
 * (redemptions at random times do not line up with sessions). */
uint64_t chunkpay_redeem_delay_ms(uint64_t min_ms, uint64_t max_ms);

#endif /* APPS_MARKET_CHUNKPAY_H */
