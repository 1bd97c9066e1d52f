/*
 * The one source of randomness (crypto/rand.h, STYLE.md §6).
 *
 * Normally libsodium's randombytes_buf().  rand_set_deterministic() switches
 * the whole process to a ChaCha20 keystream (libsodium's original 64-bit
 * counter variant) keyed by SHA-256("bits rand_set_deterministic" ‖ le64
 * seed), so tests get the same bytes on every run.  The stream state sits
 * behind a mutex; the normal path takes no lock.
 */
#include "config.h"
#include "crypto/rand.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/log.h"
#include "crypto/init.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#define RAND_DET_BLOCK_BYTES 64

static atomic_bool det_on;
static pthread_mutex_t det_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint64_t block;				/* next keystream block */
	uint8_t buf[RAND_DET_BLOCK_BYTES];	/* current block */
	size_t used;				/* bytes of buf consumed */
} det;

void rand_set_deterministic(uint64_t seed)
{
	static const char label[] = "bits rand_set_deterministic";
	crypto_hash_sha256_state st;
	uint8_t le[8];

	pthread_mutex_lock(&det_lock);
	memwipe(&det, sizeof(det));
	if (seed) {
		le64_put(le, seed);
		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st, (const uint8_t *)label,
					  sizeof(label) - 1);
		crypto_hash_sha256_update(&st, le, sizeof(le));
		crypto_hash_sha256_final(&st, det.key);
		/* used = full: the first read makes block 0 */
		det.used = RAND_DET_BLOCK_BYTES;
	}
	atomic_store(&det_on, seed != 0);
	pthread_mutex_unlock(&det_lock);
}

static void det_bytes(uint8_t *out, size_t n)
{
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];

	pthread_mutex_lock(&det_lock);
	while (n) {
		size_t take;

		if (det.used == RAND_DET_BLOCK_BYTES) {
			memset(det.buf, 0, sizeof(det.buf));
			crypto_stream_chacha20_xor_ic(det.buf, det.buf,
						      sizeof(det.buf), nonce,
						      det.block++, det.key);
			det.used = 0;
		}
		take = RAND_DET_BLOCK_BYTES - det.used;
		if (take > n)
			take = n;
		memcpy(out, det.buf + det.used, take);
		memwipe(det.buf + det.used, take);
		det.used += take;
		out += take;
		n -= take;
	}
	pthread_mutex_unlock(&det_lock);
}

void rand_bytes(void *buf, size_t n)
{
	if (!n)
		return;
	if (atomic_load(&det_on)) {
		det_bytes(buf, n);
		return;
	}
	crypto_init();
	randombytes_buf(buf, n);
}

uint64_t rand_u64(void)
{
	uint8_t b[8];

	rand_bytes(b, sizeof(b));
	return le64_get(b);
}

uint32_t rand_uniform(uint32_t upper)
{
	uint32_t min, v;
	uint8_t b[4];

	if (BUG(upper == 0))
		return 0;
	/* Reject the first 2^32 mod upper values so every residue is
	 * equally likely (the same bound as libsodium's
	 * randombytes_uniform()). */
	min = (uint32_t)(-upper % upper);
	do {
		rand_bytes(b, sizeof(b));
		v = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
		    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	} while (v < min);
	return v % upper;
}
