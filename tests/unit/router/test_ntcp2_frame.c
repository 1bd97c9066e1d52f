/*
 * router/ntcp2_frame: the SipHash length chain (against the SipHash
 * reference vector for an 8-byte message, the one NTCP2 hashes), frame
 * seal/open, and the block parser with its per-type limits and order rules.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/ntcp2_frame.h"
#include "crypto/base/err.h"
#include "crypto/chacha.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void keys_fill(struct ntcp2_dir_keys *k, uint8_t seed)
{
	for (size_t i = 0; i < sizeof(k->k); i++)
		k->k[i] = (uint8_t)(seed + i);
	for (size_t i = 0; i < sizeof(k->sipkey); i++)
		k->sipkey[i] = (uint8_t)(seed * 3 + i);
	for (size_t i = 0; i < sizeof(k->sipiv); i++)
		k->sipiv[i] = (uint8_t)(seed * 5 + i);
}

/* "IV[n] = SipHash-2-4(sipk1, sipk2, IV[n-1]); Mask[n] = First 2 bytes of
 * IV[n]; obfuscatedLength = length ^ Mask[n]", length big-endian: with
 * the reference key 00..0f and IV 00..07 the first IV is vector 8. */
static void test_length_mask_vector(struct tctx *t)
{
	json_t *root = tvec_load(t, "siphash-2-4.json");
	uint8_t *key, *msg, *want, out[34], plain[16] = { 0 };
	size_t kl, ml, wl, len;
	struct ntcp2_dir tx, rx;
	struct ntcp2_dir_keys k;

	if (!root)
		return;
	json_t *v = json_array_get(json_object_get(root, "vectors"), 8);
	key = tvec_field(t, v, "key", &kl);
	msg = tvec_field(t, v, "message", &ml);
	want = tvec_field(t, v, "output", &wl);
	if (!key || !msg || !want || kl != 16 || ml != 8 || wl != 8)
		goto out;
	memset(&k, 0, sizeof(k));
	memcpy(k.sipkey, key, 16);
	memcpy(k.sipiv, msg, 8);
	ntcp2_dir_init(&tx, &k);
	ntcp2_dir_init(&rx, &k);
	T_OK(t, ntcp2_frame_seal(&tx, out, plain, sizeof(plain)));
	T_MEMEQ(t, tx.iv, want, 8);
	/* on the wire: byte 0 = (len >> 8) ^ IV[1], byte 1 = (len & 0xff) ^ IV[0] */
	T_EQ(t, out[0], (32 >> 8) ^ want[1]);
	T_EQ(t, out[1], (32 & 0xff) ^ want[0]);
	T_OK(t, ntcp2_frame_len_decode(&rx, out, &len));
	T_EQ(t, len, 32);
	/* the next IV is SipHash of the previous one */
	T_EQ(t, ntcp2_dir_next_mask(&tx), ntcp2_dir_next_mask(&rx));
	ntcp2_dir_wipe(&tx);
	ntcp2_dir_wipe(&rx);
out:
	free(key);
	free(msg);
	free(want);
	json_decref(root);
}

static void test_seal_open_chain(struct tctx *t)
{
	struct ntcp2_dir_keys k;
	struct ntcp2_dir tx, rx;
	uint8_t plain[3000], frame[3000 + 18], expect[3000 + 16];
	size_t len, plen;

	keys_fill(&k, 9);
	ntcp2_dir_init(&tx, &k);
	ntcp2_dir_init(&rx, &k);
	for (unsigned i = 0; i < 50; i++) {
		size_t n = (i * 61) % sizeof(plain);

		memset(plain, (int)i, n);
		T_OK(t, ntcp2_frame_seal(&tx, frame, plain, n));
		/* the body is plain ChaChaPoly, nonce = frame counter, no AD */
		chachapoly_encrypt_n(expect, k.k, i, NULL, 0, plain, n);
		T_MEMEQ(t, frame + 2, expect, n + 16);
		T_OK(t, ntcp2_frame_len_decode(&rx, frame, &len));
		T_EQ(t, len, n + 16);
		T_OK(t, ntcp2_frame_open(&rx, frame + 2, len, &plen));
		T_EQ(t, plen, n);
		T_MEMEQ(t, frame + 2, plain, n);
	}
	T_TRUE(t, tx.n == 50 && rx.n == 50);
	ntcp2_dir_wipe(&tx);
	ntcp2_dir_wipe(&rx);
}

