/*
 * Paid relaying (CHAIN.md §5 flow 5, docs/relaypay.md): lottery tickets
 * that a tunnel creator hands to each hop that asks for pay, and the hop's
 * side that checks them, draws them and keeps the winners for a batch
 * redemption after its epoch ends.
 *
 * Payer: relaypay_ticket_make() sizes a PaymentHub Ticket for the bytes a
 * hop is expected to carry (face value and price per GiB from config, so
 * face × winProb / 2^256 = bytes × price / 2^30), pays it to a stealth
 * address derived from the hop's published meta-address with a fresh
 * ephemeral key, binds it to the hop's published epoch commitment
 * H(r_epoch) and signs it with the pot signer key.
 *
 * Wire: relaypay_wire_encode() writes it in RELAYPAY_WIRE_BYTES (the
 * recipient is not sent: the hop derives it from E; only 4 bytes of the
 * commitment are sent: the hop knows its own).
 *
 * Payee: struct relaypay_payee holds the epoch secrets (r_epoch, rotated by
 * relaypay_payee_tick()), the replay set and the winners.  A ticket goes
 * through two steps, so the pot state can be fetched from the chain in
 * between: relaypay_payee_check() (decode, epoch, recipient, signer,
 * expiry, face value, replay) and relaypay_payee_accept() (pot not
 * unlocking, exposure ≤ escrow / 8, then the draw exactly as
 * PaymentHub._redeemTicket computes it).  relaypay_payee_batch_take()
 * hands over an ended epoch's winners with its r_epoch for redeemTickets.
 *
 * Pure computation: no clock (callers pass now_s), no I/O.  Not
 * thread-safe; one owner (the loop).
 */
#ifndef CHAIN_RELAYPAY_H
#define CHAIN_RELAYPAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "chain/calls.h"
#include "chain/eip712.h"
#include "chain/secp.h"
#include "chain/stealth.h"
#include "chain/u256.h"

/* Wire format version 1:
 *   version 1 ‖ E 33 ‖ faceValue 12 (uint96) ‖ winProb top 8 ‖
 *   senderNonce 8 ‖ expiry 8 ‖ commitment tag 4 ‖ sig 65  (big-endian) */
#define RELAYPAY_WIRE_VERSION 1
#define RELAYPAY_WIRE_BYTES 139
#define RELAYPAY_FACE_BYTES 12		/* PaymentHub pots hold uint96 */
#define RELAYPAY_TAG_BYTES 4
/* "face value ≥ 100× redemption cost" (CHAIN.md §5). */
#define RELAYPAY_MIN_FACE_PER_COST 100
/* "own outstanding exposure to the pot ≤ escrow / 8". */
#define RELAYPAY_EXPOSURE_ESCROW_DIV 8
#define RELAYPAY_GIB_SHIFT 30

/* What a hop publishes (RouterInfo options, docs/relaypay.md §2). */
struct relaypay_hop_info {
	struct stealth_meta meta;
	uint8_t commitment[32];		/* keccak256(r_epoch) */
};

/* Payer pricing (config relay.pay.*). */
struct relaypay_price {
	struct u256 price_per_gib;	/* token units per 2^30 bytes */
	struct u256 face_value;		/* ≤ 2^96 - 1 */
	uint64_t ttl_s;			/* expiry = now + ttl_s */
};

/* A signed ticket and the ephemeral key the hop needs to find it. */
struct relaypay_ticket {
	struct eip712_ticket t;
	uint8_t sig[SECP_SIG_BYTES];
	struct secp_pk eph;
};

/*
 * winProb for a ticket of face value face worth bytes × price_per_gib /
 * 2^30: the top 64 bits w of winProb (winProb = w << 192), rounded up,
 * at least 1.  ERR_ARG for a zero face value, ERR_RANGE when the value
 * owed exceeds the face value (use a larger face value).
 */
int relaypay_win_top(uint64_t *top, const struct u256 *face,
		     const struct u256 *price_per_gib, uint64_t bytes);
/* winProb = top << 192. */
struct u256 relaypay_win_prob(uint64_t top);
/* The most bytes, at most limit, one ticket of face value face pays for
 * at price_per_gib (relaypay_win_top() succeeds); 0 when none. */
