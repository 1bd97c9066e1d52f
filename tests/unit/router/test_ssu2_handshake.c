/*
 * router/ssu2_handshake: header protection against libsodium directly,
 * both roles against each other with fixed keys (one and several
 * SessionConfirmed fragments), an independent model of the spec's
 * SessionRequest KDF text (no crypto/noise.c) that must produce the same
 * bytes, tampering of every message, out-of-order calls, low-order keys,
 * out-of-session messages, data packets and the clock-skew window.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/ssu2_handshake.h"
#include "crypto/base/err.h"
#include "crypto/chacha.h"
#include "crypto/hash.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
	struct x25519_sk a_s, b_s, a_e, b_e;
	struct noise_static a_st, b_st;
	uint8_t b_ik[32], a_ik[32];
	uint8_t payload[1500];
};

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

static void fixture_init(struct fixture *f)
{
	fill(f->a_s.b, 32, 0x11);
	fill(f->b_s.b, 32, 0x22);
	fill(f->a_e.b, 32, 0x33);
	fill(f->b_e.b, 32, 0x44);
	fill(f->b_ik, 32, 0x55);
	fill(f->a_ik, 32, 0x66);
	fill(f->payload, sizeof(f->payload), 0x99);
	noise_static_from_sk(&f->a_st, &f->a_s);
	noise_static_from_sk(&f->b_st, &f->b_s);
}

static const struct ssu2_long_hdr req_hdr = {
	.dst_id = 0x0102030405060708ull, .pkt_num = 0xdeadbeef, .netid = 77,
	.src_id = 0x1112131415161718ull, .token = 0x2122232425262728ull,
};

/* Peel a SessionRequest/Created header the way a receiver does. */
static void unprotect_hs(uint8_t *pkt, size_t len, const uint8_t k1[32],
			 const uint8_t k2[32])
{
	ssu2_hp_part1(pkt, len, k1);
	ssu2_hp_part2(pkt, len, k2);
	ssu2_hp_long(pkt, len, k2, 48);
}

static void test_header_protection(struct tctx *t)
{
	uint8_t pkt[60], orig[60], k1[32], k2[32], mask[8] = { 0 }, iv[12];
	uint8_t z16[16] = { 0 }, zero_iv[12] = { 0 };

	fill(pkt, sizeof(pkt), 3);
	fill(k1, 32, 4);
	fill(k2, 32, 5);
	memcpy(orig, pkt, sizeof(pkt));
	ssu2_hp_part1(pkt, sizeof(pkt), k1);
	/* Mask = ChaCha20(k1, pkt[len-24..len-12], counter 1) over zeros. */
	memcpy(iv, orig + sizeof(orig) - 24, 12);
	crypto_stream_chacha20_ietf_xor_ic(mask, mask, 8, iv, 1, k1);
	for (int i = 0; i < 8; i++)
		T_EQ(t, pkt[i], orig[i] ^ mask[i]);
	T_MEMEQ(t, pkt + 8, orig + 8, sizeof(pkt) - 8);
	ssu2_hp_part2(pkt, sizeof(pkt), k2);
	memset(mask, 0, 8);
	memcpy(iv, orig + sizeof(orig) - 12, 12);
	crypto_stream_chacha20_ietf_xor_ic(mask, mask, 8, iv, 1, k2);
	for (int i = 0; i < 8; i++)
		T_EQ(t, pkt[8 + i], orig[8 + i] ^ mask[i]);
	ssu2_hp_long(pkt, sizeof(pkt), k2, 16);
	crypto_stream_chacha20_ietf_xor_ic(z16, z16, 16, zero_iv, 1, k2);
	for (int i = 0; i < 16; i++)
		T_EQ(t, pkt[16 + i], orig[16 + i] ^ z16[i]);
	/* Each step is its own inverse. */
	ssu2_hp_long(pkt, sizeof(pkt), k2, 16);
	ssu2_hp_part2(pkt, sizeof(pkt), k2);
	ssu2_hp_part1(pkt, sizeof(pkt), k1);
	T_MEMEQ(t, pkt, orig, sizeof(pkt));
}

