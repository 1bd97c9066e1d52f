/*
 * Key blinding and RedDSA over libsodium's Ed25519 core functions
 * (crypto/blinding.h).
 */
#include "config.h"
#include "crypto/blinding.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/hash.h"
#include "crypto/rand.h"

#include <sodium.h>
#include <string.h>

void blind_date_format(char out[BLIND_DATE_BYTES + 1], uint64_t now_s)
{
	time_date_format(out, now_s);
}

void blind_alpha(uint8_t alpha[BLIND_SCALAR_BYTES], const uint8_t pk[32],
		 uint16_t sig_type, uint16_t blinded_sig_type,
		 const char date[BLIND_DATE_BYTES], const uint8_t *secret,
		 size_t secret_len)
{
	static const char pers[] = "I2PGenerateAlpha";
	static const char info[] = "i2pblinding1";
	uint8_t keydata[32 + 4], salt[SHA256_BYTES], seed[64];
	struct bbuf ikm = BBUF_INIT;

	memcpy(keydata, pk, 32);
	keydata[32] = (uint8_t)(sig_type >> 8);
	keydata[33] = (uint8_t)sig_type;
	keydata[34] = (uint8_t)(blinded_sig_type >> 8);
	keydata[35] = (uint8_t)blinded_sig_type;
	/* H(p, d) := SHA-256(p ‖ d) */
	sha256_2(salt, pers, sizeof(pers) - 1, keydata, sizeof(keydata));
	bbuf_put(&ikm, date, BLIND_DATE_BYTES);
	if (secret_len > 0)
		bbuf_put(&ikm, secret, secret_len);
	hkdf_sha256(seed, sizeof(seed), salt, sizeof(salt), ikm.data, ikm.len,
		    info, sizeof(info) - 1);
	/* "treat seed as a 64 byte little-endian value; alpha = seed mod l" */
	crypto_core_ed25519_scalar_reduce(alpha, seed);
	memwipe(seed, sizeof(seed));
	bbuf_free(&ikm);
}

int blind_pubkey(uint8_t out[BLIND_POINT_BYTES], const uint8_t pk[32],
		 const uint8_t alpha[BLIND_SCALAR_BYTES])
{
	uint8_t ab[32], r[32];

	if (!crypto_core_ed25519_is_valid_point(pk))
		return ERR_FORMAT;
	if (crypto_scalarmult_ed25519_base_noclamp(ab, alpha) != 0 ||
	    crypto_core_ed25519_add(r, pk, ab) != 0 ||
	    !crypto_core_ed25519_is_valid_point(r))
		return ERR_CRYPTO;
	memcpy(out, r, sizeof(r));
	return 0;
}

void blind_ed25519_scalar(uint8_t a[BLIND_SCALAR_BYTES],
			  const struct ed25519_seed *seed)
{
	uint8_t h[SHA512_BYTES];

	sha512(h, seed->b, sizeof(seed->b));
	h[0] &= 248;
	h[31] &= 127;
	h[31] |= 64;
	memcpy(a, h, BLIND_SCALAR_BYTES);
	memwipe(h, sizeof(h));
}

/* x mod l for a 32-byte little-endian x (which may exceed l). */
static void scalar_mod_l(uint8_t out[32], const uint8_t x[32])
{
	uint8_t wide[64] = { 0 };

	memcpy(wide, x, 32);
	crypto_core_ed25519_scalar_reduce(out, wide);
	memwipe(wide, sizeof(wide));
}

void blind_privkey(uint8_t out[BLIND_SCALAR_BYTES],
		   const uint8_t a[BLIND_SCALAR_BYTES],
		   const uint8_t alpha[BLIND_SCALAR_BYTES])
{
	uint8_t ar[32], alr[32];

	/* A clamped Ed25519 scalar may be above l: reduce both first. */
	scalar_mod_l(ar, a);
	scalar_mod_l(alr, alpha);
	crypto_core_ed25519_scalar_add(out, ar, alr);
	memwipe(ar, sizeof(ar));
	memwipe(alr, sizeof(alr));
}

int reddsa_pk_from_sk(uint8_t pk[32], const uint8_t a[BLIND_SCALAR_BYTES])
{
	uint8_t ar[32];
	int r;

	scalar_mod_l(ar, a);
	r = crypto_scalarmult_ed25519_base_noclamp(pk, ar) == 0 ? 0 :
		ERR_CRYPTO;
	memwipe(ar, sizeof(ar));
	return r;
}

void reddsa_keygen(uint8_t a[BLIND_SCALAR_BYTES], uint8_t pk[32])
{
	do
		crypto_core_ed25519_scalar_random(a);
	while (reddsa_pk_from_sk(pk, a) != 0);
}

void reddsa_sign(uint8_t sig[REDDSA_SIG_BYTES],
		 const uint8_t a[BLIND_SCALAR_BYTES], const uint8_t pk[32],
		 const void *msg, size_t len,
		 const uint8_t T[REDDSA_NONCE_SEED_BYTES])
{
	crypto_hash_sha512_state h;
	uint8_t t[REDDSA_NONCE_SEED_BYTES], d[64], r[32], k[32], ka[32];
	uint8_t ar[32];

	if (T)
		memcpy(t, T, sizeof(t));
	else
		rand_bytes(t, sizeof(t));
	/* r = H*(T ‖ A ‖ M) */
	crypto_hash_sha512_init(&h);
	crypto_hash_sha512_update(&h, t, sizeof(t));
	crypto_hash_sha512_update(&h, pk, 32);
	crypto_hash_sha512_update(&h, msg, len);
	crypto_hash_sha512_final(&h, d);
	crypto_core_ed25519_scalar_reduce(r, d);
	/* R = r·B; k = H*(R ‖ A ‖ M); S = r + k·a */
	if (crypto_scalarmult_ed25519_base_noclamp(sig, r) != 0)
		memset(sig, 0, 32);	/* r ≡ 0: probability 2^-252 */
	crypto_hash_sha512_init(&h);
	crypto_hash_sha512_update(&h, sig, 32);
	crypto_hash_sha512_update(&h, pk, 32);
	crypto_hash_sha512_update(&h, msg, len);
	crypto_hash_sha512_final(&h, d);
	crypto_core_ed25519_scalar_reduce(k, d);
	scalar_mod_l(ar, a);
	crypto_core_ed25519_scalar_mul(ka, k, ar);
	crypto_core_ed25519_scalar_add(sig + 32, r, ka);
	memwipe(t, sizeof(t));
	memwipe(d, sizeof(d));
	memwipe(r, sizeof(r));
	memwipe(ka, sizeof(ka));
	memwipe(ar, sizeof(ar));
	memwipe(&h, sizeof(h));
}