uint64_t relaypay_bytes_max(const struct u256 *face,
			    const struct u256 *price_per_gib, uint64_t limit);

/*
 * Payer: make a ticket for a hop expected to carry `bytes`.  domain_sep is
 * the PaymentHub EIP-712 domain separator, pot_sk the pot signer key
 * (read only), nonce the signer's next ticket nonce (each used once), eph
 * the stealth ephemeral key (NULL: a fresh random one; tests pass one).
 * ERR_RANGE for a face value over uint96 or a value over the face value;
 * stealth and signing errors as theirs.
 */
int relaypay_ticket_make(struct relaypay_ticket *out,
			 const struct secp_sk *pot_sk,
			 const uint8_t domain_sep[32],
			 const struct relaypay_hop_info *hop,
			 const struct relaypay_price *price, uint64_t bytes,
			 uint64_t nonce, uint64_t now_s,
			 const struct secp_sk *eph);

/* The EIP-712 digest the pot signer signs (PaymentHub.hashTicket). */
void relaypay_ticket_digest(const struct eip712_ticket *t,
			    const uint8_t domain_sep[32], uint8_t out[32]);

/* Encode k into out.  ERR_RANGE when k's winProb is not of the form
 * w << 192 or its face value, nonce or expiry do not fit the wire. */
int relaypay_wire_encode(const struct relaypay_ticket *k,
			 uint8_t out[RELAYPAY_WIRE_BYTES]);

/* A decoded wire ticket (untrusted, not yet checked). */
struct relaypay_wire {
	struct secp_pk eph;
	struct u256 face_value;
	uint64_t win_top;
	uint64_t nonce;
	uint64_t expiry;
	uint8_t tag[RELAYPAY_TAG_BYTES];
	uint8_t sig[SECP_SIG_BYTES];
};

/*
 * Decode untrusted bytes.  ERR_UNSUPPORTED for another version,
 * ERR_TRUNCATED / ERR_TOO_BIG for a wrong length, ERR_FORMAT for an E not
 * on the curve, a zero face value or winProb, or v not 27/28.  Nothing is
 * written on failure.
 */
int relaypay_wire_decode(const uint8_t *in, size_t len,
			 struct relaypay_wire *out);

/* ---------------------------------------------------------------- payee */

/* Why a ticket was refused (relaypay_reason_str() names it). */
enum relaypay_reason {
	RELAYPAY_OK,
	RELAYPAY_MALFORMED,	/* wire decode failed */
	RELAYPAY_UNKNOWN_EPOCH,	/* commitment tag not one we accept */
	RELAYPAY_BAD_SIG,	/* signature does not recover */
	RELAYPAY_EXPIRED,	/* expiry ≤ now */
	RELAYPAY_TTL_TOO_LONG,	/* expiry > now + maxPaperTTL */
	RELAYPAY_TOO_SHORT,	/* expires before the epoch can be redeemed */
	RELAYPAY_FACE_TOO_LOW,	/* face value < 100 × redemption cost */
	RELAYPAY_REPLAY,	/* (signer, nonce) already accepted */
	RELAYPAY_NO_POT,	/* no funded pot for the signer */
	RELAYPAY_UNLOCKING,	/* pot is unlocking */
	RELAYPAY_EXPOSURE,	/* exposure to the pot over escrow / 8 */
	RELAYPAY_FULL,		/* replay set at its limit */
};
const char *relaypay_reason_str(enum relaypay_reason r);

struct relaypay_policy {
	uint64_t max_paper_ttl_s;	/* NetworkGenesis maxPaperTTL */
	struct u256 redeem_cost;	/* token cost of redeeming one ticket */
	uint64_t epoch_s;		/* r_epoch lifetime */
	uint64_t grace_s;		/* tickets for an ended epoch still
					 * accepted this long (stale RIs) */
	uint64_t redeem_margin_s;	/* a ticket must stay valid this long
					 * after the epoch can be redeemed */
	size_t max_tickets;		/* replay set bound */
};