/* One full run; lens of SessionConfirmed fragments come back in frags. */
struct run {
	struct ssu2_hs a, b;
	struct ssu2_keys ka, kb;
	uint8_t req[1500], cre[1500], conf[4 * 1500];
	size_t req_len, cre_len, lens[SSU2_CONFIRMED_MAX_FRAGS];
	unsigned nfrags;
};

static void run_handshake(struct tctx *t, struct fixture *f, struct run *r,
			  size_t conf_plen, size_t max_pkt)
{
	uint8_t pkt[1500], out[6000], jumbo[6000];
	size_t plen, jlen, off;
	struct ssu2_long_hdr ch = { .dst_id = req_hdr.src_id,
				    .src_id = req_hdr.dst_id, .netid = 77,
				    .pkt_num = 42 };
	struct x25519_pk rs;

	ssu2_hs_init_alice(&r->a, &f->a_st, &f->b_st.pk, f->b_ik);
	ssu2_hs_set_ephemeral(&r->a, &f->a_e);
	ssu2_hs_init_bob(&r->b, &f->b_st, f->b_ik);
	ssu2_hs_set_ephemeral(&r->b, &f->b_e);

	T_OK(t, ssu2_hs_write_request(&r->a, &req_hdr, f->payload, 30, r->req,
				      sizeof(r->req), &r->req_len));
	T_EQ(t, r->req_len, 80 + 30);
	memcpy(pkt, r->req, r->req_len);
	unprotect_hs(pkt, r->req_len, f->b_ik, f->b_ik);
	{
		struct ssu2_long_hdr h;

		ssu2_long_hdr_decode(pkt, &h);
		T_EQ(t, h.dst_id, req_hdr.dst_id);
		T_EQ(t, h.src_id, req_hdr.src_id);
		T_EQ(t, h.token, req_hdr.token);
		T_EQ(t, h.type, SSU2_SESSION_REQUEST);
		T_EQ(t, h.ver, 2);
		T_EQ(t, h.netid, 77);
		T_MEMEQ(t, pkt + 32, r->a.e_pk.b, 32);
	}
	T_OK(t, ssu2_hs_read_request(&r->b, pkt, r->req_len, out, sizeof(out),
				     &plen));
	T_EQ(t, plen, 30);
	T_MEMEQ(t, out, f->payload, 30);
	T_MEMEQ(t, r->a.hk_created, r->b.hk_created, 32);

	T_OK(t, ssu2_hs_write_created(&r->b, &ch, f->payload + 5, 40, r->cre,
				      sizeof(r->cre), &r->cre_len));
	memcpy(pkt, r->cre, r->cre_len);
	/* Alice peels SessionCreated with Bob's intro key and hk_created. */
	unprotect_hs(pkt, r->cre_len, f->b_ik, r->a.hk_created);
	T_OK(t, ssu2_hs_read_created(&r->a, pkt, r->cre_len, out, sizeof(out),
				     &plen));
	T_EQ(t, plen, 40);
	T_MEMEQ(t, out, f->payload + 5, 40);
	T_MEMEQ(t, r->a.hk_confirmed, r->b.hk_confirmed, 32);

	T_OK(t, ssu2_hs_write_confirmed(&r->a, req_hdr.dst_id, f->payload,
					conf_plen, max_pkt, r->conf,
					sizeof(r->conf), r->lens, &r->nfrags));
	/* Bob peels each fragment and reassembles. */
	off = 0;
	jlen = 0;
	for (unsigned i = 0; i < r->nfrags; i++) {
		uint8_t *p = r->conf + off;
		struct ssu2_short_hdr sh;

		T_TRUE(t, r->lens[i] <= max_pkt);
		T_TRUE(t, r->lens[i] >= 16 + 24);
		memcpy(pkt, p, r->lens[i]);
		ssu2_hp_part1(pkt, r->lens[i], f->b_ik);
		ssu2_hp_part2(pkt, r->lens[i], r->b.hk_confirmed);
		ssu2_short_hdr_decode(pkt, &sh);
		T_EQ(t, sh.dst_id, req_hdr.dst_id);
		T_EQ(t, sh.pkt_num, 0);
		T_EQ(t, sh.type, SSU2_SESSION_CONFIRMED);
		T_EQ(t, sh.flags[0], i << 4 | r->nfrags);
		if (i == 0) {
			memcpy(jumbo, pkt, 16);
			jlen = 16;
		}
		memcpy(jumbo + jlen, pkt + 16, r->lens[i] - 16);
		jlen += r->lens[i] - 16;
		off += r->lens[i];
	}
	T_OK(t, ssu2_hs_read_confirmed(&r->b, jumbo, jlen, out, sizeof(out),
				       &plen));
	T_EQ(t, plen, conf_plen);
	T_MEMEQ(t, out, f->payload, conf_plen);
	T_TRUE(t, ssu2_hs_remote_static(&r->b, &rs));
	T_MEMEQ(t, rs.b, f->a_st.pk.b, 32);
	T_OK(t, ssu2_hs_split(&r->a, &r->ka));
	T_OK(t, ssu2_hs_split(&r->b, &r->kb));
	T_MEMEQ(t, r->ka.send.k_data, r->kb.recv.k_data, 32);
	T_MEMEQ(t, r->ka.send.k_hdr2, r->kb.recv.k_hdr2, 32);
	T_MEMEQ(t, r->ka.recv.k_data, r->kb.send.k_data, 32);
	T_MEMEQ(t, r->ka.recv.k_hdr2, r->kb.send.k_hdr2, 32);
	T_TRUE(t, memcmp(r->ka.send.k_data, r->ka.recv.k_data, 32) != 0);
}

