/*
 * The netDb subsystem's private state, shared by netdb/netdb.c (store,
 * persistence, load, expiry) and netdb/net.c (the I2NP side).  Only files
 * in netdb/ include this.
 */
#ifndef NETDB_NETDB_INTERNAL_H
#define NETDB_NETDB_INTERNAL_H

#include "netdb/netdb.h"
#include "netdb/persist.h"
#include "netdb/store.h"

struct evloop_timer;

struct netdb {
	struct evloop *el;
	struct worker_pool *wp;
	struct netdb_cfg cfg;		/* datadir: see below */
	char *datadir;
	uint64_t start_mono;
	struct netdb_store *store;
	struct netdb_writer *writer;	/* NULL: nothing on disk */
	struct netdb_sender sender;
	netdb_reply_path_fn reply_path;	/* NULL: replies come directly */
	void *reply_path_ctx;
	netdb_data_fn data_fn;		/* NULL: Data in garlic dropped */
	void *data_ctx;
	struct netdb_stats st;
	/* The load, a batch per loop pass. */
	struct netdb_loaded *loading;
	size_t load_pos, load_pos_ls;
	struct evloop_timer *load_timer;
	struct evloop_timer *expire_timer;
	struct {
		void (*fn)(void *ctx);
		void *ctx;
	} *on_loaded;
	size_t n_on_loaded;
	struct netdb_net *net;		/* netdb/net.c */
	struct reseed_state *reseed;	/* netdb/reseed.c */
	uint8_t last_key[32];		/* scratch for netdb_ri_key_of() */
};

/* The key of a RouterInfo just stored: key if given, else its hash
 * (borrowed; valid until the next call). */
const uint8_t *netdb_ri_key_of(struct netdb *db, const uint8_t *buf,
			       size_t len, const uint8_t *key);

/* netdb/net.c: set up and tear down the I2NP side. */
void netdb_net_init(struct netdb *db);
void netdb_net_free(struct netdb *db);

/* ---- shared by netdb/net.c and netdb/lookup.c ---- */

struct i2np_msg;
struct i2np_search_reply;
struct netdb_lookups;		/* netdb/lookup.c */

/* Our state on the I2NP side (owned by the netdb). */
struct netdb_net {
	bool floodfill;
	bool started;
	struct keymap *rates;		/* peer hash -> struct rate */
	uint8_t *accomplices;		/* a Sybil's, n_accomplices × 32 */
	size_t n_accomplices;
	uint8_t *self_ri, *self_gz;	/* our RouterInfo, and its gzip */
	size_t self_ri_len, self_gz_len;
	uint64_t self_published;
	struct netdb_lookups *lk;	/* netdb/lookup.c */
	/* DeliveryStatus messages to send again (NETDB_ACK_AGAIN_MS), oldest
	 * first */
	struct evloop_timer *ack_timer;
	struct ack_again {
		uint8_t gateway[32];
		uint32_t tunnel, token;
		uint64_t due;		/* monotonic */
	} acks[NETDB_ACK_AGAIN_MAX];
	size_t n_acks;
};

/* Send m to peer through the sender hook (takes m).  via_tunnel as the
 * hook's.  ERR_BAD_STATE without a sender. */
int netdb_send(struct netdb *db, const uint8_t peer[32], struct i2np_msg *m,
	       bool via_tunnel);
/* Our RouterInfo's gzip, or NULL when we have none yet (borrowed). */
const uint8_t *netdb_self_gz(const struct netdb *db, size_t *len);

/* netdb/lookup.c */
void netdb_lookups_init(struct netdb *db);
void netdb_lookups_free(struct netdb *db);
void netdb_lookups_start_timers(struct netdb *db);
/* A DatabaseStore for key arrived from peer (NULL: a transport; all
 * zero: through our tunnel) and was stored (or refused: err). */
void netdb_lookup_on_store(struct netdb *db, const uint8_t *peer,
			   const uint8_t key[32], int err);
/* A DatabaseStore of our own RouterInfo (ri, len: inflated) arrived
 * from peer: the answer to a store verification? */
void netdb_verify_on_store(struct netdb *db, const uint8_t peer[32],
			   const uint8_t *ri, size_t len);
/* Fill the floodfill profile figures of out. */
void netdb_lookups_stats(const struct netdb *db, struct netdb_stats *out);
/* A DatabaseSearchReply from peer. */
void netdb_lookup_on_search_reply(struct netdb *db, const uint8_t peer[32],
				  const struct i2np_search_reply *sr);
/* A DeliveryStatus with msg_id: a publish confirmation?  True if so. */
bool netdb_publish_on_status(struct netdb *db, uint32_t msg_id);
bool netdb_lookup_is_pending(const struct netdb *db, const uint8_t key[32]);
/* Our RouterInfo changed: publish it. */
void netdb_publish_changed(struct netdb *db);
/* netdb/reseed.c: stop a reseed (it finishes on its own if it must). */
void netdb_reseed_free(struct netdb *db);

#endif /* NETDB_NETDB_INTERNAL_H */
