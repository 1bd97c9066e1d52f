/*
 * libFuzzer target: tunnel messages at a transit router.  Once per
 * process the table (fixed keys) joins three tunnels through real build
 * messages: a middle hop of an outbound tunnel, the outbound endpoint
 * (OBEP) of another, and the inbound gateway (IBGW) of a third.  The
 * input is then up to 32 chunks of (kind, 2-byte length L, L bytes):
 *   kind 0: TunnelData with the bytes as IV and data (zero-padded), to
 *           the middle hop or the OBEP (bit 7 of the length's high
 *           byte), or to no tunnel of ours (bit 6);
 *   kind 1: the bytes (≤ 1003) as the instructions and fragments of a
 *           tunnel message with its checksum right, layered so that the
 *           OBEP's own layer reveals it: its delivery (router, tunnel,
 *           local) and reassembly are reached;
 *   kind 2: the bytes as a TunnelGateway message's body after the tunnel
 *           id (the IBGW's), so its length and I2NP message are parsed
 *           and sent down the tunnel.
 * Properties: every message sent on is of a type a transit router sends
 * (TunnelData of exactly one tunnel message to a next hop, TunnelGateway,
 * or what an OBEP delivers, within I2NP's size) and never to ourselves;
 * no tunnel is lost or made by data; nothing leaks between runs.
 */
#include "config.h"
#include "crypto/base/bytes.h"
#include "crypto/base/time.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "router/i2np.h"
#include "tunnels/layer.h"
#include "tunnels/transit.h"
#include "tunnels/tunnel_build.h"
#include "tunnels/tunnel_msg.h"

#include <stdlib.h>
#include <string.h>

#define NOW_MS 1700000000000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { T_MIDDLE, T_OBEP, T_IBGW, T_COUNT };

struct state {
	struct keystore *ks;
	uint8_t self[32];
	struct transit_table *t;
	uint32_t id[T_COUNT];		/* our receive ids */
	struct tunnel_layer obep;	/* the OBEP's keys, for kind 1 */
	uint64_t mono, born;
	size_t sent, local;
};

static int on_send(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	struct state *s = ctx;

	if (!memcmp(peer, s->self, 32) || m->len > I2NP_MAX_PAYLOAD_BYTES ||
	    (m->type == I2NP_TUNNEL_DATA && m->len != 4 + TUNNEL_MSG_BYTES))
		abort();
	s->sent++;
	i2np_msg_free(m);
	return 0;
}

static void on_local(void *ctx, struct i2np_msg *m)
{
	struct state *s = ctx;

	if (m->len > I2NP_MAX_PAYLOAD_BYTES)
		abort();
	s->local++;
	i2np_msg_free(m);
}

/* Join the tunnel that cfg's build makes us hop 0 of; its receive id. */
static uint32_t join(struct state *s, struct tunnel_build_cfg *cfg,
		     struct tunnel_layer *keep)
{
	struct tunnel_build *b;
	struct bbuf msg = BBUF_INIT;
	struct i2np_msg *m;
	uint32_t id;

	cfg->kind = TUNNEL_BUILD_LONG;
	cfg->now_ms = NOW_MS;
	memcpy(cfg->hops[0].ident, s->self, 32);
	keystore_x25519_pk(s->ks, KEYSTORE_X_IDENTITY, &cfg->hops[0].enc_pk);
	if (!cfg->inbound) {		/* where the OBEP sends the reply */
		memset(cfg->reply_gateway, 0x22, 32);
		cfg->reply_tunnel_id = 77;
	}
	if (tunnel_build_create(cfg, &b, &msg) != 0)
		abort();
	m = i2np_msg_new(I2NP_VARIABLE_TUNNEL_BUILD, msg.data, msg.len, 60000);
	if (transit_table_handle_build(s->t, m, NULL, NOW_MS, s->mono) != 0)
		abort();
	id = tunnel_build_hop_id(b, 0);
	if (keep)
		tunnel_layer_init(keep, tunnel_build_hop_keys(b, 0)->layer_key,
				  tunnel_build_hop_keys(b, 0)->iv_key);
	i2np_msg_free(m);
	bbuf_free(&msg);
	tunnel_build_free(b);
	return id;
}