static void test_open_rejects(struct tctx *t)
{
	struct ntcp2_dir_keys k;
	struct ntcp2_dir tx, rx;
	uint8_t plain[100], frame[100 + 18], copy[sizeof(frame)];
	size_t len, plen;

	keys_fill(&k, 1);
	ntcp2_dir_init(&tx, &k);
	ntcp2_dir_init(&rx, &k);
	memset(plain, 0x5a, sizeof(plain));
	T_OK(t, ntcp2_frame_seal(&tx, frame, plain, sizeof(plain)));
	T_OK(t, ntcp2_frame_len_decode(&rx, frame, &len));
	for (size_t i = 2; i < sizeof(frame); i++) {
		memcpy(copy, frame, sizeof(frame));
		copy[i] ^= 0x10;
		T_ERR(t, ntcp2_frame_open(&rx, copy + 2, len, &plen), ERR_AUTH);
	}
	T_TRUE(t, rx.n == 0);		/* failures do not advance the nonce */
	T_ERR(t, ntcp2_frame_open(&rx, copy + 2, 15, &plen), ERR_TRUNCATED);
	memcpy(copy, frame, sizeof(frame));
	T_OK(t, ntcp2_frame_open(&rx, copy + 2, len, &plen));
	/* a replayed frame fails: the nonce moved on */
	memcpy(copy, frame, sizeof(frame));
	T_ERR(t, ntcp2_frame_open(&rx, copy + 2, len, &plen), ERR_AUTH);
	/* a length under 16 is a framing error */
	struct ntcp2_dir a, b;
	uint8_t two[2];
	ntcp2_dir_init(&a, &k);
	ntcp2_dir_init(&b, &k);
	be16_put(two, 15 ^ ntcp2_dir_next_mask(&a));
	T_ERR(t, ntcp2_frame_len_decode(&b, two, &len), ERR_FORMAT);
	/* too big to seal; the last nonce is never used */
	T_ERR(t, ntcp2_frame_seal(&tx, frame, plain,
				  NTCP2_FRAME_MAX_PLAIN_BYTES + 1), ERR_TOO_BIG);
	tx.n = UINT64_MAX;
	T_ERR(t, ntcp2_frame_seal(&tx, frame, plain, 10), ERR_LIMIT);
	rx.n = UINT64_MAX;
	T_ERR(t, ntcp2_frame_open(&rx, frame + 2, 26, &plen), ERR_LIMIT);
	ntcp2_dir_wipe(&tx);
	ntcp2_dir_wipe(&rx);
	ntcp2_dir_wipe(&a);
	ntcp2_dir_wipe(&b);
}

/* In-place sealing (plain at out + 2), as the session does. */
static void test_seal_in_place(struct tctx *t)
{
	struct ntcp2_dir_keys k;
	struct ntcp2_dir tx, rx;
	uint8_t buf[64 + 18], ref[64];
	size_t len, plen;

	keys_fill(&k, 3);
	ntcp2_dir_init(&tx, &k);
	ntcp2_dir_init(&rx, &k);
	for (size_t i = 0; i < sizeof(ref); i++)
		ref[i] = (uint8_t)i;
	memcpy(buf + 2, ref, sizeof(ref));
	T_OK(t, ntcp2_frame_seal(&tx, buf, buf + 2, sizeof(ref)));
	T_OK(t, ntcp2_frame_len_decode(&rx, buf, &len));
	T_OK(t, ntcp2_frame_open(&rx, buf + 2, len, &plen));
	T_MEMEQ(t, buf + 2, ref, sizeof(ref));
	ntcp2_dir_wipe(&tx);
	ntcp2_dir_wipe(&rx);
}

