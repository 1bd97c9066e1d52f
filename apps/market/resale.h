/*
 * Reselling a licence held in the key library (CHAIN.md §5 step 7, issue
 * 13): what bitsd's POST /api/market/resale runs.  The holder address of
 * a licence bought here is a fresh key with no ETH, so every step is
 * signed by the holder's key and handed to the relayer destination
 * (apps/market/relayer.h) over the overlay:
 *   list    a Listing at a price (LicenseRegistry.listFor), the relayer
 *           owed relayer_fee when the licence sells
 *   cancel  a CancelListing (cancelFor) at fee 0 (the holder has given
 *           the registry no allowance)
 *   payout  a Withdraw (withdrawFor) of everything the holder is owed,
 *           less the relayer's fee, to the wallet's address (or one
 *           named)
 * Before signing, on a worker through the market's chain client: a
 * listing needs ownerOf(token) to be the holder still, a cancel a
 * standing listing, a payout more owed than the fee.
 *
 * One job at a time; the caller gets its end by a callback.
 *
 * Thread: the loop thread.
 */
#ifndef APPS_MARKET_RESALE_H
#define APPS_MARKET_RESALE_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/client/net.h"
#include "chain/calls.h"
#include "chain/u256.h"

struct evloop;
struct json_t;
struct market_library;
struct market_rpc;
struct stream_mgr;
struct worker_pool;

enum market_resale_action {
	MARKET_RESALE_LIST,
	MARKET_RESALE_CANCEL,
	MARKET_RESALE_PAYOUT
};

struct market_resale_order {
	uint8_t content_hash[32];
	enum market_resale_action action;
	struct u256 price;		/* list: token base units, uint96 */
	bool has_to;			/* payout: else the config's payee */
	uint8_t to[20];
};

struct market_reseller_config {
	struct chain_deploy dep;
	bool has_relayer;
	uint8_t relayer[32];		/* its destination hash */
	struct u256 relayer_fee;	/* a listing's and a payout's */
	bool has_payee;
	uint8_t payee[20];		/* payouts' default: the wallet */
	unsigned ttl_s;			/* the signatures' deadline ahead */
	unsigned lookup_timeout_ms;	/* the relayer's LeaseSet */
	unsigned call_timeout_ms;	/* its answer (the mined transaction) */
	unsigned poll_ms;
};
void market_reseller_config_default(struct market_reseller_config *c);

/*
 * The end of a job: err 0 and the result ({"action", "content_hash",
 * "token_id", "relayer_fee", and "price" for a listing, "amount" and "to"
 * for a payout}; borrowed for the call), or err with why (borrowed):
 * ERR_BAD_STATE when the chain or the relayer refused it as it stands
 * (not held, not listed, nothing owed, reverted, a fee below the
 * relayer's minimum), else ERR_IO/ERR_TIMEOUT/... (try again).
 */
typedef void (*market_resale_fn)(void *arg, int err, const char *why,
				 struct json_t *result);

struct market_reseller;	/* opaque */

/* All borrowed, outliving the reseller.  Never returns NULL. */
struct market_reseller *market_reseller_new(
	const struct market_reseller_config *c, struct market_rpc *rpc,
	struct stream_mgr *mgr, const struct client_net *net,
	struct worker_pool *wp, struct evloop *el, struct market_library *lib);
/* Worker jobs under way: free only at 0 (run the loop until then). */
unsigned market_reseller_busy(const struct market_reseller *r);
/* A job waiting on the overlay is dropped (its callback never runs). */
void market_reseller_free(struct market_reseller *r);

/*
 * Start o; done runs later, exactly once, unless this fails:
 * ERR_BAD_STATE (another job under way, no relayer, no payee for a
 * payout, a price not in uint96 or 0), ERR_NOT_FOUND (no licence with a
 * token in the library); *why says which.
 */
int market_reseller_start(struct market_reseller *r,
			  const struct market_resale_order *o,
			  market_resale_fn done, void *arg, const char **why);
const char *market_resale_action_str(enum market_resale_action a);

#endif /* APPS_MARKET_RESALE_H */
