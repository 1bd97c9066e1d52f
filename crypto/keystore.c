/*
 * The long-term key store (crypto/keystore.h).  The secret part sits in one
 * secure-memory region (crypto/secmem.h) that is made read-only as soon as
 * it is filled: libsodium's 64-byte Ed25519 secret key (seed ‖ pk, so
 * signing needs no re-derivation) and the three X25519 secrets.  Public keys
 * are derived once at load and kept in ordinary memory.
 */
#include "config.h"
#include "crypto/keystore.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/hash.h"
#include "crypto/init.h"
#include "crypto/rand.h"
#include "crypto/secmem.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define KEYSTORE_MAGIC "BITSKEYS"
#define KEYSTORE_MAGIC_BYTES 8
#define KEYSTORE_BODY_BYTES (32 + 32 * KEYSTORE_X_COUNT_)

struct keystore_secret {
	/* libsodium's secret key: seed ‖ pk */
	uint8_t ed_sk[crypto_sign_ed25519_SECRETKEYBYTES];
	struct x25519_sk x[KEYSTORE_X_COUNT_];
};

struct keystore {
	struct keystore_secret *sec;	/* secure memory, read-only */
	struct ed25519_pk sign_pk;
	struct x25519_pk x_pk[KEYSTORE_X_COUNT_];
};

/* Build a keystore from body = seed ‖ x25519 secrets (read, not kept). */
static struct keystore *keystore_from_body(const uint8_t *body)
{
	struct keystore *ks = xzalloc(sizeof(*ks));

	ks->sec = secmem_alloc(sizeof(*ks->sec));
	crypto_sign_ed25519_seed_keypair(ks->sign_pk.b, ks->sec->ed_sk, body);
	for (int i = 0; i < KEYSTORE_X_COUNT_; i++) {
		memcpy(ks->sec->x[i].b, body + 32 + 32 * i, 32);
		x25519_pk_from_sk(&ks->x_pk[i], &ks->sec->x[i]);
	}
	secmem_readonly(ks->sec);
	return ks;
}

struct keystore *keystore_new_random(void)
{
	uint8_t *body = secmem_alloc(KEYSTORE_BODY_BYTES);
	struct keystore *ks;

	rand_bytes(body, KEYSTORE_BODY_BYTES);
	ks = keystore_from_body(body);
	secmem_free(body);
	return ks;
}

int keystore_decode(const uint8_t *buf, size_t len, struct keystore **out)
{
	uint8_t sum[SHA256_BYTES];
	const uint8_t *magic, *body;
	struct breader r;
	uint16_t version;

	if (len < KEYSTORE_MAGIC_BYTES + 2 + SHA256_BYTES)
		return ERR_TRUNCATED;
	br_init(&r, buf, len - SHA256_BYTES);
	magic = br_take(&r, KEYSTORE_MAGIC_BYTES);
	if (memcmp(magic, KEYSTORE_MAGIC, KEYSTORE_MAGIC_BYTES) != 0)
		return ERR_FORMAT;
	/* The checksum covers everything before it, version included, so a
	 * flipped bit anywhere is ERR_AUTH rather than a misread field. */
	sha256(sum, buf, len - SHA256_BYTES);
	if (sodium_memcmp(sum, buf + len - SHA256_BYTES, SHA256_BYTES) != 0)
		return ERR_AUTH;
	version = br_be16(&r);
	if (version != KEYSTORE_VERSION)
		return ERR_UNSUPPORTED;
	body = br_take(&r, KEYSTORE_BODY_BYTES);
	if (!body || !br_done(&r))
		return ERR_FORMAT;
	*out = keystore_from_body(body);
	return 0;
}

void keystore_encode(const struct keystore *ks, struct bbuf *out)
{
	size_t start = out->len;
	uint8_t *sum;

	bbuf_put(out, KEYSTORE_MAGIC, KEYSTORE_MAGIC_BYTES);
	bbuf_be16(out, KEYSTORE_VERSION);
	bbuf_put(out, ks->sec->ed_sk, 32);	/* the seed half */
	for (int i = 0; i < KEYSTORE_X_COUNT_; i++)
		bbuf_put(out, ks->sec->x[i].b, 32);
	sum = bbuf_extend(out, SHA256_BYTES);
	sha256(sum, out->data + start, out->len - start - SHA256_BYTES);
}

void keystore_free(struct keystore *ks)
{
	if (!ks)
		return;
	secmem_free(ks->sec);
	free(ks);
}

void keystore_sign_pk(const struct keystore *ks, struct ed25519_pk *out)
{
	*out = ks->sign_pk;
}

void keystore_x25519_pk(const struct keystore *ks, enum keystore_x25519 slot,
			struct x25519_pk *out)
{
	if (BUG((unsigned)slot >= KEYSTORE_X_COUNT_)) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = ks->x_pk[slot];
}

void keystore_sign(const struct keystore *ks, struct ed25519_sig *sig,
		   const void *msg, size_t len)
{
	crypto_sign_ed25519_detached(sig->b, NULL, msg, len, ks->sec->ed_sk);
}

int keystore_dh(const struct keystore *ks, enum keystore_x25519 slot,
		uint8_t out[32], const struct x25519_pk *peer)
{
	if (BUG((unsigned)slot >= KEYSTORE_X_COUNT_))
		return ERR_ARG;
	return x25519_dh(out, &ks->sec->x[slot], peer);
}
