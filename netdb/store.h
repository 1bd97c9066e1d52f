/*
 * The netDb's in-memory store: RouterInfos and LeaseSets (all four types)
 * keyed by their 32-byte netDb key, validated before anything is kept
 * (network-database page; PROTOCOLS.md 2.6, 2.7), expired per the
 * network-database page, and queried by the XOR metric.
 *
 * Validation before storing:
 *  - RouterInfo: at most ROUTER_INFO_MAX_BYTES, decodes, its hash is the
 *    key it was stored under, not ours, our netId, published no more than
 *    ROUTER_INFO_MAX_FUTURE_MS ahead nor NETDB_RI_MAX_AGE_MS ago, newer than
 *    the copy we hold (checked before the signature, so replays cost no
 *    verification), then the signature.
 *  - LeaseSet: decodes (router/leaseset.h limits), key matches, times
 *    (leaseset_check_time), newer than our copy, signatures.
 * Rejections return an ERR_* and keep nothing; logging is the caller's
 * (it knows who sent it).
 *
 * Every change is reported through the hooks (the SQLite writer persists
 * from them), unless the caller says the entry came from the database.
 *
 * Thread: one owner (the loop thread).  Ownership: the caller owns the
 * store; entries and what they point to are borrowed until the next call
 * that changes the store.
 */
#ifndef NETDB_STORE_H
#define NETDB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netdb/routing.h"
#include "router/leaseset.h"
#include "router/router_info.h"

/* The store's kinds; the LeaseSet ones equal enum leaseset_type. */
#define NETDB_KIND_RI 0

/* Stores refuse a RouterInfo published longer ago than this (the
 * network-database page keeps them up to 72 hours in a small netDb). */
#define NETDB_RI_MAX_AGE_MS (72ULL * 60 * 60 * 1000)
/* "There is no expiration during the first hour of uptime" */
#define NETDB_EXPIRE_GRACE_MS (60ULL * 60 * 1000)
/* "There is no expiration if there are 25 or less RouterInfos." */
#define NETDB_EXPIRE_MIN_ROUTERS 25
/* "The expiration time with less than 120 routers is 72 hours, while
 * expiration time with 300 routers is around 30 hours": 72 h × 120 / n. */
#define NETDB_EXPIRE_FULL_ROUTERS 120
#define NETDB_EXPIRE_MAX_MS (72ULL * 60 * 60 * 1000)
/* Java's ROUTER_INFO_EXPIRATION_MIN: the shortest we go for a client. */
#define NETDB_EXPIRE_MIN_MS (90ULL * 60 * 1000)
/* "RouterInfos containing SSU introducers expire in about an hour";
 * "Floodfills use a short expiration time (1 hour)". */
#define NETDB_EXPIRE_SHORT_MS (60ULL * 60 * 1000)
/* Memory bounds (a flood of valid entries cannot exhaust us): a count,
 * and the heap the entries take (router_info_heap_bytes(),
 * leaseset_heap_bytes(), the entry and its cached gzip), whichever comes
 * first.  The largest RouterInfo a peer can make (ROUTER_INFO_MAX_BYTES,
 * 128 entries) decodes to about 16 KB, one of i2pd's to 3.2-4.1 KB, a
 * LeaseSet to about 3.6 KB (mostly its fixed part). */
#define NETDB_MAX_ROUTERS 50000
#define NETDB_MAX_LEASESETS 20000
#define NETDB_MAX_RI_BYTES ((size_t)48 << 20)
#define NETDB_MAX_LS_BYTES ((size_t)16 << 20)
/* i2pd: a floodfill must be at least 0.9.38 (PROTOCOLS.md 2.7). */
#define NETDB_FLOODFILL_MIN_VERSION ROUTER_VERSION(0, 9, 38)

/* What an RouterInfo entry is good for (from its caps and addresses). */
#define NETDB_RI_FLOODFILL 0x01u	/* caps 'f' and eligible */
#define NETDB_RI_REACHABLE 0x02u	/* a published NTCP2/SSU2 host */
#define NETDB_RI_INTRODUCERS 0x04u	/* has SSU introducers */

struct netdb_ri_entry {
	uint8_t hash[NETDB_HASH_BYTES];
	struct router_info *ri;
	uint64_t published_ms;
	unsigned flags;			/* NETDB_RI_* */
	size_t idx_all, idx_ff;		/* positions in the store's arrays */
	uint8_t *gz;			/* cached gzip of the RI, or NULL */
	size_t gz_len;
	size_t heap;			/* what it takes, gz aside */
};

struct netdb_ls_entry {
	uint8_t key[NETDB_HASH_BYTES];
	struct leaseset *ls;
	size_t idx;
	size_t heap;			/* what it takes */
};

enum netdb_add_result {
	NETDB_ADD_NEW,
	NETDB_ADD_UPDATED,
};

/* Flags for the add functions. */
#define NETDB_ADD_FROM_DB 0x01u		/* loaded: do not report to hooks */
#define NETDB_ADD_VERIFIED 0x02u	/* signatures already checked (the
					 * loader did, on a worker) */

struct netdb_store_hooks {
	/* Entry key of kind (NETDB_KIND_RI or a LeaseSet type) now holds
	 * bytes (borrowed for the call). */
	void (*put)(void *ctx, unsigned kind, const uint8_t key[32],
		    const uint8_t *bytes, size_t len, uint64_t expires_ms);
	/* Entry key was removed. */
	void (*del)(void *ctx, unsigned kind, const uint8_t key[32]);
	void *ctx;
};

