/*
 * bitsd's tunnels subsystem (apps/bitsd_tunnels.h): wiring only.
 */
#include "config.h"
#include "apps/bitsd_tunnels.h"
#include "router/daemon.h"
#include "router/evloop.h"
#include "router/garlic_router.h"
#include "router/i2np.h"
#include "router/router_keys.h"
#include "router/transport.h"
#include "tunnels/transit.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"

#include <stdlib.h>

struct bitsd_tunnels {
	struct transport_mgr *tm;
	struct transit_table *transit;
	struct evloop_timer *sweep;
};

static int send_hook(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	return transport_send(((struct bitsd_tunnels *)ctx)->tm, peer, m);
}

static bool congested_hook(void *ctx)
{
	struct bitsd_tunnels *bt = ctx;
	struct transport_stats st;

	transport_mgr_stats(bt->tm, &st);
	return st.queued_bytes * 100 > (size_t)TRANSPORT_DEFAULT_TOTAL_QUEUE_BYTES *
					       BITSD_TUNNELS_CONGESTED_QUEUE_PCT;
}

/* FIXME: an OBEP's LOCAL delivery (tunnel tests of others) goes to the
 * router's own handlers once there is an I2NP dispatch table. */
static void local_hook(void *ctx, struct i2np_msg *m)
{
	(void)ctx;
	log_debug(LD_TUNNEL, "OBEP local delivery of type %u dropped", m->type);
	i2np_msg_free(m);
}

/* A short-build OBEP's reply, garlic-wrapped with "RGarlicKeyAndTag". */
static struct i2np_msg *wrap_reply_hook(void *ctx, struct i2np_msg *m,
					const uint8_t key[32],
					const uint8_t tag[8])
{
	(void)ctx;
	return garlic_wrap_tagged(m, key, tag);
}

static void sweep_cb(void *arg)
{
	struct bitsd_tunnels *bt = arg;
	const struct transit_stats *st = transit_table_stats(bt->transit);

	transit_table_expire(bt->transit, time_mono_ms());
	log_debug(LD_TUNNEL, "transit: %zu tunnels, %llu accepted, %llu "
		  "relayed", transit_table_count(bt->transit),
		  (unsigned long long)st->builds_accepted,
		  (unsigned long long)st->data_relayed);
	evloop_timer_arm(bt->sweep, BITSD_TUNNELS_SWEEP_MS);
}

int bitsd_tunnels_start(struct daemon *d, const struct router_keys *keys,
			struct transport_mgr *tm, struct bitsd_tunnels **out)
{
	struct bitsd_tunnels *bt = xzalloc(sizeof(*bt));
	struct transit_hooks h = {
		.send = send_hook, .local = local_hook,
		.congested = congested_hook, .wrap_reply = wrap_reply_hook,
		.ctx = bt,
	};
	struct keys_and_cert id;

	if (!tm) {
		free(bt);
		return ERR_BAD_STATE;
	}
	bt->tm = tm;
	router_keys_identity(keys, &id);
	/* FIXME: limits from the config (max transit tunnels, bandwidth,
	 * share) once router/conf.h has the keys; the defaults until then. */
	bt->transit = transit_table_new(router_keys_keystore(keys), id.hash,
					NULL, &h);
	bt->sweep = evloop_timer_new(daemon_evloop(d), sweep_cb, bt);
	evloop_timer_arm(bt->sweep, BITSD_TUNNELS_SWEEP_MS);
	*out = bt;
	return 0;
}

void bitsd_tunnels_stop(struct bitsd_tunnels *bt)
{
	if (!bt)
		return;
	evloop_timer_free(bt->sweep);
	transit_table_free(bt->transit);
	free(bt);
}

bool bitsd_tunnels_recv(struct bitsd_tunnels *bt, const uint8_t peer[32],
			struct i2np_msg *m)
{
	int r;

	if (!bt)
		return false;
	switch (m->type) {
	case I2NP_TUNNEL_DATA:
		r = transit_table_handle_data(bt->transit, m, time_mono_ms());
		break;
	case I2NP_TUNNEL_GATEWAY:
		r = transit_table_handle_gateway(bt->transit, m,
						 time_mono_ms());
		break;
	case I2NP_VARIABLE_TUNNEL_BUILD:
	case I2NP_SHORT_TUNNEL_BUILD:
		r = transit_table_handle_build(bt->transit, m, peer,
					       time_now_ms(), time_mono_ms());
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
