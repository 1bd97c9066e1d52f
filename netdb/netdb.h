/*
 * The netDb subsystem: the store (netdb/store.h) persisted in SQLite
 * (netdb/persist.h), loaded at start and expired on a timer; the I2NP
 * side (DatabaseStore, DatabaseLookup, DatabaseSearchReply,
 * DeliveryStatus) as client and, in floodfill mode, as floodfill; lookups,
 * exploration and publishing our RouterInfo (netdb/lookup.h,
 * netdb/floodfill.c); and reseeding (netdb/reseed.h).
 *
 * A lower layer never calls up: netdb sends through the sender hook main()
 * installs (STYLE.md §1), and main() hands it the messages it handles.
 *
 * Thread: loop thread only.  Ownership: the caller owns the netdb and
 * frees it before the event loop and the worker pool.
 */
#ifndef NETDB_NETDB_H
#define NETDB_NETDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netdb/store.h"
#include "router/i2np.h"

struct evloop;
struct router_info;
struct worker_pool;
struct netdb;

/* How often expired entries are dropped. */
#define NETDB_EXPIRE_INTERVAL_MS (60 * 1000)
/* Loaded rows are inserted this many per loop pass. */
#define NETDB_LOAD_BATCH 500

struct netdb_sender {
	/* Queue msg for peer; takes msg. via_tunnel: use an exploratory
	 * tunnel (when none exists the hook sends directly). */
	int (*send)(void *ctx, const uint8_t peer[32], struct i2np_msg *msg,
		    bool via_tunnel);
	void *ctx;
};

struct netdb_cfg {
	const char *datadir;		/* borrowed for netdb_new() */
	uint8_t netid;
	bool floodfill;
	uint8_t self[32];		/* our router hash */
	/* No database file: everything in memory (tests, benchmarks). */
	bool no_persist;
};

struct netdb_stats {
	uint64_t ri_stored, ls_stored;		/* accepted (new or newer) */
	uint64_t rejected_bad_sig, rejected_netid, rejected_expired;
	uint64_t rejected_format, rejected_old, rejected_other;
	size_t loaded_ri, loaded_ls, loaded_bad;
	uint64_t reseeded;			/* RouterInfos added by reseeds */
	bool loaded;				/* the database load is done */
};

/*
 * New netDb (cfg copied): opens and loads DATADIR/netdb.sqlite on wp and
 * starts the expiry timer.  Never returns NULL.  Loop thread.
 */
struct netdb *netdb_new(struct evloop *el, struct worker_pool *wp,
			const struct netdb_cfg *cfg);
/* Stop everything, write what is queued and release db.  Accepts NULL. */
void netdb_free(struct netdb *db);
void netdb_set_sender(struct netdb *db, struct netdb_sender s);
/* Called once the database is loaded (at once if it already is). */
void netdb_on_loaded(struct netdb *db, void (*fn)(void *ctx), void *ctx);

/* The store (borrowed; lives as long as db). */
struct netdb_store *netdb_get_store(struct netdb *db);
void netdb_stats(const struct netdb *db, struct netdb_stats *out);

/*
 * Validate and store a RouterInfo (untrusted bytes) that arrived from
 * peer (NULL: a local source such as a reseed).  A rejection is counted
 * and logged at info, rate-limited.  Returns netdb_store_add_ri()'s code.
 */
int netdb_add_ri(struct netdb *db, const uint8_t *buf, size_t len,
		 const uint8_t *key, const uint8_t *peer,
		 enum netdb_add_result *res);
/* The same for a LeaseSet of type. */
int netdb_add_ls(struct netdb *db, enum leaseset_type type,
		 const uint8_t *buf, size_t len, const uint8_t *key,
		 const uint8_t *peer, enum netdb_add_result *res);
/* The RouterInfo of hash (borrowed until the netDb changes), or NULL. */
const struct router_info *netdb_get_ri(const struct netdb *db,
				       const uint8_t hash[32]);

/* Drop expired entries now (also runs on the timer); returns how many. */
size_t netdb_expire_now(struct netdb *db);

#endif /* NETDB_NETDB_H */
