/*
 * bitsd's tunnels subsystem (apps/bitsd_tunnels.h): wiring only.
 */
#include "config.h"
#include "apps/bitsd_tunnels.h"
#include "router/membudget.h"
#include "netdb/netdb.h"
#include "router/conf.h"
#include "router/daemon.h"
#include "router/evloop.h"
#include "router/garlic_router.h"
#include "router/i2np.h"
#include "router/router_keys.h"
#include "router/transport.h"
#include "router/worker.h"
#include "tunnels/profile.h"
#include "tunnels/transit.h"
#include "tunnels/tunnel_pool.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

struct bitsd_tunnels {
	struct daemon *d;
	struct transport_mgr *tm;
	struct transit_table *transit;
	struct event *flush_ev;		/* tunnel_mgr_flush and
					 * transit_table_flush, once a pass */
	uint64_t swept_passes;		/* layer passes at the last sweep */
	struct evloop_timer *sweep;
	/* our own tunnels (with a netDb) */
	struct netdb *db;
	struct peer_profiles *profiles;
	struct tunnel_mgr *own;
	struct evloop_timer *tick, *save;
	char *profiles_path;
	struct profiles_job *loading;	/* until its done() ran */
	struct netdb_sender netdb_direct;	/* the netDb's own sender */
	uint64_t decay_at;		/* monotonic: next profile decay */
	uint64_t timeout_decay_at;	/* and of the build timeouts */
	bool pools_up;			/* the exploratory pool was ready */
	uint8_t self[32];
	/* what our zero-hop tunnels sent to ourselves, handed in later */
	struct i2np_msg *loop[BITSD_TUNNELS_LOOPBACK_MAX];
	size_t n_loop;
	struct evloop_timer *loop_timer;
	/* The memory budget ([limits] memory): transit is what it sheds. */
	struct membudget mem;
	struct evloop_timer *mem_timer;
	bitsd_tunnels_garlic_fn garlic;	/* local destinations first */
	void *garlic_ctx;
	bitsd_tunnels_ticket_fn ticket;	/* paid relaying: the payee */
	void *ticket_ctx;
};

/* A profiles job: its own path and rows, nothing the loop owns. */
struct profiles_job {
	char *path;
	struct peer_profile *rows;
	size_t n;
	int r;
	struct bitsd_tunnels *bt;	/* load only: bt waits for it */
};

static int send_hook(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	return transport_send(((struct bitsd_tunnels *)ctx)->tm, peer, m);
}

/* Tunnel messages are queued: pack our own outbound tunnels' and layer
 * the transit ones in one pass once the read callbacks active in this
 * loop pass have handed theirs in (the event goes to the end of the
 * active queue). */
static void flush_soon_hook(void *ctx)
{
	event_active(((struct bitsd_tunnels *)ctx)->flush_ev, EV_READ, 0);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bitsd_tunnels *bt = arg;

	(void)fd;
	(void)what;
	if (bt->own)
		tunnel_mgr_flush(bt->own);
	transit_table_flush(bt->transit);
}

static bool congested_hook(void *ctx)
{
	struct bitsd_tunnels *bt = ctx;
	struct transport_stats st;

	transport_mgr_stats(bt->tm, &st);
	return st.queued_bytes * 100 > (size_t)TRANSPORT_DEFAULT_TOTAL_QUEUE_BYTES *
					       BITSD_TUNNELS_CONGESTED_QUEUE_PCT;
}

static bool id_in_use_hook(void *ctx, uint32_t id)
{
	struct bitsd_tunnels *bt = ctx;

	return bt->own && tunnel_mgr_id_in_use(bt->own, id);
}

/* "From" no peer: what came out of a tunnel or from ourselves. */
static const uint8_t no_peer[32];

/*
 * A message for this router that is not tunnel traffic, arriving from
 * (for the log): Garlic is offered to the local destinations first when
 * dests is set, then the netDb's types go to the netDb, as from no peer;
 * the rest is dropped.
 */
static void router_msg(struct bitsd_tunnels *bt, struct i2np_msg *m,
		       const char *from, bool dests)
{
	if (dests && m->type == I2NP_GARLIC && bt->garlic &&
	    bt->garlic(bt->garlic_ctx, m))
		return;
	switch (m->type) {
	case I2NP_DATABASE_STORE:
	case I2NP_DATABASE_LOOKUP:
	case I2NP_DATABASE_SEARCH_REPLY:
	case I2NP_DELIVERY_STATUS:
	case I2NP_GARLIC:
		if (!bt->db)
			break;
		log_debug(LD_TUNNEL, "%s from %s to the netDb",
			  i2np_type_name(m->type), from);
		netdb_handle_msg(bt->db, no_peer, m);
		return;
	default:
		break;
	}
	log_debug(LD_TUNNEL, "%s from %s dropped", i2np_type_name(m->type),
		  from);
	i2np_msg_free(m);
}

