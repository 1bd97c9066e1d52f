/*
 * INTERIM RouterInfo table and DatabaseStore/DatabaseLookup handler, so
 * bitsd can talk to i2pd before the netDb exists (the netDb issue replaces
 * this module; nothing but apps/bitsd.c should depend on it).
 *
 * It keeps the verified RouterInfos we hear of (netDb files at start,
 * NTCP2 handshakes and RouterInfo blocks, DatabaseStore messages), newest
 * published wins, and answers what peers send a fresh session:
 *   - DatabaseStore of a RouterInfo: verify and keep it; with a reply
 *     token, acknowledge with a DeliveryStatus (direct, or through the
 *     reply tunnel's gateway);
 *   - DatabaseLookup: the RouterInfo if we have it (a DatabaseStore),
 *     otherwise a DatabaseSearchReply naming up to 3 routers we know.
 * Received RouterInfos are written to DIR/r<c>/routerInfo-<hash>.dat
 * (i2pd's layout) by the worker pool, so a restart and the tests see them.
 *
 * Thread: loop thread.  Ownership: caller owns the table.
 */
#ifndef ROUTER_RI_TABLE_H
#define ROUTER_RI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/i2np.h"

struct ri_table;	/* opaque */
struct router_info;
struct worker_pool;

/* A small router does not need more; the netDb will. */
#define RI_TABLE_MAX_ENTRIES 4096
/* Routers named in a DatabaseSearchReply. */
#define RI_TABLE_SEARCH_REPLY_PEERS 3
/* Our replies live this long. */
#define RI_TABLE_REPLY_TTL_MS 10000

/* How the table sends its replies (takes m on every path). */
struct ri_table_sender {
	int (*send)(void *ctx, const uint8_t peer[32], struct i2np_msg *m);
	void *ctx;
};

/*
 * New table for a router with hash self on network netid.  dir (copied;
 * NULL: keep nothing on disk) is the netDb directory; wp (borrowed, may be
 * NULL: write inline) runs the file writes.  Never returns NULL.
 */
struct ri_table *ri_table_new(const uint8_t self[32], uint8_t netid,
			      const char *dir, struct worker_pool *wp);
void ri_table_free(struct ri_table *rt);
void ri_table_set_sender(struct ri_table *rt, struct ri_table_sender s);
/* Our own RouterInfo (copied), for lookups of our hash and announcing. */
void ri_table_set_self(struct ri_table *rt, const uint8_t *ri, size_t len);

/*
 * Load every routerInfo-*.dat under dir/r?/ (i2pd's layout), verifying
 * each; returns how many were kept.  Runs at start-up, before traffic
 * (FIXME: the netDb loads on a worker).
 */
size_t ri_table_load(struct ri_table *rt);

/*
 * Add a RouterInfo from untrusted bytes: decode, verify, netId, not from
 * the future; keeps it if newer than what we have.  Errors from
 * router_info_decode()/verify(), ERR_NETWORK, ERR_EXPIRED, ERR_ARG (our
 * own hash), ERR_EXISTS (not newer), ERR_LIMIT (table full).
 */
int ri_table_add(struct ri_table *rt, const uint8_t *buf, size_t len);
/* The RouterInfo of hash (borrowed until the table changes), or NULL. */
const struct router_info *ri_table_get(const struct ri_table *rt,
				       const uint8_t hash[32]);
size_t ri_table_count(const struct ri_table *rt);

/* Handle an I2NP message from peer (DatabaseStore, DatabaseLookup; the
 * rest is dropped).  Takes m. */
void ri_table_handle(struct ri_table *rt, const uint8_t from[32],
		     struct i2np_msg *m);

/*
 * Send our RouterInfo in a DatabaseStore to up to max routers we know
 * (floodfills first, with a reply token so they acknowledge): the interim
 * stand-in for publishing.  Returns how many were sent.
 */
size_t ri_table_announce(struct ri_table *rt, size_t max);

/* Counters for tests. */
struct ri_table_stats {
	uint64_t stores_in, lookups_in, acks_sent, acks_received;
	uint64_t replies_sent, rejected;
};
void ri_table_stats(const struct ri_table *rt, struct ri_table_stats *out);

#endif /* ROUTER_RI_TABLE_H */