struct netdb_store_cfg {
	uint8_t self[NETDB_HASH_BYTES];	/* our router hash: never stored */
	uint8_t netid;
	bool floodfill;			/* our mode: short RI expiry */
	size_t max_routers;		/* 0: NETDB_MAX_ROUTERS */
	size_t max_leasesets;		/* 0: NETDB_MAX_LEASESETS */
	size_t max_ri_bytes;		/* 0: NETDB_MAX_RI_BYTES */
	size_t max_ls_bytes;		/* 0: NETDB_MAX_LS_BYTES */
};

struct netdb_store;

/* New empty store (cfg copied).  Never returns NULL. */
struct netdb_store *netdb_store_new(const struct netdb_store_cfg *cfg);
/* Its configuration, the defaults filled in for each 0. */
const struct netdb_store_cfg *netdb_store_config(const struct netdb_store *s);
/* Release s and every entry.  Accepts NULL. */
void netdb_store_free(struct netdb_store *s);
void netdb_store_set_hooks(struct netdb_store *s,
			   const struct netdb_store_hooks *h);
void netdb_store_set_floodfill(struct netdb_store *s, bool floodfill);

/*
 * Validate and store a RouterInfo from untrusted bytes.  key: the key it
 * was stored under (NULL: none claimed).  On success *res (may be NULL)
 * says whether it was new.  Errors: router_info_decode()'s, ERR_FORMAT
 * (key mismatch), ERR_ARG (our own hash), ERR_NETWORK, ERR_EXPIRED (too
 * old or from the future), ERR_EXISTS (not newer than ours), ERR_BAD_SIG /
 * ERR_UNSUPPORTED, ERR_LIMIT (store full: max_routers, or max_ri_bytes
 * with this one; an update bigger than its entry can be refused too).
 */
int netdb_store_add_ri(struct netdb_store *s, const uint8_t *buf, size_t len,
		       const uint8_t *key, uint64_t now_ms, unsigned flags,
		       enum netdb_add_result *res);
/*
 * Store a RouterInfo already decoded and verified (by a transport, or the
 * loader on a worker); takes ri on every path.  The same checks except
 * the signature.
 */
int netdb_store_add_ri_verified(struct netdb_store *s, struct router_info *ri,
				uint64_t now_ms, unsigned flags,
				enum netdb_add_result *res);
/*
 * Validate and store a LeaseSet of type from untrusted bytes.  Errors:
 * leaseset_decode()'s, ERR_FORMAT (key mismatch), ERR_EXPIRED, ERR_EXISTS,
 * leaseset_verify()'s, ERR_LIMIT (max_leasesets, max_ls_bytes).
 */
int netdb_store_add_ls(struct netdb_store *s, enum leaseset_type type,
		       const uint8_t *buf, size_t len, const uint8_t *key,
		       uint64_t now_ms, unsigned flags,
		       enum netdb_add_result *res);

const struct netdb_ri_entry *netdb_store_find_ri(const struct netdb_store *s,
						 const uint8_t hash[32]);
const struct netdb_ls_entry *netdb_store_find_ls(const struct netdb_store *s,
						 const uint8_t key[32]);
/* The gzip of an entry's RouterInfo (borrowed): made once and cached
 * while max_ri_bytes has room; otherwise made each time and kept only
 * until the next call. */
const uint8_t *netdb_store_ri_gzip(struct netdb_store *s,
				   const uint8_t hash[32], size_t *len);
/* Remove an entry (reported to the hooks).  ERR_NOT_FOUND. */
int netdb_store_remove_ri(struct netdb_store *s, const uint8_t hash[32]);
int netdb_store_remove_ls(struct netdb_store *s, const uint8_t key[32]);

size_t netdb_store_ri_count(const struct netdb_store *s);
size_t netdb_store_ff_count(const struct netdb_store *s);
size_t netdb_store_ls_count(const struct netdb_store *s);
/* The heap the RouterInfo entries (cached gzips included) and the
 * LeaseSet entries take, as counted against max_ri_bytes and
 * max_ls_bytes. */
size_t netdb_store_ri_bytes(const struct netdb_store *s);
size_t netdb_store_ls_bytes(const struct netdb_store *s);
/* RouterInfo i (0 <= i < count) and floodfill i, in no order; for
 * iteration and random picks.  NULL when out of range. */
const struct netdb_ri_entry *netdb_store_ri_at(const struct netdb_store *s,
					       size_t i);
const struct netdb_ri_entry *netdb_store_ff_at(const struct netdb_store *s,
					       size_t i);
const struct netdb_ls_entry *netdb_store_ls_at(const struct netdb_store *s,
					       size_t i);

/* Decide whether to keep a candidate (for the closest-peer queries). */
typedef bool (*netdb_store_filter_fn)(void *ctx,
				      const struct netdb_ri_entry *e);
/*
 * Fill out (initialised by the caller with the target routing key and k)
 * with the floodfills closest to it (floodfills true), or the
 * non-floodfill routers (false), that filter accepts (NULL: all).  The
 * obj of each kept element is the const struct netdb_ri_entry.
 */
void netdb_store_closest(const struct netdb_store *s, bool floodfills,
			 netdb_store_filter_fn filter, void *ctx,
			 struct netdb_closest *out);

/*
 * Drop expired entries at now_ms, uptime_ms after start: LeaseSets past
 * their expiry, RouterInfos by the network-database page's policy (see
 * the NETDB_EXPIRE_* constants).  Returns how many were removed.
 */
size_t netdb_store_expire(struct netdb_store *s, uint64_t now_ms,
			  uint64_t uptime_ms);
/* The RouterInfo age limit the policy applies now. */
uint64_t netdb_store_ri_expiry_ms(const struct netdb_store *s);

/* The NETDB_RI_* flags for ri. */
unsigned netdb_ri_classify(const struct router_info *ri);

#endif /* NETDB_STORE_H */
