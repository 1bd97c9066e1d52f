/*
 * Wallet sealing (see wallet.h): Argon2id (crypto_pwhash, RFC 9106) and
 * XChaCha20-Poly1305-IETF from libsodium.  Keys live only in secmem and
 * on short-lived stack buffers that are wiped.
 */
#include "config.h"
#include "chain/wallet.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/init.h"
#include "crypto/rand.h"
#include "crypto/secmem.h"

#include <sodium.h>
#include <string.h>

#define WALLET_VERSION 1
#define WALLET_KDF_ARGON2ID13 1
#define WALLET_AEAD_XCHACHA 1
#define WALLET_NKEYS 3
#define KEYS_BYTES (WALLET_NKEYS * SECP_SK_BYTES)

struct wallet_kdf wallet_kdf_default(void)
{
	return (struct wallet_kdf){ crypto_pwhash_OPSLIMIT_MODERATE,
				    crypto_pwhash_MEMLIMIT_MODERATE };
}

struct wallet_kdf wallet_kdf_min(void)
{
	return (struct wallet_kdf){ crypto_pwhash_OPSLIMIT_MIN,
				    crypto_pwhash_MEMLIMIT_MIN };
}

static struct wallet_keys *keys_alloc(void)
{
	return secmem_alloc(sizeof(struct wallet_keys));
}

struct wallet_keys *wallet_keys_generate(void)
{
	struct wallet_keys *k = keys_alloc();

	secp_sk_generate(&k->account);
	secp_sk_generate(&k->spend);
	secp_sk_generate(&k->view);
	secmem_readonly(k);
	return k;
}

int wallet_keys_from(const struct secp_sk *account, const struct secp_sk *spend,
		     const struct secp_sk *view, struct wallet_keys **out)
{
	struct wallet_keys *k;

	if (!secp_sk_is_valid(account) || !secp_sk_is_valid(spend) ||
	    !secp_sk_is_valid(view))
		return ERR_CRYPTO;
	k = keys_alloc();
	k->account = *account;
	k->spend = *spend;
	k->view = *view;
	secmem_readonly(k);
	*out = k;
	return 0;
}

void wallet_keys_free(struct wallet_keys *k)
{
	secmem_free(k);
}

static void header(uint8_t h[WALLET_HEADER_BYTES], const struct wallet_kdf *kdf,
		   const uint8_t salt[WALLET_SALT_BYTES],
		   const uint8_t nonce[WALLET_NONCE_BYTES])
{
	memcpy(h, WALLET_MAGIC, 8);
	h[8] = WALLET_VERSION;
	h[9] = WALLET_KDF_ARGON2ID13;
	h[10] = WALLET_AEAD_XCHACHA;
	h[11] = WALLET_NKEYS;
	be64_put(h + 12, kdf->opslimit);
	be64_put(h + 20, kdf->memlimit_bytes);
	memcpy(h + 28, salt, WALLET_SALT_BYTES);
	memcpy(h + 28 + WALLET_SALT_BYTES, nonce, WALLET_NONCE_BYTES);
}

static int derive(uint8_t key[32], const char *pass, size_t pass_len,
		  const uint8_t salt[WALLET_SALT_BYTES],
		  const struct wallet_kdf *kdf)
{
	if (crypto_pwhash(key, 32, pass, pass_len, salt, kdf->opslimit,
			  (size_t)kdf->memlimit_bytes,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return ERR_LIMIT;	/* out of memory for the chosen cost */
	return 0;
}

static bool kdf_ok(const struct wallet_kdf *kdf)
{
	return kdf->opslimit >= crypto_pwhash_OPSLIMIT_MIN &&
	       kdf->opslimit <= WALLET_MAX_OPSLIMIT &&
	       kdf->memlimit_bytes >= crypto_pwhash_MEMLIMIT_MIN &&
	       kdf->memlimit_bytes <= WALLET_MAX_MEMLIMIT_BYTES;
}

int wallet_seal(const struct wallet_keys *k, const char *pass, size_t pass_len,
		const struct wallet_kdf *kdf, struct bbuf *out)
{
	uint8_t h[WALLET_HEADER_BYTES], salt[WALLET_SALT_BYTES],
		nonce[WALLET_NONCE_BYTES];
	uint8_t *key, *plain;
	uint8_t ct[KEYS_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	int r;

	crypto_init();
	if (!kdf_ok(kdf))
		return ERR_RANGE;
	rand_bytes(salt, sizeof(salt));
	rand_bytes(nonce, sizeof(nonce));
	header(h, kdf, salt, nonce);
	key = secmem_alloc(32);
	plain = secmem_alloc(KEYS_BYTES);
	if ((r = derive(key, pass, pass_len, salt, kdf)) != 0)
		goto out;
	memcpy(plain, k->account.b, 32);
	memcpy(plain + 32, k->spend.b, 32);
	memcpy(plain + 64, k->view.b, 32);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, plain, KEYS_BYTES,
						   h, sizeof(h), NULL, nonce,
						   key);
	bbuf_put(out, h, sizeof(h));
	bbuf_put(out, ct, sizeof(ct));
out:
	secmem_free(key);
	secmem_free(plain);
	return r;
}

int wallet_open(const uint8_t *buf, size_t len, const char *pass,
		size_t pass_len, struct wallet_keys **out)
{
	struct breader rd;
	struct wallet_kdf kdf;
	const uint8_t *h, *salt, *nonce, *ct;
	uint8_t *key = NULL, *plain = NULL;
	struct wallet_keys *k = NULL;
	int r;

	crypto_init();
	if (len != WALLET_FILE_BYTES)
		return len < WALLET_FILE_BYTES ? ERR_TRUNCATED : ERR_FORMAT;
	br_init(&rd, buf, len);
	h = br_take(&rd, 8);
	if (memcmp(h, WALLET_MAGIC, 8) != 0)
		return ERR_FORMAT;
	if (br_u8(&rd) != WALLET_VERSION || br_u8(&rd) != WALLET_KDF_ARGON2ID13 ||
	    br_u8(&rd) != WALLET_AEAD_XCHACHA || br_u8(&rd) != WALLET_NKEYS)
		return ERR_UNSUPPORTED;
	kdf.opslimit = br_be64(&rd);
	kdf.memlimit_bytes = br_be64(&rd);
	salt = br_take(&rd, WALLET_SALT_BYTES);
	nonce = br_take(&rd, WALLET_NONCE_BYTES);
	ct = br_take(&rd, br_left(&rd));
	if (rd.failed)
		return ERR_TRUNCATED;
	if (!kdf_ok(&kdf))
		return ERR_RANGE;
	key = secmem_alloc(32);
	plain = secmem_alloc(KEYS_BYTES);
	if ((r = derive(key, pass, pass_len, salt, &kdf)) != 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    plain, NULL, NULL, ct,
		    KEYS_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES,
		    buf, WALLET_HEADER_BYTES, nonce, key) != 0) {
		r = ERR_AUTH;
		goto out;
	}
	k = keys_alloc();
	memcpy(k->account.b, plain, 32);
	memcpy(k->spend.b, plain + 32, 32);
	memcpy(k->view.b, plain + 64, 32);
	if (!secp_sk_is_valid(&k->account) || !secp_sk_is_valid(&k->spend) ||
	    !secp_sk_is_valid(&k->view)) {
		r = ERR_CRYPTO;
		goto out;
	}
	secmem_readonly(k);
	*out = k;
	k = NULL;
	r = 0;
out:
	secmem_free(k);
	secmem_free(key);
	secmem_free(plain);
	return r;
}