static void test_roundtrip_one_fragment(struct tctx *t)
{
	struct fixture f;
	struct run *r = calloc(1, sizeof(*r));

	fixture_init(&f);
	run_handshake(t, &f, r, 500, 1472);
	T_EQ(t, r->nfrags, 1);
	T_EQ(t, r->lens[0], 80 + 500);
	ssu2_hs_wipe(&r->a);
	ssu2_hs_wipe(&r->b);
	free(r);
}

static void test_roundtrip_fragments(struct tctx *t)
{
	struct fixture f;
	struct run *r = calloc(1, sizeof(*r));

	fixture_init(&f);
	/* A 1200 + 64-byte body over 584-byte shares: 3 fragments. */
	run_handshake(t, &f, r, 1200, 600);
	T_EQ(t, r->nfrags, 3);
	free(r);
	r = calloc(1, sizeof(*r));
	/* A body just over one packet: the last share is never short. */
	run_handshake(t, &f, r, 1472 - 80 + 1, 1472);
	T_EQ(t, r->nfrags, 2);
	T_TRUE(t, r->lens[1] > 600);
	free(r);
}

/*
 * The SessionRequest of the spec's "KDF for Initial ChainKey" and "KDF for
 * Session Request", computed step by step from SHA-256, HKDF and
 * ChaCha20-Poly1305 alone, must equal ssu2_hs_write_request's packet.
 */
