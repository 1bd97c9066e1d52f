/*
 * The netDb subsystem (netdb/netdb.h): owns the store and the SQLite
 * writer, loads the database at start (decoded and verified on a worker,
 * inserted here a batch per loop pass), expires entries on a timer, and
 * counts and logs what it refuses.
 */
#include "config.h"
#include "netdb/netdb.h"
#include "netdb/netdb_internal.h"
#include "netdb/persist.h"
#include "router/evloop.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"

#include <stdlib.h>
#include <string.h>

static void store_put(void *ctx, unsigned kind, const uint8_t key[32],
		      const uint8_t *bytes, size_t len, uint64_t stamp_ms)
{
	struct netdb *db = ctx;

	if (db->writer)
		netdb_writer_put(db->writer, kind, key, bytes, len, stamp_ms);
}

static void store_del(void *ctx, unsigned kind, const uint8_t key[32])
{
	struct netdb *db = ctx;

	if (db->writer)
		netdb_writer_del(db->writer, kind, key);
}

static void loaded_done(struct netdb *db)
{
	db->st.loaded = true;
	netdb_loaded_free(db->loading);
	db->loading = NULL;
	log_notice(LD_NETDB, "netDb loaded: %zu RouterInfos (%zu floodfills), "
		   "%zu LeaseSets; %zu stored entries dropped",
		   netdb_store_ri_count(db->store),
		   netdb_store_ff_count(db->store),
		   netdb_store_ls_count(db->store), db->st.loaded_bad);
	for (size_t i = 0; i < db->n_on_loaded; i++)
		db->on_loaded[i].fn(db->on_loaded[i].ctx);
	db->n_on_loaded = 0;
}

/* A loaded row the store refused: gone from the database too, unless a
 * newer copy already arrived (its write is queued after this) or there
 * was no room for it. */
static void load_refused(struct netdb *db, unsigned kind,
			 const uint8_t key[32], int r)
{
	if (r == ERR_LIMIT) {
		/* the store is full ([limits] netdb-routers): the row is
		 * good, and stays in the database */
		db->st.rejected_full++;
		return;
	}
	db->st.loaded_bad++;
	if (r != ERR_EXISTS && db->writer)
		netdb_writer_del(db->writer, kind, key);
}

/* Insert the next batch of loaded entries; re-arm until all are in. */
static void load_step(void *arg)
{
	struct netdb *db = arg;
	struct netdb_loaded *l = db->loading;
	uint64_t now = time_now_ms();
	size_t n = 0;
	int r;

	for (; db->load_pos < l->n_ris && n < NETDB_LOAD_BATCH; n++) {
		struct router_info *ri = l->ris[db->load_pos];
		uint8_t h[32];

		l->ris[db->load_pos++] = NULL;
		memcpy(h, router_info_hash(ri), 32);
		r = netdb_store_add_ri_verified(db->store, ri, now,
						NETDB_ADD_FROM_DB, NULL);
		if (r == 0)
			db->st.loaded_ri++;
		else
			load_refused(db, NETDB_KIND_RI, h, r);
	}
	for (; db->load_pos_ls < l->n_lss && n < NETDB_LOAD_BATCH; n++) {
		size_t i = db->load_pos_ls++;
		struct leaseset *ls = NULL;

		r = netdb_store_add_ls(db->store, l->lss[i].type,
				       l->lss[i].data, l->lss[i].len, NULL, now,
				       NETDB_ADD_FROM_DB | NETDB_ADD_VERIFIED,
				       NULL);
		if (r == 0) {
			db->st.loaded_ls++;
		} else if (leaseset_decode(l->lss[i].type, l->lss[i].data,
					   l->lss[i].len, &ls) == 0) {
			load_refused(db, l->lss[i].type, leaseset_key(ls), r);
		}
		leaseset_free(ls);
	}
	if (db->load_pos < l->n_ris || db->load_pos_ls < l->n_lss)
		evloop_timer_arm(db->load_timer, 0);
	else
		loaded_done(db);
}