static struct state *state(void)
{
	static struct state s;
	struct transit_hooks h = { .send = on_send, .local = on_local,
				   .ctx = &s };
	struct transit_limits lim;
	struct tunnel_build_cfg cfg;
	struct x25519_sk other_sk;

	/* the tunnels live 10 minutes: new ones well before */
	if (s.t && s.mono - s.born < 300000)
		return &s;
	if (s.t) {
		transit_table_free(s.t);
		tunnel_layer_wipe(&s.obep);
	} else {
		rand_set_deterministic(18);
		/* the clock I2NP expirations are read against: seeds carry
		 * NOW_MS + 60 s */
		time_set_override(NOW_MS);
		s.ks = keystore_new_random();
		memset(s.self, 0x5e, 32);
		s.mono = 1000;
	}
	transit_limits_default(&lim);
	lim.bandwidth_Bps = 0;
	s.t = transit_table_new(s.ks, s.self, &lim, &h);
	s.born = s.mono;

	memset(&cfg, 0, sizeof(cfg));	/* outbound, we the middle hop */
	cfg.n_hops = 2;
	memset(cfg.hops[1].ident, 0x21, 32);
	x25519_keygen(&other_sk, &cfg.hops[1].enc_pk);
	s.id[T_MIDDLE] = join(&s, &cfg, NULL);

	memset(&cfg, 0, sizeof(cfg));	/* outbound, we the OBEP */
	cfg.n_hops = 1;
	s.id[T_OBEP] = join(&s, &cfg, &s.obep);

	memset(&cfg, 0, sizeof(cfg));	/* inbound, we the IBGW */
	cfg.inbound = true;
	cfg.n_hops = 1;
	memset(cfg.self, 0x23, 32);
	s.id[T_IBGW] = join(&s, &cfg, NULL);
	if (transit_table_count(s.t) != T_COUNT)
		abort();
	return &s;
}

static void tunnel_data(struct state *s, uint32_t id, const uint8_t *msg)
{
	uint8_t p[4 + TUNNEL_MSG_BYTES];
	struct i2np_msg *m;

	be32_put(p, id);
	memcpy(p + 4, msg, TUNNEL_MSG_BYTES);
	m = i2np_msg_new(I2NP_TUNNEL_DATA, p, sizeof(p), 60000);
	(void)transit_table_handle_data(s->t, m, NULL, s->mono);
	i2np_msg_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state *s = state();
	struct breader r;

	br_init(&r, data, size);
	for (int k = 0; k < 32 && br_left(&r) >= 3; k++) {
		uint8_t kind = br_u8(&r), hi = *r.p;
		size_t len = br_be16(&r) & 0x3fff;
		const uint8_t *p;
		uint8_t msg[TUNNEL_MSG_BYTES];

		if (len > br_left(&r))
			len = br_left(&r);
		p = br_take(&r, len);
		s->mono += 10;
		switch (kind % 3) {
		case 0:
			memset(msg, 0, sizeof(msg));
			if (p)
				memcpy(msg, p, len < sizeof(msg) ? len :
							       sizeof(msg));
			tunnel_data(s, hi & 0x40 ? 0x12345678 :
				    s->id[hi & 0x80 ? T_OBEP : T_MIDDLE], msg);
			break;
		case 1:
			if (len > TUNNEL_MAX_PAYLOAD_BYTES)
				len = TUNNEL_MAX_PAYLOAD_BYTES;
			tunnel_msg_finish(msg, p ? p : msg, p ? len : 0);
			if (tunnel_layer_decrypt(&s->obep, msg) != 0)
				abort();
			tunnel_data(s, s->id[T_OBEP], msg);
			break;
		default: {
			uint8_t *g = malloc(4 + len + 1);
			struct i2np_msg *m;

			be32_put(g, s->id[T_IBGW]);
			if (p)
				memcpy(g + 4, p, len);
			m = i2np_msg_new_take(I2NP_TUNNEL_GATEWAY, g, 4 + len,
					      60000);
			(void)transit_table_handle_gateway(s->t, m, s->mono);
			i2np_msg_free(m);
			break;
		}
		}
	}
	transit_table_flush(s->t);
	/* stale fragments go; the tunnels (10 minutes) stay */
	transit_table_expire(s->t, s->mono += 2000);
	if (transit_table_count(s->t) != T_COUNT)
		abort();
	return 0;
}
