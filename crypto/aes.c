/*
 * AES-256-ECB/CBC without padding (crypto/aes.h) over OpenSSL 3.0 EVP.
 *
 * Four EVP contexts per key (ECB/CBC × encrypt/decrypt), each created and
 * keyed on first use; a CBC call only resets the IV (EVP_CipherInit_ex with
 * a NULL cipher and key keeps the key schedule).  The cipher objects are
 * fetched once per process.  The chaining IV is taken from the ciphertext
 * ourselves rather than read back from OpenSSL.
 */
#include "config.h"
#include "crypto/aes.h"
#include "crypto/base/alloc.h"
#include "crypto/base/log.h"

#include "crypto/base/err.h"

#include <openssl/evp.h>

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum aes_slot { AES_ECB_ENC, AES_ECB_DEC, AES_CBC_ENC, AES_CBC_DEC, AES_SLOTS };

struct aes256_ctx {
	uint8_t key[AES256_KEY_BYTES];
	EVP_CIPHER_CTX *evp[AES_SLOTS];	/* NULL until first use */
	bool keyed[AES_SLOTS];
};

static EVP_CIPHER *aes_ecb_cipher, *aes_cbc_cipher;
static pthread_once_t aes_once = PTHREAD_ONCE_INIT;

static void aes_fetch(void)
{
	aes_ecb_cipher = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);
	aes_cbc_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	if (!aes_ecb_cipher || !aes_cbc_cipher) {
		log_err(LD_CRYPTO, "OpenSSL has no AES-256-ECB/CBC");
		abort();
	}
}

struct aes256_ctx *aes256_new(const uint8_t key[AES256_KEY_BYTES])
{
	struct aes256_ctx *c = xzalloc(sizeof(*c));

	pthread_once(&aes_once, aes_fetch);
	memcpy(c->key, key, AES256_KEY_BYTES);
	return c;
}

void aes256_set_key(struct aes256_ctx *c, const uint8_t key[AES256_KEY_BYTES])
{
	memcpy(c->key, key, AES256_KEY_BYTES);
	for (int i = 0; i < AES_SLOTS; i++)
		c->keyed[i] = false;	/* re-key each context on next use */
}

void aes256_free(struct aes256_ctx *c)
{
	if (!c)
		return;
	for (int i = 0; i < AES_SLOTS; i++)
		EVP_CIPHER_CTX_free(c->evp[i]);	/* clears its key schedule */
	memwipe(c, sizeof(*c));
	free(c);
}

/* The context for slot, keyed, with iv loaded (CBC), or NULL on failure. */
static EVP_CIPHER_CTX *aes_ctx(struct aes256_ctx *c, enum aes_slot slot,
			       const uint8_t *iv)
{
	const bool enc = slot == AES_ECB_ENC || slot == AES_CBC_ENC;
	const EVP_CIPHER *ciph =
		slot == AES_ECB_ENC || slot == AES_ECB_DEC ? aes_ecb_cipher
							    : aes_cbc_cipher;
	EVP_CIPHER_CTX *x = c->evp[slot];

	if (!x) {
		x = c->evp[slot] = EVP_CIPHER_CTX_new();
		if (!x)
			return NULL;
	}
	if (!c->keyed[slot]) {
		if (EVP_CipherInit_ex(x, ciph, NULL, c->key, iv, enc) != 1 ||
		    EVP_CIPHER_CTX_set_padding(x, 0) != 1)
			return NULL;
		c->keyed[slot] = true;
	} else if (iv && EVP_CipherInit_ex(x, NULL, NULL, NULL, iv, -1) != 1) {
		return NULL;
	}
	return x;
}

/* Run len bytes of buf through slot's context in place. */
static int aes_run(struct aes256_ctx *c, enum aes_slot slot,
		   const uint8_t *iv, uint8_t *buf, size_t len)
{
	EVP_CIPHER_CTX *x;
	int outl;

	if (len % AES_BLOCK_BYTES)
		return ERR_ARG;
	if (!len)
		return 0;
	if (!(x = aes_ctx(c, slot, iv)))
		return ERR_CRYPTO;
	while (len) {
		/* EVP takes an int length; stay a block multiple below it. */
		size_t chunk = len > (INT_MAX & ~0xf) ? (INT_MAX & ~0xf) : len;

		if (EVP_CipherUpdate(x, buf, &outl, buf, (int)chunk) != 1 ||
		    (size_t)outl != chunk) {
			c->keyed[slot] = false;	/* state unknown: re-init */
			return ERR_CRYPTO;
		}
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

int aes256_ecb_encrypt(struct aes256_ctx *c, uint8_t *buf, size_t len)
{
	return aes_run(c, AES_ECB_ENC, NULL, buf, len);
}

int aes256_ecb_decrypt(struct aes256_ctx *c, uint8_t *buf, size_t len)
{
	return aes_run(c, AES_ECB_DEC, NULL, buf, len);
}

int aes256_cbc_encrypt(struct aes256_ctx *c, uint8_t iv[AES_BLOCK_BYTES],
		       uint8_t *buf, size_t len)
{
	int r = aes_run(c, AES_CBC_ENC, iv, buf, len);

	if (r == 0 && len)
		memcpy(iv, buf + len - AES_BLOCK_BYTES, AES_BLOCK_BYTES);
	return r;
}

int aes256_cbc_decrypt(struct aes256_ctx *c, uint8_t iv[AES_BLOCK_BYTES],
		       uint8_t *buf, size_t len)
{
	uint8_t next[AES_BLOCK_BYTES];
	int r;

	if (len % AES_BLOCK_BYTES)
		return ERR_ARG;
	if (!len)
		return 0;
	memcpy(next, buf + len - AES_BLOCK_BYTES, AES_BLOCK_BYTES);
	if ((r = aes_run(c, AES_CBC_DEC, iv, buf, len)) == 0)
		memcpy(iv, next, AES_BLOCK_BYTES);
	return r;
}