/*
 * What a transit OBEP delivers to this router (a peer's outbound tunnel
 * ending at us, e.g. a DatabaseStore or lookup for us as a floodfill, a
 * build for a tunnel whose gateway we are, or a TunnelGateway for our
 * own zero-hop inbound tunnel): tunnel messages and builds go to the
 * tunnels, the rest to the router, as from no peer.
 */
static void local_hook(void *ctx, struct i2np_msg *m)
{
	struct bitsd_tunnels *bt = ctx;

	if (!bitsd_tunnels_recv(bt, no_peer, m))
		router_msg(bt, m, "an OBEP's local delivery", false);
}

/* A short-build OBEP's reply, garlic-wrapped with "RGarlicKeyAndTag". */
static struct i2np_msg *wrap_reply_hook(void *ctx, struct i2np_msg *m,
					const uint8_t key[32],
					const uint8_t tag[8])
{
	(void)ctx;
	return garlic_wrap_tagged(m, key, tag);
}

/* A transit build record's ticket: to the payee when there is one. */
static void ticket_hook(void *ctx, const uint8_t *tk, size_t len,
			uint32_t receive_id)
{
	struct bitsd_tunnels *bt = ctx;

	if (bt->ticket)
		bt->ticket(bt->ticket_ctx, tk, len, receive_id);
}

void bitsd_tunnels_set_ticket(struct bitsd_tunnels *bt,
			      bitsd_tunnels_ticket_fn fn, void *ctx)
{
	if (!bt)
		return;
	bt->ticket = fn;
	bt->ticket_ctx = ctx;
}

static void mem_cb(void *arg)
{
	struct bitsd_tunnels *bt = arg;
	enum mem_level l = membudget_update(&bt->mem, time_mono_ms(), false);

	transit_table_set_shedding(bt->transit, l >= MEM_NO_NEW_TRANSIT,
				   l >= MEM_SHED_TRANSIT);
	evloop_timer_arm(bt->mem_timer, MEMBUDGET_READ_EVERY_MS);
}

static void sweep_cb(void *arg)
{
	struct bitsd_tunnels *bt = arg;
	const struct transit_stats *st = transit_table_stats(bt->transit);
	/* info while tunnel messages flow (once a sweep), debug when idle */
	const enum log_level lvl = st->layer_passes != bt->swept_passes
					   ? LOG_INFO : LOG_DEBUG;

	transit_table_expire(bt->transit, time_mono_ms());
	bt->swept_passes = st->layer_passes;
	log_msg(lvl, LD_TUNNEL, __func__, "transit: %zu tunnels, %llu "
		"accepted, %llu relayed, %llu messages layered in %llu passes",
		transit_table_count(bt->transit),
		(unsigned long long)st->builds_accepted,
		(unsigned long long)st->data_relayed,
		(unsigned long long)st->layer_msgs,
		(unsigned long long)st->layer_passes);
	evloop_timer_arm(bt->sweep, BITSD_TUNNELS_SWEEP_MS);
}

/* ---- our own tunnels ---- */

/* Hand in what our zero-hop tunnels sent to ourselves: tunnel messages
 * (TunnelGateway to a zero-hop inbound tunnel) to the tunnels, the rest
 * to the router. */
static void loop_cb(void *arg)
{
	struct bitsd_tunnels *bt = arg;
	struct i2np_msg *batch[BITSD_TUNNELS_LOOPBACK_MAX];
	size_t n = bt->n_loop;

	memcpy(batch, bt->loop, n * sizeof(*batch));
	bt->n_loop = 0;
	for (size_t i = 0; i < n; i++)
		if (!bitsd_tunnels_recv(bt, bt->self, batch[i]))
			router_msg(bt, batch[i], "ourselves", true);
}

/* Our tunnels' messages: to peers through the transports; to ourselves
 * (zero-hop tunnels) back in from the loop, never from inside the send. */