static void test_blocks_roundtrip(struct tctx *t)
{
	struct bbuf b = BBUF_INIT;
	struct ntcp2_options o = { 1, 2, 3, 4, 5, 6, 7, 8 }, o2;
	static const uint8_t ri[500] = { 1, 2, 3 };
	struct i2np_msg *m = i2np_msg_new(I2NP_DATA, "abc", 3, 60000), *d = NULL;
	struct ntcp2_block blk;
	struct breader r;
	uint32_t ts;
	uint8_t flag, reason;
	const uint8_t *rip;
	size_t ril, n;
	uint64_t frames;

	m->expiration_ms = 1700000000000ULL;
	ntcp2_block_put_datetime(&b, 1700000001);
	ntcp2_block_put_options(&b, &o);
	T_OK(t, ntcp2_block_put_routerinfo(&b, NTCP2_RI_FLAG_FLOOD, ri, sizeof(ri)));
	T_OK(t, ntcp2_block_put_i2np(&b, m));
	T_EQ(t, b.len, 7 + 15 + 3 + 1 + sizeof(ri) + NTCP2_I2NP_BLOCK_BYTES(3));
	ntcp2_block_put_termination(&b, 12345, NTCP2_TERM_IDLE);
	ntcp2_block_put_padding(&b, 20);
	T_OK(t, ntcp2_frame_check(b.data, b.len, NTCP2_FRAME_DATA, &n));
	T_EQ(t, n, 6);
	br_init(&r, b.data, b.len);
	T_OK(t, ntcp2_block_decode(&r, &blk));
	T_OK(t, ntcp2_block_datetime(&blk, &ts));
	T_EQ(t, ts, 1700000001);
	T_OK(t, ntcp2_block_decode(&r, &blk));
	T_OK(t, ntcp2_block_options(&blk, &o2));
	T_MEMEQ(t, &o, &o2, sizeof(o));
	T_OK(t, ntcp2_block_decode(&r, &blk));
	T_OK(t, ntcp2_block_routerinfo(&blk, &flag, &rip, &ril));
	T_EQ(t, flag, NTCP2_RI_FLAG_FLOOD);
	T_EQ(t, ril, sizeof(ri));
	T_MEMEQ(t, rip, ri, sizeof(ri));
	T_OK(t, ntcp2_block_decode(&r, &blk));
	T_EQ(t, blk.type, NTCP2_BLOCK_I2NP);
	T_OK(t, i2np_msg_decode_short(blk.data, blk.len, &d));
	if (d) {
		T_EQ(t, d->type, I2NP_DATA);
		T_EQ(t, d->msg_id, m->msg_id);
		T_TRUE(t, d->expiration_ms == 1700000000000ULL);
		T_EQ(t, d->len, 3);
		T_MEMEQ(t, d->payload, "abc", 3);
	}
	T_OK(t, ntcp2_block_decode(&r, &blk));
	T_OK(t, ntcp2_block_termination(&blk, &frames, &reason));
	T_TRUE(t, frames == 12345);
	T_EQ(t, reason, NTCP2_TERM_IDLE);
	T_ERR(t, ntcp2_block_datetime(&blk, &ts), ERR_FORMAT);
	T_OK(t, ntcp2_block_decode(&r, &blk));
	T_EQ(t, blk.type, NTCP2_BLOCK_PADDING);
	T_EQ(t, blk.len, 20);
	T_TRUE(t, br_done(&r));
	/* the same blocks are not a valid message 3 */
	T_ERR(t, ntcp2_frame_check(b.data, b.len, NTCP2_FRAME_MSG3, NULL),
	      ERR_FORMAT);
	i2np_msg_free(m);
	i2np_msg_free(d);
	bbuf_free(&b);
}

/* Build a frame from (type, size) pairs with zero-filled bodies. */
static void frame_of(struct bbuf *b, const unsigned *spec)
{
	bbuf_reset(b);
	for (; spec[0] != 999; spec += 2) {
		bbuf_u8(b, (uint8_t)spec[0]);
		bbuf_be16(b, (uint16_t)spec[1]);
		memset(bbuf_extend(b, spec[1]), 0, spec[1]);
	}
}

static int check(struct bbuf *b, enum ntcp2_frame_kind kind, const unsigned *spec)
{
	frame_of(b, spec);
	return ntcp2_frame_check(b->data, b->len, kind, NULL);
}

