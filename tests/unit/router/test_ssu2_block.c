/*
 * router/ssu2_block: the payload splitter's ordering and size rules, block
 * round trips, the spec's ACK example, ACK blocks written from the
 * received-packet window and read back against a model set, and I2NP
 * fragment reassembly (any order, duplicates, limits, expiry), and the
 * sender's cutting of messages into blocks (several in a packet, a
 * message split where a packet ends, bounds).
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/ssu2_block.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"
#include "router/gzip.h"

#include <stdlib.h>
#include <string.h>

static void test_payload_order(struct tctx *t)
{
	struct bbuf b = BBUF_INIT;
	struct ssu2_payload pl;
	uint8_t ip[4] = { 198, 18, 0, 5 };

	ssu2_blk_put_datetime(&b, 1700000000);
	ssu2_blk_put_address(&b, ip, 4, 1234);
	ssu2_blk_put_termination(&b, 5, SSU2_TERM_NORMAL);
	ssu2_blk_put_padding(&b, 10);
	T_OK(t, ssu2_payload_decode(b.data, b.len, false, &pl));
	T_EQ(t, pl.n, 4);
	T_EQ(t, pl.b[0].type, SSU2_BLK_DATETIME);
	T_EQ(t, pl.b[3].type, SSU2_BLK_PADDING);
	T_EQ(t, pl.b[3].len, 10);
	/* RouterInfo must come first in SessionConfirmed. */
	T_ERR(t, ssu2_payload_decode(b.data, b.len, true, &pl), ERR_FORMAT);
	/* Anything after padding, or a non-padding block after
	 * termination, is refused. */
	ssu2_blk_put_datetime(&b, 1);
	T_ERR(t, ssu2_payload_decode(b.data, b.len, false, &pl), ERR_FORMAT);
	bbuf_reset(&b);
	ssu2_blk_put_termination(&b, 5, SSU2_TERM_NORMAL);
	ssu2_blk_put_datetime(&b, 1);
	T_ERR(t, ssu2_payload_decode(b.data, b.len, false, &pl), ERR_FORMAT);
	bbuf_reset(&b);
	ssu2_blk_put_padding(&b, 1);
	ssu2_blk_put_padding(&b, 1);
	T_ERR(t, ssu2_payload_decode(b.data, b.len, false, &pl), ERR_FORMAT);
	/* A block running past the end; a stray byte. */
	bbuf_reset(&b);
	ssu2_blk_put_datetime(&b, 1);
	T_ERR(t, ssu2_payload_decode(b.data, b.len - 1, false, &pl),
	      ERR_TRUNCATED);
	bbuf_u8(&b, 0);
	T_ERR(t, ssu2_payload_decode(b.data, b.len, false, &pl),
	      ERR_TRUNCATED);
	/* Fixed sizes are enforced; unknown types pass through. */
	bbuf_reset(&b);
	ssu2_blk_put(&b, SSU2_BLK_DATETIME, "abc", 3);
	T_ERR(t, ssu2_payload_decode(b.data, b.len, false, &pl), ERR_RANGE);
	bbuf_reset(&b);
	ssu2_blk_put(&b, SSU2_BLK_ADDRESS, "abcdefg", 7);
	T_ERR(t, ssu2_payload_decode(b.data, b.len, false, &pl), ERR_RANGE);
	bbuf_reset(&b);
	ssu2_blk_put(&b, 200, "abcdefg", 7);
	ssu2_blk_put(&b, SSU2_BLK_CONGESTION, "a", 1);
	T_OK(t, ssu2_payload_decode(b.data, b.len, false, &pl));
	T_EQ(t, pl.n, 2);
	/* Too many blocks. */
	bbuf_reset(&b);
	for (int i = 0; i <= SSU2_MAX_BLOCKS; i++)
		ssu2_blk_put(&b, 200, NULL, 0);
	T_ERR(t, ssu2_payload_decode(b.data, b.len, false, &pl), ERR_TOO_BIG);
	/* Empty payloads: fine in general, not for SessionConfirmed. */
	T_OK(t, ssu2_payload_decode(NULL, 0, false, &pl));
	T_EQ(t, pl.n, 0);
	T_ERR(t, ssu2_payload_decode(NULL, 0, true, &pl), ERR_FORMAT);
	bbuf_free(&b);
}

