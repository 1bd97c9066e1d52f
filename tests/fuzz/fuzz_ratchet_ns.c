/*
 * libFuzzer target: incoming ECIES Garlic data (router/ratchet.h) at a
 * destination with a fixed key.  First byte (mod 3):
 *   0: the rest is raw Garlic data (NS, NSR, ES or garbage);
 *   1: the rest is the payload blocks of a real NS from Alice (so they
 *      reach the block parser after decryption), then of an NSR back and
 *      an ES each way;
 *   2: a real NS, then the rest as data under a live ES tag (its first 8
 *      bytes replaced by the next tag Alice would use).
 * Properties: no crash or leak, counters move on every refusal, and a
 * well-formed exchange still completes after the fuzzed input.
 */
#include "config.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"
#include "router/ratchet.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000000ull

static int xfer(struct ratchet_ctx *from, const struct x25519_pk *to_pk,
		struct ratchet_ctx *to, const uint8_t *blocks, size_t len,
		struct bbuf *wire)
{
	struct bbuf plain = BBUF_INIT;
	struct ratchet_payload pl;
	struct ratchet_rx_info in;
	int r;

	bbuf_reset(wire);
	r = ratchet_encrypt(from, to_pk, blocks, len, 0, NOW, wire);
	if (r == 0)
		r = ratchet_decrypt(to, wire->data, wire->len, NOW, &plain, &pl,
				    &in);
	bbuf_free(&plain);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x25519_sk ask, bsk;
	struct x25519_pk apk, bpk;
	struct ratchet_ctx *a, *b;
	struct bbuf wire = BBUF_INIT, plain = BBUF_INIT;
	struct ratchet_payload pl;
	struct ratchet_rx_info in;
	uint64_t before;

	if (size < 1 || size > 70000)
		return 0;
	rand_set_deterministic(7);
	x25519_keygen(&ask, &apk);
	x25519_keygen(&bsk, &bpk);
	a = ratchet_ctx_new(&ask);
	b = ratchet_ctx_new(&bsk);
	switch (data[0] % 3) {
	case 0:
		before = ratchet_ctx_stats(b)->no_tag;
		if (ratchet_decrypt(b, data + 1, size - 1, NOW, &plain, &pl,
				    &in) == ERR_NOT_FOUND &&
		    ratchet_ctx_stats(b)->no_tag != before + 1)
			abort();
		break;
	case 1:
		if (xfer(a, &bpk, b, data + 1, size - 1, &wire) == 0 &&
		    xfer(b, &apk, a, data + 1, size - 1, &wire) == 0 &&
		    xfer(a, &bpk, b, data + 1, size - 1, &wire) == 0)
			(void)xfer(b, &apk, a, data + 1, size - 1, &wire);
		break;
	case 2:
		if (xfer(a, &bpk, b, NULL, 0, &wire) != 0 ||
		    xfer(b, &apk, a, NULL, 0, &wire) != 0)
			abort();
		bbuf_reset(&wire);
		if (ratchet_encrypt(a, &bpk, NULL, 0, 0, NOW, &wire) != 0)
			abort();
		{
			uint8_t *m = xmalloc(size - 1 + 8);

			memcpy(m, wire.data, 8);	/* a live tag */
			memcpy(m + 8, data + 1, size - 1);
			(void)ratchet_decrypt(b, m, size - 1 + 8, NOW, &plain,
					      &pl, &in);
			free(m);
		}
		/* the genuine message still opens: the tag survived */
		if (ratchet_decrypt(b, wire.data, wire.len, NOW, &plain, &pl,
				    &in) != 0)
			abort();
		break;
	}
	ratchet_ctx_expire(a, NOW + 3600 * 1000);
	ratchet_ctx_expire(b, NOW + 3600 * 1000);
	if (ratchet_ctx_session_count(b) != 0 || ratchet_ctx_tag_count(b) != 0)
		abort();
	bbuf_free(&wire);
	bbuf_free(&plain);
	ratchet_ctx_free(a);
	ratchet_ctx_free(b);
	rand_set_deterministic(0);
	return 0;
}