static void writer_loaded(void *ctx, struct netdb_loaded *l)
{
	struct netdb *db = ctx;

	if (l->err)
		log_warn(LD_NETDB, "the netDb database could not be read (%s); "
			 "running from memory, starting empty", err_str(l->err));
	if (l->n_files_bad)
		log_notice(LD_NETDB, "%zu RouterInfo files of the mirror "
			   "directory refused (bad, or of another network)",
			   l->n_files_bad);
	db->st.loaded_bad = l->n_bad;
	db->st.rejected_full += l->n_full;
	db->loading = l;
	db->load_pos = db->load_pos_ls = 0;
	load_step(db);
}

static void expire_tick(void *arg)
{
	struct netdb *db = arg;

	netdb_expire_now(db);
	evloop_timer_arm(db->expire_timer, NETDB_EXPIRE_INTERVAL_MS);
}

struct netdb *netdb_new(struct evloop *el, struct worker_pool *wp,
			const struct netdb_cfg *cfg)
{
	struct netdb *db = xzalloc(sizeof(*db));
	struct netdb_store_cfg scfg = { .netid = cfg->netid,
					.floodfill = cfg->floodfill,
					.max_ri_bytes = cfg->max_ri_bytes,
					.max_ls_bytes = cfg->max_ls_bytes };
	struct netdb_store_hooks hooks = { store_put, store_del, db };

	db->el = el;
	db->wp = wp;
	db->cfg = *cfg;
	db->cfg.datadir = NULL;
	db->cfg.export_dir = NULL;
	db->datadir = cfg->datadir ? xstrdup(cfg->datadir) : NULL;
	db->start_mono = time_mono_ms();
	memcpy(scfg.self, cfg->self, 32);
	db->store = netdb_store_new(&scfg);
	netdb_store_set_hooks(db->store, &hooks);
	db->load_timer = evloop_timer_new(el, load_step, db);
	db->expire_timer = evloop_timer_new(el, expire_tick, db);
	evloop_timer_arm(db->expire_timer, NETDB_EXPIRE_INTERVAL_MS);
	if (!cfg->no_persist && db->datadir) {
		char *path = fsutil_path_join(db->datadir,
					      NETDB_PERSIST_FILE_NAME);
		char *exp = cfg->export_dir ?
			    fsutil_path_join(db->datadir, cfg->export_dir) :
			    NULL;
		const struct netdb_store_cfg *sc =
			netdb_store_config(db->store);
		struct netdb_writer_cfg wcfg = {
			.path = path, .export_dir = exp, .netid = cfg->netid,
			/* the store's room: no more is decoded at load */
			.max_ri_bytes = sc->max_ri_bytes,
			.max_ls_bytes = sc->max_ls_bytes };
		db->writer = netdb_writer_new(el, wp, &wcfg, writer_loaded,
					      db);
		free(exp);
		free(path);
	} else {
		db->st.loaded = true;
	}
	netdb_net_init(db);
	return db;
}

void netdb_free(struct netdb *db)
{
	if (!db)
		return;
	netdb_net_free(db);
	netdb_reseed_free(db);
	evloop_timer_free(db->load_timer);
	evloop_timer_free(db->expire_timer);
	netdb_writer_free(db->writer);	/* writes what is queued */
	db->writer = NULL;
	netdb_loaded_free(db->loading);
	netdb_store_free(db->store);
	free(db->on_loaded);
	free(db->datadir);
	free(db);
}

void netdb_on_loaded(struct netdb *db, void (*fn)(void *ctx), void *ctx)
{
	if (db->st.loaded) {
		fn(ctx);
		return;
	}
	db->on_loaded = xrealloc(db->on_loaded, (db->n_on_loaded + 1) *
				 sizeof(*db->on_loaded));
	db->on_loaded[db->n_on_loaded].fn = fn;
	db->on_loaded[db->n_on_loaded].ctx = ctx;
	db->n_on_loaded++;
}