static void test_blocks_roundtrip(struct tctx *t)
{
	struct bbuf b = BBUF_INIT;
	struct ssu2_payload pl;
	struct ssu2_address a;
	struct ssu2_termination term;
	struct ssu2_ri_block rb;
	uint8_t ip6[16], ri[600], out[4096];
	uint32_t ts, exp, tag;
	uint64_t tok;
	size_t n;

	for (int i = 0; i < 16; i++)
		ip6[i] = (uint8_t)(0x20 + i);
	for (size_t i = 0; i < sizeof(ri); i++)
		ri[i] = (uint8_t)(i % 7);
	ssu2_blk_put_datetime(&b, 0x65432100);
	ssu2_blk_put_address(&b, ip6, 16, 65535);
	ssu2_blk_put_new_token(&b, 1234, 0x0102030405060708ull);
	ssu2_blk_put_relay_tag(&b, 77);
	{
		struct bbuf z = BBUF_INIT;

		T_OK(t, gzip_compress(ri, sizeof(ri), &z));
		ssu2_blk_put_ri(&b, SSU2_RI_FLAG_GZIP | SSU2_RI_FLAG_FLOOD,
				z.data, z.len);
		bbuf_free(&z);
	}
	ssu2_blk_put_termination(&b, 99, SSU2_TERM_IDLE);
	T_OK(t, ssu2_payload_decode(b.data, b.len, false, &pl));
	T_EQ(t, pl.n, 6);
	T_OK(t, ssu2_datetime_decode(&pl.b[0], &ts));
	T_EQ(t, ts, 0x65432100);
	T_OK(t, ssu2_address_decode(&pl.b[1], &a));
	T_EQ(t, a.port, 65535);
	T_EQ(t, a.iplen, 16);
	T_MEMEQ(t, a.ip, ip6, 16);
	T_OK(t, ssu2_new_token_decode(&pl.b[2], &exp, &tok));
	T_EQ(t, exp, 1234);
	T_EQ(t, tok, 0x0102030405060708ull);
	T_OK(t, ssu2_relay_tag_decode(&pl.b[3], &tag));
	T_EQ(t, tag, 77);
	T_OK(t, ssu2_ri_block_decode(&pl.b[4], &rb));
	T_EQ(t, rb.flags, 3);
	T_OK(t, ssu2_ri_block_extract(&rb, out, sizeof(out), &n));
	T_EQ(t, n, sizeof(ri));
	T_MEMEQ(t, out, ri, sizeof(ri));
	T_ERR(t, ssu2_ri_block_extract(&rb, out, 100, &n), ERR_TOO_BIG);
	T_OK(t, ssu2_termination_decode(&pl.b[5], &term));
	T_EQ(t, term.rcvd, 99);
	T_EQ(t, term.reason, SSU2_TERM_IDLE);
	/* Wrong-type decoders refuse. */
	T_ERR(t, ssu2_datetime_decode(&pl.b[1], &ts), ERR_FORMAT);
	T_ERR(t, ssu2_address_decode(&pl.b[0], &a), ERR_FORMAT);
	/* Relay tag 0 and a fragmented RouterInfo block are refused. */
	bbuf_reset(&b);
	ssu2_blk_put_relay_tag(&b, 0);
	ssu2_blk_put(&b, SSU2_BLK_ROUTERINFO, "\x00\x12rest", 6);
	T_OK(t, ssu2_payload_decode(b.data, b.len, false, &pl));
	T_ERR(t, ssu2_relay_tag_decode(&pl.b[0], &tag), ERR_FORMAT);
	T_ERR(t, ssu2_ri_block_decode(&pl.b[1], &rb), ERR_UNSUPPORTED);
	bbuf_free(&b);
}

