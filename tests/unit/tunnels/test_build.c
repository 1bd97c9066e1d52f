/*
 * tunnels/build_record and tunnels/tunnel_build: records against the
 * independent model (tmodel.c) in both directions, long and short, every
 * short-record KDF output; whole builds of 1..8 hops processed hop by hop
 * by simulated participants, each with its own keystore; tampering, the
 * fake inbound record, replays, loops, bad fields, the request-time
 * window.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/tunnels/thops.h"
#include "tests/unit/tunnels/tmodel.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"
#include "router/mapping.h"
#include "tunnels/build_record.h"
#include "tunnels/replay.h"
#include "tunnels/tunnel_build.h"

#include <stdlib.h>
#include <string.h>

/* 2023-11-14T22:13:20Z, 20 s into its minute. */
#define NOW_MS 1700000000000ULL
#define ARRAY_LEN_(a) (sizeof(a) / sizeof((a)[0]))

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 31 * i);
}

static void sample_request(struct tunnel_build_request *q, uint8_t flags)
{
	memset(q, 0, sizeof(*q));
	q->receive_id = 0x01020304;
	q->next_id = 0xa0b0c0d0;
	fill(q->next_ident, 32, 0x40);
	fill(q->layer_key, 32, 0x50);
	fill(q->iv_key, 32, 0x60);
	fill(q->reply_key, 32, 0x70);
	fill(q->reply_iv, 16, 0x80);
	q->flags = flags;
	q->request_time_min = (uint32_t)(NOW_MS / 60000);
	q->expiration_s = TUNNEL_BUILD_EXPIRATION_S;
	q->next_msg_id = 0xdeadbeef;
}

static void check_plain_fields(struct tctx *t, enum tunnel_build_kind kind,
			       const uint8_t *p, const struct tunnel_build_request *q)
{
	const bool lng = kind == TUNNEL_BUILD_LONG;

	/* Offsets straight from the spec's tables. */
	T_EQ(t, be32_get(p + 0), q->receive_id);
	T_EQ(t, be32_get(p + 4), q->next_id);
	T_MEMEQ(t, p + 8, q->next_ident, 32);
	if (lng) {
		T_MEMEQ(t, p + 40, q->layer_key, 32);
		T_MEMEQ(t, p + 72, q->iv_key, 32);
		T_MEMEQ(t, p + 104, q->reply_key, 32);
		T_MEMEQ(t, p + 136, q->reply_iv, 16);
		T_EQ(t, p[152], q->flags);
		T_EQ(t, p[153] | p[154] | p[155], 0);
		T_EQ(t, be32_get(p + 156), q->request_time_min);
		T_EQ(t, be32_get(p + 160), 600);
		T_EQ(t, be32_get(p + 164), q->next_msg_id);
		T_EQ(t, be16_get(p + 168), 0);		/* empty Mapping */
	} else {
		T_EQ(t, p[40], q->flags);
		T_EQ(t, p[41] | p[42], 0);
		T_EQ(t, p[43], 0);			/* layer type AES */
		T_EQ(t, be32_get(p + 44), q->request_time_min);
		T_EQ(t, be32_get(p + 48), 600);
		T_EQ(t, be32_get(p + 52), q->next_msg_id);
		T_EQ(t, be16_get(p + 56), 0);
	}
}

