/*
 * Pay per chunk in the swarm (docs/market.md §7): the chunkpay payer and
 * payee sessions of each (content, peer), behind functions with the
 * signatures of the swarm's payment hook (apps/swarm/swarm.h, struct
 * swarm_pay_hooks), which main() installs.  The market never includes
 * the swarm: the hook's types are plain.
 *
 * Seeder role (market_seedpay_sell): each peer of the content is sent
 * TERMS on its handshake, its VOUCHERs are checked by the payee (a voucher
 * from a signer whose pot is unknown asks the fetch hook; the embedder
 * answers with market_seedpay_pot_set()), and it is served while it has
 * paid for all but `credit` chunks.  Viewer role (market_seedpay_buy): the
 * seeders' TERMS are taken at a price up to the maximum (a higher one
 * drops the peer), and each verified chunk is paid for.
 *
 * Ownership: the caller owns it and the pot key it lends (which must
 * outlive it).  Loop thread only.
 */
#ifndef APPS_MARKET_SEEDPAY_H
#define APPS_MARKET_SEEDPAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/market/chunkpay.h"
#include "crypto/base/bytes.h"

#define MARKET_SEEDPAY_CONTENTS_MAX 256
#define MARKET_SEEDPAY_PEERS_MAX 1024

/* Asked for the pot of signer (the embedder reads it from the chain off
 * the loop and calls market_seedpay_pot_set()). */
typedef void (*market_seedpay_fetch_fn)(void *ctx,
					const uint8_t signer[ETH_ADDR_BYTES]);

struct market_seedpay_stats {
	uint64_t terms_sent, terms_taken, terms_refused;
	uint64_t vouchers_sent, vouchers_ok, vouchers_refused, pot_fetches;
	uint64_t chunks_served, chunks_paid_for;
	uint64_t pay_bytes_sent;	/* PAY bodies appended */
};

struct market_seedpay;

/*
 * pol and pc are copied; view/spend_pk the seeder's stealth keys (NULL
 * view: no seller role); pot_sk the viewer's pot signer (NULL: no buyer
 * role; borrowed).  sep: the PaymentHub domain separator.
 */
struct market_seedpay *market_seedpay_new(
	const struct chunkpay_policy *pol,
	const struct chunkpay_payer_config *pc, const uint8_t sep[32],
	const struct secp_sk *view, const struct secp_pk *spend_pk,
	const struct secp_sk *pot_sk, market_seedpay_fetch_fn fetch,
	void *fetch_ctx);
void market_seedpay_free(struct market_seedpay *m);
/* Sell (seed for pay) or buy (pay seeders for) the chunks of hash.
 * ERR_BAD_STATE without the role's keys, ERR_LIMIT past the bound. */
int market_seedpay_sell(struct market_seedpay *m, const uint8_t hash[32]);
int market_seedpay_buy(struct market_seedpay *m, const uint8_t hash[32]);
/* Sell or buy every content (a router seeding or fetching for pay):
 * ERR_BAD_STATE without the role's keys. */
int market_seedpay_sell_all(struct market_seedpay *m);
int market_seedpay_buy_all(struct market_seedpay *m);
/* The chain's pot of signer (NULL: none). */
void market_seedpay_pot_set(struct market_seedpay *m,
			    const uint8_t signer[ETH_ADDR_BYTES],
			    const struct hub_pot *pot, uint64_t now_s);
/* The payee (batches for redeemVouchers); NULL without a seller role. */
struct chunkpay_payee *market_seedpay_payee(struct market_seedpay *m);
void market_seedpay_stats(const struct market_seedpay *m,
			  struct market_seedpay_stats *out);
/* The cumulative paid to the seeder peer for hash, and its stealth
 * address (false when no such paying session). */
bool market_seedpay_paid(const struct market_seedpay *m,
			 const uint8_t hash[32], const uint8_t peer[32],
			 struct u256 *paid, uint8_t recipient[ETH_ADDR_BYTES]);

/*
 * Whether a batch's payee can pay the relayer `fee` (PaymentHub's
 * redeemVouchersFor takes it from the payee's hub balance after the
 * batch, all or nothing): its balance plus each of its n vouchers' new
 * value (owed) less the protocol fee, as the hub pays each, is at least
 * fee.  *holds gets that sum.  A fee set above it would make the batch
 * revert at its gas estimate on every try.
 */
bool market_seedpay_fee_fits(const struct u256 *fee,
			     const struct u256 *balance,
			     const struct u256 *owed, size_t n,
			     unsigned protocol_bps, struct u256 *holds);
/* The wait before the next redemption after `fails` failed in a row (1:
 * the first): base_ms, doubled with each further failure, at most max_ms. */
uint64_t market_seedpay_retry_ms(unsigned fails, uint64_t base_ms,
				 uint64_t max_ms);

/*
 * Vouchers kept across a restart (the seeder's, DATADIR/MARKET_VOUCHERS_FILE,
 * mode 0600): every lane owed something, written whole and atomically.
 * market_vouchers_encode() runs where the payee lives (the loop),
 * market_vouchers_write() anywhere (a worker).  Loading restores each lane
 * still good (chunkpay_payee_restore(): ours, signed, owed, not expired)
 * and counts the rest; a missing file restores nothing.  What the chain
 * paid of a restored lane since the file was written is not in it: read
 * redeemed(chunkpay_lane_key()) before redeeming
 * (chunkpay_payee_chain_redeemed()), so nothing is redeemed twice.
 */
#define MARKET_VOUCHERS_FILE "seedpay-vouchers"
#define MARKET_VOUCHERS_MAX_BYTES (CHUNKPAY_SAVED_HEAD_BYTES + \
	CHUNKPAY_LANES_MAX * CHUNKPAY_SAVED_BYTES)
void market_vouchers_encode(const struct chunkpay_payee *p, struct bbuf *out);
int market_vouchers_write(const char *path, const struct bbuf *b);
/* ERR_FORMAT/ERR_TRUNCATED/ERR_TOO_BIG for a file that does not parse
 * (nothing restored), ERR_IO. */
int market_vouchers_load(struct chunkpay_payee *p, const char *path,
			 uint64_t now_s, size_t *restored, size_t *skipped);

/* The swarm_pay_hooks functions; ctx is the struct market_seedpay. */
void market_seedpay_open(void *ctx, const uint8_t hash[32],
			 const uint8_t peer[32], struct bbuf *out);
int market_seedpay_recv(void *ctx, const uint8_t hash[32],
			const uint8_t peer[32], const uint8_t *body,
			size_t len, struct bbuf *out);
void market_seedpay_received(void *ctx, const uint8_t hash[32],
			     const uint8_t peer[32], uint32_t idx,
			     struct bbuf *out);
bool market_seedpay_may_serve(void *ctx, const uint8_t hash[32],
			      const uint8_t peer[32]);
void market_seedpay_served(void *ctx, const uint8_t hash[32],
			   const uint8_t peer[32], uint32_t idx);
void market_seedpay_close(void *ctx, const uint8_t hash[32],
			  const uint8_t peer[32]);
/* The content is whole: the voucher for every chunk received from the
 * peer and not yet paid; later chunks (ones asked twice near the end)
 * are paid one voucher each. */
void market_seedpay_complete(void *ctx, const uint8_t hash[32],
			     const uint8_t peer[32], struct bbuf *out);

#endif /* APPS_MARKET_SEEDPAY_H */
