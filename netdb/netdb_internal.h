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
};

/* netdb/net.c: set up and tear down the I2NP side. */
void netdb_net_init(struct netdb *db);
void netdb_net_free(struct netdb *db);
/* netdb/reseed.c: stop a reseed (it finishes on its own if it must). */
void netdb_reseed_free(struct netdb *db);

#endif /* NETDB_NETDB_INTERNAL_H */