static void test_matches_spec_model(struct tctx *t)
{
	struct fixture f;
	struct ssu2_hs a;
	uint8_t pkt[200], model[200], h[32], ck[32], kd[64], dh[32], hdr[32];
	uint8_t hk[32], mask[8], zero_iv[12] = { 0 }, ks[48] = { 0 };
	const char *name = SSU2_PROTOCOL_NAME;
	struct x25519_pk ae;
	size_t len, plen = 25;

	fixture_init(&f);
	ssu2_hs_init_alice(&a, &f.a_st, &f.b_st.pk, f.b_ik);
	ssu2_hs_set_ephemeral(&a, &f.a_e);
	T_OK(t, ssu2_hs_write_request(&a, &req_hdr, f.payload, plen, pkt,
				      sizeof(pkt), &len));

	sha256(h, name, strlen(name));			/* 52 bytes: hashed */
	memcpy(ck, h, 32);
	sha256(h, h, 32);				/* null prologue */
	sha256_2(h, h, 32, f.b_st.pk.b, 32);		/* bpk */
	memset(hdr, 0, sizeof(hdr));
	be64_put(hdr, req_hdr.dst_id);
	be32_put(hdr + 8, req_hdr.pkt_num);
	hdr[12] = 0;
	hdr[13] = 2;
	hdr[14] = 77;
	be64_put(hdr + 16, req_hdr.src_id);
	be64_put(hdr + 24, req_hdr.token);
	sha256_2(h, h, 32, hdr, 32);			/* MixHash(header) */
	crypto_scalarmult_base(ae.b, f.a_e.b);
	sha256_2(h, h, 32, ae.b, 32);			/* MixHash(aepk) */
	T_EQ(t, crypto_scalarmult(dh, f.a_e.b, f.b_st.pk.b), 0);
	hkdf_sha256(kd, 64, ck, 32, dh, 32, NULL, 0);	/* MixKey */
	memcpy(ck, kd, 32);
	memcpy(model, hdr, 32);
	memcpy(model + 32, ae.b, 32);
	chachapoly_encrypt_n(model + 64, kd + 32, 0, h, 32, f.payload, plen);
	/* Protection: bytes 16-63 with bik and a zero nonce, then masks. */
	crypto_stream_chacha20_ietf_xor_ic(ks, ks, 48, zero_iv, 1, f.b_ik);
	for (int i = 0; i < 48; i++)
		model[16 + i] ^= ks[i];
	memset(mask, 0, 8);
	crypto_stream_chacha20_ietf_xor_ic(mask, mask, 8, model + len - 24, 1,
					   f.b_ik);
	for (int i = 0; i < 8; i++)
		model[i] ^= mask[i];
	memset(mask, 0, 8);
	crypto_stream_chacha20_ietf_xor_ic(mask, mask, 8, model + len - 12, 1,
					   f.b_ik);
	for (int i = 0; i < 8; i++)
		model[8 + i] ^= mask[i];
	T_EQ(t, len, 80 + plen);
	T_MEMEQ(t, pkt, model, len);
	/* "k_header_2 = HKDF(chainKey, ZEROLEN, "SessCreateHeader", 32)" */
	hkdf_sha256(hk, 32, ck, 32, NULL, 0, "SessCreateHeader", 16);
	T_MEMEQ(t, a.hk_created, hk, 32);
	ssu2_hs_wipe(&a);
}

/* Flipping any byte of SessionRequest, after the receiver peels it, makes
 * Bob's read fail (header bytes through h, the rest through the MAC). */
static void test_tamper(struct tctx *t)
{
	struct fixture f;
	struct ssu2_hs a, b;
	uint8_t pkt[200], work[200], out[200];
	size_t len, plen;
	unsigned fails = 0, n = 0;

	fixture_init(&f);
	ssu2_hs_init_alice(&a, &f.a_st, &f.b_st.pk, f.b_ik);
	T_OK(t, ssu2_hs_write_request(&a, &req_hdr, f.payload, 20, pkt,
				      sizeof(pkt), &len));
	unprotect_hs(pkt, len, f.b_ik, f.b_ik);
	for (size_t i = 0; i < len; i++) {
		memcpy(work, pkt, len);
		work[i] ^= 0x40;
		ssu2_hs_init_bob(&b, &f.b_st, f.b_ik);
		n++;
		if (ssu2_hs_read_request(&b, work, len, out, sizeof(out),
					 &plen) != 0)
			fails++;
		/* A failed handshake refuses everything after. */
		T_ERR(t, ssu2_hs_write_created(&b, &req_hdr, f.payload, 10, out,
					       sizeof(out), &plen),
		      ERR_BAD_STATE);
		ssu2_hs_wipe(&b);
	}
	T_EQ(t, fails, n);
	/* The untouched packet passes. */
	ssu2_hs_init_bob(&b, &f.b_st, f.b_ik);
	T_OK(t, ssu2_hs_read_request(&b, pkt, len, out, sizeof(out), &plen));
	ssu2_hs_wipe(&b);
	ssu2_hs_wipe(&a);
}

