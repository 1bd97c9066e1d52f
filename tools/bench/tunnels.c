/*
 * tools/bench/tunnels: the participant's two hot paths beside the
 * primitive that bounds each, measured in the same run, single-threaded:
 *
 *   relay:  TunnelData through a transit table (decode, lookup, IV replay
 *           filter, share bucket, one AES-256 layer, the next message,
 *           the send hook) against tunnel_layer_encrypt() alone;
 *   build:  ShortTunnelBuild and VariableTunnelBuild requests answered by
 *           a transit table (find, replay check, X25519 through the
 *           keystore, AEAD, decide, join, reply, layers on the other
 *           records, forward) against X25519 alone.
 *
 *   tunnels [--seconds S]
 *
 * Rates are per CPU-second (process CPU time), so they read "per core".
 * The messages come from memory and leave through a hook that frees
 * them: FIXME: the relay between two peers over NTCP2 on 127.0.0.1 comes
 * when bitsd wires the transit table to the transport manager.  Prints
 * human lines, then one JSON line per figure with a target.
 */
#include "config.h"
#include "crypto/aes_layer.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/init.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "router/i2np.h"
#include "tunnels/layer.h"
#include "tunnels/transit.h"
#include "tunnels/tunnel_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOW_MS 1700000000000ULL
#define BUILD_BATCH 512

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t sent;

static int sink(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	(void)ctx;
	(void)peer;
	sent++;
	i2np_msg_free(m);
	return 0;
}

/* tunnel_layer_encrypt on one message (lanes 1), or
 * tunnel_layer_encrypt_n on lanes messages with as many keys; messages
 * per CPU-second. */
static double layer_rate(double secs, size_t lanes)
{
	struct tunnel_layer l[AES_LAYER_LANES], *lp[AES_LAYER_LANES];
	uint8_t k1[32], k2[32], msg[AES_LAYER_LANES][TUNNEL_MSG_BYTES];
	uint8_t *mp[AES_LAYER_LANES];
	uint64_t n = 0;
	double t0 = cpu_s(), t;

	for (size_t j = 0; j < lanes; j++) {
		rand_bytes(k1, 32);
		rand_bytes(k2, 32);
		rand_bytes(msg[j], sizeof(msg[j]));
		tunnel_layer_init(&l[j], k1, k2);
		lp[j] = &l[j];
		mp[j] = msg[j];
	}
	do {
		for (int i = 0; i < 1000; i++)
			if (lanes == 1)
				tunnel_layer_encrypt(&l[0], msg[0]);
			else
				tunnel_layer_encrypt_n(lp, mp, lanes);
		n += 1000 * lanes;
	} while ((t = cpu_s() - t0) < secs);
	for (size_t j = 0; j < lanes; j++)
		tunnel_layer_wipe(&l[j]);
	return (double)n / t;
}

/* tunnel_layer_decrypt (one hop of a creator's peel) on one message,
 * messages per CPU-second. */
static double peel_rate(double secs)
{
	struct tunnel_layer l;
	uint8_t k1[32], k2[32], msg[TUNNEL_MSG_BYTES];
	uint64_t n = 0;
	double t0 = cpu_s(), t;

	rand_bytes(k1, 32);
	rand_bytes(k2, 32);
	rand_bytes(msg, sizeof(msg));
	tunnel_layer_init(&l, k1, k2);
	do {
		for (int i = 0; i < 1000; i++)
			tunnel_layer_decrypt(&l, msg);
		n += 1000;
	} while ((t = cpu_s() - t0) < secs);
	tunnel_layer_wipe(&l);
	return (double)n / t;
}

static double x25519_rate(double secs)
{
	struct x25519_sk a, b;
	struct x25519_pk pa, pb;
	uint8_t out[32];
	uint64_t n = 0;
	double t0 = cpu_s(), t;

	x25519_keygen(&a, &pa);
	x25519_keygen(&b, &pb);
	do {
		for (int i = 0; i < 100; i++)
			if (x25519_dh(out, &a, &pb) != 0)
				abort();
		n += 100;
	} while ((t = cpu_s() - t0) < secs);
	return (double)n / t;
}

/* A 3-hop build message whose first hop is the router self (with ks);
 * the pending build goes to *bout when it is not NULL. */