static int own_send_hook(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	struct bitsd_tunnels *bt = ctx;

	if (memcmp(peer, bt->self, 32) != 0)
		return transport_send(bt->tm, peer, m);
	if (bt->n_loop == ARRAY_LEN(bt->loop)) {
		log_debug(LD_TUNNEL, "loopback queue full: %s dropped",
			  i2np_type_name(m->type));
		i2np_msg_free(m);
		return ERR_LIMIT;
	}
	bt->loop[bt->n_loop++] = m;
	evloop_timer_arm(bt->loop_timer, 0);
	return 0;
}

/* What arrives on our inbound tunnels for the router: netDb replies, and
 * garlic for our local destinations. */
static void own_deliver_hook(void *ctx, struct i2np_msg *m)
{
	router_msg(ctx, m, "an inbound tunnel", true);
}

void bitsd_tunnels_set_garlic(struct bitsd_tunnels *bt,
			      bitsd_tunnels_garlic_fn fn, void *ctx)
{
	bt->garlic = fn;
	bt->garlic_ctx = ctx;
}

/* The netDb's sender: what it wants sent through a tunnel goes out
 * through an exploratory tunnel (to the router), the rest, and all of it
 * while we have no outbound tunnel, through its own sender. */
static int netdb_send_hook(void *ctx, const uint8_t peer[32],
			   struct i2np_msg *m, bool via_tunnel)
{
	struct bitsd_tunnels *bt = ctx;
	struct tunnel_pool *p = tunnel_mgr_exploratory(bt->own);
	struct tunnel_pool_stats st;

	if (via_tunnel) {
		tunnel_pool_stats(p, &st);
		if (st.out_ready)
			return tunnel_pool_send(p, peer, 0, m, time_mono_ms());
	}
	return bt->netdb_direct.send(bt->netdb_direct.ctx, peer, m, via_tunnel);
}

static int netdb_reply_path_hook(void *ctx, uint8_t gateway[32],
				 uint32_t *tunnel_id)
{
	struct bitsd_tunnels *bt = ctx;

	return tunnel_pool_reply_path(tunnel_mgr_exploratory(bt->own), gateway,
				      tunnel_id, time_mono_ms());
}

static void tick_cb(void *arg)
{
	struct bitsd_tunnels *bt = arg;
	struct tunnel_pool_stats st;

	/* Old history fades: counters halve once per decay period, build
	 * timeouts (blamed on every hop) more often. */
	if (time_mono_ms() >= bt->decay_at) {
		peer_profiles_decay(bt->profiles);
		bt->decay_at = time_mono_ms() + PEER_PROFILE_DECAY_MS;
	}
	if (time_mono_ms() >= bt->timeout_decay_at) {
		peer_profiles_decay_timeouts(bt->profiles);
		bt->timeout_decay_at = time_mono_ms() +
				       PEER_PROFILE_TIMEOUT_DECAY_MS;
	}
	tunnel_mgr_tick(bt->own, time_now_ms(), time_mono_ms());
	/* Our first publish went out directly (no tunnels yet): once the
	 * exploratory pool has a tunnel each way, store again through
	 * them, so the floodfills hold a copy stored the private way. */
	tunnel_pool_stats(tunnel_mgr_exploratory(bt->own), &st);
	if (!bt->pools_up && st.in_ready && st.out_ready) {
		bt->pools_up = true;
		log_info(LD_TUNNEL, "exploratory tunnels up: netDb stores and "
			 "lookups go through them");
		netdb_publish_now(bt->db);
	}
	evloop_timer_arm(bt->tick, BITSD_TUNNELS_TICK_MS);
}

static void profiles_save_run(void *arg)
{
	struct profiles_job *j = arg;

	j->r = peer_profiles_db_save(j->path, j->rows, j->n);
}

static void profiles_job_free(void *arg)
{
	struct profiles_job *j = arg;

	free(j->path);
	free(j->rows);
	free(j);
}

static struct profiles_job *profiles_job_new(struct bitsd_tunnels *bt)
{
	struct profiles_job *j = xzalloc(sizeof(*j));

	j->path = xstrdup(bt->profiles_path);
	return j;
}

static void save_cb(void *arg)
{
	struct bitsd_tunnels *bt = arg;
	struct profiles_job *j = profiles_job_new(bt);

	peer_profiles_snapshot(bt->profiles, &j->rows, &j->n);
	worker_submit(daemon_workers(bt->d),
		      (struct work){ profiles_save_run, profiles_job_free, j });
	evloop_timer_arm(bt->save, BITSD_TUNNELS_PROFILE_SAVE_MS);
}

static void profiles_load_run(void *arg)
{
	struct profiles_job *j = arg;

	j->r = peer_profiles_db_load(j->path, &j->rows, &j->n);
}

