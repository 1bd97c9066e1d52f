/*
 * The purchase relayer as an overlay service (CHAIN.md §1.4, §5 step 2):
 * a payer whose addresses hold no ETH hands its signed purchase
 * (apps/market/buy.h) to a relayer destination over a stream; the relayer
 * checks it (fee at least its minimum, the Purchase signature recovers to
 * the payer) before spending gas, submits buyFor from its own account on
 * a worker thread (chain calls block; they reach the chain through
 * apps/market/rpc.h) and answers with the licence's token id.
 *
 * Wire (frames of apps/market/link.h):
 *   request  contentIndex (32) ‖ holder (20) ‖ maxPrice (32) ‖
 *            relayerFee (32) ‖ nonce (32) ‖ deadline (8, big-endian) ‖
 *            payer (20) ‖ sig (65) ‖ permit value (32) ‖
 *            permit deadline (8, 0: no permit) ‖ permit sig (65)
 *   reply    status (1) ‖ tokenId (32) when status is MARKET_RELAY_OK
 * or a batch of PaymentHub vouchers to redeem (pay per chunk, chunkpay.h;
 * "payees redeem (via relayers, batched, random delay)", CHAIN.md §5.6):
 *   request  'V' ‖ n (1..MARKET_REDEEM_MAX) ‖ n × (recipient (20) ‖
 *            lane (32) ‖ cumulative (32) ‖ expiry (8) ‖ sig (65))
 *   reply    status (1)
 * Anyone may submit redeemVouchers; the relayer checks that every
 * signature recovers before spending gas, and the chain the rest.
 * or the same batch with its relayer's fee (PaymentHub.redeemVouchersFor),
 * a RedeemFee signed by a payee of the batch (its stealth key):
 *   request  'F' ‖ n ‖ n × voucher (as above) ‖ payee (20) ‖ fee (32) ‖
 *            nonce (32) ‖ deadline (8) ‖ fee sig (65)
 *   reply    status (1)
 * checked before any gas: every voucher signature recovers, the fee is at
 * least the relayer's redeem_min_fee, the fee signature recovers to the
 * payee over this batch; a plain 'V' batch is refused (FEE_LOW) when
 * redeem_min_fee is not 0.
 * Resale for a licence holder with no ETH (buy.h), each answered by a
 * status byte:
 *   listing  'L' ‖ tokenId (32) ‖ price (32) ‖ relayerFee (32) ‖
 *            nonce (32) ‖ deadline (8) ‖ sig (65)        listFor
 *   cancel   'C' ‖ tokenId (32) ‖ relayerFee (32) ‖ nonce (32) ‖
 *            deadline (8) ‖ sig (65)                     cancelFor
 *   payout   'W' ‖ from (20) ‖ to (20) ‖ amount (32) ‖ fee (32) ‖
 *            nonce (32) ‖ deadline (8) ‖ sig (65)        withdrawFor
 * Before any gas: the signature recovers (for a payout, to `from`); a
 * listing's price is not 0 and fits uint96, its fee (owed to the relayer
 * when the licence sells) and a payout's fee at least the minimum; a
 * payout's amount is not 0 and `to` not the zero address.  A cancel is
 * relayed at the fee it offers, 0 too (its fee needs the owner's
 * allowance, which an owner with no ETH cannot give); it can succeed once
 * per listing.  The chain's gas estimate refuses the rest (not the owner,
 * a used nonce, more than owed) before anything is sent.
 *
 * Thread: the loop thread only.
 */
#ifndef APPS_MARKET_RELAYER_H
#define APPS_MARKET_RELAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/market/buy.h"
#include "router/keys_and_cert.h"

struct evloop;
struct market_rpc;
struct stream;
struct stream_mgr;
struct worker_pool;

#define MARKET_PURCHASE_WIRE_BYTES (32 + 20 + 32 + 32 + 32 + 8 + 20 + \
	SECP_SIG_BYTES + 32 + 8 + SECP_SIG_BYTES)