/* A ticket that passed relaypay_payee_check(), waiting for its pot. */
struct relaypay_checked {
	struct eip712_ticket t;
	uint8_t sig[SECP_SIG_BYTES];
	struct secp_pk eph;
	uint8_t signer[ETH_ADDR_BYTES];
	uint64_t epoch_id;
};

/* A winner kept for redemption. */
struct relaypay_winner {
	struct eip712_ticket t;
	uint8_t sig[SECP_SIG_BYTES];
	struct secp_pk eph;		/* for the stealth spend key */
	uint8_t signer[ETH_ADDR_BYTES];
};

/* An ended epoch's winners with its secret, for redeemTickets. Owned by
 * the caller: relaypay_batch_free() wipes and frees. */
struct relaypay_batch {
	uint64_t epoch_id;
	uint8_t rand[32];
	struct relaypay_winner *w;
	size_t n;
};
void relaypay_batch_free(struct relaypay_batch *b);

struct relaypay_payee;

/*
 * A payee for the stealth keys (view secret, spend public key; view is
 * copied and wiped on free) under the hub's domain separator and policy
 * (copied).  The first epoch starts at now_s with a fresh r_epoch.
 * Caller owns the result.
 */
struct relaypay_payee *relaypay_payee_new(const struct relaypay_policy *pol,
					  const uint8_t domain_sep[32],
					  const struct secp_sk *view,
					  const struct secp_pk *spend_pk,
					  uint64_t now_s);
/* Wipe every r_epoch and free.  Accepts NULL. */
void relaypay_payee_free(struct relaypay_payee *p);

/* The current epoch's commitment H(r_epoch) and its end (what the RI
 * publishes). */
void relaypay_payee_commitment(const struct relaypay_payee *p,
			       uint8_t out[32], uint64_t *end_s);
/* Rotate r_epoch when the current epoch has ended; true when it did (the
 * router then republishes its RouterInfo). */
bool relaypay_payee_tick(struct relaypay_payee *p, uint64_t now_s);

/*
 * Step 1 of acceptance: decode `in` (untrusted), find the epoch its
 * commitment tag names (current, or an ended one within grace), derive
 * our stealth address from E, recover the signer of the digest, check
 * expiry and face value and that (signer, nonce) is new.  Returns
 * RELAYPAY_OK with *out filled, or the reason.  Changes nothing.
 */
enum relaypay_reason relaypay_payee_check(const struct relaypay_payee *p,
					  const uint8_t *in, size_t len,
					  uint64_t now_s,
					  struct relaypay_checked *out);
/*
 * Step 2: with the signer's pot state (hub_pot_decode of pots(signer),
 * fetched after step 1), check the pot (funded, not unlocking, exposure
 * to it with this ticket ≤ escrow / 8 and ≤ deposit), re-check the
 * replay set, record the nonce and draw.  *won (may be NULL) says
 * whether the ticket wins; winners are kept for relaypay_payee_batch_take().
 */
enum relaypay_reason relaypay_payee_accept(struct relaypay_payee *p,
					   const struct relaypay_checked *c,
					   const struct hub_pot *pot,
					   uint64_t now_s, bool *won);

/*
 * The pot states a payee has read (pots(signer)), for as long as they are
 * worth keeping: a ticket names any signer it likes, each read adds one,
 * so the cache forgets a state max_age_s after its read
 * (relaypay_potcache_prune()) and holds max states at most (the one read
 * longest ago makes room).  Pointers it returns last until the next put or
 * prune.
 */
struct relaypay_potcache;
/* Never NULL. */
struct relaypay_potcache *relaypay_potcache_new(size_t max);
void relaypay_potcache_free(struct relaypay_potcache *c);
/* signer's state and when it was read (*read_s; may be NULL), or NULL. */
const struct hub_pot *relaypay_potcache_get(const struct relaypay_potcache *c,
					    const uint8_t signer[ETH_ADDR_BYTES],
					    uint64_t *read_s);
void relaypay_potcache_put(struct relaypay_potcache *c,
			   const uint8_t signer[ETH_ADDR_BYTES],
			   const struct hub_pot *pot, uint64_t now_s);
/* Forget the states read max_age_s or longer before now_s; how many. */
size_t relaypay_potcache_prune(struct relaypay_potcache *c, uint64_t now_s,
			       uint64_t max_age_s);
