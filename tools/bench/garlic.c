/*
 * tools/bench/garlic: ECIES ratchet Existing Session messages, encrypt by
 * Alice and decrypt by Bob (tag lookup, key, AEAD, window upkeep, block
 * parse), in messages per CPU-second, beside ChaCha20-Poly1305 encrypt +
 * decrypt of the same payload sizes from the same run (the ceiling).
 * The DH ratchet runs at its default pace (every 8192 messages), so its
 * cost is included.  Batches of the two alternate and are timed apart, so
 * a change in machine load between them cannot skew the ratio.  Prints one human line per size and one JSON line
 * for the headline size (1 KiB of cloves):
 * {"bench":"garlic","metric":"es_msgs/s","value":V,"ceiling":C,...}
 */
#include "config.h"
#include "crypto/base/bytes.h"
#include "crypto/chacha.h"
#include "crypto/init.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "router/garlic_router.h"
#include "router/i2np.h"
#include "router/ratchet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOW 1700000000000ull

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The payload: one LOCAL Data clove whose blocks total about size bytes. */
static void blocks(struct bbuf *b, size_t size)
{
	size_t body = size > 40 ? size - 3 - 1 - 9 : 16;
	uint8_t *p = malloc(body);
	struct i2np_msg *m;

	rand_bytes(p, body);
	m = i2np_msg_new(20, p, body, NOW + 60000);
	(void)garlic_block_clove(b, m, GARLIC_DELIVERY_LOCAL, NULL, 0);
	i2np_msg_free(m);
	free(p);
}

/* The ceiling: ChaCha20-Poly1305 encrypt + decrypt of size bytes with an
 * 8-byte AD (the tag), 256 pairs per call. */
struct aead_run {
	uint8_t key[32], tag[8], *in, *ct;
	size_t size;
	uint64_t n;
};

static void aead_batch(struct aead_run *r)
{
	for (int i = 0; i < 256; i++) {
		chachapoly_encrypt_n(r->ct, r->key, r->n + (uint64_t)i, r->tag,
				     8, r->in, r->size);
		if (chachapoly_decrypt_n(r->in, r->key, r->n + (uint64_t)i,
					 r->tag, 8, r->ct, r->size + 16) != 0)
			abort();
	}
	r->n += 256;
}

/* ES messages of size bytes of cloves, Alice to Bob, 256 per call. */
struct es_run {
	struct x25519_sk ask, bsk;
	struct x25519_pk apk, bpk;
	struct ratchet_ctx *a, *b;
	struct bbuf blk, wire, plain;
	uint64_t n;
};

static void es_batch(struct es_run *r)
{
	struct ratchet_payload pl;
	struct ratchet_rx_info in;

	for (int i = 0; i < 256; i++) {
		bbuf_reset(&r->wire);
		if (ratchet_encrypt(r->a, &r->bpk, r->blk.data, r->blk.len, 0,
				    NOW, &r->wire) != 0 ||
		    ratchet_decrypt(r->b, r->wire.data, r->wire.len, NOW,
				    &r->plain, &pl, &in) != 0)
			abort();
		/* Bob answers now and then so the reverse Next Key of a DH
		 * ratchet reaches Alice */
		if ((r->n + (uint64_t)i) % 64 == 0) {
			bbuf_reset(&r->wire);
			if (ratchet_encrypt(r->b, &r->apk, NULL, 0, 0, NOW,
					    &r->wire) != 0 ||
			    ratchet_decrypt(r->a, r->wire.data, r->wire.len,
					    NOW, &r->plain, &pl, &in) != 0)
				abort();
		}
	}
	r->n += 256;
}

static void es_setup(struct es_run *r, size_t size)
{
	struct ratchet_payload pl;
	struct ratchet_rx_info in;

	memset(r, 0, sizeof(*r));
	x25519_keygen(&r->ask, &r->apk);
	x25519_keygen(&r->bsk, &r->bpk);
	r->a = ratchet_ctx_new(&r->ask);
	r->b = ratchet_ctx_new(&r->bsk);
	blocks(&r->blk, size);
	/* NS, NSR, then ES both ways so the session is established */
	for (int k = 0; k < 4; k++) {
		struct ratchet_ctx *f = k % 2 ? r->b : r->a;
		struct ratchet_ctx *to = k % 2 ? r->a : r->b;

		bbuf_reset(&r->wire);
		if (ratchet_encrypt(f, k % 2 ? &r->apk : &r->bpk, r->blk.data,
				    r->blk.len, 0, NOW, &r->wire) != 0 ||
		    ratchet_decrypt(to, r->wire.data, r->wire.len, NOW,
				    &r->plain, &pl, &in) != 0)
			abort();
	}
}

/*
 * Both rates from one run: batches of ES messages and of bare AEAD pairs
 * alternate, each timed in CPU-seconds, until secs of ES time, so load
 * from other processes weighs on both alike.
 */
static void rates(size_t size, double secs, double *es, double *aead,
		  uint64_t *ratchets)
{
	struct es_run e;
	struct aead_run a;
	double te = 0, ta = 0, t0;

	es_setup(&e, size);
	memset(&a, 0, sizeof(a));
	a.size = size;
	a.in = malloc(size);
	a.ct = malloc(size + 16);
	rand_bytes(a.key, sizeof(a.key));
	rand_bytes(a.tag, sizeof(a.tag));
	rand_bytes(a.in, size);
	do {
		t0 = cpu_s();
		es_batch(&e);
		te += cpu_s() - t0;
		t0 = cpu_s();
		aead_batch(&a);
		ta += cpu_s() - t0;
	} while (te < secs);
	*es = (double)e.n / te;
	*aead = (double)a.n / ta;
	*ratchets = ratchet_ctx_stats(e.a)->ratchets_out;
	bbuf_free(&e.blk);
	bbuf_free(&e.wire);
	bbuf_free(&e.plain);
	ratchet_ctx_free(e.a);
	ratchet_ctx_free(e.b);
	free(a.in);
	free(a.ct);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 64, 1024, 4096, 16384 };
	double secs = 2, v = 0, c = 0;
	size_t only = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			secs = atof(argv[++i]);
		} else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
			only = (size_t)atol(argv[++i]);	/* profiling */
		} else {
			fprintf(stderr, "usage: %s [--seconds S] [--size B]\n",
				argv[0]);
			return 2;
		}
	}
	crypto_init();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t ratchets = 0;
		double es = 0, aead = 0;

		if (only && sizes[i] != only)
			continue;
		rates(sizes[i], secs, &es, &aead, &ratchets);

		printf("%5zu B: ES encrypt+decrypt %.0f msgs/CPU-s, "
		       "ChaCha20-Poly1305 encrypt+decrypt %.0f/CPU-s, %.0f %% "
		       "(%llu DH ratchets)\n", sizes[i], es, aead,
		       100 * es / aead, (unsigned long long)ratchets);
		if (sizes[i] == 1024) {
			v = es;
			c = aead;
		}
	}
	printf("{\"bench\":\"garlic\",\"metric\":\"es_msgs/s\",\"value\":%.0f,"
	       "\"ceiling\":%.0f,\"ratio\":%.3f,\"target\":0.5,"
	       "\"higher_is_better\":true}\n", v, c, c > 0 ? v / c : 0);
	return 0;
}
