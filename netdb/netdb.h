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
struct garlic_router;
struct router_info;
struct worker_pool;
struct netdb;

/* How often expired entries are dropped. */
#define NETDB_EXPIRE_INTERVAL_MS (60 * 1000)
/* Loaded rows are inserted this many per loop pass. */
#define NETDB_LOAD_BATCH 500

/* Floodfill: "flood it to the 3 floodfills closest to its routing key";
 * a DatabaseSearchReply names 3 routers. */
#define NETDB_FLOOD_PEERS 3
#define NETDB_SEARCH_REPLY_PEERS 3
/* "Never flood ... an RI published more than an hour ago." */
#define NETDB_FLOOD_MAX_AGE_MS (60 * 60 * 1000)
/* Our replies and stores live this long. */
#define NETDB_MSG_TTL_MS 10000
/* Token buckets: messages per minute and burst.  Lookups count per
 * requester (the reply path named), and a router handing us others'
 * lookups (their tunnels' outbound endpoint) may pass RELAY_FACTOR times
 * as many in all; stores count per peer. */
#define NETDB_LOOKUP_RATE_PER_MIN 60
#define NETDB_LOOKUP_BURST 30
#define NETDB_LOOKUP_RELAY_FACTOR 10
#define NETDB_STORE_RATE_PER_MIN 120
#define NETDB_STORE_BURST 60
#define NETDB_RATE_MAX_PEERS 4096

/* Client lookups (iterative, PROTOCOLS.md 2.6; i2pd asks up to 7
 * floodfills, 5 s each). */
#define NETDB_LOOKUP_ATTEMPT_MS 5000
#define NETDB_LOOKUP_MAX_ATTEMPTS 7
/* A floodfill silent this long: ask the next one too, while the first
 * may still answer until its attempt is up (Java I2P's iterative search
 * asks the next after 3 s the same way).  A reply lost on a flooded
 * tunnel then costs this, not a whole attempt. */
#define NETDB_LOOKUP_HEDGE_MS 2000
#define NETDB_LOOKUP_MAX_PENDING 256
/* Exploration: i2pd explores every 30 s with 800 / known routers random
 * keys (1..9); we start faster while the netDb is small.  A round that
 * taught us no new router doubles the wait before the next, up to
 * NETDB_EXPLORE_SMALL_MAX_MS while the netDb is small (a router joining a
 * test network is still found within seconds) and NETDB_EXPLORE_MAX_MS
 * (Java I2P's longest) once it is not, and the next round asks one key: a
 * netDb that knows the whole network stops asking its floodfills for
 * more.  Any new router brings the pace and the count back. */
#define NETDB_EXPLORE_INTERVAL_MS (30 * 1000)
#define NETDB_EXPLORE_FAST_MS 5000
#define NETDB_EXPLORE_SMALL_MAX_MS 10000
#define NETDB_EXPLORE_FAST_BELOW 25
#define NETDB_EXPLORE_MAX_KEYS 9
#define NETDB_EXPLORE_MAX_MS (15 * 60 * 1000)
/* Publishing our RouterInfo: every 40 minutes and on change, to the
 * closest floodfill; "moving to the next-closest floodfill when no
 * confirmation came within 5 s".  The first confirmed store is verified
 * as Java I2P's FloodfillVerifyStoreJob does: after NETDB_VERIFY_DELAY_MS
 * (time for the floodfill to flood it) a lookup at the next closest
 * floodfill, and when that one says "not found" at the one after, must
 * find it; a floodfill that acknowledged and dropped it loses standing
 * (netdb/ffprof.h), and the next copy goes out at once. */
#define NETDB_PUBLISH_INTERVAL_MS (40 * 60 * 1000)
#define NETDB_PUBLISH_CONFIRM_MS 5000
#define NETDB_PUBLISH_MAX_TRIES 7
/* Retry when no floodfill is known yet. */
#define NETDB_PUBLISH_RETRY_MS 10000
/* A DeliveryStatus that goes through a reply tunnel is sent again this
 * long after the first.  i2pd 2.45.1's tunnel thread flushes a transit
 * gateway's buffer when the next message in its queue is for another
 * tunnel, not when it is a tunnel build message: a TunnelGateway message
 * followed by a build message waits at the gateway until that tunnel's
 * next message (its tunnel test, about 15 s on), past i2pd's 5 s wait for
 * a publish confirmation, and i2pd tries each floodfill once.  The second
 * copy flushes the first; the publisher drops the one it no longer waits
 * for. */
#define NETDB_ACK_AGAIN_MS 1000
#define NETDB_ACK_AGAIN_MAX 64
#define NETDB_VERIFY_DELAY_MS 10000

/* How a floodfill misbehaves in an attack test network (tools/attacknet):
 * never in a real one. */
