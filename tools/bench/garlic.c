/*
 * tools/bench/garlic: ECIES ratchet Existing Session messages, encrypt by
 * Alice and decrypt by Bob (tag lookup, key, AEAD, window upkeep, block
 * parse), in messages per CPU-second, beside ChaCha20-Poly1305 encrypt +
 * decrypt of the same payload sizes from the same run (the ceiling).
 * The DH ratchet runs at its default pace (every 8192 messages), so its
 * cost is included.  Prints one human line per size and one JSON line
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

static double aead_rate(size_t size, double secs)
{
	uint8_t key[32], tag[8], *in = malloc(size), *ct = malloc(size + 16);
	uint64_t n = 0;
	double t0 = cpu_s(), t;

	rand_bytes(key, 32);
	rand_bytes(in, size);
	rand_bytes(tag, 8);
	do {
		for (int i = 0; i < 256; i++) {
			chachapoly_encrypt_n(ct, key, n + (uint64_t)i, tag, 8, in,
					     size);
			if (chachapoly_decrypt_n(in, key, n + (uint64_t)i, tag, 8,
						 ct, size + 16) != 0)
				abort();
		}
		n += 256;
	} while ((t = cpu_s() - t0) < secs);
	free(in);
	free(ct);
	return (double)n / t;
}

static double es_rate(size_t size, double secs, uint64_t *ratchets)
{
	struct x25519_sk ask, bsk;
	struct x25519_pk apk, bpk;
	struct ratchet_ctx *a, *b;
	struct bbuf blk = BBUF_INIT, wire = BBUF_INIT, plain = BBUF_INIT;
	struct ratchet_payload pl;
	struct ratchet_rx_info in;
	uint64_t n = 0;
	double t0, t;

	x25519_keygen(&ask, &apk);
	x25519_keygen(&bsk, &bpk);
	a = ratchet_ctx_new(&ask);
	b = ratchet_ctx_new(&bsk);
	blocks(&blk, size);
	/* NS, NSR, then ES both ways so the session is established */
	for (int k = 0; k < 4; k++) {
		struct ratchet_ctx *f = k % 2 ? b : a, *to = k % 2 ? a : b;

		bbuf_reset(&wire);
		if (ratchet_encrypt(f, k % 2 ? &apk : &bpk, blk.data, blk.len,
				    0, NOW, &wire) != 0 ||
		    ratchet_decrypt(to, wire.data, wire.len, NOW, &plain, &pl,
				    &in) != 0)
			abort();
	}
	t0 = cpu_s();
	do {
		for (int i = 0; i < 256; i++) {
			bbuf_reset(&wire);
			if (ratchet_encrypt(a, &bpk, blk.data, blk.len, 0, NOW,
					    &wire) != 0 ||
			    ratchet_decrypt(b, wire.data, wire.len, NOW, &plain,
					    &pl, &in) != 0)
				abort();
			/* Bob answers now and then so the reverse Next Key
			 * of a DH ratchet reaches Alice */
			if ((n + (uint64_t)i) % 64 == 0) {
				bbuf_reset(&wire);
				if (ratchet_encrypt(b, &apk, NULL, 0, 0, NOW,
						    &wire) != 0 ||
				    ratchet_decrypt(a, wire.data, wire.len, NOW,
						    &plain, &pl, &in) != 0)
					abort();
			}
		}
		n += 256;
	} while ((t = cpu_s() - t0) < secs);
	*ratchets = ratchet_ctx_stats(a)->ratchets_out;
	bbuf_free(&blk);
	bbuf_free(&wire);
	bbuf_free(&plain);
	ratchet_ctx_free(a);
	ratchet_ctx_free(b);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 64, 1024, 4096, 16384 };
	double secs = 2, v = 0, c = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			secs = atof(argv[++i]);
		} else {
			fprintf(stderr, "usage: %s [--seconds S]\n", argv[0]);
			return 2;
		}
	}
	crypto_init();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t ratchets = 0;
		double es = es_rate(sizes[i], secs, &ratchets);
		double aead = aead_rate(sizes[i], secs);

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