/* Tampered SessionCreated and SessionConfirmed fail too. */
static void test_tamper_later(struct tctx *t)
{
	struct fixture f;
	struct run *r = calloc(1, sizeof(*r));
	struct ssu2_hs a, b;
	uint8_t pkt[1500], out[1500];
	size_t len, plen, lens[SSU2_CONFIRMED_MAX_FRAGS];
	unsigned nf;
	struct ssu2_long_hdr ch = { .dst_id = 9, .src_id = 10, .netid = 77 };

	fixture_init(&f);
	for (size_t i = 0; i < 80 + 12; i += 5) {
		ssu2_hs_init_alice(&a, &f.a_st, &f.b_st.pk, f.b_ik);
		ssu2_hs_init_bob(&b, &f.b_st, f.b_ik);
		T_OK(t, ssu2_hs_write_request(&a, &req_hdr, f.payload, 12, pkt,
					      sizeof(pkt), &len));
		unprotect_hs(pkt, len, f.b_ik, f.b_ik);
		T_OK(t, ssu2_hs_read_request(&b, pkt, len, out, sizeof(out),
					     &plen));
		T_OK(t, ssu2_hs_write_created(&b, &ch, f.payload, 12, pkt,
					      sizeof(pkt), &len));
		unprotect_hs(pkt, len, f.b_ik, a.hk_created);
		pkt[i] ^= 1;
		T_TRUE(t, ssu2_hs_read_created(&a, pkt, len, out, sizeof(out),
					       &plen) != 0);
		ssu2_hs_wipe(&a);
		ssu2_hs_wipe(&b);
	}
	for (size_t i = 0; i < 80 + 200; i += 7) {
		ssu2_hs_init_alice(&a, &f.a_st, &f.b_st.pk, f.b_ik);
		ssu2_hs_init_bob(&b, &f.b_st, f.b_ik);
		T_OK(t, ssu2_hs_write_request(&a, &req_hdr, f.payload, 12, pkt,
					      sizeof(pkt), &len));
		unprotect_hs(pkt, len, f.b_ik, f.b_ik);
		T_OK(t, ssu2_hs_read_request(&b, pkt, len, out, sizeof(out),
					     &plen));
		T_OK(t, ssu2_hs_write_created(&b, &ch, f.payload, 12, pkt,
					      sizeof(pkt), &len));
		unprotect_hs(pkt, len, f.b_ik, a.hk_created);
		T_OK(t, ssu2_hs_read_created(&a, pkt, len, out, sizeof(out),
					     &plen));
		T_OK(t, ssu2_hs_write_confirmed(&a, 9, f.payload, 200, 1472,
						pkt, sizeof(pkt), lens, &nf));
		T_EQ(t, nf, 1);
		ssu2_hp_part1(pkt, lens[0], f.b_ik);
		ssu2_hp_part2(pkt, lens[0], b.hk_confirmed);
		pkt[i] ^= 0x80;
		T_TRUE(t, ssu2_hs_read_confirmed(&b, pkt, lens[0], out,
						 sizeof(out), &plen) != 0);
		T_ERR(t, ssu2_hs_split(&b, &r->kb), ERR_BAD_STATE);
		ssu2_hs_wipe(&a);
		ssu2_hs_wipe(&b);
	}
	free(r);
}