/* Ours encrypts, the model decrypts; the model encrypts, ours decrypts. */
static void record_vs_model(struct tctx *t, enum tunnel_build_kind kind,
			    uint8_t flags)
{
	const size_t plen = tunnel_build_plain_bytes(kind);
	const size_t rlen = tunnel_build_record_bytes(kind);
	struct thop hop;
	struct tunnel_build_request q, got;
	struct tunnel_build_keys ck, pk;
	struct tunnel_build_responder rs;
	struct tmodel_state ms;
	struct x25519_sk eph;
	uint8_t rec[TUNNEL_BUILD_MAX_RECORD_BYTES], plain[464], epk[32];
	uint8_t reply[32], layer[32], iv[32], gkey[32] = { 0 }, gtag[8] = { 0 };

	thop_init(&hop, 1);
	sample_request(&q, flags);
	fill(eph.b, 32, 0x99);
	T_OK(t, tunnel_build_record_encrypt(kind, &q, NULL, hop.hash, &hop.pk,
					    &eph, rec, &ck));
	T_MEMEQ(t, rec, hop.hash, 16);
	T_TRUE(t, tmodel_record_decrypt(hop.sk, rec, plen, plain, &ms));
	check_plain_fields(t, kind, plain, &q);
	T_MEMEQ(t, ms.ck, ck.ck, 32);
	T_MEMEQ(t, ms.h, ck.h, 32);
	/* The participant, through its keystore. */
	tunnel_build_responder_init(&rs, hop.ks);
	T_OK(t, tunnel_build_record_decrypt(&rs, kind, rec, &got, &pk));
	T_EQ(t, got.receive_id, q.receive_id);
	T_EQ(t, got.next_id, q.next_id);
	T_EQ(t, got.flags, flags);
	T_EQ(t, got.next_msg_id, q.next_msg_id);
	T_EQ(t, got.request_time_min, q.request_time_min);
	T_EQ(t, got.options_len, 2);
	T_MEMEQ(t, &pk, &ck, sizeof(pk));
	if (kind == TUNNEL_BUILD_SHORT) {
		tmodel_short_keys(ms.ck, flags & TUNNEL_BUILD_FLAG_OBEP, reply,
				  layer, iv, gkey, gtag);
		T_MEMEQ(t, pk.reply_key, reply, 32);
		T_MEMEQ(t, pk.layer_key, layer, 32);
		T_MEMEQ(t, pk.iv_key, iv, 32);
		T_EQ(t, pk.has_garlic, (flags & TUNNEL_BUILD_FLAG_OBEP) != 0);
		if (pk.has_garlic) {
			T_MEMEQ(t, pk.garlic_key, gkey, 32);
			T_MEMEQ(t, pk.garlic_tag, gtag, 8);
		}
		/* ivKey for non-OBEP is the ck after "SMTunnelLayerKey", so it
		 * must differ from the OBEP one. */
		tmodel_short_keys(ms.ck, !(flags & TUNNEL_BUILD_FLAG_OBEP),
				  reply, layer, iv, gkey, gtag);
		T_TRUE(t, memcmp(pk.iv_key, iv, 32) != 0);
	} else {
		T_MEMEQ(t, pk.layer_key, q.layer_key, 32);
		T_MEMEQ(t, pk.reply_iv, q.reply_iv, 16);
	}
	/* The other direction: a model-encrypted record. */
	T_OK(t, tunnel_build_request_encode(kind, &q, NULL, plain));
	tmodel_record_encrypt(hop.hash, hop.pk.b, eph.b, plain, plen, rec, &ms);
	T_OK(t, tunnel_build_record_decrypt(&rs, kind, rec, &got, &pk));
	T_EQ(t, got.next_id, q.next_id);
	T_MEMEQ(t, pk.ck, ms.ck, 32);
	T_MEMEQ(t, pk.h, ms.h, 32);
	/* Same ephemeral key, same plaintext: the same bytes as ours. */
	{
		uint8_t rec2[TUNNEL_BUILD_MAX_RECORD_BYTES];
		struct tunnel_build_keys k2;

		memcpy(epk, rec + 16, 32);
		T_OK(t, tunnel_build_record_encrypt(kind, &q, NULL, hop.hash,
						    &hop.pk, &eph, rec2, &k2));
		T_MEMEQ(t, rec2 + 16, epk, 32);
		/* padding differs, so only the clear part matches */
		T_MEMEQ(t, rec2, rec, 48);
		T_TRUE(t, memcmp(rec2 + 48, rec + 48, rlen - 48) != 0);
	}
	thop_free(&hop);
}

static void test_record_long_model(struct tctx *t)
{
	record_vs_model(t, TUNNEL_BUILD_LONG, 0);
	record_vs_model(t, TUNNEL_BUILD_LONG, TUNNEL_BUILD_FLAG_IBGW);
	record_vs_model(t, TUNNEL_BUILD_LONG, TUNNEL_BUILD_FLAG_OBEP);
}

static void test_record_short_model(struct tctx *t)
{
	record_vs_model(t, TUNNEL_BUILD_SHORT, 0);
	record_vs_model(t, TUNNEL_BUILD_SHORT, TUNNEL_BUILD_FLAG_IBGW);
	record_vs_model(t, TUNNEL_BUILD_SHORT, TUNNEL_BUILD_FLAG_OBEP);
}

/* The hop's own reply: long uses ck with n = 0, short the reply key with
 * n = the record index, AD = h in both. */