static void test_frame_rules(struct tctx *t)
{
	struct bbuf b = BBUF_INIT;
#define F(...) ((const unsigned[]){ __VA_ARGS__, 999 })
	const enum ntcp2_frame_kind D = NTCP2_FRAME_DATA, M3 = NTCP2_FRAME_MSG3;

	/* data phase */
	T_OK(t, check(&b, D, F(3, 9, 3, 20, 0, 4)));
	T_OK(t, check(&b, D, F(254, 0)));			/* padding only */
	T_OK(t, check(&b, D, F(3, 9, 4, 9, 254, 5)));
	T_OK(t, check(&b, D, F(200, 7, 3, 9)));			/* unknown: ignored */
	T_ERR(t, check(&b, D, F(254, 5, 3, 9)), ERR_FORMAT);	/* padding not last */
	T_ERR(t, check(&b, D, F(254, 5, 254, 5)), ERR_FORMAT);
	T_ERR(t, check(&b, D, F(4, 9, 3, 9)), ERR_FORMAT);	/* term not last */
	T_ERR(t, check(&b, D, F(0, 5)), ERR_TOO_BIG);		/* DateTime = 4 */
	T_ERR(t, check(&b, D, F(0, 3)), ERR_FORMAT);
	T_ERR(t, check(&b, D, F(3, 8)), ERR_FORMAT);		/* I2NP header */
	T_ERR(t, check(&b, D, F(3, 9 + 62709)), ERR_TOO_BIG);
	T_ERR(t, check(&b, D, F(4, 8)), ERR_FORMAT);
	T_ERR(t, check(&b, D, F(1, 11)), ERR_FORMAT);
	T_ERR(t, check(&b, D, F(2, 1)), ERR_FORMAT);
	T_ERR(t, check(&b, D, F(2, NTCP2_RI_BLOCK_MAX_BYTES + 1)), ERR_TOO_BIG);
	/* a block running past the frame, a cut header */
	frame_of(&b, F(3, 20));
	T_ERR(t, ntcp2_frame_check(b.data, b.len - 1, D, NULL), ERR_TRUNCATED);
	T_ERR(t, ntcp2_frame_check(b.data, 2, D, NULL), ERR_TRUNCATED);
	T_OK(t, ntcp2_frame_check(b.data, 0, D, NULL));	/* empty frame */
	/* message 3 part 2 */
	T_OK(t, check(&b, M3, F(2, 400)));
	T_OK(t, check(&b, M3, F(2, 400, 1, 12)));
	T_OK(t, check(&b, M3, F(2, 400, 254, 30)));
	T_OK(t, check(&b, M3, F(2, 400, 1, 12, 254, 0)));
	T_ERR(t, check(&b, M3, F(1, 12, 2, 400)), ERR_FORMAT);
	T_ERR(t, check(&b, M3, F(2, 400, 254, 3, 1, 12)), ERR_FORMAT);
	T_ERR(t, check(&b, M3, F(2, 400, 3, 9)), ERR_FORMAT);
	T_ERR(t, check(&b, M3, F(2, 400, 2, 400)), ERR_FORMAT);
	T_ERR(t, check(&b, M3, F(2, 400, 200, 1)), ERR_FORMAT);
	T_ERR(t, check(&b, M3, F(0, 4)), ERR_FORMAT);
	T_ERR(t, ntcp2_frame_check(b.data, 0, M3, NULL), ERR_FORMAT);
#undef F
	bbuf_free(&b);
}

static void test_writer_limits(struct tctx *t)
{
	struct bbuf b = BBUF_INIT;
	static uint8_t big[NTCP2_RI_MAX_BYTES + 1];
	struct i2np_msg m = { .type = I2NP_DATA, .payload = big,
			      .len = I2NP_MAX_PAYLOAD_BYTES + 1 };

	T_ERR(t, ntcp2_block_put_routerinfo(&b, 0, big, sizeof(big)), ERR_TOO_BIG);
	T_ERR(t, ntcp2_block_put_i2np(&b, &m), ERR_TOO_BIG);
	T_EQ(t, b.len, 0);
	T_STREQ(t, ntcp2_term_reason_str(NTCP2_TERM_AEAD), "data phase AEAD failure");
	T_STREQ(t, ntcp2_term_reason_str(NTCP2_TERM_BANNED), "banned");
	T_STREQ(t, ntcp2_term_reason_str(200), "unknown");
	bbuf_free(&b);
}

const struct test_case router_ntcp2_frame_tests[] = {
	{ "length_mask_vector", test_length_mask_vector, 0 },
	{ "seal_open_chain", test_seal_open_chain, 0 },
	{ "open_rejects", test_open_rejects, 0 },
	{ "seal_in_place", test_seal_in_place, 0 },
	{ "blocks_roundtrip", test_blocks_roundtrip, 0 },
	{ "frame_rules", test_frame_rules, 0 },
	{ "writer_limits", test_writer_limits, 0 },
	{ NULL, NULL, 0 }
};