static void test_i2np_parts(struct tctx *t)
{
	struct bbuf b = BBUF_INIT;
	struct ssu2_payload pl;
	struct ssu2_i2np_part p;
	uint8_t body[100];
	struct i2np_msg *m;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)i;
	m = i2np_msg_new(I2NP_DATA, body, sizeof(body), 60000);
	m->expiration_ms = 1700000000123ull;
	ssu2_blk_put_i2np(&b, m);
	ssu2_blk_put_first_frag(&b, m, 40);
	ssu2_blk_put_follow_frag(&b, m, 2, true, 70, 30);
	T_OK(t, ssu2_payload_decode(b.data, b.len, false, &pl));
	T_EQ(t, pl.n, 3);
	T_OK(t, ssu2_i2np_part_decode(&pl.b[0], &p));
	T_EQ(t, p.type, I2NP_DATA);
	T_EQ(t, p.msg_id, m->msg_id);
	T_EQ(t, p.exp_s, 1700000000);
	T_TRUE(t, p.last);
	T_EQ(t, p.frag, 0);
	T_EQ(t, p.len, 100);
	T_MEMEQ(t, p.data, body, 100);
	T_OK(t, ssu2_i2np_part_decode(&pl.b[1], &p));
	T_FALSE(t, p.last);
	T_EQ(t, p.len, 40);
	T_OK(t, ssu2_i2np_part_decode(&pl.b[2], &p));
	T_EQ(t, p.frag, 2);
	T_TRUE(t, p.last);
	T_EQ(t, p.msg_id, m->msg_id);
	T_EQ(t, p.len, 30);
	T_MEMEQ(t, p.data, body + 70, 30);
	/* Fragment number 0 in a Follow-on, and over our maximum. */
	bbuf_reset(&b);
	ssu2_blk_put(&b, SSU2_BLK_FOLLOW_FRAG, "\x01\x00\x00\x00\x01z", 6);
	ssu2_blk_put(&b, SSU2_BLK_FOLLOW_FRAG, "\x81\x00\x00\x00\x01z", 6);
	T_OK(t, ssu2_payload_decode(b.data, b.len, false, &pl));
	T_ERR(t, ssu2_i2np_part_decode(&pl.b[0], &p), ERR_FORMAT);
	T_ERR(t, ssu2_i2np_part_decode(&pl.b[1], &p), ERR_FORMAT);
	/* Empty fragments are not allowed (the splitter refuses them). */
	bbuf_reset(&b);
	ssu2_blk_put(&b, SSU2_BLK_FOLLOW_FRAG, "\x02\x00\x00\x00\x01", 5);
	T_ERR(t, ssu2_payload_decode(b.data, b.len, false, &pl), ERR_RANGE);
	i2np_msg_free(m);
	bbuf_free(&b);
}

/* The spec's example: "ACK 10 9 8 6 5 2 1 0, and NACK 7 4 3". */
static void test_ack_spec_example(struct tctx *t)
{
	static const uint8_t body[] = { 0, 0, 0, 10, 2, 1, 2, 2, 3 };
	struct ssu2_block blk = { SSU2_BLK_ACK, body, sizeof(body) };
	struct ssu2_ack a;
	struct ssu2_rxwin w;
	struct bbuf b = BBUF_INIT;
	static const int want[11] = { 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1 };

	T_OK(t, ssu2_ack_decode(&blk, &a));
	for (uint32_t pn = 0; pn <= 12; pn++)
		T_EQ(t, ssu2_ack_has(&a, pn), pn <= 10 && want[pn]);
	/* Our window writes the same block for the same packets. */
	ssu2_rxwin_init(&w);
	for (uint32_t pn = 0; pn <= 10; pn++)
		if (want[pn])
			T_OK(t, ssu2_rxwin_add(&w, pn));
	T_EQ(t, ssu2_rxwin_put_ack(&w, &b, 100), 3 + sizeof(body));
	T_MEMEQ(t, b.data + 3, body, sizeof(body));
	T_EQ(t, b.data[0], SSU2_BLK_ACK);
	/* Odd range tail. */
	blk.len = sizeof(body) - 1;
	T_ERR(t, ssu2_ack_decode(&blk, &a), ERR_FORMAT);
	bbuf_free(&b);
}

struct collect {
	uint8_t seen[4096];
	unsigned n;
};

static void collect_fn(void *arg, uint32_t pn)
{
	struct collect *c = arg;

	if (pn < sizeof(c->seen))
		c->seen[pn]++;
	c->n++;
}

/* Random receive patterns: the ACK we write names exactly the packets we
 * got (within what fits), and never one we did not get. */
static void test_ack_random(struct tctx *t)
{
	rand_set_deterministic(7);
	for (int round = 0; round < 200; round++) {
		struct ssu2_rxwin w;
		struct ssu2_ack a;
		struct ssu2_payload pl;
		struct bbuf b = BBUF_INIT;
		uint8_t got[3000] = { 0 };
		struct collect *c = calloc(1, sizeof(*c));
		uint32_t n = 1 + rand_uniform(2999), hi = 0;
		unsigned loss = rand_uniform(60), bad = 0, dups = 0;

		ssu2_rxwin_init(&w);
		for (uint32_t pn = 0; pn < n; pn++) {
			if (rand_uniform(100) < loss)
				continue;
			got[pn] = 1;
			hi = pn;
			T_OK(t, ssu2_rxwin_add(&w, pn));
		}
		if (!w.any) {
			T_EQ(t, ssu2_rxwin_put_ack(&w, &b, 100), 0);
			free(c);
			continue;
		}
		/* Duplicates inside the window are caught. */
		if (ssu2_rxwin_add(&w, hi) == ERR_DUPLICATE)
			dups++;
		T_EQ(t, dups, 1);
		T_TRUE(t, ssu2_rxwin_put_ack(&w, &b, 3 + 5 + 2 * 20) > 0);
		T_TRUE(t, b.len <= 3 + 5 + 2 * 20);
		T_OK(t, ssu2_payload_decode(b.data, b.len, false, &pl));
		T_OK(t, ssu2_ack_decode(&pl.b[0], &a));
		T_EQ(t, a.through, hi);
		ssu2_ack_foreach(&a, collect_fn, c);
		for (uint32_t pn = 0; pn < n; pn++) {
			if (c->seen[pn] > 1 || (c->seen[pn] && !got[pn]))
				bad++;
			if (c->seen[pn] != ssu2_ack_has(&a, pn))
				bad++;
		}
		T_EQ(t, bad, 0);
		T_TRUE(t, c->seen[hi] == 1);
		free(c);
		bbuf_free(&b);
	}
	rand_set_deterministic(0);
}