static void reply_vs_model(struct tctx *t, enum tunnel_build_kind kind)
{
	const size_t plen = kind == TUNNEL_BUILD_LONG ? 512 : 202;
	struct tunnel_build_keys k;
	uint8_t rec[TUNNEL_BUILD_MAX_RECORD_BYTES], code = 0xff;
	const uint8_t *key;

	memset(&k, 0, sizeof(k));
	fill(k.ck, 32, 1);
	fill(k.h, 32, 2);
	fill(k.reply_key, 32, 3);
	key = kind == TUNNEL_BUILD_LONG ? k.ck : k.reply_key;
	for (unsigned idx = 0; idx < 8; idx++) {
		T_OK(t, tunnel_build_reply_encrypt(kind, rec, idx, &k, NULL,
						   TUNNEL_BUILD_REPLY_REJECT));
		T_TRUE(t, tmodel_reply_decrypt(key,
					       kind == TUNNEL_BUILD_LONG ? 0 : idx,
					       k.h, rec, plen));
		T_EQ(t, be16_get(rec), 0);	/* empty options */
		T_EQ(t, rec[plen - 1], TUNNEL_BUILD_REPLY_REJECT);
		/* model → ours */
		memset(rec, 0x5a, plen);
		rec[plen - 1] = (uint8_t)idx;
		tmodel_reply_encrypt(key, kind == TUNNEL_BUILD_LONG ? 0 : idx,
				     k.h, rec, plen);
		T_OK(t, tunnel_build_reply_decrypt(kind, rec, idx, &k, &code));
		T_EQ(t, code, idx);
		/* a wrong index fails for short records only */
		tmodel_reply_encrypt(key, kind == TUNNEL_BUILD_LONG ? 0 : idx,
				     k.h, rec, plen);
		if (kind == TUNNEL_BUILD_SHORT)
			T_ERR(t, tunnel_build_reply_decrypt(kind, rec,
							    (idx + 1) % 8, &k,
							    &code), ERR_AUTH);
	}
}

static void test_reply_model(struct tctx *t)
{
	reply_vs_model(t, TUNNEL_BUILD_LONG);
	reply_vs_model(t, TUNNEL_BUILD_SHORT);
}

/* The layer on other records: AES-256-CBC per record (IV restarting) or
 * ChaCha20 counter 1 with the index as nonce, against OpenSSL. */
static void test_records_layer_model(struct tctx *t)
{
	struct tunnel_build_keys k;
	uint8_t recs[8 * 528], want[8 * 528];

	memset(&k, 0, sizeof(k));
	fill(k.reply_key, 32, 9);
	fill(k.reply_iv, 16, 10);
	for (int lng = 0; lng < 2; lng++) {
		enum tunnel_build_kind kind = lng ? TUNNEL_BUILD_LONG
						  : TUNNEL_BUILD_SHORT;
		size_t rl = tunnel_build_record_bytes(kind);

		fill(recs, sizeof(recs), 77);
		memcpy(want, recs, sizeof(want));
		for (unsigned i = 0; i < 8; i++) {
			if (i == 3)
				continue;
			if (lng)
				tmodel_cbc(k.reply_key, k.reply_iv,
					   want + i * rl, rl, true);
			else
				tmodel_chacha_record(k.reply_key, i,
						     want + i * rl, rl);
		}
		T_OK(t, tunnel_build_records_layer(kind, recs, 8,
						   0xff & ~(1u << 3), &k, true));
		T_MEMEQ(t, recs, want, 8 * rl);
		T_OK(t, tunnel_build_records_layer(kind, recs, 8,
						   0xff & ~(1u << 3), &k, false));
		fill(want, sizeof(want), 77);
		T_MEMEQ(t, recs, want, 8 * rl);
	}
}