/* The profiles are in: start building. */
static void profiles_load_done(void *arg)
{
	struct profiles_job *j = arg;
	struct bitsd_tunnels *bt = j->bt;

	if (!bt) {		/* stopped before the load finished */
		profiles_job_free(j);
		return;
	}
	bt->loading = NULL;
	if (j->r == 0) {
		peer_profiles_merge(bt->profiles, j->rows, j->n);
		log_info(LD_TUNNEL, "loaded %zu peer profiles", j->n);
	}
	profiles_job_free(j);
	evloop_timer_arm(bt->tick, 0);
	evloop_timer_arm(bt->save, BITSD_TUNNELS_PROFILE_SAVE_MS);
	bt->decay_at = time_mono_ms() + PEER_PROFILE_DECAY_MS;
	bt->timeout_decay_at = time_mono_ms() + PEER_PROFILE_TIMEOUT_DECAY_MS;
}

/* Pool sizes from the config (lengths 0-7, variance -3-3, backups 0-4;
 * a quantity 0 keeps the default). */
static void pool_cfg_from_conf(const struct conf *c, struct tunnel_pool_cfg *pc)
{
	tunnel_pool_cfg_default(pc);
	pc->in_length = c->expl_in_length;
	pc->out_length = c->expl_out_length;
	if (c->expl_in_quantity)
		pc->in_quantity = c->expl_in_quantity;
	if (c->expl_out_quantity)
		pc->out_quantity = c->expl_out_quantity;
	pc->in_variance = c->expl_in_variance;
	pc->out_variance = c->expl_out_variance;
	pc->in_backup = c->expl_in_backup;
	pc->out_backup = c->expl_out_backup;
	pc->allow_zero_hop = c->expl_allow_zero_hop;
}

/* tunnels.test-ticket: a ticket-shaped dummy (docs/relaypay.md §1: 139
 * bytes, version 1) for every hop, to show that hops which do not know
 * the bits.tk option ignore it. */
static size_t test_ticket(void *ctx, const uint8_t hop[32], bool inbound,
			  unsigned pool, uint32_t *tag, uint64_t *bytes,
			  uint8_t *out, size_t outmax)
{
	const size_t n = 139;

	(void)ctx;
	(void)hop;
	(void)inbound;
	(void)pool;
	(void)tag;
	(void)bytes;
	if (outmax < n)
		return 0;
	out[0] = 1;
	rand_bytes(out + 1, n - 1);
	return n;
}

/* tunnels.test-hops-in/-out: router hashes in base64, commas between,
 * into ids; the count, or -1 with the error logged. */
static int parse_test_hops(const char *key, const char *s,
			   uint8_t ids[TUNNEL_BUILD_MAX_HOPS][32])
{
	unsigned n = 0;

	while (*s) {
		size_t len = strcspn(s, ","), got;

		if (n == TUNNEL_BUILD_MAX_HOPS ||
		    b64_decode(ids[n], 32, &got, s, len) != 0 || got != 32) {
			log_err(LD_TUNNEL, "%s: up to %u router hashes in "
				"base64, commas between", key,
				TUNNEL_BUILD_MAX_HOPS);
			return -1;
		}
		n++;
		s += len + (s[len] == ',');
	}
	return (int)n;
}

/* Fixed hops for tests (tunnel_mgr_set_test_hops()). */
static int set_test_hops(struct bitsd_tunnels *bt, const struct conf *c)
{
	const char *v[2] = { c->tunnels_test_hops_out,
			     c->tunnels_test_hops_in };
	static const char *const key[2] = { "tunnels.test-hops-out",
					    "tunnels.test-hops-in" };
	uint8_t ids[TUNNEL_BUILD_MAX_HOPS][32];

	for (unsigned in = 0; in < 2; in++) {
		int n;

		if (!v[in] || !*v[in])
			continue;
		if ((n = parse_test_hops(key[in], v[in], ids)) < 0)
			return ERR_ARG;
		(void)tunnel_mgr_set_test_hops(bt->own, in,
					       (const uint8_t (*)[32])ids,
					       (unsigned)n);
		log_notice(LD_TUNNEL, "tunnels: every %s tunnel through the "
			   "%d hops of %s", in ? "inbound" : "outbound", n,
			   key[in]);
	}
	return 0;
}

