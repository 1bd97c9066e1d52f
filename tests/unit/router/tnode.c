/* In-process test routers (tests/unit/router/tnode.h). */
#include "config.h"
#include "tests/unit/router/tnode.h"
#include "router/conf.h"
#include "router/evloop.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/keystore.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static void on_recv(void *ctx, const uint8_t *peer, struct i2np_msg *m)
{
	struct tnode *tn = ctx;

	tn->recv_count++;
	if (tn->on_recv) {
		tn->on_recv(tn, peer, m);
		return;
	}
	tnode_check_msg(tn, m);
	i2np_msg_free(m);
}

static const struct router_info *on_lookup(void *ctx, const uint8_t *peer)
{
	struct tnode *tn = ctx;

	for (size_t i = 0; i < tn->npeers; i++)
		if (memcmp(router_info_hash(tn->peers[i]), peer, 32) == 0)
			return tn->peers[i];
	return NULL;
}

static void on_store_ri(void *ctx, const uint8_t *ri, size_t len, bool flood)
{
	struct tnode *tn = ctx;

	(void)ri;
	(void)len;
	(void)flood;
	tn->ri_stored++;
}

static void on_up(void *ctx, const uint8_t *peer, bool inbound)
{
	(void)peer;
	(void)inbound;
	((struct tnode *)ctx)->peer_ups++;
}

static void on_down(void *ctx, const uint8_t *peer)
{
	(void)peer;
	((struct tnode *)ctx)->peer_downs++;
}

static void on_low(void *ctx, const uint8_t *peer)
{
	struct tnode *tn = ctx;

	if (tn->on_low)
		tn->on_low(tn, peer);
}

bool tnode_start(struct tctx *t, struct tnode *tn, struct evloop *el,
		 void (*tweak)(struct ntcp2_config *cfg))
{
	return tnode_start_on(t, tn, el, tweak, "127.0.0.1");
}

bool tnode_start_on(struct tctx *t, struct tnode *tn, struct evloop *el,
		    void (*tweak)(struct ntcp2_config *cfg), const char *host)
{
	struct conf *cfg = conf_new_default("/nonexistent");
	struct transport_limits lim;
	struct transport_hooks h = {
		.recv = on_recv, .lookup = on_lookup, .store_ri = on_store_ri,
		.peer_up = on_up, .peer_down = on_down, .queue_low = on_low,
		.ctx = tn,
	};
	struct keys_and_cert id;
	size_t len;
	const uint8_t *ri;
	bool ok = false;

	memset(tn, 0, sizeof(*tn));
	tn->el = el;
	tn->keys = router_keys_new_random();
	router_keys_identity(tn->keys, &id);
	transport_limits_default(&lim);
	lim.peer_queue_msgs = 1u << 20;
	lim.peer_queue_bytes = 1u << 30;
	lim.total_queue_bytes = 1u << 30;
	tn->tm = transport_mgr_new(el, id.hash, &lim);
	transport_mgr_set_hooks(tn->tm, &h);
	ntcp2_config_default(&tn->cfg);
	tn->cfg.netid = TNODE_NETID;
	noise_static_from_keystore(&tn->cfg.st, router_keys_keystore(tn->keys),
				   KEYSTORE_X_NTCP2);
	memcpy(tn->cfg.rh, id.hash, 32);
	memcpy(tn->cfg.iv, router_keys_ntcp2_iv(tn->keys), 16);
	if (tweak)
		tweak(&tn->cfg);
	tn->n = ntcp2_new(el, tn->tm, &tn->cfg);
	T_OK(t, ntcp2_listen(tn->n, host, 0));
	tn->port = ntcp2_listen_port(tn->n, strchr(host, ':') ? AF_INET6 : AF_INET);
	T_NE(t, tn->port, 0);
	cfg->netid = TNODE_NETID;
	cfg->port = tn->port;
	free(cfg->host);
	cfg->host = xstrdup(host);
	T_OK(t, router_self_build(cfg, tn->keys, &tn->ri));
	if (!tn->ri)
		goto out;
	tn->hash = router_info_hash(tn->ri);
	T_MEMEQ(t, tn->hash, id.hash, 32);
	ri = router_info_bytes(tn->ri, &len);
	T_OK(t, ntcp2_set_router_info(tn->n, ri, len));
	ok = tn->port != 0;
out:
	conf_free(cfg);
	return ok;
}

void tnode_stop(struct tnode *tn)
{
	ntcp2_free(tn->n);
	transport_mgr_free(tn->tm);
	router_info_free(tn->ri);
	router_keys_free(tn->keys);
	tn->n = NULL;
	tn->tm = NULL;
	tn->ri = NULL;
	tn->keys = NULL;
}

void tnode_know(struct tnode *tn, const struct tnode *peer)
{
	if (tn->npeers < TNODE_MAX_PEERS)
		tn->peers[tn->npeers++] = peer->ri;
}

struct i2np_msg *tnode_msg(uint32_t seq, size_t len)
{
	uint8_t *p = xmalloc(len);

	be32_put(p, seq);
	for (size_t i = 4; i < len; i++)
		p[i] = (uint8_t)(seq * 31 + i);
	return i2np_msg_new_take(I2NP_DATA, p, len, 60000);
}

void tnode_check_msg(struct tnode *tn, const struct i2np_msg *m)
{
	uint32_t seq;
	bool ok = m->type == I2NP_DATA && m->len >= 4;

	seq = ok ? be32_get(m->payload) : 0;
	for (size_t i = 4; ok && i < m->len; i++)
		ok = m->payload[i] == (uint8_t)(seq * 31 + i);
	if (!ok || seq != tn->next_seq)
		tn->recv_bad++;
	tn->next_seq = seq + 1;
}

struct run_state {
	struct evloop *el;
	bool (*stop)(void *arg);
	void *arg;
	uint64_t deadline;
	bool timed_out;
	struct evloop_timer *timer;
};

static void run_tick(void *arg)
{
	struct run_state *rs = arg;

	if (rs->stop(rs->arg)) {
		evloop_break(rs->el);
		return;
	}
	if (time_mono_ms() >= rs->deadline) {
		rs->timed_out = true;
		evloop_break(rs->el);
		return;
	}
	evloop_timer_arm(rs->timer, 10);
}

bool tnode_run_until(struct evloop *el, bool (*stop)(void *arg), void *arg,
		     uint64_t timeout_ms)
{
	struct run_state rs = { el, stop, arg, time_mono_ms() + timeout_ms,
				false, NULL };

	rs.timer = evloop_timer_new(el, run_tick, &rs);
	evloop_timer_arm(rs.timer, 0);
	(void)evloop_run(el);
	evloop_timer_free(rs.timer);
	return !rs.timed_out;
}
