/*
 * libFuzzer target: tunnel build messages at a participant (a transit
 * table with fixed keys) and build replies at a creator.  The first byte
 * picks what the rest is:
 *   0: a raw VariableTunnelBuild (bit 0 of byte 1 clear) or
 *      ShortTunnelBuild payload, its first record addressed to us;
 *   1: a request plaintext (zero-padded to 464 or 154 bytes), correctly
 *      encrypted to us, so the field checks, the decision, the reply and
 *      the forwarding are reached (a "bits.tk" option gives a ticket);
 *   2: the records of a reply to a pending 3-hop build of ours.
 * Every input is also decoded as a ticket after the build (the body of a
 * Data message, tunnel_topup_decode()), checked to borrow only from the
 * input and to encode back to the same bytes.
 */
#include "config.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/keystore.h"
#include "crypto/noise.h"
#include "crypto/rand.h"
#include "router/i2np.h"
#include "tunnels/build_record.h"
#include "tunnels/transit.h"
#include "tunnels/tunnel_build.h"

#include <stdlib.h>
#include <string.h>

#define NOW_MS 1700000000000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
	struct keystore *ks;
	struct x25519_pk pk;
	uint8_t self[32];
	struct transit_table *t;
	struct tunnel_build *pending[2];
	uint64_t mono;
};

static int drop_send(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	(void)ctx;
	(void)peer;
	i2np_msg_free(m);
	return 0;
}

/* A ticket (paid relaying) from an accepted record: bounded, readable. */
static void take_ticket(void *ctx, const uint8_t *tk, size_t len,
			uint32_t receive_id)
{
	volatile uint8_t x = 0;

	(void)ctx;
	(void)receive_id;
	if (len == 0 || len > TUNNEL_BUILD_TICKET_MAX_BYTES)
		abort();
	for (size_t i = 0; i < len; i++)
		x ^= tk[i];
	(void)x;
}

static struct state *state(void)
{
	static struct state s;
	struct transit_hooks h = { .send = drop_send, .ticket = take_ticket };
	struct transit_limits lim = { .max_tunnels = 64, .share_pct = 80,
				      .bandwidth_Bps = 1000000 };

	if (s.ks)
		return &s;
	rand_set_deterministic(42);
	s.ks = keystore_new_random();
	keystore_x25519_pk(s.ks, KEYSTORE_X_IDENTITY, &s.pk);
	memset(s.self, 0x5e, 32);
	s.t = transit_table_new(s.ks, s.self, &lim, &h);
	/* accept any request time: the window is checked in the unit tests */
	transit_table_participant(s.t)->max_age_ms = UINT64_MAX / 4;
	transit_table_participant(s.t)->max_future_ms = UINT64_MAX / 4;
	for (int k = 0; k < 2; k++) {
		struct tunnel_build_cfg cfg = {
			.kind = k ? TUNNEL_BUILD_SHORT : TUNNEL_BUILD_LONG,
			.n_hops = 3, .reply_tunnel_id = 7, .now_ms = NOW_MS,
		};
		struct bbuf msg = BBUF_INIT;

		for (unsigned i = 0; i < 3; i++) {
			memset(cfg.hops[i].ident, (int)(0x10 + i), 32);
			cfg.hops[i].enc_pk = s.pk;
		}
		if (tunnel_build_create(&cfg, &s.pending[k], &msg) != 0)
			abort();
		bbuf_free(&msg);
	}
	return &s;
}

static void handle(struct state *s, uint8_t type, const uint8_t *p, size_t n)
{
	struct i2np_msg *m;

	if (n > I2NP_MAX_PAYLOAD_BYTES)
		return;
	m = i2np_msg_new(type, p, n, 60000);
	(void)transit_table_handle_build(s->t, m, NULL, NOW_MS, s->mono);
	i2np_msg_free(m);
	s->mono += 1000;
	if (transit_table_count(s->t) >= 60)
		transit_table_expire(s->t, s->mono += 700000);
}