static void test_out_of_order(struct tctx *t)
{
	struct fixture f;
	struct ssu2_hs a, b;
	uint8_t pkt[1500], out[1500];
	size_t len, plen, lens[SSU2_CONFIRMED_MAX_FRAGS];
	unsigned nf;
	struct ssu2_keys k;

	fixture_init(&f);
	ssu2_hs_init_alice(&a, &f.a_st, &f.b_st.pk, f.b_ik);
	ssu2_hs_init_bob(&b, &f.b_st, f.b_ik);
	T_ERR(t, ssu2_hs_write_created(&a, &req_hdr, f.payload, 10, pkt,
				       sizeof(pkt), &len), ERR_BAD_STATE);
	T_ERR(t, ssu2_hs_write_confirmed(&a, 1, f.payload, 10, 1472, pkt,
					 sizeof(pkt), lens, &nf),
	      ERR_BAD_STATE);
	T_ERR(t, ssu2_hs_write_request(&b, &req_hdr, f.payload, 10, pkt,
				       sizeof(pkt), &len), ERR_BAD_STATE);
	T_ERR(t, ssu2_hs_read_confirmed(&b, pkt, 200, out, sizeof(out), &plen),
	      ERR_BAD_STATE);
	T_ERR(t, ssu2_hs_split(&a, &k), ERR_BAD_STATE);
	/* Payload rules: at least 8 bytes, packet within 1472. */
	T_ERR(t, ssu2_hs_write_request(&a, &req_hdr, f.payload, 7, pkt,
				       sizeof(pkt), &len), ERR_ARG);
	T_ERR(t, ssu2_hs_write_request(&a, &req_hdr, f.payload, 1472 - 79,
				       pkt, sizeof(pkt), &len), ERR_TOO_BIG);
	T_ERR(t, ssu2_hs_write_request(&a, &req_hdr, f.payload, 100, pkt, 150,
				       &len), ERR_TOO_BIG);
	/* Both still usable after refused arguments. */
	T_OK(t, ssu2_hs_write_request(&a, &req_hdr, f.payload, 1472 - 80, pkt,
				      sizeof(pkt), &len));
	/* Short packets and equal connection ids are refused. */
	unprotect_hs(pkt, len, f.b_ik, f.b_ik);
	T_ERR(t, ssu2_hs_read_request(&b, pkt, 87, out, sizeof(out), &plen),
	      ERR_TRUNCATED);
	ssu2_hs_init_bob(&b, &f.b_st, f.b_ik);
	memcpy(pkt + 16, pkt, 8);
	T_ERR(t, ssu2_hs_read_request(&b, pkt, len, out, sizeof(out), &plen),
	      ERR_FORMAT);
	ssu2_hs_wipe(&a);
	ssu2_hs_wipe(&b);
}

static void test_low_order_key(struct tctx *t)
{
	struct fixture f;
	struct ssu2_hs a, b;
	uint8_t pkt[200], out[200];
	size_t len, plen;

	fixture_init(&f);
	ssu2_hs_init_alice(&a, &f.a_st, &f.b_st.pk, f.b_ik);
	ssu2_hs_init_bob(&b, &f.b_st, f.b_ik);
	T_OK(t, ssu2_hs_write_request(&a, &req_hdr, f.payload, 20, pkt,
				      sizeof(pkt), &len));
	unprotect_hs(pkt, len, f.b_ik, f.b_ik);
	memset(pkt + 32, 0, 32);		/* X = 0: low order */
	T_ERR(t, ssu2_hs_read_request(&b, pkt, len, out, sizeof(out), &plen),
	      ERR_CRYPTO);
	/* Alice refuses a low-order Bob key. */
	{
		struct x25519_pk zero = { { 0 } };

		ssu2_hs_init_alice(&a, &f.a_st, &zero, f.b_ik);
		T_ERR(t, ssu2_hs_write_request(&a, &req_hdr, f.payload, 20, pkt,
					       sizeof(pkt), &len), ERR_CRYPTO);
	}
	ssu2_hs_wipe(&a);
	ssu2_hs_wipe(&b);
}