static void test_rxwin_edges(struct tctx *t)
{
	struct ssu2_rxwin w;
	struct bbuf b = BBUF_INIT;

	ssu2_rxwin_init(&w);
	T_FALSE(t, ssu2_rxwin_has(&w, 0));
	T_OK(t, ssu2_rxwin_add(&w, 5));
	T_ERR(t, ssu2_rxwin_add(&w, 5), ERR_DUPLICATE);
	T_OK(t, ssu2_rxwin_add(&w, 3));
	T_TRUE(t, ssu2_rxwin_has(&w, 3));
	T_FALSE(t, ssu2_rxwin_has(&w, 4));
	/* A jump past the window forgets the old bits ... */
	T_OK(t, ssu2_rxwin_add(&w, 5 + 70 + SSU2_RXWIN_BITS));
	/* ... and anything older than the window counts as seen. */
	T_ERR(t, ssu2_rxwin_add(&w, 5), ERR_RANGE);
	T_TRUE(t, ssu2_rxwin_has(&w, 4));
	/* Shifts across word boundaries keep the bits. */
	ssu2_rxwin_init(&w);
	for (uint32_t pn = 0; pn < 300; pn += 3)
		T_OK(t, ssu2_rxwin_add(&w, pn));
	T_OK(t, ssu2_rxwin_add(&w, 300 + 129));
	for (uint32_t pn = 0; pn < 300; pn++)
		T_EQ(t, ssu2_rxwin_has(&w, pn), pn % 3 == 0);
	/* Too little room for an ACK block. */
	T_EQ(t, ssu2_rxwin_put_ack(&w, &b, 7), 0);
	T_EQ(t, ssu2_rxwin_put_ack(&w, &b, 8), 8);
	bbuf_free(&b);
}

/* Split a message into parts as a sender would. */
static size_t make_parts(const struct i2np_msg *m, size_t frag,
			 struct bbuf *b, struct ssu2_payload *pl)
{
	size_t off = 0, n = 0;

	bbuf_reset(b);
	while (off < m->len) {
		size_t len = m->len - off < frag ? m->len - off : frag;

		if (off == 0)
			ssu2_blk_put_first_frag(b, m, len);
		else
			ssu2_blk_put_follow_frag(b, m, (unsigned)n,
						 off + len == m->len, off, len);
		off += len;
		n++;
	}
	/* A test vehicle bigger than one packet: walk the blocks by hand. */
	pl->n = 0;
	for (size_t o = 0; o + 3 <= b->len && pl->n < SSU2_MAX_BLOCKS;) {
		struct ssu2_block *blk = &pl->b[pl->n++];

		blk->type = b->data[o];
		blk->len = be16_get(b->data + o + 1);
		blk->data = b->data + o + 3;
		o += 3 + blk->len;
	}
	return n;
}

