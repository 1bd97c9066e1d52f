/*
 * bitsd's market subsystem (issue 13, docs/market.md): what the market.*
 * keys ask for, on the destinations' network.
 *
 *   market.gateway = true with market.gateway.rpc = http://127.x.y.z:PORT
 *       publishes that node's JSON-RPC as a chain RPC gateway
 *       (apps/market/gateway.h); its address goes to
 *       DATADIR/market-gateway.b32.
 *   market.gateways = b32 list: the gateways this router's chain client
 *       uses, over tunnels.  Without it, a router that runs a gateway
 *       uses its own, through an in-process stream (the node is never
 *       asked directly, so every call passes the gateway's allow-list
 *       and limits).
 *   market.deploy = FILE: the contracts (chain/calls.h's deploy JSON).
 *   market.agent = true: the key agent (apps/market/keyagent.h), its
 *       secp256k1 key in DATADIR/market-agent.key; address in
 *       DATADIR/market-agent.b32; market.agent.keys = FILE (mode 0600)
 *       gives it the content keys, lines of INDEX and 64 hex digits
 *       (default DATADIR/market-agent.keys, read when it exists; the
 *       console's chain registrations add their keys to it).
 *   market.relayer.key = FILE (64 hex digits): the purchase relayer
 *       (apps/market/relayer.h) sending from that account, taking fees of
 *       at least market.relayer.min-fee; address in
 *       DATADIR/market-relayer.b32.
 *   market.accounts = 0x addresses: what GET /api/market/wallet shows.
 *   market.wallet.key = FILE (64 hex digits): the account that pays for
 *       licences (apps/market/purchase.h); market.buy.relayer = b32 of a
 *       relayer used when it has no ETH, offered market.buy.relayer-fee.
 *       Licences bought and their keys: DATADIR/market-licences/
 *       (apps/market/library.h).
 *
 * /api/market on the local JSON API: GET /api/market (which services run,
 * their addresses, the gateways' cross-check and counters), GET
 * /api/market/wallet (apps/market/wallet.h, on a worker thread), GET
 * /api/market/history (the licence sales' earnings of market.accounts and
 * the wallet over time: apps/market/history.h, on a worker), GET
 * /api/market/block (the chain's latest block number, through the
 * gateways), GET /api/market/keys (the licences held), POST
 * /api/market/buy and GET /api/market/buy/<id> (a purchase and its
 * progress; docs/market.md §5).  Thread: the loop thread.
 */
#ifndef APPS_BITSD_MARKET_H
#define APPS_BITSD_MARKET_H

#include <stdbool.h>

#include "apps/client/net.h"

struct api;
struct chain_transport;
struct conf;
struct evloop;
struct worker_pool;
struct secp_sk;
struct bitsd_market;
struct market_registrar;

/* Any market.* key that starts something. */
bool bitsd_market_wanted(const struct conf *cfg);
/* Start what cfg asks for on net (copied), blocking chain calls on wp
 * (borrowed); with api (may be NULL), serve /api/market there until
 * stopped.  Errors: ERR_FORMAT/ERR_ARG (a bad key, logged), ERR_IO. */
int bitsd_market_start(struct evloop *el, const struct conf *cfg,
		       const struct client_net *net, struct worker_pool *wp,
		       struct api *api, struct bitsd_market **out);
/*
 * The content key K of a licence in the key library (read from its file
 * into key: wipe it after use).  ERR_NOT_FOUND when no licence with its
 * key is held (or m is NULL).  For the console, which serves the content
 * of a licence it holds without asking for ?key=.
 */
int bitsd_market_key_for(const struct bitsd_market *m,
			 const uint8_t content_hash[32], uint8_t key[32]);
/* Whether the key library holds a paid licence (token minted) for the
 * content of content_hash (false when m is NULL): the feed's owned
 * filter. */
bool bitsd_market_owns(const struct bitsd_market *m,
		       const uint8_t content_hash[32]);
/* The registrar of the console's paid contents (apps/market/register.h)
 * and our key agent's destination hash, when this router runs the agent
 * and has a wallet (market.wallet.key); else NULL. */
struct market_registrar *bitsd_market_registrar(const struct bitsd_market *m,
						uint8_t agent_dest[32]);
/* The chain client's transport over the gateways (blocking: for worker
 * threads; chain/rpc.h), for other subsystems' own chain clients.  false
 * when m is NULL or has no gateway. */
bool bitsd_market_chain(struct bitsd_market *m, struct chain_transport *out);
/* The contracts of market.deploy; false when m is NULL or has none. */
struct chain_deploy;
bool bitsd_market_deploy(const struct bitsd_market *m,
			 struct chain_deploy *out);
/* The stream manager of a destination of the market's own (new each
 * run, made on first call) on the router's network, for another part's
 * streams to market services (pay per chunk's redemptions at a
 * relayer); NULL when m is NULL.  It lives until bitsd_market_stop(). */
struct stream_mgr *bitsd_market_streams(struct bitsd_market *m);
/*
 * The hashes of a config list (b32 addresses or 64 hex digits, commas or
 * spaces between) into *out (the caller frees it), at most max.
 * ERR_FORMAT or ERR_LIMIT, logged with key.
 */
int bitsd_market_hash_list(const char *key, const char *list, size_t max,
			   uint8_t (**out)[32], size_t *n);
/*
 * Serve sv (borrowed until bitsd_market_unserve()) on a destination of
 * the market's own, its keys in DATADIR/name (kept across runs), its
 * address in DATADIR/b32name: another part's service (a host's, paid per
 * epoch).  One at a time: ERR_BAD_STATE for a second or with m NULL;
 * client_dest's errors.  bitsd_market_served_b32() gives its address as
 * JSON (null when none).
 */
struct market_service;
int bitsd_market_serve(struct bitsd_market *m, struct market_service *sv,
		       const char *name, const char *b32name);
/* Close that destination (after market_service_clear() of sv). */
void bitsd_market_unserve(struct bitsd_market *m);
struct json_t;
struct json_t *bitsd_market_served_b32(const struct bitsd_market *m);
/*
 * A secp256k1 key as 64 hex digits (an optional 0x) in the file at path;
 * made there (0600) when missing and create is set.  ERR_FORMAT for
 * anything else; fsutil's errors.  Also for paid relaying's keys.
 */
int bitsd_market_sk_load(const char *path, bool create, struct secp_sk *sk);
/* bitsd_market_sk_load() into secure memory (secmem_free() it), or NULL
 * with *r set and the failure logged as `what` and path. */
struct secp_sk *bitsd_market_sk_secure(const char *what, const char *path,
				       bool create, int *r);
/* Run the loop until busy(arg) is false (workers in chain calls wait on
 * the loop): for stopping. */
void bitsd_market_drain(struct evloop *el, bool (*busy)(void *arg),
			void *arg);
/* The router is stopping: the chain calls through gateways under way end
 * (ERR_IO) now and later ones at once, so that the subsystems stopped
 * before the market do not wait out a gateway gone meanwhile (a minute
 * a call).  Accepts NULL. */
void bitsd_market_quiesce(struct bitsd_market *m);
/* Waits (running the loop) for chain calls under way.  Accepts NULL. */
void bitsd_market_stop(struct bitsd_market *m);

#endif /* APPS_BITSD_MARKET_H */