static void test_request_options(struct tctx *t)
{
	struct tunnel_build_request q, got;
	struct mapping m = MAPPING_INIT, back = MAPPING_INIT;
	uint8_t plain[464];
	char val[300];

	sample_request(&q, 0);
	T_OK(t, mapping_set(&m, "m", "100"));
	T_OK(t, mapping_set(&m, "r", "200"));
	for (int lng = 0; lng < 2; lng++) {
		enum tunnel_build_kind kind = lng ? TUNNEL_BUILD_LONG
						  : TUNNEL_BUILD_SHORT;

		T_OK(t, tunnel_build_request_encode(kind, &q, &m, plain));
		T_OK(t, tunnel_build_request_decode(kind, plain,
				tunnel_build_plain_bytes(kind), &got));
		T_OK(t, tunnel_build_request_options(&got, &back));
		T_STREQ(t, mapping_get(&back, "m"), "100");
		T_STREQ(t, mapping_get(&back, "r"), "200");
	}
	/* "The maximum size of the Mapping (including the length field) is
	 * 98 bytes": 2 + "k" (2) + '=' + value String (1 + v) + ';'. */
	memset(val, 'x', sizeof(val));
	val[92] = 0;
	mapping_clear(&m);
	T_OK(t, mapping_set(&m, "k", val));
	T_EQ(t, mapping_encoded_len(&m), 99);
	T_ERR(t, tunnel_build_request_encode(TUNNEL_BUILD_SHORT, &q, &m, plain),
	      ERR_TOO_BIG);
	val[91] = 0;
	T_OK(t, mapping_set(&m, "k", val));
	T_OK(t, tunnel_build_request_encode(TUNNEL_BUILD_SHORT, &q, &m, plain));
	T_OK(t, tunnel_build_request_decode(TUNNEL_BUILD_SHORT, plain, 154, &got));
	T_EQ(t, got.options_len, 98);
	/* long: 296 fits, 297 does not (two entries: a String is ≤ 255) */
	memset(val, 'x', sizeof(val));
	val[200] = 0;
	mapping_clear(&m);
	T_OK(t, mapping_set(&m, "a", val));
	val[200] = 'x';
	val[84] = 0;
	T_OK(t, mapping_set(&m, "b", val));
	T_EQ(t, mapping_encoded_len(&m), 296);
	T_OK(t, tunnel_build_request_encode(TUNNEL_BUILD_LONG, &q, &m, plain));
	T_OK(t, tunnel_build_request_decode(TUNNEL_BUILD_LONG, plain, 464, &got));
	T_EQ(t, got.options_len, 296);
	val[84] = 'x';
	val[85] = 0;
	T_OK(t, mapping_set(&m, "b", val));
	T_ERR(t, tunnel_build_request_encode(TUNNEL_BUILD_LONG, &q, &m, plain),
	      ERR_TOO_BIG);
	mapping_clear(&m);
	mapping_clear(&back);
}

/* ---- whole builds ---- */

struct sim {
	struct thop hops[TUNNEL_BUILD_MAX_HOPS];
	unsigned n;
	uint8_t self[32];
};

static void sim_init(struct sim *s, unsigned n)
{
	s->n = n;
	for (unsigned i = 0; i < n; i++)
		thop_init(&s->hops[i], (uint8_t)(10 + i));
	fill(s->self, 32, 0xee);
}

static void sim_free(struct sim *s)
{
	for (unsigned i = 0; i < s->n; i++)
		thop_free(&s->hops[i]);
}

static void sim_cfg(const struct sim *s, struct tunnel_build_cfg *cfg,
		    enum tunnel_build_kind kind, bool inbound)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = kind;
	cfg->inbound = inbound;
	cfg->n_hops = s->n;
	for (unsigned i = 0; i < s->n; i++)
		thop_to_cfg(&s->hops[i], &cfg->hops[i]);
	memcpy(cfg->self, s->self, 32);
	fill(cfg->reply_gateway, 32, 0x33);
	cfg->reply_tunnel_id = 4242;
	cfg->reply_msg_id = 777;
	cfg->now_ms = NOW_MS;
}

/* Run every hop over the records as the network would; each hop checks
 * what it decrypted against the creator's view.  codes: per-hop reply. */
static void sim_run(struct tctx *t, struct sim *s, struct tunnel_build *b,
		    const struct tunnel_build_cfg *cfg, uint8_t *records,
		    unsigned n, const uint8_t *codes, uint64_t now)
{
	const enum tunnel_build_kind kind = cfg->kind;

	for (unsigned i = 0; i < s->n; i++) {
		struct tunnel_build_open o;
		const struct tunnel_build_keys *ck = tunnel_build_hop_keys(b, i);
		const bool last = i + 1 == s->n;

		T_OK(t, tunnel_build_participant_open(&s->hops[i].p, kind,
						      records, n, now, &o, NULL));
		T_EQ(t, o.index, tunnel_build_hop_slot(b, i));
		T_EQ(t, o.req.receive_id, tunnel_build_hop_id(b, i));
		if (!last) {
			T_EQ(t, o.req.next_id, tunnel_build_hop_id(b, i + 1));
			T_MEMEQ(t, o.req.next_ident, s->hops[i + 1].hash, 32);
		} else if (cfg->inbound) {
			T_EQ(t, o.req.next_id, tunnel_build_endpoint_id(b));
			T_MEMEQ(t, o.req.next_ident, s->self, 32);
			T_EQ(t, o.req.next_msg_id, cfg->reply_msg_id);
		} else {
			T_EQ(t, o.req.next_id, cfg->reply_tunnel_id);
			T_MEMEQ(t, o.req.next_ident, cfg->reply_gateway, 32);
			T_EQ(t, o.req.next_msg_id, cfg->reply_msg_id);
		}
		T_EQ(t, o.req.flags,
		     cfg->inbound ? (i == 0 ? TUNNEL_BUILD_FLAG_IBGW : 0)
				  : (last ? TUNNEL_BUILD_FLAG_OBEP : 0));
		T_MEMEQ(t, o.keys.layer_key, ck->layer_key, 32);
		T_MEMEQ(t, o.keys.iv_key, ck->iv_key, 32);
		T_MEMEQ(t, o.keys.reply_key, ck->reply_key, 32);
		T_EQ(t, o.keys.has_garlic, ck->has_garlic);
		T_OK(t, tunnel_build_participant_reply(&o, records, n, NULL,
						       codes[i]));
		tunnel_build_open_wipe(&o);
	}
}