static void test_reasm(struct tctx *t)
{
	struct ssu2_reasm *r = ssu2_reasm_new();
	struct bbuf b = BBUF_INIT;
	struct ssu2_payload *pl = calloc(1, sizeof(*pl));
	uint8_t *body = malloc(40000);
	struct i2np_msg *m, *done;
	struct ssu2_i2np_part p;
	size_t n;

	rand_set_deterministic(3);
	for (size_t i = 0; i < 40000; i++)
		body[i] = (uint8_t)(i * 13);
	m = i2np_msg_new(I2NP_DATABASE_STORE, body, 20000, 60000);
	/* 20000 bytes in 700-byte fragments, fed in a shuffled order with a
	 * duplicate of each. */
	for (int round = 0; round < 20; round++) {
		unsigned order[64], got = 0;

		m->msg_id = 5000 + (uint32_t)round;
		n = make_parts(m, 700, &b, pl);
		T_EQ(t, n, 29);
		T_EQ(t, pl->n, n);
		for (unsigned i = 0; i < n; i++)
			order[i] = i;
		for (unsigned i = n - 1; i > 0; i--) {
			unsigned j = rand_uniform(i + 1), x = order[i];

			order[i] = order[j];
			order[j] = x;
		}
		for (unsigned i = 0; i < n; i++) {
			for (int dup = 0; dup < 2; dup++) {
				T_OK(t, ssu2_i2np_part_decode(&pl->b[order[i]],
							      &p));
				T_OK(t, ssu2_reasm_add(r, &p, 1000, &done));
				if (done) {
					got++;
					T_EQ(t, i, n - 1);
					T_EQ(t, done->len, 20000);
					T_EQ(t, done->msg_id, m->msg_id);
					T_EQ(t, done->type,
					     I2NP_DATABASE_STORE);
					T_EQ(t, done->expiration_ms / 1000,
					     m->expiration_ms / 1000);
					T_MEMEQ(t, done->payload, body, 20000);
					i2np_msg_free(done);
				}
			}
		}
		/* The duplicate of the last one, and any fragment of the
		 * message sent again, begins nothing: it was whole. */
		T_EQ(t, got, 1);
		T_EQ(t, ssu2_reasm_count(r), 0);
		T_OK(t, ssu2_i2np_part_decode(&pl->b[n / 2], &p));
		T_OK(t, ssu2_reasm_add(r, &p, 1000, &done));
		T_TRUE(t, done == NULL);
		T_EQ(t, ssu2_reasm_count(r), 0);
		T_EQ(t, ssu2_reasm_bytes(r), 0);
	}
	/* Completed ids are remembered for the last SSU2_REASM_DONE_IDS
	 * messages: past that, round 0's id is a new message again. */
	n = make_parts(m, 700, &b, pl);		/* round 19's id */
	for (uint32_t id = 0; id < SSU2_REASM_DONE_IDS - 19; id++) {
		struct ssu2_i2np_part q = { .msg_id = 6000 + id, .data = body,
					    .len = 10, .frag = 0 };

		T_OK(t, ssu2_reasm_add(r, &q, 1000, &done));
		q.frag = 1;
		q.last = true;
		T_OK(t, ssu2_reasm_add(r, &q, 1000, &done));
		T_TRUE(t, done != NULL);
		i2np_msg_free(done);
	}
	{
		struct ssu2_i2np_part q;

		T_OK(t, ssu2_i2np_part_decode(&pl->b[1], &q));
		T_OK(t, ssu2_reasm_add(r, &q, 1000, &done));
		T_EQ(t, ssu2_reasm_count(r), 0);	/* 20th of 65: known */
		q.msg_id = 5000;			/* round 0: forgotten */
		T_OK(t, ssu2_reasm_add(r, &q, 1000, &done));
		T_EQ(t, ssu2_reasm_count(r), 1);
		T_EQ(t, ssu2_reasm_expire(r, 1000 + SSU2_REASM_TIMEOUT_MS + 1,
					  SSU2_REASM_TIMEOUT_MS), 1);
	}
	i2np_msg_free(m);
	/* Over the I2NP maximum: dropped. */
	m = i2np_msg_new(I2NP_DATA, body, 1, 60000);
	{
		struct ssu2_i2np_part big = { .type = 20, .msg_id = 9,
					      .data = body, .len = 1400 };
		int r2 = 0;

		for (unsigned f = 0; f < SSU2_MAX_FRAGS - 1 && r2 == 0; f++) {
			big.frag = f;
			r2 = ssu2_reasm_add(r, &big, 5, &done);
		}
		T_EQ(t, r2, ERR_TOO_BIG);
		T_EQ(t, ssu2_reasm_count(r), 0);
	}
	/* Two different last fragments; a fragment beyond the last. */
	{
		struct ssu2_i2np_part q = { .msg_id = 10, .data = body,
					    .len = 10, .frag = 3,
					    .last = true };

		T_OK(t, ssu2_reasm_add(r, &q, 5, &done));
		q.frag = 4;
		T_ERR(t, ssu2_reasm_add(r, &q, 5, &done), ERR_FORMAT);
		q.frag = 5;
		q.last = true;
		T_OK(t, ssu2_reasm_add(r, &q, 5, &done));
		q.frag = 6;
		q.last = false;
		T_ERR(t, ssu2_reasm_add(r, &q, 5, &done), ERR_FORMAT);
		T_EQ(t, ssu2_reasm_count(r), 0);
	}
	/* The table is bounded: the oldest partial makes room. */
	for (uint32_t id = 0; id < SSU2_REASM_MAX_MSGS + 10; id++) {
		struct ssu2_i2np_part q = { .msg_id = 100 + id, .data = body,
					    .len = 10, .frag = 1 };

		T_OK(t, ssu2_reasm_add(r, &q, id, &done));
		T_TRUE(t, done == NULL);
	}
	T_EQ(t, ssu2_reasm_count(r), SSU2_REASM_MAX_MSGS);
	/* What is held: 10 bytes a partial message, the oldest first to go
	 * (ids 110.. remain, begun at 10..), none past the last. */
	T_EQ(t, ssu2_reasm_bytes(r), SSU2_REASM_MAX_MSGS * 10);
	T_EQ(t, ssu2_reasm_oldest_ms(r), 10);
	T_TRUE(t, ssu2_reasm_drop_oldest(r));
	T_EQ(t, ssu2_reasm_oldest_ms(r), 11);
	T_EQ(t, ssu2_reasm_bytes(r), (SSU2_REASM_MAX_MSGS - 1) * 10);
	T_EQ(t, ssu2_reasm_expire(r, 30 + 5000, 5000), 19);	/* 11..29 */
	T_EQ(t, ssu2_reasm_bytes(r), (SSU2_REASM_MAX_MSGS - 20) * 10);
	{
		/* a completed message leaves its parts' bytes with it */
		struct ssu2_i2np_part q = { .msg_id = 7000, .data = body,
					    .len = 100, .frag = 0 };

		T_OK(t, ssu2_reasm_add(r, &q, 100, &done));
		T_EQ(t, ssu2_reasm_bytes(r),
		     (SSU2_REASM_MAX_MSGS - 20) * 10 + 100);
		q.frag = 1;
		q.last = true;
		T_OK(t, ssu2_reasm_add(r, &q, 100, &done));
		T_TRUE(t, done != NULL);
		i2np_msg_free(done);
		T_EQ(t, ssu2_reasm_bytes(r), (SSU2_REASM_MAX_MSGS - 20) * 10);
	}
	while (ssu2_reasm_drop_oldest(r))
		;
	/* Begun in the same millisecond, the first begun is the oldest,
	 * whichever slot it took: 8001 (slot 1) before 8002, which takes
	 * slot 0 once 8000 is whole. */
	{
		struct ssu2_i2np_part q = { .msg_id = 8000, .data = body,
					    .len = 10 };

		T_OK(t, ssu2_reasm_add(r, &q, 500, &done));
		q.msg_id = 8001;
		q.len = 11;
		T_OK(t, ssu2_reasm_add(r, &q, 500, &done));
		q.msg_id = 8000;
		q.frag = 1;
		q.last = true;
		T_OK(t, ssu2_reasm_add(r, &q, 500, &done));
		T_TRUE(t, done != NULL);
		i2np_msg_free(done);
		q.msg_id = 8002;
		q.len = 12;
		q.last = false;
		T_OK(t, ssu2_reasm_add(r, &q, 500, &done));
	}
	T_EQ(t, ssu2_reasm_bytes(r), 11 + 12);
	T_TRUE(t, ssu2_reasm_drop_oldest(r));
	T_EQ(t, ssu2_reasm_bytes(r), 12);
	T_TRUE(t, ssu2_reasm_drop_oldest(r));
	T_EQ(t, ssu2_reasm_count(r), 0);
	T_EQ(t, ssu2_reasm_bytes(r), 0);
	T_EQ(t, ssu2_reasm_count(r), 0);
	T_EQ(t, ssu2_reasm_oldest_ms(r), UINT64_MAX);
	T_TRUE(t, !ssu2_reasm_drop_oldest(r));
	i2np_msg_free(m);
	ssu2_reasm_free(r);
	rand_set_deterministic(0);
	free(body);
	free(pl);
	bbuf_free(&b);
}