static struct i2np_msg *build_msg(const struct keystore *ks,
				  const uint8_t self[32],
				  enum tunnel_build_kind kind,
				  struct tunnel_build **bout)
{
	struct tunnel_build_cfg cfg = {
		.kind = kind, .n_hops = 3, .reply_tunnel_id = 1,
		.now_ms = NOW_MS,
	};
	struct tunnel_build *b = NULL;
	struct bbuf msg = BBUF_INIT;
	struct i2np_msg *m;

	for (unsigned i = 0; i < 3; i++) {
		rand_bytes(cfg.hops[i].ident, 32);
		keystore_x25519_pk(ks, KEYSTORE_X_IDENTITY, &cfg.hops[i].enc_pk);
	}
	memcpy(cfg.hops[0].ident, self, 32);
	if (tunnel_build_create(&cfg, &b, &msg) != 0)
		abort();
	m = i2np_msg_new(kind == TUNNEL_BUILD_LONG ? I2NP_VARIABLE_TUNNEL_BUILD
						   : I2NP_SHORT_TUNNEL_BUILD,
			 msg.data, msg.len, 60000);
	bbuf_free(&msg);
	if (bout)
		*bout = b;
	else
		tunnel_build_free(b);
	return m;
}

/* Requests answered per CPU-second. */
static double build_rate(const struct keystore *ks, enum tunnel_build_kind kind,
			 double secs, uint64_t *accepted)
{
	struct transit_hooks h = { .send = sink };
	struct transit_limits lim = { .max_tunnels = 1u << 30, .share_pct = 100 };
	uint8_t self[32];
	struct i2np_msg **msgs = xcalloc(BUILD_BATCH, sizeof(*msgs));
	uint64_t n = 0, mono = 1000;
	double t = 0;

	rand_bytes(self, 32);
	while (t < secs) {
		struct transit_table *tt = transit_table_new(ks, self, &lim, &h);
		double t0;

		for (int i = 0; i < BUILD_BATCH; i++)
			msgs[i] = build_msg(ks, self, kind, NULL);
		t0 = cpu_s();
		for (int i = 0; i < BUILD_BATCH; i++)
			if (transit_table_handle_build(tt, msgs[i], NULL, NOW_MS,
						       mono++) != 0)
				abort();
		t += cpu_s() - t0;
		n += BUILD_BATCH;
		*accepted += transit_table_stats(tt)->builds_accepted;
		for (int i = 0; i < BUILD_BATCH; i++)
			i2np_msg_free(msgs[i]);
		transit_table_free(tt);
	}
	free(msgs);
	return (double)n / t;
}

/* The table's flush_soon hook when batching: the bench flushes itself
 * after each burst of 1000. */
static void flush_later(void *ctx)
{
	(void)ctx;
}

/* TunnelData relayed per CPU-second through a middle hop, one at a time
 * or (batched) queued and layered AES_LAYER_LANES at once. */
static double relay_rate(const struct keystore *ks, double secs,
			 bool batched, uint64_t *relayed)
{
	struct transit_hooks h = {
		.send = sink, .flush_soon = batched ? flush_later : NULL,
	};
	struct transit_limits lim = { .max_tunnels = 100, .share_pct = 100 };
	struct transit_table *tt;
	struct i2np_msg *bm, *td;
	uint8_t self[32], p[4 + TUNNEL_MSG_BYTES];
	uint64_t n = 0, mono = 1000, before;
	uint32_t id;
	struct tunnel_build *b = NULL;
	double t0, t;

	rand_bytes(self, 32);
	tt = transit_table_new(ks, self, &lim, &h);
	bm = build_msg(ks, self, TUNNEL_BUILD_SHORT, &b);
	if (transit_table_handle_build(tt, bm, NULL, NOW_MS, mono) != 0 ||
	    transit_table_count(tt) != 1)
		abort();
	id = tunnel_build_hop_id(b, 0);
	be32_put(p, id);
	rand_bytes(p + 4, sizeof(p) - 4);
	td = i2np_msg_new(I2NP_TUNNEL_DATA, p, sizeof(p), 60000);
	before = transit_table_stats(tt)->data_relayed;
	t0 = cpu_s();
	do {
		for (int i = 0; i < 1000; i++) {
			/* a fresh IV each time, as a real stream has */
			be64_put(td->payload + 4, n + (uint64_t)i);
			transit_table_handle_data(tt, td, NULL, mono);
		}
		transit_table_flush(tt);
		n += 1000;
		mono++;
	} while ((t = cpu_s() - t0) < secs);
	/* The IV filter may drop a few as false positives: count what went. */
	*relayed = transit_table_stats(tt)->data_relayed - before;
	i2np_msg_free(td);
	i2np_msg_free(bm);
	tunnel_build_free(b);
	transit_table_free(tt);
	return (double)*relayed / t;
}