static void one_build(struct tctx *t, enum tunnel_build_kind kind,
		      bool inbound, unsigned nh, bool reject_one)
{
	struct sim s;
	struct tunnel_build_cfg cfg;
	struct tunnel_build *b = NULL;
	struct bbuf msg = BBUF_INIT;
	uint8_t codes[8] = { 0 }, got[8], *records;
	const size_t rl = tunnel_build_record_bytes(kind);
	unsigned n, self_records = 0;

	sim_init(&s, nh);
	sim_cfg(&s, &cfg, kind, inbound);
	if (reject_one)
		codes[nh / 2] = TUNNEL_BUILD_REPLY_REJECT;
	T_OK(t, tunnel_build_create(&cfg, &b, &msg));
	if (!b)
		goto out;
	n = msg.data[0];
	T_EQ(t, msg.len, 1 + n * rl);
	T_EQ(t, n, nh + inbound <= 4 ? 4u : 8u);
	records = msg.data + 1;
	sim_run(t, &s, b, &cfg, records, n, codes, NOW_MS + 30000);
	/* After the last hop, the fake record (inbound) carries our prefix:
	 * what the last hop sees as its next hop's record. */
	for (unsigned i = 0; i < n; i++)
		self_records += memcmp(records + i * rl, s.self, 16) == 0;
	T_EQ(t, self_records, inbound ? 1u : 0u);
	memset(got, 0xff, sizeof(got));
	T_OK(t, tunnel_build_reply_process(b, records, n, got));
	T_MEMEQ(t, got, codes, nh);
out:
	tunnel_build_free(b);
	bbuf_free(&msg);
	sim_free(&s);
}

static void test_build_hops(struct tctx *t)
{
	for (int k = 0; k < 2; k++) {
		enum tunnel_build_kind kind = k ? TUNNEL_BUILD_SHORT
						: TUNNEL_BUILD_LONG;

		for (unsigned nh = 1; nh <= 8; nh++) {
			one_build(t, kind, false, nh, false);
			one_build(t, kind, false, nh, true);
			if (nh <= 7) {
				one_build(t, kind, true, nh, false);
				one_build(t, kind, true, nh, true);
			}
		}
	}
}

/* Record slots are shuffled: hop 0 does not always land in slot 0. */
static void test_build_random_order(struct tctx *t)
{
	struct sim s;
	struct tunnel_build_cfg cfg;
	unsigned seen = 0;

	sim_init(&s, 3);
	sim_cfg(&s, &cfg, TUNNEL_BUILD_SHORT, false);
	for (int i = 0; i < 40; i++) {
		struct tunnel_build *b = NULL;
		struct bbuf msg = BBUF_INIT;

		T_OK(t, tunnel_build_create(&cfg, &b, &msg));
		if (b)
			seen |= 1u << tunnel_build_hop_slot(b, 0);
		tunnel_build_free(b);
		bbuf_free(&msg);
	}
	T_EQ(t, seen, 0x0f);	/* all four slots, over 40 builds */
	sim_free(&s);
}