static void test_out_of_session(struct tctx *t)
{
	struct fixture f;
	struct ssu2_long_hdr h = req_hdr, d;
	uint8_t pkt[200], out[200];
	size_t len, plen;

	fixture_init(&f);
	h.type = SSU2_RETRY;
	h.ver = 2;
	T_OK(t, ssu2_oos_encrypt(&h, f.b_ik, f.payload, 20, pkt, sizeof(pkt),
				 &len));
	T_EQ(t, len, 32 + 20 + 16);
	ssu2_hp_part1(pkt, len, f.b_ik);
	T_EQ(t, ssu2_pkt_dst_id(pkt), h.dst_id);
	ssu2_hp_part2(pkt, len, f.b_ik);
	ssu2_hp_long(pkt, len, f.b_ik, 16);
	ssu2_long_hdr_decode(pkt, &d);
	T_EQ(t, d.type, SSU2_RETRY);
	T_EQ(t, d.token, h.token);
	T_EQ(t, d.src_id, h.src_id);
	T_EQ(t, d.pkt_num, h.pkt_num);
	T_OK(t, ssu2_oos_decrypt(pkt, len, f.b_ik, out, sizeof(out), &plen));
	T_EQ(t, plen, 20);
	T_MEMEQ(t, out, f.payload, 20);
	/* Wrong key, tampered header (AD), tampered body. */
	T_ERR(t, ssu2_oos_decrypt(pkt, len, f.a_ik, out, sizeof(out), &plen),
	      ERR_AUTH);
	pkt[25] ^= 1;
	T_ERR(t, ssu2_oos_decrypt(pkt, len, f.b_ik, out, sizeof(out), &plen),
	      ERR_AUTH);
	pkt[25] ^= 1;
	pkt[40] ^= 1;
	T_ERR(t, ssu2_oos_decrypt(pkt, len, f.b_ik, out, sizeof(out), &plen),
	      ERR_AUTH);
	T_ERR(t, ssu2_oos_decrypt(pkt, 55, f.b_ik, out, sizeof(out), &plen),
	      ERR_TRUNCATED);
	/* Refused: short payload, handshake and short-header types. */
	T_ERR(t, ssu2_oos_encrypt(&h, f.b_ik, f.payload, 7, pkt, sizeof(pkt),
				  &len), ERR_ARG);
	h.type = SSU2_SESSION_REQUEST;
	T_ERR(t, ssu2_oos_encrypt(&h, f.b_ik, f.payload, 20, pkt, sizeof(pkt),
				  &len), ERR_ARG);
	h.type = SSU2_DATA;
	T_ERR(t, ssu2_oos_encrypt(&h, f.b_ik, f.payload, 20, pkt, sizeof(pkt),
				  &len), ERR_ARG);
	h.type = SSU2_PEER_TEST;
	T_ERR(t, ssu2_oos_encrypt(&h, f.b_ik, f.payload, 20, pkt, 60, &len),
	      ERR_TOO_BIG);
}

static void test_data_packets(struct tctx *t)
{
	struct fixture f;
	struct run *r = calloc(1, sizeof(*r));
	uint8_t pkt[1500], out[1500];
	size_t len, plen;
	struct ssu2_short_hdr sh;

	fixture_init(&f);
	run_handshake(t, &f, r, 300, 1472);
	/* Alice -> Bob: Bob peels with his intro key and his recv k_hdr2. */
	T_OK(t, ssu2_data_encrypt(&r->ka.send, f.b_ik, req_hdr.dst_id, 7, 1,
				  f.payload, 100, pkt, sizeof(pkt), &len));
	T_EQ(t, len, 16 + 100 + 16);
	ssu2_hp_part1(pkt, len, f.b_ik);
	T_EQ(t, ssu2_pkt_dst_id(pkt), req_hdr.dst_id);
	ssu2_hp_part2(pkt, len, r->kb.recv.k_hdr2);
	ssu2_short_hdr_decode(pkt, &sh);
	T_EQ(t, sh.pkt_num, 7);
	T_EQ(t, sh.type, SSU2_DATA);
	T_EQ(t, sh.flags[0], 1);
	T_OK(t, ssu2_data_decrypt(&r->kb.recv, pkt, len, out, sizeof(out),
				  &plen));
	T_EQ(t, plen, 100);
	T_MEMEQ(t, out, f.payload, 100);
	/* A changed packet number is a different nonce and AD. */
	pkt[11] ^= 1;
	T_ERR(t, ssu2_data_decrypt(&r->kb.recv, pkt, len, out, sizeof(out),
				   &plen), ERR_AUTH);
	/* Bob -> Alice with the other keys; Alice's own send keys fail. */
	T_OK(t, ssu2_data_encrypt(&r->kb.send, f.a_ik, req_hdr.src_id, 0, 0,
				  f.payload, 8, pkt, sizeof(pkt), &len));
	ssu2_hp_part1(pkt, len, f.a_ik);
	ssu2_hp_part2(pkt, len, r->ka.recv.k_hdr2);
	T_ERR(t, ssu2_data_decrypt(&r->ka.send, pkt, len, out, sizeof(out),
				   &plen), ERR_AUTH);
	T_OK(t, ssu2_data_decrypt(&r->ka.recv, pkt, len, out, sizeof(out),
				  &plen));
	T_EQ(t, plen, 8);
	T_ERR(t, ssu2_data_encrypt(&r->kb.send, f.a_ik, 1, 0, 0, f.payload, 7,
				   pkt, sizeof(pkt), &len), ERR_ARG);
	T_ERR(t, ssu2_data_encrypt(&r->kb.send, f.a_ik, 1, 0, 0, f.payload,
				   1472 - 31, pkt, sizeof(pkt), &len),
	      ERR_TOO_BIG);
	free(r);
}