/* A packet's room for blocks at MTU 1500 (IPv4) and at 1280 over IPv6:
 * the payload less the data header, the tag and the ACK reserve. */
#define ROOM_1500 (1500 - 28 - 32 - 24)
#define ROOM_1280 (1280 - 48 - 32 - 24)

/* Cutting messages into blocks: whole when they fit, a First Fragment
 * filling what is left, never under SSU2_SPLIT_MIN_BYTES, at most
 * SSU2_MAX_FRAGS fragments, every fragment within room. */
static void test_frag_plan(struct tctx *t)
{
	struct ssu2_frag_plan p;
	size_t avail = ROOM_1500, off, sum, n = 0;

	/* several whole messages in one packet: 100-byte bodies take 112
	 * bytes each, so 12 fit and the 13th waits for the next packet */
	while (ssu2_frag_plan(100, avail, ROOM_1500, &p)) {
		T_EQ(t, p.nfrags, 1);
		T_EQ(t, ssu2_frag_wire(&p, 100, 0), 112);
		avail -= ssu2_frag_wire(&p, 100, 0);
		n++;
	}
	T_EQ(t, n, ROOM_1500 / 112);
	T_EQ(t, p.nfrags, 0);
	/* a 1 KiB message after another: a First Fragment fills the rest,
	 * the Follow-on takes what is left of the body */
	avail = ROOM_1500 - (3 + 9 + 1024);
	T_TRUE(t, ssu2_frag_plan(1024, avail, ROOM_1500, &p));
	T_EQ(t, p.nfrags, 2);
	T_EQ(t, p.frag0, avail - 12);
	T_EQ(t, ssu2_frag_wire(&p, 1024, 0), avail);
	T_EQ(t, ssu2_frag_len(&p, 1024, 1, &off), 1024 - (avail - 12));
	T_EQ(t, off, avail - 12);
	T_EQ(t, ssu2_frag_wire(&p, 1024, 1), 3 + 5 + 1024 - (avail - 12));
	/* the smallest split, and just under it */
	T_TRUE(t, ssu2_frag_plan(1024, 12 + SSU2_SPLIT_MIN_BYTES, ROOM_1500,
				 &p));
	T_EQ(t, p.frag0, SSU2_SPLIT_MIN_BYTES);
	T_FALSE(t, ssu2_frag_plan(1024, 11 + SSU2_SPLIT_MIN_BYTES, ROOM_1500,
				  &p));
	/* a message smaller than that still goes whole where it fits */
	T_TRUE(t, ssu2_frag_plan(10, 22, ROOM_1500, &p));
	T_EQ(t, p.nfrags, 1);
	T_TRUE(t, ssu2_frag_plan(0, 12, ROOM_1500, &p));
	T_EQ(t, p.nfrags, 1);
	/* avail above room is room: no fragment outgrows a packet that
	 * also carries an ACK */
	T_TRUE(t, ssu2_frag_plan(5000, 9000, ROOM_1500, &p));
	T_EQ(t, p.frag0, ROOM_1500 - 12);
	T_EQ(t, p.fragn, ROOM_1500 - 8);
	T_EQ(t, p.nfrags, 4);
	/* the I2NP maximum, at both MTUs, however small the first part:
	 * the fragments add up to the body, each within room */
	for (int mtu = 0; mtu < 2; mtu++) {
		size_t room = mtu ? ROOM_1280 : ROOM_1500;
		size_t firsts[] = { room, 12 + SSU2_SPLIT_MIN_BYTES, 700 };

		for (size_t k = 0; k < 3; k++) {
			T_TRUE(t, ssu2_frag_plan(I2NP_MAX_PAYLOAD_BYTES,
						 firsts[k], room, &p));
			T_TRUE(t, p.nfrags > 1 && p.nfrags <= SSU2_MAX_FRAGS);
			sum = 0;
			for (unsigned f = 0; f < p.nfrags; f++) {
				size_t l = ssu2_frag_len(&p,
						I2NP_MAX_PAYLOAD_BYTES, f, &off);

				T_EQ(t, off, sum);
				T_TRUE(t, l > 0);
				T_TRUE(t, ssu2_frag_wire(&p,
					I2NP_MAX_PAYLOAD_BYTES, f) <=
					  (f ? room : firsts[k]));
				sum += l;
			}
			T_EQ(t, sum, I2NP_MAX_PAYLOAD_BYTES);
		}
	}
	/* more than SSU2_MAX_FRAGS fragments: refused, plan left empty */
	T_FALSE(t, ssu2_frag_plan(I2NP_MAX_PAYLOAD_BYTES, 500, 500, &p));
	T_EQ(t, p.nfrags, 0);
	T_TRUE(t, ssu2_frag_plan(63 * (500 - 8) + (500 - 12), 500, 500, &p));
	T_EQ(t, p.nfrags, SSU2_MAX_FRAGS);
	T_FALSE(t, ssu2_frag_plan(63 * (500 - 8) + (500 - 12) + 1, 500, 500,
				  &p));
}