static int own_start(struct bitsd_tunnels *bt, const uint8_t self[32])
{
	const struct conf *c = daemon_conf(bt->d);
	struct tunnel_mgr_cfg mc;
	struct tunnel_mgr_hooks mh = {
		.send = own_send_hook, .deliver = own_deliver_hook, .ctx = bt,
		.flush_soon = flush_soon_hook,
	};
	struct profiles_job *j;
	int r;

	memset(&mc, 0, sizeof(mc));
	memcpy(mc.self, self, 32);
	mc.allow_same_subnet = c->tunnels_same_subnet;
	mc.lifetime_ms = (uint64_t)c->tunnels_lifetime_s * 1000;
	mc.store = netdb_get_store(bt->db);
	bt->profiles = peer_profiles_new();
	mc.profiles = bt->profiles;
	pool_cfg_from_conf(c, &mc.exploratory);
	if ((r = tunnel_mgr_new(&mc, &mh, &bt->own)) != 0) {
		FREE_AND_NULL(peer_profiles_free, bt->profiles);
		return r;
	}
	if (c->tunnels_test_ticket) {
		log_notice(LD_TUNNEL, "tunnels: a dummy ticket for every hop "
			   "(tunnels.test-ticket)");
		tunnel_mgr_set_ticket_fn(bt->own, test_ticket, NULL);
	}
	if ((r = set_test_hops(bt, c)) != 0) {
		FREE_AND_NULL(tunnel_mgr_free, bt->own);
		FREE_AND_NULL(peer_profiles_free, bt->profiles);
		return r;
	}
	bt->profiles_path = fsutil_path_join(c->datadir,
					     PEER_PROFILES_FILE_NAME);
	memcpy(bt->self, self, 32);
	bt->loop_timer = evloop_timer_new(daemon_evloop(bt->d), loop_cb, bt);
	bt->tick = evloop_timer_new(daemon_evloop(bt->d), tick_cb, bt);
	bt->save = evloop_timer_new(daemon_evloop(bt->d), save_cb, bt);
	j = profiles_job_new(bt);
	j->bt = bt;
	bt->loading = j;
	worker_submit(daemon_workers(bt->d),
		      (struct work){ profiles_load_run, profiles_load_done, j });
	/* netDb lookups go through the exploratory tunnels once built. */
	bt->netdb_direct = netdb_get_sender(bt->db);
	if (bt->netdb_direct.send) {
		netdb_set_sender(bt->db, (struct netdb_sender){
					 netdb_send_hook, bt });
		netdb_set_reply_path(bt->db, netdb_reply_path_hook, bt);
	}
	log_info(LD_TUNNEL, "exploratory pool: %u+%u hops, %u+%u tunnels, "
		 "%u s each", mc.exploratory.in_length,
		 mc.exploratory.out_length, mc.exploratory.in_quantity,
		 mc.exploratory.out_quantity,
		 (unsigned)(c->tunnels_lifetime_s ? c->tunnels_lifetime_s
						  : TUNNEL_LIFETIME_MS / 1000));
	return 0;
}

static void own_stop(struct bitsd_tunnels *bt)
{
	struct peer_profile *rows = NULL;
	size_t n = 0;

	if (!bt->own)
		return;
	if (bt->loading)
		bt->loading->bt = NULL;
	if (bt->netdb_direct.send) {
		netdb_set_reply_path(bt->db, NULL, NULL);
		netdb_set_sender(bt->db, bt->netdb_direct);
	}
	evloop_timer_free(bt->tick);
	evloop_timer_free(bt->save);
	evloop_timer_free(bt->loop_timer);
	for (size_t i = 0; i < bt->n_loop; i++)
		i2np_msg_free(bt->loop[i]);
	FREE_AND_NULL(tunnel_mgr_free, bt->own);
	/* At stop the loop is done: write the profiles here. */
	peer_profiles_snapshot(bt->profiles, &rows, &n);
	(void)peer_profiles_db_save(bt->profiles_path, rows, n);
	free(rows);
	peer_profiles_free(bt->profiles);
	free(bt->profiles_path);
}