/* Noise_N to our key around a given plaintext (the spec's steps). */
static void encrypt_plain(struct state *s, enum tunnel_build_kind kind,
			  const uint8_t *plain, uint8_t *rec)
{
	struct noise_sym ns;
	struct x25519_sk e;
	struct x25519_pk epk;
	uint8_t dh[32];

	x25519_keygen(&e, &epk);
	noise_sym_init(&ns, "Noise_N_25519_ChaChaPoly_SHA256");
	noise_sym_mix_hash(&ns, NULL, 0);
	noise_sym_mix_hash(&ns, s->pk.b, 32);
	noise_sym_mix_hash(&ns, epk.b, 32);
	if (x25519_dh(dh, &e, &s->pk) != 0)
		abort();
	noise_sym_mix_key(&ns, dh, 32);
	if (noise_sym_encrypt_and_hash(&ns, rec + 48, plain,
				       tunnel_build_plain_bytes(kind)) != 0)
		abort();
	memcpy(rec, s->self, 16);
	memcpy(rec + 16, epk.b, 32);
	noise_sym_wipe(&ns);
}

static void topup(const uint8_t *data, size_t size)
{
	struct tunnel_topup tu;
	struct bbuf b = BBUF_INIT;

	if (tunnel_topup_decode(data, size, &tu) != 0)
		return;
	if (tu.n == 0 || tu.n > TUNNEL_TOPUP_MAX_TICKETS ||
	    size > TUNNEL_TOPUP_MAX_BYTES)
		abort();
	for (size_t i = 0; i < tu.n; i++)
		if (tu.len[i] == 0 ||
		    tu.len[i] > TUNNEL_BUILD_TICKET_MAX_BYTES ||
		    tu.tk[i] < data || tu.tk[i] + tu.len[i] > data + size)
			abort();
	if (tunnel_topup_encode(tu.tunnel_id, tu.tk, tu.len, tu.n, &b) != 0 ||
	    b.len != size || memcmp(b.data, data, size) != 0)
		abort();
	bbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state *s = state();
	uint8_t buf[1 + 8 * 528], plain[464];
	enum tunnel_build_kind kind;
	size_t rl, n;

	topup(data, size);
	if (size < 2)
		return 0;
	kind = data[1] & 1 ? TUNNEL_BUILD_SHORT : TUNNEL_BUILD_LONG;
	rl = tunnel_build_record_bytes(kind);
	switch (data[0] % 3) {
	case 0:
		n = size - 2 < sizeof(buf) ? size - 2 : sizeof(buf);
		memcpy(buf, data + 2, n);
		if (n > 1 + 16)
			memcpy(buf + 1, s->self, 16);
		handle(s, kind == TUNNEL_BUILD_LONG ? I2NP_VARIABLE_TUNNEL_BUILD
						    : I2NP_SHORT_TUNNEL_BUILD,
		       buf, n);
		break;
	case 1:
		memset(plain, 0, sizeof(plain));
		n = size - 2 < tunnel_build_plain_bytes(kind)
			    ? size - 2 : tunnel_build_plain_bytes(kind);
		memcpy(plain, data + 2, n);
		buf[0] = 1;
		encrypt_plain(s, kind, plain, buf + 1);
		handle(s, kind == TUNNEL_BUILD_LONG ? I2NP_VARIABLE_TUNNEL_BUILD
						    : I2NP_SHORT_TUNNEL_BUILD,
		       buf, 1 + rl);
		break;
	default: {
		uint8_t codes[TUNNEL_BUILD_MAX_HOPS];

		n = (size - 2) / rl;
		if (n > 8)
			n = 8;
		memcpy(buf, data + 2, n * rl);
		(void)tunnel_build_reply_process(s->pending[kind ==
							    TUNNEL_BUILD_SHORT],
						 buf, (unsigned)n, codes);
		break;
	}
	}
	return 0;
}