#define MARKET_RELAY_MAX_JOBS 16
#define MARKET_REDEEM_TAG 0x56		/* 'V' (a content index starts 0) */
#define MARKET_REDEEM_MAX 16		/* vouchers per batch */
#define MARKET_VOUCHER_WIRE_BYTES (20 + 32 + 32 + 8 + SECP_SIG_BYTES)
#define MARKET_REDEEM_FEE_TAG 0x46	/* 'F' */
#define MARKET_REDEEM_FEE_PART_BYTES (20 + 32 + 32 + 8 + SECP_SIG_BYTES)
#define MARKET_LISTING_TAG 0x4c		/* 'L' */
#define MARKET_CANCEL_TAG 0x43		/* 'C' */
#define MARKET_PAYOUT_TAG 0x57		/* 'W' */
#define MARKET_LISTING_WIRE_BYTES (1 + 32 * 4 + 8 + SECP_SIG_BYTES)
#define MARKET_CANCEL_WIRE_BYTES (1 + 32 * 3 + 8 + SECP_SIG_BYTES)
#define MARKET_PAYOUT_WIRE_BYTES (1 + 20 + 20 + 32 * 3 + 8 + SECP_SIG_BYTES)
#define MARKET_REDEEM_MAX_BYTES (2 + MARKET_REDEEM_MAX * \
				 MARKET_VOUCHER_WIRE_BYTES)

enum market_relay_status {
	MARKET_RELAY_OK = 0,
	MARKET_RELAY_BAD_REQUEST = 1,	/* malformed or bad signature */
	MARKET_RELAY_FEE_LOW = 2,	/* below this relayer's minimum */
	MARKET_RELAY_REVERTED = 3,	/* the chain refused it */
	MARKET_RELAY_CHAIN = 4,		/* chain RPC failed: try later */
	MARKET_RELAY_BUSY = 5
};

/* What a status means, for a person. */
const char *market_relay_status_str(int status);

void market_purchase_encode(const struct market_purchase *mp,
			    uint8_t out[MARKET_PURCHASE_WIRE_BYTES]);
/* Untrusted bytes: ERR_TRUNCATED/ERR_FORMAT. */
int market_purchase_decode(const uint8_t *p, size_t len,
			   struct market_purchase *out);
/* True when mp's Purchase signature recovers to mp->payer under the
 * registry's domain. */
bool market_purchase_sig_ok(const struct market_purchase *mp,
			    uint64_t chain_id, const uint8_t registry[20]);

/* The resale requests on the wire.  Decoding takes untrusted bytes:
 * ERR_TRUNCATED / ERR_FORMAT (a wrong tag or length). */
void market_listing_encode(const struct market_listing *ml,
			   uint8_t out[MARKET_LISTING_WIRE_BYTES]);
int market_listing_decode(const uint8_t *p, size_t len,
			  struct market_listing *out);
void market_cancel_encode(const struct market_cancel *mc,
			  uint8_t out[MARKET_CANCEL_WIRE_BYTES]);
int market_cancel_decode(const uint8_t *p, size_t len,
			 struct market_cancel *out);
void market_payout_encode(const struct market_payout *mp,
			  uint8_t out[MARKET_PAYOUT_WIRE_BYTES]);
int market_payout_decode(const uint8_t *p, size_t len,
			 struct market_payout *out);

struct market_relayer_config {
	struct chain_deploy dep;
	struct u256 min_fee;
	struct u256 redeem_min_fee;	/* 0: batches with no fee taken */
};

struct market_relayer_stats {
	uint64_t requests, relayed, bad, fee_low, reverted, chain_errors,
		busy;
	uint64_t redeemed;		/* voucher batches submitted */
	uint64_t redeem_fees;		/* of them, with a fee paid */
	uint64_t listed, cancelled, paid_out;	/* resale requests mined */
};

/* A voucher batch on the wire: ERR_RANGE past MARKET_REDEEM_MAX or for a
 * zero count.  Decoding (untrusted bytes) fills up to MARKET_REDEEM_MAX
 * vouchers and signatures; ERR_TRUNCATED/ERR_TOO_BIG/ERR_FORMAT. */
int market_redeem_encode(const struct eip712_voucher *v,
			 const uint8_t (*sigs)[SECP_SIG_BYTES], size_t n,
			 struct bbuf *out);
int market_redeem_decode(const uint8_t *p, size_t len,
			 struct eip712_voucher *v,
			 uint8_t (*sigs)[SECP_SIG_BYTES], size_t *n);

/* A batch with its fee: as market_redeem_encode(), then the fee part
 * (f->batch is not sent: the receiver computes it from the vouchers;
 * decoding leaves it zero). */