static void test_build_bad_cfg(struct tctx *t)
{
	struct sim s;
	struct tunnel_build_cfg cfg;
	struct tunnel_build *b = NULL;
	struct bbuf msg = BBUF_INIT;

	sim_init(&s, 8);
	sim_cfg(&s, &cfg, TUNNEL_BUILD_LONG, true);	/* 8 + fake > 8 */
	T_ERR(t, tunnel_build_create(&cfg, &b, &msg), ERR_ARG);
	sim_cfg(&s, &cfg, TUNNEL_BUILD_LONG, false);
	cfg.n_hops = 0;
	T_ERR(t, tunnel_build_create(&cfg, &b, &msg), ERR_ARG);
	cfg.n_hops = 3;
	cfg.n_records = 2;
	T_ERR(t, tunnel_build_create(&cfg, &b, &msg), ERR_ARG);
	cfg.n_records = 0;
	cfg.reply_tunnel_id = 0;
	T_ERR(t, tunnel_build_create(&cfg, &b, &msg), ERR_ARG);
	T_TRUE(t, b == NULL);
	T_EQ(t, msg.len, 0);
	sim_free(&s);
}

/* Flip one bit in a hop's record before it reads it: the AEAD fails and
 * the message is dropped; flip a reply byte: the creator refuses it. */
static void test_build_tampered(struct tctx *t)
{
	for (int k = 0; k < 2; k++) {
		enum tunnel_build_kind kind = k ? TUNNEL_BUILD_SHORT
						: TUNNEL_BUILD_LONG;
		const size_t rl = tunnel_build_record_bytes(kind);
		struct sim s;
		struct tunnel_build_cfg cfg;
		struct tunnel_build *b = NULL;
		struct bbuf msg = BBUF_INIT;
		struct tunnel_build_open o;
		enum tunnel_build_drop why;
		uint8_t codes[8] = { 0 }, got[8], *recs, *copy;
		unsigned n;

		sim_init(&s, 3);
		sim_cfg(&s, &cfg, kind, true);
		T_OK(t, tunnel_build_create(&cfg, &b, &msg));
		n = msg.data[0];
		recs = msg.data + 1;
		copy = malloc(n * rl);
		memcpy(copy, recs, n * rl);
		/* every byte region: ephemeral key, ciphertext, tag */
		for (size_t off = 16; off < rl; off += 37) {
			memcpy(recs, copy, n * rl);
			recs[tunnel_build_hop_slot(b, 0) * rl + off] ^= 0x01;
			T_ERR(t, tunnel_build_participant_open(&s.hops[0].p, kind,
					recs, n, NOW_MS, &o, &why),
			      ERR_AUTH);
			T_EQ(t, why, TUNNEL_BUILD_DROP_DECRYPT);
		}
		/* a hash prefix that is not ours */
		memcpy(recs, copy, n * rl);
		recs[tunnel_build_hop_slot(b, 0) * rl] ^= 0x80;
		T_ERR(t, tunnel_build_participant_open(&s.hops[0].p, kind, recs,
						       n, NOW_MS, &o, &why),
		      ERR_NOT_FOUND);
		T_EQ(t, why, TUNNEL_BUILD_DROP_NOT_OURS);
		/* an intact run, then tamper with each reply in turn */
		memcpy(recs, copy, n * rl);
		sim_run(t, &s, b, &cfg, recs, n, codes, NOW_MS);
		memcpy(copy, recs, n * rl);
		for (unsigned i = 0; i < n; i++) {
			memcpy(recs, copy, n * rl);
			recs[i * rl + 100] ^= 0x10;
			T_ERR(t, tunnel_build_reply_process(b, recs, n, got),
			      ERR_AUTH);
		}
		memcpy(recs, copy, n * rl);
		T_ERR(t, tunnel_build_reply_process(b, recs, n - 1, got),
		      ERR_FORMAT);
		T_OK(t, tunnel_build_reply_process(b, recs, n, got));
		free(copy);
		tunnel_build_free(b);
		bbuf_free(&msg);
		sim_free(&s);
	}
}


/* A record with a hand-made plaintext (through the model). */
static void craft(const struct thop *hop, enum tunnel_build_kind kind,
		  const uint8_t *plain, uint8_t *rec)
{
	struct tmodel_state ms;
	uint8_t eph[32];

	rand_bytes(eph, sizeof(eph));
	tmodel_record_encrypt(hop->hash, hop->pk.b, eph, plain,
			      tunnel_build_plain_bytes(kind), rec, &ms);
}

static int open_one(struct thop *hop, enum tunnel_build_kind kind,
		    const uint8_t *rec, uint64_t now, enum tunnel_build_drop *why)
{
	struct tunnel_build_open o;
	int r = tunnel_build_participant_open(&hop->p, kind, rec, 1, now, &o,
					      why);

	tunnel_build_open_wipe(&o);
	return r;
}