int bitsd_tunnels_start(struct daemon *d, const struct router_keys *keys,
			struct transport_mgr *tm, struct netdb *db,
			struct bitsd_tunnels **out)
{
	const struct conf *c = daemon_conf(d);
	struct bitsd_tunnels *bt = xzalloc(sizeof(*bt));
	struct transit_hooks h = {
		.send = send_hook, .local = local_hook,
		.congested = congested_hook, .id_in_use = id_in_use_hook,
		.wrap_reply = wrap_reply_hook, .ticket = ticket_hook,
		.flush_soon = flush_soon_hook, .ctx = bt,
	};
	struct transit_limits lim = {
		.max_tunnels = c->transit_max_tunnels,
		.share_pct = c->transit_share_pct,
		.bandwidth_Bps = (uint64_t)c->bandwidth_kBps * 1000,
		.builds_per_min = c->lim_builds,
		.builds_per_peer_min = c->lim_builds_peer,
		.max_per_peer = c->lim_transit_peer,
		.msgs_per_tunnel_s = c->lim_tunnel_msgs,
		.msgs_per_peer_s = c->lim_tunnel_msgs_peer,
		/* 0 lifts it (the table's 0 is its default) */
		.obep_total_bytes = c->lim_obep_mib ?
				    (size_t)c->lim_obep_mib << 20 : SIZE_MAX,
	};
	struct keys_and_cert id;
	int r;

	if (!tm) {
		free(bt);
		return ERR_BAD_STATE;
	}
	bt->d = d;
	bt->tm = tm;
	bt->db = db;
	router_keys_identity(keys, &id);
	bt->flush_ev = event_new(evloop_base(daemon_evloop(d)), -1, 0,
				 flush_cb, bt);
	if (!bt->flush_ev) {
		free(bt);
		return ERR_INTERNAL;
	}
	bt->transit = transit_table_new(router_keys_keystore(keys), id.hash,
					&lim, &h);
	bt->sweep = evloop_timer_new(daemon_evloop(d), sweep_cb, bt);
	evloop_timer_arm(bt->sweep, BITSD_TUNNELS_SWEEP_MS);
	membudget_init(&bt->mem, (size_t)c->lim_memory_mib << 20);
	if (c->lim_memory_mib) {
		bt->mem_timer = evloop_timer_new(daemon_evloop(d), mem_cb, bt);
		evloop_timer_arm(bt->mem_timer, MEMBUDGET_READ_EVERY_MS);
	}
	if (db && (r = own_start(bt, id.hash)) != 0) {
		bitsd_tunnels_stop(bt);
		return r;
	}
	*out = bt;
	return 0;
}

void bitsd_tunnels_stop(struct bitsd_tunnels *bt)
{
	if (!bt)
		return;
	own_stop(bt);
	evloop_timer_free(bt->sweep);
	evloop_timer_free(bt->mem_timer);
	event_free(bt->flush_ev);
	transit_table_free(bt->transit);
	free(bt);
}

bool bitsd_tunnels_recv(struct bitsd_tunnels *bt, const uint8_t peer[32],
			struct i2np_msg *m)
{
	uint64_t mono;
	int r;

	if (!bt)
		return false;
	mono = time_mono_ms();		/* one clock reading a message */
	/* Our own tunnels' ids and build replies first. */
	if (bt->own && tunnel_mgr_handle(bt->own, peer, m, time_now_ms(),
					 mono))
		return true;
	switch (m->type) {
	case I2NP_TUNNEL_DATA:
		r = transit_table_handle_data(bt->transit, m, peer, mono);
		break;
	case I2NP_TUNNEL_GATEWAY:
		r = transit_table_handle_gateway(bt->transit, m, mono);
		break;
	case I2NP_VARIABLE_TUNNEL_BUILD:
	case I2NP_SHORT_TUNNEL_BUILD:
		r = transit_table_handle_build(bt->transit, m, peer,
					       time_now_ms(), mono);
		if (r == 0)
			log_debug(LD_TUNNEL, "answered a tunnel build request");
		break;
	default:
		return false;
	}
	if (r != 0)
		log_debug(LD_TUNNEL, "%s dropped: %s", i2np_type_name(m->type),
			  err_str(r));
	i2np_msg_free(m);
	return true;
}

struct transit_table *bitsd_tunnels_transit(struct bitsd_tunnels *bt)
{
	return bt ? bt->transit : NULL;
}

void bitsd_tunnels_peer_failed(void *ctx, const uint8_t peer[32])
{
	struct bitsd_tunnels *bt = ctx;

	if (bt->own)
		tunnel_mgr_peer_unreachable(bt->own, peer, time_now_ms());
}

void bitsd_tunnels_peer_up(void *ctx, const uint8_t peer[32])
{
	struct bitsd_tunnels *bt = ctx;

	if (bt->profiles)
		peer_profiles_mark_reachable(bt->profiles, peer);
}

struct tunnel_mgr *bitsd_tunnels_own(struct bitsd_tunnels *bt)
{
	return bt ? bt->own : NULL;
}