int market_redeem_fee_encode(const struct eip712_voucher *v,
			     const uint8_t (*sigs)[SECP_SIG_BYTES], size_t n,
			     const struct eip712_redeem_fee *f,
			     const uint8_t fee_sig[SECP_SIG_BYTES],
			     struct bbuf *out);
int market_redeem_fee_decode(const uint8_t *p, size_t len,
			     struct eip712_voucher *v,
			     uint8_t (*sigs)[SECP_SIG_BYTES], size_t *n,
			     struct eip712_redeem_fee *f,
			     uint8_t fee_sig[SECP_SIG_BYTES]);
/* The payee's side: a RedeemFee of fee for the batch v[0..n) under the
 * hub's domain separator sep, with the payee's hub nonce, signed by
 * payee (a stealth spend key). */
int market_redeem_fee_sign(const uint8_t sep[32],
			   const struct eip712_voucher *v, size_t n,
			   const struct secp_sk *payee,
			   const struct u256 *fee, const struct u256 *nonce,
			   uint64_t deadline, struct eip712_redeem_fee *f,
			   uint8_t fee_sig[SECP_SIG_BYTES]);

struct market_relayer;	/* opaque */

/*
 * A relayer sending from account key sk (copied to secure memory), through
 * rpc (borrowed), running transactions on wp's threads (borrowed).  Never
 * returns NULL.
 */
struct market_relayer *market_relayer_new(
	const struct market_relayer_config *c, const struct secp_sk *sk,
	struct market_rpc *rpc, struct worker_pool *wp, struct evloop *el);
/* Transactions under way: free the relayer only at 0 (a worker waits on
 * the loop for its chain calls, so run the loop until then). */
unsigned market_relayer_busy(const struct market_relayer *r);
/* Reset its streams and release it (market_relayer_busy() must be 0).
 * Accepts NULL. */
void market_relayer_free(struct market_relayer *r);
void market_relayer_accept(struct market_relayer *r, struct stream *s);
void market_relayer_serve(struct market_relayer *r, struct stream_mgr *mgr);
void market_relayer_stats(const struct market_relayer *r,
			  struct market_relayer_stats *out);

/* err 0 with the relayer's status (and the token id when OK), or
 * ERR_IO / ERR_TIMEOUT / ERR_PROTOCOL. */
typedef void (*market_relay_fn)(void *arg, int err, int status,
				const struct u256 *token_id);
/* Hand mp to the relayer at `relayer` over a new stream from mgr; done
 * runs later, exactly once (unless this returns non-zero). */
int market_relay_send(struct stream_mgr *mgr, struct evloop *el,
		      const struct keys_and_cert *relayer,
		      const struct market_purchase *mp, unsigned timeout_ms,
		      market_relay_fn done, void *arg);

/* Hand a voucher batch to the relayer at `relayer` (done gets its status,
 * token_id NULL); as market_relay_send(). */
int market_redeem_send(struct stream_mgr *mgr, struct evloop *el,
		       const struct keys_and_cert *relayer,
		       const struct eip712_voucher *v,
		       const uint8_t (*sigs)[SECP_SIG_BYTES], size_t n,
		       unsigned timeout_ms, market_relay_fn done, void *arg);

/* A batch with its fee (market_redeem_fee_encode()); as
 * market_redeem_send(). */
int market_redeem_fee_send(struct stream_mgr *mgr, struct evloop *el,
			   const struct keys_and_cert *relayer,
			   const struct eip712_voucher *v,
			   const uint8_t (*sigs)[SECP_SIG_BYTES], size_t n,
			   const struct eip712_redeem_fee *f,
			   const uint8_t fee_sig[SECP_SIG_BYTES],
			   unsigned timeout_ms, market_relay_fn done,
			   void *arg);

/* Hand a resale request (a listing, cancel or payout's wire bytes, the
 * encoders above) to the relayer at `relayer`: done gets its status,
 * token_id NULL; as market_relay_send(). */
int market_resale_send(struct stream_mgr *mgr, struct evloop *el,
		       const struct keys_and_cert *relayer,
		       const uint8_t *req, size_t len, unsigned timeout_ms,
		       market_relay_fn done, void *arg);

#endif /* APPS_MARKET_RELAYER_H */
