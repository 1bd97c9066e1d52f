/*
 * Shared set-up for the netDb message fuzz targets (fuzz_db_store,
 * fuzz_db_lookup, fuzz_search_reply, fuzz_router_garlic): one in-memory
 * floodfill netDb on an event loop that never runs, a sender that drops
 * what it is given, one known floodfill peer the input appears to come
 * from, and the router's keys and garlic opener (Garlic to the router).
 * Header-only: each target is its own binary.
 */
#ifndef TESTS_FUZZ_FUZZ_NETDB_H
#define TESTS_FUZZ_FUZZ_NETDB_H

#include "netdb/netdb.h"
#include "router/evloop.h"
#include "router/garlic_router.h"
#include "crypto/keystore.h"
#include "crypto/base/fsutil.h"
#include "router/i2np.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/time.h"
#include "crypto/init.h"

#include <stdlib.h>
#include <string.h>

struct fuzz_netdb {
	struct evloop *el;
	struct worker_pool *wp;
	struct netdb *db;
	struct keystore *ks;		/* the router's keys */
	struct garlic_router *garlic;
	uint8_t peer[32];
};

static int fuzz_netdb_drop(void *ctx, const uint8_t peer[32],
			   struct i2np_msg *m, bool via_tunnel)
{
	(void)ctx;
	(void)peer;
	(void)via_tunnel;
	i2np_msg_free(m);
	return 0;
}

/* The netDb, made once; the peer is a floodfill it knows (an i2pd
 * RouterInfo from tests/vectors, clock set just after its publication). */
static struct fuzz_netdb *fuzz_netdb_get(void)
{
	static struct fuzz_netdb f;
	struct netdb_cfg cfg = { .netid = 77, .floodfill = true,
				 .no_persist = true, .passive = true,
				 .lookup_rate_per_min = 1000000000,
				 .lookup_burst = 1000000000,
				 .store_rate_per_min = 1000000000,
				 .store_burst = 1000000000 };
	uint8_t *ri = NULL;
	size_t len = 0;
	struct router_info *d = NULL;
	const char *src = getenv("top_srcdir");
	char *p;

	if (f.db)
		return &f;
	crypto_init();
	p = fsutil_path_join(src ? src : ".",
			     "tests/vectors/i2pd-routerinfo-ntcp2.dat");
	if (fsutil_read_file(p, 4096, &ri, &len) == 0 &&
	    router_info_decode(ri, len, &d) == 0) {
		time_set_override(router_info_published(d) + 60000);
		memcpy(f.peer, router_info_hash(d), 32);
	}
	f.el = evloop_new();
	f.wp = worker_pool_new(f.el, 1);
	f.ks = keystore_new_random();
	f.garlic = garlic_router_new(f.ks);
	cfg.garlic = f.garlic;
	memset(cfg.self, 0x5a, 32);
	f.db = netdb_new(f.el, f.wp, &cfg);
	netdb_set_sender(f.db, (struct netdb_sender){ fuzz_netdb_drop, NULL });
	if (d)
		(void)netdb_add_ri(f.db, ri, len, NULL, NULL, NULL);
	router_info_free(d);
	free(ri);
	free(p);
	return &f;
}

/* Hand data to the netDb as an I2NP message of type from the peer. */
static inline void fuzz_netdb_feed(uint8_t type, const uint8_t *data, size_t size)
{
	struct fuzz_netdb *f = fuzz_netdb_get();

	if (size > I2NP_MAX_PAYLOAD_BYTES)
		return;
	netdb_handle_msg(f->db, f->peer, i2np_msg_new(type, data, size, 10000));
}

#endif /* TESTS_FUZZ_FUZZ_NETDB_H */
