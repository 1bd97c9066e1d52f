/*
 * The one source of randomness (crypto/rand.h, STYLE.md §6).
 *
 * Normally a per-thread "fast key erasure" generator (Bernstein, 2017):
 * a ChaCha20 key seeded from libsodium's randombytes_buf() (the kernel)
 * fills a small buffer whose first 32 bytes immediately replace the key, so
 * a later compromise of the state reveals nothing already handed out, and
 * every byte is wiped once given out.  It saves a getrandom() system call
 * per message id, IV and nonce on the hot paths (about 0.7 us each here).
 * The key is re-seeded from the kernel every RAND_FKE_RESEED_BYTES and
 * after fork() (pthread_atfork bumps a generation), so parent and child
 * never share a stream.  Requests above RAND_FKE_MAX_BYTES go straight to
 * the kernel.
 *
 * rand_set_deterministic() switches
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
#define RAND_FKE_BUF_BYTES 512		/* 32 key + 480 output per refill */
#define RAND_FKE_MAX_BYTES 256
#define RAND_FKE_RESEED_BYTES (1u << 20)

struct fke {
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint8_t buf[RAND_FKE_BUF_BYTES];
	size_t pos;		/* next unused byte of buf; 0 = empty */
	size_t since_seed;	/* bytes handed out since the kernel seed */
	unsigned gen;		/* fork generation of the seed */
	bool seeded;
};
static _Thread_local struct fke fke;
static atomic_uint fork_gen;
static pthread_once_t fke_once = PTHREAD_ONCE_INIT;

static void fke_after_fork(void)
{
	atomic_fetch_add(&fork_gen, 1);
}

static void fke_register(void)
{
	pthread_atfork(NULL, NULL, fke_after_fork);
}

/* Refill: buf = ChaCha20(key); the first 32 bytes become the new key. */
static void fke_refill(struct fke *f)
{
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	unsigned gen = atomic_load(&fork_gen);

	if (!f->seeded || f->gen != gen || f->since_seed >= RAND_FKE_RESEED_BYTES) {
		randombytes_buf(f->key, sizeof(f->key));
		f->gen = gen;
		f->since_seed = 0;
		f->seeded = true;
	}
	crypto_stream_chacha20(f->buf, sizeof(f->buf), nonce, f->key);
	memcpy(f->key, f->buf, sizeof(f->key));
	memwipe(f->buf, sizeof(f->key));
	f->pos = sizeof(f->key);
}

static void fke_bytes(uint8_t *out, size_t n)
{
	struct fke *f = &fke;

	pthread_once(&fke_once, fke_register);
	if (f->seeded && f->gen != atomic_load(&fork_gen))
		f->pos = 0;	/* a forked child: drop the parent's buffer */
	while (n) {
		size_t take;

		if (f->pos == 0 || f->pos == sizeof(f->buf))
			fke_refill(f);
		take = sizeof(f->buf) - f->pos;
		if (take > n)
			take = n;
		memcpy(out, f->buf + f->pos, take);
		memwipe(f->buf + f->pos, take);
		f->pos += take;
		f->since_seed += take;
		out += take;
		n -= take;
	}
}

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
	if (n > RAND_FKE_MAX_BYTES) {
		randombytes_buf(buf, n);
		return;
	}
	fke_bytes(buf, n);
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