/* Pack messages of the given sizes as a sender does (blocks in order,
 * each packet filled to room, a message cut where the packet ends), then
 * decode each packet and reassemble: every message must come back whole
 * and in order.  Returns the packets used; *multi counts those with more
 * than one block. */
static size_t pack_check(struct tctx *t, const size_t *sizes, size_t n,
			 size_t *multi)
{
	struct i2np_msg **m = xcalloc(n, sizeof(*m));
	struct ssu2_frag_plan *plan = xcalloc(n, sizeof(*plan));
	struct ssu2_reasm *r = ssu2_reasm_new();
	struct ssu2_payload *pl = malloc(sizeof(*pl));
	struct bbuf b = BBUF_INIT;
	size_t next = 0, got = 0, pkts = 0;
	unsigned f = 0;

	*multi = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t *body = xmalloc(sizes[i] ? sizes[i] : 1);

		rand_bytes(body, sizes[i]);
		m[i] = i2np_msg_new_take(I2NP_DATA, body, sizes[i], 60000);
		m[i]->msg_id = (uint32_t)(1000 + i);
	}
	while (next < n && pkts < 1000) {
		bbuf_reset(&b);
		while (next < n) {
			size_t len = m[next]->len;

			if (f == 0 && !ssu2_frag_plan(len, ROOM_1500 - b.len,
						      ROOM_1500, &plan[next])) {
				T_TRUE(t, b.len > 0);
				break;
			}
			if (b.len + ssu2_frag_wire(&plan[next], len, f) >
			    ROOM_1500)
				break;
			ssu2_blk_put_frag(&b, m[next], &plan[next], f);
			if (++f == plan[next].nfrags) {
				next++;
				f = 0;
			}
		}
		T_TRUE(t, b.len > 0 && b.len <= ROOM_1500);
		pkts++;
		T_OK(t, ssu2_payload_decode(b.data, b.len, false, pl));
		if (pl->n > 1)
			(*multi)++;
		for (size_t i = 0; i < pl->n; i++) {
			struct ssu2_i2np_part part;
			struct i2np_msg *done = NULL;

			if (pl->b[i].type == SSU2_BLK_I2NP) {
				T_OK(t, i2np_msg_decode_short(pl->b[i].data,
							      pl->b[i].len,
							      &done));
			} else {
				T_OK(t, ssu2_i2np_part_decode(&pl->b[i],
							      &part));
				T_OK(t, ssu2_reasm_add(r, &part, 0, &done));
			}
			if (!done)
				continue;
			T_EQ(t, done->msg_id, 1000 + got);
			T_EQ(t, done->len, m[got]->len);
			T_MEMEQ(t, done->payload, m[got]->payload,
				m[got]->len);
			i2np_msg_free(done);
			got++;
		}
	}
	T_EQ(t, got, n);
	T_EQ(t, ssu2_reasm_count(r), 0);
	for (size_t i = 0; i < n; i++)
		i2np_msg_free(m[i]);
	free(m);
	free(plan);
	ssu2_reasm_free(r);
	free(pl);
	bbuf_free(&b);
	return pkts;
}