static void test_clock_skew(struct tctx *t)
{
	T_TRUE(t, ssu2_skew_ok(1000, 1000));
	T_TRUE(t, ssu2_skew_ok(1060, 1000));
	T_TRUE(t, ssu2_skew_ok(940, 1000));
	T_FALSE(t, ssu2_skew_ok(1061, 1000));
	T_FALSE(t, ssu2_skew_ok(939, 1000));
	T_FALSE(t, ssu2_skew_ok(0, 0xffffffffu));
}

/* The OpenSSL data path gives the same bytes as the libsodium one. */
static void test_data_evp(struct tctx *t)
{
	struct fixture f;
	struct run *r = calloc(1, sizeof(*r));
	struct ssu2_aead tx, rx;
	uint8_t a[1500], b[1500], c[1500], out[1500];
	size_t la, lb, plen;

	fixture_init(&f);
	run_handshake(t, &f, r, 300, 1472);
	ssu2_aead_init(&tx, r->ka.send.k_data);
	ssu2_aead_init(&rx, r->kb.recv.k_data);
	for (size_t n = 8; n <= 1400; n += 97) {
		T_OK(t, ssu2_data_encrypt(&r->ka.send, f.b_ik, 5, (uint32_t)n,
					  1, f.payload, n, a, sizeof(a), &la));
		T_OK(t, ssu2_data_seal(&tx, r->ka.send.k_hdr2, f.b_ik, 5,
				       (uint32_t)n, 1, f.payload, n, b,
				       sizeof(b), &lb));
		T_EQ(t, la, lb);
		T_MEMEQ(t, a, b, la);
		memcpy(c, b, lb);
		ssu2_hp_part1(b, lb, f.b_ik);
		ssu2_hp_part2(b, lb, r->kb.recv.k_hdr2);
		T_OK(t, ssu2_data_open(&rx, b, b, lb, out, sizeof(out), &plen));
		T_EQ(t, plen, n);
		T_MEMEQ(t, out, f.payload, n);
		/* the header apart, the packet as it came */
		memset(out, 0, sizeof(out));
		T_OK(t, ssu2_data_open(&rx, b, c, lb, out, sizeof(out), &plen));
		T_EQ(t, plen, n);
		T_MEMEQ(t, out, f.payload, n);
		T_ERR(t, ssu2_data_open(&rx, c, c, lb, out, sizeof(out), &plen),
		      ERR_AUTH);
		b[lb - 1] ^= 1;
		T_ERR(t, ssu2_data_open(&rx, b, b, lb, out, sizeof(out), &plen),
		      ERR_AUTH);
		b[9] ^= 1;	/* the packet number is nonce and AD */
		b[lb - 1] ^= 1;
		T_ERR(t, ssu2_data_open(&rx, b, b, lb, out, sizeof(out), &plen),
		      ERR_AUTH);
	}
	ssu2_aead_free(&tx);
	ssu2_aead_free(&rx);
	free(r);
}

const struct test_case router_ssu2_handshake_tests[] = {
	{ "data_evp", test_data_evp, 0 },
	{ "header_protection", test_header_protection, 0 },
	{ "roundtrip_one_fragment", test_roundtrip_one_fragment, 0 },
	{ "roundtrip_fragments", test_roundtrip_fragments, 0 },
	{ "matches_spec_model", test_matches_spec_model, 0 },
	{ "tamper_request", test_tamper, 0 },
	{ "tamper_created_confirmed", test_tamper_later, 0 },
	{ "out_of_order", test_out_of_order, 0 },
	{ "low_order_key", test_low_order_key, 0 },
	{ "out_of_session", test_out_of_session, 0 },
	{ "data_packets", test_data_packets, 0 },
	{ "clock_skew", test_clock_skew, 0 },
	{ NULL, NULL, 0 }
};
