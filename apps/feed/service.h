/*
 * The feed as a router service (docs/feed.md §7): one destination that
 * gossips with the peers it is given, the feed store, the creator key
 * that signs what this router publishes, a reconciliation timer, and the
 * JSON API behind bitsd's /api/feed (the adapter to apps/api is
 * apps/bitsd_feed.c; this file knows no HTTP).
 *
 * Files under cfg->datadir: feed.db (the store), feed.dest (the
 * destination's private keys, mode 0600), creator.key (32-byte Ed25519
 * seed, mode 0600, shared with `bits publish`).
 *
 * Thread: the loop thread.
 */
#ifndef APPS_FEED_SERVICE_H
#define APPS_FEED_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/client/net.h"
#include "apps/feed/gossip.h"
#include "apps/feed/store.h"

#define FEED_SERVICE_DEST_FILE "feed.dest"
#define FEED_SERVICE_STORE_FILE "feed.db"
#define FEED_SERVICE_CREATOR_FILE "creator.key"
/* Reconciliation period by default, and the first round after start. */
#define FEED_SERVICE_ROUND_S 60
#define FEED_SERVICE_FIRST_ROUND_MS 2000

struct evloop;
struct json_t;
struct feed_service;	/* opaque */

struct feed_service_cfg {
	const char *datadir;	/* borrowed during start */
	bool followed_only;	/* keep only followed creators' cards */
	bool views;		/* POST /api/feed/view publishes a record */
	uint32_t round_s;	/* 0: FEED_SERVICE_ROUND_S */
	unsigned threads;	/* signature checks; 0: 2 */
	/* Peers by destination hash; their Destinations are looked up
	 * through the network each round until found. */
	unsigned npeers;
	uint8_t peers[FEED_PEERS_MAX][32];
	/* Rate limits (struct feed_node_cfg; 0: its defaults). */
	uint32_t peer_items_per_s, peer_burst;
	uint32_t creator_items_per_hour, creator_burst;
	uint8_t pow_bits;		/* struct feed_node_cfg */
	uint32_t retention_days;	/* 0: keep everything */
	/* Whether this router holds a licence for a content (the owned
	 * filter, price=owned); NULL: nothing is owned.  Called on the loop
	 * thread during queries. */
	feed_owned_fn owned;
	void *owned_ctx;
	/* Favoured creators (struct feed_node_cfg's hook, e.g.
	 * feed_did_favoured_now); NULL: nobody is favoured. */
	bool (*favoured)(void *ctx, const struct ed25519_pk *creator,
			 const char *did);
	void *favoured_ctx;
};

/* Add the peers of list ("<52 base32>.b32.i2p" or 64 hex digits, commas
 * or spaces between) to cfg.  ERR_FORMAT (logged) or ERR_LIMIT. */
int feed_service_parse_peers(const char *list, struct feed_service_cfg *cfg);
/* Open or create the files and start gossip on net (copied).  ERR_IO,
 * ERR_FORMAT (a file that is not what it should be), net's errors. */
int feed_service_start(struct evloop *el, const struct feed_service_cfg *cfg,
		       const struct client_net *net,
		       struct feed_service **out);
void feed_service_free(struct feed_service *s);
const struct keys_and_cert *feed_service_dest(const struct feed_service *s);
struct feed_node *feed_service_node(struct feed_service *s);
/* Look the missing peers up, then a reconciliation round (the timer
 * calls it every round_s). */
void feed_service_round(struct feed_service *s);
/* Peers whose Destination is known (gossip runs with them). */
unsigned feed_service_peers_up(const struct feed_service *s);

struct feed_query;
/* Fill q from a URL query string (untrusted: GET /api/feed?...), decoded
 * in place in buf, which q's strings then point into.  NULL, or what is
 * wrong with it (q is then unusable). */
const char *feed_service_parse_query(char *buf, struct feed_query *q);

/*
 * The JSON API.  rest: the path after /api/feed ("", "/card/ID",
 * "/publish", "/follow", "/react", "/view", "/status"); query: the URL's
 * query string or NULL; body: the POST body (borrowed) or NULL.  Returns
 * the HTTP status and sets *out to the answer (caller's; {"error": ...}
 * on failure).  docs/feed.md §8 lists the calls ("/block", "/delete"
 * too).
 */
int feed_service_api(struct feed_service *s, bool post, const char *rest,
		     const char *query, struct json_t *body,
		     struct json_t **out);

#endif /* APPS_FEED_SERVICE_H */