static void test_frag_pack(struct tctx *t)
{
	static const size_t mixed[] = { 1024, 10, 1024, 3000, 100, 100, 0,
					I2NP_MAX_PAYLOAD_BYTES, 1024, 1400,
					1404, 1405, 64, 1024 };
	size_t kib[20], small[40], multi;

	/* every size, split at every kind of place */
	(void)pack_check(t, mixed, sizeof(mixed) / sizeof(mixed[0]), &multi);
	T_TRUE(t, multi > 0);
	/* 1 KiB messages: 20 x 1036 bytes of blocks (and 8 more for each
	 * one cut) in packets of 1416: 15 packets, not 20 */
	for (size_t i = 0; i < 20; i++)
		kib[i] = 1024;
	T_EQ(t, pack_check(t, kib, 20, &multi), 15);
	T_EQ(t, multi, 14);
	/* small ones: 12 whole I2NP blocks of 112 bytes a packet */
	for (size_t i = 0; i < 40; i++)
		small[i] = 100;
	T_EQ(t, pack_check(t, small, 40, &multi), 4);
}

const struct test_case router_ssu2_block_tests[] = {
	{ "payload_order", test_payload_order, 0 },
	{ "blocks_roundtrip", test_blocks_roundtrip, 0 },
	{ "i2np_parts", test_i2np_parts, 0 },
	{ "ack_spec_example", test_ack_spec_example, 0 },
	{ "ack_random", test_ack_random, TT_FORK },
	{ "rxwin_edges", test_rxwin_edges, 0 },
	{ "reasm", test_reasm, TT_FORK },
	{ "frag_plan", test_frag_plan, 0 },
	{ "frag_pack", test_frag_pack, TT_FORK },
	{ NULL, NULL, 0 }
};