/* Java drops (no reply) zero ids, IBGW+OBEP, a malformed Mapping, and a
 * hop that would forward to itself unless it is an OBEP. */
static void test_participant_bad_fields(struct tctx *t)
{
	for (int k = 0; k < 2; k++) {
		enum tunnel_build_kind kind = k ? TUNNEL_BUILD_SHORT
						: TUNNEL_BUILD_LONG;
		const size_t opt_at = k ? 56 : 168, flag_at = k ? 40 : 152;
		struct tunnel_build_request q;
		struct thop hop;
		enum tunnel_build_drop why;
		uint8_t plain[464], good[464], rec[528];

		thop_init(&hop, 5);
		sample_request(&q, 0);
		T_OK(t, tunnel_build_request_encode(kind, &q, NULL, good));
		craft(&hop, kind, good, rec);
		T_OK(t, open_one(&hop, kind, rec, NOW_MS, &why));
		T_EQ(t, why, TUNNEL_BUILD_DROP_NONE);

		memcpy(plain, good, sizeof(plain));
		memset(plain, 0, 4);			/* receive id 0 */
		craft(&hop, kind, plain, rec);
		T_ERR(t, open_one(&hop, kind, rec, NOW_MS, &why), ERR_FORMAT);
		T_EQ(t, why, TUNNEL_BUILD_DROP_FORMAT);
		memcpy(plain, good, sizeof(plain));
		memset(plain + 4, 0, 4);		/* next id 0 */
		craft(&hop, kind, plain, rec);
		T_ERR(t, open_one(&hop, kind, rec, NOW_MS, &why), ERR_FORMAT);
		memcpy(plain, good, sizeof(plain));
		plain[flag_at] = TUNNEL_BUILD_FLAG_IBGW | TUNNEL_BUILD_FLAG_OBEP;
		craft(&hop, kind, plain, rec);
		T_ERR(t, open_one(&hop, kind, rec, NOW_MS, &why), ERR_FORMAT);
		memcpy(plain, good, sizeof(plain));
		be16_put(plain + opt_at, 4);		/* "a=" with no ';' */
		memcpy(plain + opt_at + 2, "\001a\001b", 4);
		craft(&hop, kind, plain, rec);
		T_ERR(t, open_one(&hop, kind, rec, NOW_MS, &why), ERR_FORMAT);
		memcpy(plain, good, sizeof(plain));
		be16_put(plain + opt_at, k ? 97 : 295);	/* over the limit */
		craft(&hop, kind, plain, rec);
		T_ERR(t, open_one(&hop, kind, rec, NOW_MS, &why), ERR_FORMAT);
		/* next hop = us: dropped unless OBEP */
		memcpy(plain, good, sizeof(plain));
		memcpy(plain + 8, hop.hash, 32);
		craft(&hop, kind, plain, rec);
		T_ERR(t, open_one(&hop, kind, rec, NOW_MS, &why), ERR_PROTOCOL);
		T_EQ(t, why, TUNNEL_BUILD_DROP_LOOP);
		plain[flag_at] = TUNNEL_BUILD_FLAG_OBEP;
		craft(&hop, kind, plain, rec);
		T_OK(t, open_one(&hop, kind, rec, NOW_MS, &why));
		/* short: a layer type we do not know still decodes (the
		 * decision layer rejects it with a reply) */
		if (kind == TUNNEL_BUILD_SHORT) {
			memcpy(plain, good, sizeof(plain));
			plain[43] = 1;
			craft(&hop, kind, plain, rec);
			T_OK(t, open_one(&hop, kind, rec, NOW_MS, &why));
		}
		T_EQ(t, hop.p.drops[TUNNEL_BUILD_DROP_FORMAT], 5);
		T_EQ(t, hop.p.drops[TUNNEL_BUILD_DROP_LOOP], 1);
		thop_free(&hop);
	}
}