struct netdb_store *netdb_get_store(struct netdb *db)
{
	return db->store;
}

void netdb_stats(const struct netdb *db, struct netdb_stats *out)
{
	struct netdb_writer_stats ws;

	*out = db->st;
	netdb_lookups_stats(db, out);
	if (db->writer) {
		netdb_writer_stats(db->writer, &ws);
		out->db_written = ws.ops_written;
		out->db_dropped = ws.ops_dropped;
		out->db_errors = ws.errors;
		out->db_queued = ws.queued;
		out->db_busy = ws.busy;
	}
}

/* Count a refusal and say why, once in a while. */
static void refused(struct netdb *db, const char *what, const uint8_t *key,
		    const uint8_t *peer, int r)
{
	char kb[80], pb[80];

	switch (r) {
	case ERR_BAD_SIG:
		db->st.rejected_bad_sig++;
		break;
	case ERR_NETWORK:
		db->st.rejected_netid++;
		break;
	case ERR_EXPIRED:
		db->st.rejected_expired++;
		break;
	case ERR_EXISTS:
		db->st.rejected_old++;
		return;			/* normal: we had it already */
	case ERR_LIMIT:
		db->st.rejected_full++;
		break;
	case ERR_FORMAT:
	case ERR_TRUNCATED:
	case ERR_TOO_BIG:
		db->st.rejected_format++;
		break;
	default:
		db->st.rejected_other++;
		break;
	}
	log_info_rl(10, LD_NETDB, "refused a %s %s from %s: %s", what,
		    key ? log_safe_hash(kb, sizeof(kb), key) : "(no key)",
		    peer ? log_safe_hash(pb, sizeof(pb), peer) : "a local source",
		    err_str(r));
}

int netdb_add_ri(struct netdb *db, const uint8_t *buf, size_t len,
		 const uint8_t *key, const uint8_t *peer,
		 enum netdb_add_result *res)
{
	enum netdb_add_result got;
	int r = netdb_store_add_ri(db->store, buf, len, key, time_now_ms(), 0,
				   &got);
	char h[72];

	if (r == 0) {
		db->st.ri_stored++;
		log_debug(LD_NETDB, "kept RouterInfo %s",
			  log_safe_hash(h, sizeof(h),
					netdb_ri_key_of(db, buf, len, key)));
		if (res)
			*res = got;
	} else {
		refused(db, "RouterInfo", key, peer, r);
	}
	return r;
}

int netdb_add_ls(struct netdb *db, enum leaseset_type type,
		 const uint8_t *buf, size_t len, const uint8_t *key,
		 const uint8_t *peer, enum netdb_add_result *res)
{
	int r = netdb_store_add_ls(db->store, type, buf, len, key,
				   time_now_ms(), 0, res);

	if (r == 0)
		db->st.ls_stored++;
	else
		refused(db, "LeaseSet", key, peer, r);
	return r;
}

const uint8_t *netdb_ri_key_of(struct netdb *db, const uint8_t *buf,
			       size_t len, const uint8_t *key)
{
	struct router_info *ri = NULL;

	if (key)
		return key;
	/* Decoding again is cheap next to the verification just done. */
	if (router_info_decode(buf, len, &ri) == 0)
		memcpy(db->last_key, router_info_hash(ri), 32);
	router_info_free(ri);
	return db->last_key;
}

const struct router_info *netdb_get_ri(const struct netdb *db,
				       const uint8_t hash[32])
{
	const struct netdb_ri_entry *e = netdb_store_find_ri(db->store, hash);

	return e ? e->ri : NULL;
}

size_t netdb_expire_now(struct netdb *db)
{
	size_t n = netdb_store_expire(db->store, time_now_ms(),
				      time_mono_ms() - db->start_mono);

	if (n)
		log_info(LD_NETDB, "expired %zu netDb entries; %zu RouterInfos "
			 "and %zu LeaseSets remain", n,
			 netdb_store_ri_count(db->store),
			 netdb_store_ls_count(db->store));
	return n;
}