enum netdb_hostile {
	NETDB_HOSTILE_NONE,
	/* Acknowledge stores and keep nothing; answer every lookup with a
	 * search reply ("not found"). */
	NETDB_HOSTILE_DROP,
	/* Answer every lookup with our own RouterInfo under the key asked
	 * (junk: it fails the asker's checks); keep nothing. */
	NETDB_HOSTILE_JUNK,
	/* A Sybil: acknowledge stores and keep nothing; answer every lookup
	 * with a search reply naming only accomplices
	 * (netdb_cfg.accomplices, those of them we know). */
	NETDB_HOSTILE_SYBIL,
};

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
	/* Mirror RouterInfos into DATADIR/<export_dir> in i2pd's layout and
	 * import what is there at start (NULL: none).  Borrowed. */
	const char *export_dir;
	/* Opens Garlic messages to us and holds the one-time tags of our
	 * encrypted lookups (borrowed; may be NULL: no garlic). */
	struct garlic_router *garlic;
	/* The heap RouterInfos and LeaseSets may take (0: NETDB_MAX_RI_BYTES,
	 * NETDB_MAX_LS_BYTES; netdb/store.h). */
	size_t max_ri_bytes, max_ls_bytes;
	/* Per-peer limits (0: the NETDB_*_RATE defaults). */
	unsigned lookup_rate_per_min, lookup_burst;
	unsigned store_rate_per_min, store_burst;
	/* No exploration or publishing timers (tests drive them). */
	bool passive;
	/* 0: NETDB_LOOKUP_ATTEMPT_MS and NETDB_VERIFY_DELAY_MS (tests);
	 * lookup_hedge_ms 0: NETDB_LOOKUP_HEDGE_MS, or 2/5 of a
	 * lookup_attempt_ms given. */
	unsigned lookup_attempt_ms, verify_delay_ms, lookup_hedge_ms;
	/* A hostile floodfill, for attack test networks only
	 * (tools/attacknet), and a Sybil's accomplices (router hashes;
	 * borrowed for netdb_new() only). */
	enum netdb_hostile hostile;
	const uint8_t (*accomplices)[32];
	size_t n_accomplices;
};