/* The same record twice: the second is dropped before the DH. */
static void test_participant_replay(struct tctx *t)
{
	struct tunnel_build_request q;
	struct thop hop;
	enum tunnel_build_drop why;
	uint8_t plain[464], rec[528];

	thop_init(&hop, 6);
	sample_request(&q, 0);
	T_OK(t, tunnel_build_request_encode(TUNNEL_BUILD_LONG, &q, NULL, plain));
	craft(&hop, TUNNEL_BUILD_LONG, plain, rec);
	T_OK(t, open_one(&hop, TUNNEL_BUILD_LONG, rec, NOW_MS, &why));
	T_ERR(t, open_one(&hop, TUNNEL_BUILD_LONG, rec, NOW_MS + 1000, &why),
	      ERR_DUPLICATE);
	T_EQ(t, why, TUNNEL_BUILD_DROP_REPLAY);
	/* still refused 9 minutes on (the filter outlives the window) */
	T_ERR(t, open_one(&hop, TUNNEL_BUILD_LONG, rec, NOW_MS + 540000, &why),
	      ERR_DUPLICATE);
	/* a record that fails to decrypt is not remembered */
	craft(&hop, TUNNEL_BUILD_LONG, plain, rec);
	rec[100] ^= 1;
	T_ERR(t, open_one(&hop, TUNNEL_BUILD_LONG, rec, NOW_MS, &why), ERR_AUTH);
	rec[100] ^= 1;
	T_OK(t, open_one(&hop, TUNNEL_BUILD_LONG, rec, NOW_MS, &why));
	thop_free(&hop);
}

/* Java: "time is in minutes, rounded down"; too old past 8 minutes, too
 * new beyond 5.  i2pd writes the current minute and checks nothing: its
 * records are accepted at any second of that minute and the next ones. */
static void test_participant_time_window(struct tctx *t)
{
	static const struct {
		int64_t skew_ms;	/* participant clock - creator's */
		int want;
	} cases[] = {
		{ 0, 0 },
		{ 59999, 0 },
		{ 8 * 60000 - 20000, 0 },	/* rounded: exactly 8 min */
		{ 8 * 60000 + 39999, 0 },
		{ 8 * 60000 + 40000, ERR_EXPIRED },	/* 9 min rounded */
		{ 60 * 60000, ERR_EXPIRED },
		{ -5 * 60000 + 20000, 0 },	/* 5 min ahead, rounded */
		{ -5 * 60000 - 1, 0 },		/* rounded: still 5 min */
		{ -6 * 60000, ERR_EXPIRED },
		{ -24LL * 60 * 60000, ERR_EXPIRED },
	};
	struct tunnel_build_request q;
	struct thop hop;
	enum tunnel_build_drop why;
	uint8_t plain[154], rec[218];

	thop_init(&hop, 7);
	for (size_t i = 0; i < ARRAY_LEN_(cases); i++) {
		uint64_t now = (uint64_t)((int64_t)NOW_MS + cases[i].skew_ms);

		sample_request(&q, 0);	/* creator at NOW_MS */
		T_OK(t, tunnel_build_request_encode(TUNNEL_BUILD_SHORT, &q, NULL,
						    plain));
		craft(&hop, TUNNEL_BUILD_SHORT, plain, rec);
		T_ERR(t, open_one(&hop, TUNNEL_BUILD_SHORT, rec, now, &why),
		      cases[i].want);
		if (cases[i].want)
			T_EQ(t, why, cases[i].skew_ms > 0 ? TUNNEL_BUILD_DROP_TOO_OLD
							  : TUNNEL_BUILD_DROP_FUTURE);
	}
	/* A looser window (the i2pd behaviour) takes what Java refuses. */
	hop.p.max_age_ms = hop.p.max_future_ms = UINT64_MAX / 2;
	sample_request(&q, 0);
	T_OK(t, tunnel_build_request_encode(TUNNEL_BUILD_SHORT, &q, NULL, plain));
	craft(&hop, TUNNEL_BUILD_SHORT, plain, rec);
	T_OK(t, open_one(&hop, TUNNEL_BUILD_SHORT, rec, NOW_MS + 3600000, &why));
	thop_free(&hop);
}

const struct test_case tunnels_build_tests[] = {
	{ "record/long_model", test_record_long_model, 0 },
	{ "record/short_model", test_record_short_model, 0 },
	{ "record/reply_model", test_reply_model, 0 },
	{ "record/layer_model", test_records_layer_model, 0 },
	{ "record/options", test_request_options, 0 },
	{ "msg/hops", test_build_hops, 0 },
	{ "msg/random_order", test_build_random_order, 0 },
	{ "msg/bad_cfg", test_build_bad_cfg, 0 },
	{ "msg/tampered", test_build_tampered, 0 },
	{ "participant/bad_fields", test_participant_bad_fields, 0 },
	{ "participant/replay", test_participant_replay, 0 },
	{ "participant/time_window", test_participant_time_window, 0 },
	{ NULL, NULL, 0 }
};