static void json(const char *metric, double v, double c, double target)
{
	printf("{\"bench\":\"tunnels\",\"metric\":\"%s\",\"value\":%.0f,"
	       "\"ceiling\":%.0f,\"ratio\":%.3f,\"target\":%.1f,"
	       "\"higher_is_better\":true}\n", metric, v, c, c > 0 ? v / c : 0,
	       target);
}

int main(int argc, char **argv)
{
	double secs = 3, layer, layer8, layer16, layer_ossl, peel, peel_ossl, relay, relay8, x, bs, bl;
	uint64_t relayed = 0, relayed8 = 0, sent1, acc_s = 0, acc_l = 0;
	struct keystore *ks;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			secs = atof(argv[++i]);
		} else {
			fprintf(stderr, "usage: %s [--seconds S]\n", argv[0]);
			return 2;
		}
	}
	crypto_init();
	ks = keystore_new_random();
	layer = layer_rate(secs, 1);
	layer8 = layer_rate(secs, 8);
	layer16 = layer_rate(secs, AES_LAYER_LANES);
	peel = peel_rate(secs);
	aes_layer_force_path(AES_LAYER_PATH_OPENSSL); /* through EVP */
	layer_ossl = layer_rate(secs, 1);
	peel_ossl = peel_rate(secs);
	aes_layer_force_path(AES_LAYER_PATH_BEST);
	relay = relay_rate(ks, secs, false, &relayed);
	sent1 = sent;
	relay8 = relay_rate(ks, secs, true, &relayed8);
	x = x25519_rate(secs);
	bs = build_rate(ks, TUNNEL_BUILD_SHORT, secs, &acc_s);
	bl = build_rate(ks, TUNNEL_BUILD_LONG, secs, &acc_l);
	printf("AES-256 tunnel layer: %.0f msgs/CPU-s (%.1f MB/s)\n", layer,
	       layer * TUNNEL_MSG_BYTES / 1e6);
	printf("the layer, 8 at once: %.0f msgs/CPU-s (%.1f MB/s), %.2fx; %d "
	       "at once: %.0f msgs/CPU-s, %.2fx (%s)\n", layer8,
	       layer8 * TUNNEL_MSG_BYTES / 1e6, layer8 / layer,
	       AES_LAYER_LANES, layer16, layer16 / layer,
	       aes_layer_path() <= AES_LAYER_PATH_VAES ? "VAES over 8"
	       : aes_layer_is_hw() ? "AES-NI" : "OpenSSL, one by one");
	printf("the layer through OpenSSL EVP, one message: %.0f msgs/CPU-s; "
	       "ours %.2fx\n", layer_ossl, layer / layer_ossl);
	printf("the inverse (a peel's hop), one message: %.0f msgs/CPU-s, "
	       "OpenSSL EVP %.0f; ours %.2fx\n", peel, peel_ossl,
	       peel / peel_ossl);
	printf("transit relay:        %.0f msgs/CPU-s (%.1f MB/s), %.0f %% of "
	       "the layer; %llu relayed, %llu sent\n", relay,
	       relay * (4 + TUNNEL_MSG_BYTES) / 1e6, 100 * relay / layer,
	       (unsigned long long)relayed, (unsigned long long)sent1);
	printf("transit relay batched: %.0f msgs/CPU-s (%.1f MB/s), %.2fx one "
	       "at a time; %llu relayed\n", relay8,
	       relay8 * (4 + TUNNEL_MSG_BYTES) / 1e6, relay8 / relay,
	       (unsigned long long)relayed8);
	printf("X25519:               %.0f DH/CPU-s\n", x);
	printf("short build records:  %.0f/CPU-s, %.0f %% of X25519 (%llu "
	       "accepted)\n", bs, 100 * bs / x, (unsigned long long)acc_s);
	printf("long build records:   %.0f/CPU-s, %.0f %% of X25519 (%llu "
	       "accepted)\n", bl, 100 * bl / x, (unsigned long long)acc_l);
	json("relay_msgs/s", relay, layer, 0.4);
	json("build_records/s", bs < bl ? bs : bl, x, 0.5);
	keystore_free(ks);
	return 0;
}