struct netdb_stats {
	uint64_t ri_stored, ls_stored;		/* accepted (new or newer) */
	uint64_t rejected_bad_sig, rejected_netid, rejected_expired;
	uint64_t rejected_format, rejected_old, rejected_other;
	uint64_t rejected_full;		/* the store's count or bytes */
	size_t loaded_ri, loaded_ls, loaded_bad;
	uint64_t reseeded;			/* RouterInfos added by reseeds */
	/* Floodfill side. */
	uint64_t stores_in, lookups_in, search_replies_in;
	uint64_t lookups_answered, search_replies_sent, acks_sent;
	uint64_t acks_again;	/* of acks_sent: the second copies */
	uint64_t flooded, rate_limited, garlic_in, garlic_bad;
	uint64_t dropped;			/* malformed or unwanted */
	/* Client side. */
	uint64_t lookups_started, lookups_succeeded, lookups_failed;
	uint64_t lookups_sent, explorations;
	uint64_t publish_sent, publish_confirmed;
	/* Floodfill profiles (netdb/ffprof.h): floodfills known, left out
	 * now, and bans so far; answers that failed validation, lookups
	 * unanswered; our stores verified or lost at another floodfill. */
	size_t ff_known, ff_bad;
	uint64_t ff_bans, ff_junk, ff_timeouts;
	uint64_t ff_missed;	/* "not found" of what a farther one had */
	uint64_t ff_answered;	/* "not found" of a lookup (no exploration) */
	uint64_t store_verified, store_lost;
	/* The SQLite writer. */
	uint64_t db_written, db_dropped, db_errors;
	size_t db_queued;
	bool db_busy;				/* a write job runs */
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
/* The sender installed (to wrap it and put it back later). */
struct netdb_sender netdb_get_sender(const struct netdb *db);
/* A reply path into us: an inbound (exploratory) tunnel's gateway and
 * id; ERR_NOT_FOUND when there is none. */
typedef int (*netdb_reply_path_fn)(void *ctx, uint8_t gateway[32],
				   uint32_t *tunnel_id);
/*
 * Install (fn NULL: remove) the reply path.  With one, lookups go out
 * through the sender with via_tunnel set and ask the floodfill to reply
 * to that tunnel (DatabaseLookup flag bit 0), so the floodfill sees
 * neither our address nor our hash; the replies come back through the
 * tunnel and are handed to netdb_handle_msg() like any other.  Our
 * RouterInfo's stores go the same way, in Noise_N garlic to the
 * floodfill's router key, their DeliveryStatus coming back through the
 * tunnel (directly, the reply to us, while there is no reply path).
 */
void netdb_set_reply_path(struct netdb *db, netdb_reply_path_fn fn, void *ctx);
/* A Data message in a Garlic message addressed to us (a LOCAL clove;
 * paid relaying's tickets after the build, docs/relaypay.md §3), m
 * borrowed.  Plain Data messages and Data in other cloves are dropped. */
typedef void (*netdb_data_fn)(void *ctx, const struct i2np_msg *m);
/* Install (fn NULL: remove) the Data handler. */
void netdb_set_data_fn(struct netdb *db, netdb_data_fn fn, void *ctx);
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

/* ---- the I2NP side (netdb/net.c, netdb/lookup.c) ---- */

/*
 * Handle an I2NP message from peer (DatabaseStore, DatabaseLookup,
 * DatabaseSearchReply, DeliveryStatus, and Garlic to us carrying those);
 * takes m.  Other types are dropped.  An all-zero peer means the message
 * came through one of our inbound tunnels (a DatabaseSearchReply is then
 * matched to the floodfill by its "from" field).
 */
void netdb_handle_msg(struct netdb *db, const uint8_t peer[32],
		      struct i2np_msg *m);
/* A RouterInfo a transport verified (handshake or RouterInfo block);
 * bytes borrowed.  flood: the sender asked us to flood it. */
void netdb_transport_ri(struct netdb *db, const uint8_t *ri, size_t len,
			bool flood);
/*
 * Our own signed RouterInfo (copied); publish it now and then every
 * NETDB_PUBLISH_INTERVAL_MS.  Lookups of our hash are answered with it.
 */
void netdb_set_self(struct netdb *db, const uint8_t *ri, size_t len);
/*
 * A new DatabaseStore message: key, store type (I2NP_STORE_*), data
 * (borrowed: RouterInfo gzip, or LeaseSet bytes), reply token, and when
 * the token is set the reply tunnel and gateway.  Caller owns it.
 */
struct i2np_msg *netdb_store_msg_new(const uint8_t key[32], uint8_t type,
				     const uint8_t *data, size_t len,
				     uint32_t token, uint32_t tunnel,
				     const uint8_t *gateway);
/* Start exploring and publishing (once the sender is installed). */
void netdb_start(struct netdb *db);
void netdb_set_floodfill(struct netdb *db, bool floodfill);
bool netdb_is_floodfill(const struct netdb *db);

enum netdb_lookup_kind {
	NETDB_LOOKUP_RI,
	NETDB_LOOKUP_LS,
	NETDB_LOOKUP_EXPLORE,	/* a random key: learn non-floodfills */
};

/* A lookup ended: result 0 (key is in the store now), ERR_NOT_FOUND or
 * ERR_TIMEOUT.  Runs on the loop, from a timer or a message handler. */
typedef void (*netdb_lookup_cb)(void *ctx, const uint8_t key[32],
				int result);
/*
 * Look key up through the floodfills closest to it, iteratively: one
 * floodfill at a time, NETDB_LOOKUP_ATTEMPT_MS each (the next is asked
 * beside one silent for NETDB_LOOKUP_HEDGE_MS), following the
 * closer floodfills DatabaseSearchReplies name, up to
 * NETDB_LOOKUP_MAX_ATTEMPTS.  Replies come through an exploratory tunnel
 * when a reply path is installed, else directly; LeaseSet lookups ask for an
 * ECIES-encrypted reply when a garlic router is configured.  cb may be
 * NULL.  A lookup for a key already pending joins it.  Errors: ERR_LIMIT
 * (too many pending), ERR_BAD_STATE (no sender).
 */
int netdb_lookup_start(struct netdb *db, const uint8_t key[32],
		       enum netdb_lookup_kind kind, netdb_lookup_cb cb,
		       void *ctx);
/* Stop the lookup for key without calling its callbacks.  ERR_NOT_FOUND
 * when none is pending. */
int netdb_lookup_cancel(struct netdb *db, const uint8_t key[32]);
/*
 * Verify a store of key (an entry of kind we hold the newest of, as our
 * LeaseSet) that went to the n_stored floodfills in stored, as Java I2P's
 * FloodfillVerifyStoreJob does: look it up at the closest floodfill the
 * store did not go to, and when that one says "not found" at the next
 * (two at most).  cb gets 0 when one had it (the floodfills stored to are
 * scored as verified), ERR_NOT_FOUND when those asked all said "not
 * found" (scored as having lost it: netdb/ffprof.h), ERR_TIMEOUT when one
 * stayed silent or there was none to ask.  A copy older than ours counts
 * as had.  ERR_EXISTS while a lookup of key is pending; else as
 * netdb_lookup_start().
 */
int netdb_verify_store(struct netdb *db, const uint8_t key[32],
		       enum netdb_lookup_kind kind, const uint8_t (*stored)[32],
		       size_t n_stored, netdb_lookup_cb cb, void *ctx);
/* Run one exploration round now, with i2pd's number of keys. */
void netdb_explore_now(struct netdb *db);
/* The exploration timer's round: as many keys as netdb_explore_now()
 * when the netDb grew since the last round, else one; returns the wait
 * before the next round in ms (NETDB_EXPLORE_*: doubling while rounds
 * teach nothing). */
unsigned netdb_explore_step(struct netdb *db);
/* Publish our RouterInfo now (also on the timer and on change). */
void netdb_publish_now(struct netdb *db);
/* Pending lookups (tests, status). */
size_t netdb_lookups_pending(const struct netdb *db);
/* Is floodfill ff left out of lookups and stores for what it did
 * (netdb/ffprof.h)?  Floodfills left out are still asked while every
 * floodfill known is. */
bool netdb_ff_is_bad(const struct netdb *db, const uint8_t ff[32]);

#endif /* NETDB_NETDB_H */