size_t relaypay_potcache_count(const struct relaypay_potcache *c);

/* Face values of the kept winners of signer's pot (the exposure). */
struct u256 relaypay_payee_exposure(const struct relaypay_payee *p,
				    const uint8_t signer[ETH_ADDR_BYTES]);

/* Counters since creation. */
struct relaypay_stats {
	uint64_t accepted;
	uint64_t won;
	uint64_t refused;
	struct u256 won_face;		/* face values of all winners */
};
void relaypay_payee_stats(const struct relaypay_payee *p,
			  struct relaypay_stats *out);

/*
 * Hand over the oldest epoch that no longer accepts tickets (now_s ≥ end
 * + grace) and has winners not yet expired at now_s + redeem_margin_s:
 * its r_epoch and winners move into *b and the epoch is forgotten
 * (tickets naming it are refused from then on, since redeeming reveals
 * r_epoch).  ERR_NOT_FOUND when no epoch is ready.  Ended epochs without
 * winners are dropped on the way.
 */
int relaypay_payee_batch_take(struct relaypay_payee *p, uint64_t now_s,
			      struct relaypay_batch *b);

/*
 * The payee's state as bytes, for the embedder to keep across restarts
 * (chain/ writes no files; the bytes hold r_epoch secrets: store them
 * 0600 and wipe the buffer): every epoch with its secret and winners, the
 * replay set and the counters.  Format version 1, "RPAY" first.
 */
void relaypay_payee_save(const struct relaypay_payee *p, struct bbuf *out);
/*
 * The same, with batches taken by relaypay_payee_batch_take() and not yet
 * settled (a redemption under way, winners to try again; NULL entries and
 * empty batches are skipped) written back as ended epochs: a crash while
 * they are on the chain loses none of them, and the payee loaded from the
 * bytes hands them out again at once.  Epochs of the same id are merged.
 */
void relaypay_payee_save_with(const struct relaypay_payee *p,
			      const struct relaypay_batch *const *b, size_t nb,
			      struct bbuf *out);
#define RELAYPAY_SAVE_MAX_EPOCHS 256
#define RELAYPAY_SAVE_MAX_WINNERS (1u << 20)
/*
 * A payee restored from relaypay_payee_save() bytes (untrusted: counts
 * bounded, every winner's recipientRandHash must be its epoch's
 * commitment), with the policy, domain and keys as relaypay_payee_new().
 * ERR_FORMAT / ERR_TRUNCATED / ERR_TOO_BIG / ERR_UNSUPPORTED; *out only
 * on success.
 */
int relaypay_payee_load(const struct relaypay_policy *pol,
			const uint8_t domain_sep[32],
			const struct secp_sk *view,
			const struct secp_pk *spend_pk,
			const uint8_t *in, size_t len,
			struct relaypay_payee **out);

/*
 * The draw as PaymentHub._redeemTicket computes it: uint256(keccak256(sig
 * ‖ rand)) < winProb, and keccak256(rand) == recipientRandHash.
 */
bool relaypay_ticket_wins(const struct eip712_ticket *t,
			  const uint8_t sig[SECP_SIG_BYTES],
			  const uint8_t rand[32]);

/*
 * A redeemed winning whose withdrawal is to be tried again, as one text
 * line (the embedder keeps these across restarts: chain/ writes no
 * files): the winner's ephemeral key E (66 hex digits, compressed: with
 * the spend key it derives the stealth key), a space, the withdrawal
 * rounds that failed.  _format() appends it with its newline;
 * _parse() reads one without it (untrusted): ERR_FORMAT unless E is a
 * point and rounds a decimal below max_rounds.
 */
#define RELAYPAY_RETRY_LINE_MAX (2 * SECP_PK_BYTES + 12)
void relaypay_retry_line_format(const struct secp_pk *eph, unsigned rounds,
				struct bbuf *out);
int relaypay_retry_line_parse(const char *s, size_t len,
			      unsigned max_rounds, struct secp_pk *eph,
			      unsigned *rounds);

#endif /* CHAIN_RELAYPAY_H */
