/*
 * Buying a licence and getting its key, from start to end (issue 13,
 * CHAIN.md §5 steps 2-3): what bitsd's POST /api/market/buy runs.
 *
 * A purchase is a job that goes through
 *   paying          the content's index checked against its hash, the
 *                   price read, a fresh holder key made (and kept in the
 *                   key library before anything is paid), the Purchase
 *                   and permit signed by the payer's wallet; then buyFor
 *                   sent by the wallet itself when it has ETH, else handed
 *                   to the relayer destination (apps/market/relayer.h)
 *   confirming      until the licence is `confirmations` blocks deep (what
 *                   the key agent asks before it releases anything)
 *   requesting key  the agent's key A asked, a KeyRequest signed by the
 *                   holder sent to the agent's destination over the
 *                   overlay, the answer unwrapped and K accepted only when
 *                   keccak256(K ‖ contentHash) is the on-chain
 *                   keyCommitment; K stored in the library
 *   done / failed   (failed with a reason a person can act on)
 * A content whose licence is in the library with its key is never paid
 * again; one whose licence is held without its key goes straight to
 * confirming (no second payment).
 *
 * Chain calls block, so they run on the worker pool, one at a time per
 * buyer (its own chain client over the market's gateways); streams and
 * timers run on the loop.  One purchase at a time.
 *
 * Thread: the loop thread.
 */
#ifndef APPS_MARKET_PURCHASE_H
#define APPS_MARKET_PURCHASE_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/client/net.h"
#include "chain/calls.h"
#include "chain/secp.h"
#include "chain/u256.h"

struct evloop;
struct json_t;
struct market_library;
struct market_rpc;
struct stream_mgr;
struct worker_pool;

#define MARKET_BUY_JOBS_KEPT 32		/* finished jobs still shown */
#define MARKET_BUY_KEY_TRIES 30

struct market_buyer_config {
	struct chain_deploy dep;
	bool has_relayer;
	uint8_t relayer[32];		/* its destination hash */
	struct u256 relayer_fee;	/* offered, token base units */
	unsigned confirmations;		/* blocks deep before asking */
	unsigned purchase_ttl_s;	/* the Purchase's deadline ahead */
	unsigned key_ttl_s;		/* the KeyRequest's deadline ahead */
	unsigned lookup_timeout_ms;	/* a destination's LeaseSet */
	unsigned call_timeout_ms;	/* one answer over the overlay */
	unsigned confirm_timeout_ms;	/* blocks to come */
	unsigned poll_ms;		/* between chain polls and retries */
};
void market_buyer_config_default(struct market_buyer_config *c);

/* What to buy: the card's content hash, its licence index (0: ask the
 * registry), and its key agent's destination hash. */
struct market_buy_order {
	uint8_t content_hash[32];
	uint64_t index;
	uint8_t agent[32];
};

enum market_buy_state {
	MARKET_BUY_PAYING,
	MARKET_BUY_CONFIRMING,
	MARKET_BUY_REQUESTING_KEY,
	MARKET_BUY_DONE,
	MARKET_BUY_FAILED
};
const char *market_buy_state_str(enum market_buy_state s);

struct market_buyer;	/* opaque */

/*
 * A buyer paying from `payer` (copied to secure memory; NULL: no wallet,
 * every purchase fails), its chain calls through rpc, its streams from mgr
 * (a destination of ours on net), the library lib: all borrowed and
 * outliving the buyer.  Never returns NULL.
 */
struct market_buyer *market_buyer_new(const struct market_buyer_config *c,
				      const struct secp_sk *payer,
				      struct market_rpc *rpc,
				      struct stream_mgr *mgr,
				      const struct client_net *net,
				      struct worker_pool *wp,
				      struct evloop *el,
				      struct market_library *lib);
/* Worker jobs under way: free the buyer only at 0 (run the loop until
 * then: they wait on it for their chain calls). */
unsigned market_buyer_busy(const struct market_buyer *b);
void market_buyer_free(struct market_buyer *b);

/*
 * Start buying o.  *id names the job (market_buyer_job_json()).  A
 * content already held with its key gives a job that is done at once
 * (*done set); the content of the purchase under way gives that job's id
 * (a second click: nothing is paid twice).  ERR_BAD_STATE (*why says:
 * another content's purchase under way, no wallet).
 */
int market_buyer_start(struct market_buyer *b,
		       const struct market_buy_order *o, uint64_t *id,
		       bool *done, const char **why);
/* The job's progress (new reference), or NULL for an unknown id:
 * {"id", "state", "error", "content_hash", "index", "route" ("direct",
 * "relayed", "owned": paid before), "token_id", "price", "relayer_fee",
 * "holder", "confirmations", "paid_block", "tip", "has_key"}. */
struct json_t *market_buyer_job_json(const struct market_buyer *b,
				     uint64_t id);
/* The payer's address (false: no wallet). */
bool market_buyer_payer(const struct market_buyer *b, uint8_t out[20]);

#endif /* APPS_MARKET_PURCHASE_H */
