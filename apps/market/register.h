/*
 * Registering a content in the LicenseRegistry from this router's wallet
 * (CHAIN.md §5 step 1): what the console's Publish page asks for a paid
 * content when the router runs the market with a wallet
 * (market.wallet.key) and the key agent (market.agent).
 *
 * One registration at a time, on a worker (chain calls block; they reach
 * the chain through apps/market/rpc.h): LicenseRegistry.publish(
 * contentHash, price, royaltyBps, keyAgent, agentFeeBps, keyCommitment)
 * sent from the wallet's account, the wallet being the content's creator
 * on chain and this router's agent its key agent; the index read from the
 * receipt's ContentPublished event.  Then, on the loop, the agent is given
 * K for that index, and the line "INDEX K" is appended to the agent's key
 * file (mode 0600) so that it still holds K after a restart.
 *
 * Thread: the loop thread.
 */
#ifndef APPS_MARKET_REGISTER_H
#define APPS_MARKET_REGISTER_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/calls.h"
#include "chain/secp.h"
#include "chain/u256.h"

struct market_agent;
struct market_rpc;
struct worker_pool;
struct market_registrar;	/* opaque */

struct market_register_order {
	uint8_t content_hash[32];
	uint8_t key[32];		/* K (wiped with the job) */
	struct u256 price;		/* token base units (uint96) */
	uint16_t royalty_bps;
	uint16_t agent_fee_bps;
};

/* err 0: registered at `index` by transaction `tx`.  Otherwise why says
 * what went wrong, for a person (the chain's revert reason included). */
typedef void (*market_register_fn)(void *arg, int err, const char *why,
				   uint64_t index, const uint8_t tx[32]);

/*
 * A registrar sending from `creator` (copied to secure memory) with the
 * agent `agent` (its secp256k1 key agent_sk gives the keyAgent address)
 * and its key file keys_path (NULL: the key is held until the next
 * restart only); rpc, wp and agent are borrowed and outlive it.
 */
struct market_registrar *market_registrar_new(const struct chain_deploy *dep,
					      const struct secp_sk *creator,
					      const struct secp_sk *agent_sk,
					      struct market_agent *agent,
					      const char *keys_path,
					      struct market_rpc *rpc,
					      struct worker_pool *wp);
/* Start registering o; cb(arg, ...) later on the loop, once.
 * ERR_BAD_STATE while another runs. */
int market_registrar_start(struct market_registrar *r,
			   const struct market_register_order *o,
			   market_register_fn cb, void *arg);
/* The creator's account and the registry's address. */
void market_registrar_creator(const struct market_registrar *r,
			      uint8_t out[20]);
void market_registrar_registry(const struct market_registrar *r,
			       uint8_t out[20]);
/* A worker job under way: free the registrar only at 0 (run the loop
 * until then: the job waits on it for its chain calls). */
unsigned market_registrar_busy(const struct market_registrar *r);
void market_registrar_free(struct market_registrar *r);

#endif /* APPS_MARKET_REGISTER_H */
