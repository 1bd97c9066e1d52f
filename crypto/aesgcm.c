/*
 * AES-256-GCM (crypto/aesgcm.h) over OpenSSL 3.0 EVP.
 *
 * Two EVP contexts per key (encrypt, decrypt), each created and keyed on
 * first use; a call then only loads the nonce (EVP_CipherInit_ex with a
 * NULL cipher and key keeps the key schedule and GHASH key, and restarts
 * the GCM state).  The cipher object is fetched once per process.
 */
#include "config.h"
#include "crypto/aesgcm.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <openssl/evp.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(AESGCM_MAX_BYTES <= 0x7fffffff, "EVP takes int lengths");

enum gcm_dir { GCM_ENC, GCM_DEC, GCM_DIRS };

struct aesgcm_ctx {
	uint8_t key[AESGCM_KEY_BYTES];
	EVP_CIPHER_CTX *evp[GCM_DIRS];	/* NULL until first use */
	bool keyed[GCM_DIRS];
};

static EVP_CIPHER *gcm_cipher;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;

static void gcm_fetch(void)
{
	gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (!gcm_cipher) {
		log_err(LD_CRYPTO, "OpenSSL has no AES-256-GCM");
		abort();
	}
}

struct aesgcm_ctx *aesgcm_new(const uint8_t key[AESGCM_KEY_BYTES])
{
	struct aesgcm_ctx *c = xzalloc(sizeof(*c));

	pthread_once(&gcm_once, gcm_fetch);
	memcpy(c->key, key, AESGCM_KEY_BYTES);
	return c;
}

void aesgcm_set_key(struct aesgcm_ctx *c, const uint8_t key[AESGCM_KEY_BYTES])
{
	memcpy(c->key, key, AESGCM_KEY_BYTES);
	for (int i = 0; i < GCM_DIRS; i++)
		c->keyed[i] = false;	/* re-key each context on next use */
}

void aesgcm_free(struct aesgcm_ctx *c)
{
	if (!c)
		return;
	for (int i = 0; i < GCM_DIRS; i++)
		EVP_CIPHER_CTX_free(c->evp[i]);	/* clears its key schedule */
	memwipe(c, sizeof(*c));
	free(c);
}

/* The context for dir, keyed, with nonce loaded and the GCM state fresh;
 * NULL on failure. */
static EVP_CIPHER_CTX *gcm_ctx(struct aesgcm_ctx *c, enum gcm_dir dir,
			       const uint8_t nonce[AESGCM_NONCE_BYTES])
{
	EVP_CIPHER_CTX *x = c->evp[dir];

	if (!x) {
		x = c->evp[dir] = EVP_CIPHER_CTX_new();
		if (!x)
			return NULL;
	}
	if (!c->keyed[dir]) {
		/* The default IV length is 96 bits, the one we use. */
		if (EVP_CipherInit_ex(x, gcm_cipher, NULL, c->key, nonce,
				      dir == GCM_ENC) != 1)
			return NULL;
		c->keyed[dir] = true;
	} else if (EVP_CipherInit_ex(x, NULL, NULL, NULL, nonce, -1) != 1) {
		c->keyed[dir] = false;
		return NULL;
	}
	return x;
}

/* Feed ad, then len bytes of in to out. */
static bool gcm_update(EVP_CIPHER_CTX *x, uint8_t *out, const void *ad,
		       size_t adlen, const void *in, size_t len)
{
	int outl;

	if (adlen && EVP_CipherUpdate(x, NULL, &outl, ad, (int)adlen) != 1)
		return false;
	if (len && (EVP_CipherUpdate(x, out, &outl, in, (int)len) != 1 ||
		    (size_t)outl != len))
		return false;
	return true;
}

int aesgcm_seal(struct aesgcm_ctx *c, uint8_t *out,
		const uint8_t nonce[AESGCM_NONCE_BYTES], const void *ad,
		size_t adlen, const void *in, size_t len)
{
	EVP_CIPHER_CTX *x;
	int outl;

	if (len > AESGCM_MAX_BYTES || adlen > AESGCM_MAX_BYTES)
		return ERR_TOO_BIG;
	if (!(x = gcm_ctx(c, GCM_ENC, nonce)) ||
	    !gcm_update(x, out, ad, adlen, in, len) ||
	    EVP_EncryptFinal_ex(x, out + len, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, AESGCM_TAG_BYTES,
				out + len) != 1) {
		c->keyed[GCM_ENC] = false;	/* state unknown: re-init */
		return ERR_CRYPTO;
	}
	return 0;
}

int aesgcm_open(struct aesgcm_ctx *c, uint8_t *out,
		const uint8_t nonce[AESGCM_NONCE_BYTES], const void *ad,
		size_t adlen, const uint8_t *in, size_t inlen)
{
	uint8_t tag[AESGCM_TAG_BYTES];
	EVP_CIPHER_CTX *x;
	size_t len;
	int outl;

	if (inlen < AESGCM_TAG_BYTES)
		return ERR_TRUNCATED;
	len = inlen - AESGCM_TAG_BYTES;
	if (len > AESGCM_MAX_BYTES || adlen > AESGCM_MAX_BYTES)
		return ERR_TOO_BIG;
	memcpy(tag, in + len, sizeof(tag));	/* in may be overwritten */
	if (!(x = gcm_ctx(c, GCM_DEC, nonce)) ||
	    !gcm_update(x, out, ad, adlen, in, len) ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, AESGCM_TAG_BYTES,
				tag) != 1) {
		c->keyed[GCM_DEC] = false;
		memwipe(out, len);
		return ERR_CRYPTO;
	}
	if (EVP_DecryptFinal_ex(x, out + len, &outl) != 1) {
		memwipe(out, len);	/* never hand out unauthenticated bytes */
		return ERR_AUTH;
	}
	return 0;
}
