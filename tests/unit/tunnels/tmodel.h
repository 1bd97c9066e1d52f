/*
 * An independent model of the tunnel-build record crypto, written straight
 * from geti2p.net/spec/tunnel-creation-ecies ("KDF for Initial ck and h",
 * "KDF for Request Record", "Reply Record Encryption", the short-record
 * "KDF" and "Record Encryption") with no crypto/ or tunnels/ code: HMAC,
 * SHA-256, AES-256-CBC and ChaCha20 from OpenSSL, X25519 and the AEAD from
 * libsodium.  The tests check our code against it in both directions.
 */
#ifndef TESTS_UNIT_TUNNELS_TMODEL_H
#define TESTS_UNIT_TUNNELS_TMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Noise state after a record: the chaining key and the hash. */
struct tmodel_state {
	uint8_t ck[32];
	uint8_t h[32];
};

/* HKDF(salt, ikm, info, 64) as "HMAC by HMAC". */
void tmodel_hkdf(const uint8_t salt[32], const uint8_t *ikm, size_t ikmlen,
		 const char *info, uint8_t out[64]);
/* Encrypt plain (plen bytes: 464 or 154) to the hop: out gets
 * hash16 ‖ epk ‖ ciphertext ‖ tag. */
void tmodel_record_encrypt(const uint8_t hop_hash[32], const uint8_t hop_pk[32],
			   const uint8_t eph_sk[32], const uint8_t *plain,
			   size_t plen, uint8_t *out, struct tmodel_state *st);
/* Decrypt a record with the hop's secret; false if the AEAD fails. */
bool tmodel_record_decrypt(const uint8_t hop_sk[32], const uint8_t *record,
			   size_t plen, uint8_t *plain, struct tmodel_state *st);
/* Short-record keys from the request's ck. */
void tmodel_short_keys(const uint8_t ck[32], bool obep, uint8_t reply[32],
		       uint8_t layer[32], uint8_t iv[32], uint8_t gkey[32],
		       uint8_t gtag[8]);
/* The hop's own reply: AEAD(key, n, ad = h) over plen bytes in place
 * (record holds plen + 16). */
void tmodel_reply_encrypt(const uint8_t key[32], uint64_t n,
			  const uint8_t h[32], uint8_t *record, size_t plen);
bool tmodel_reply_decrypt(const uint8_t key[32], uint64_t n,
			  const uint8_t h[32], uint8_t *record, size_t plen);
/* AES-256-CBC over one record (no padding), in place. */
void tmodel_cbc(const uint8_t key[32], const uint8_t iv[16], uint8_t *buf,
		size_t len, bool encrypt);
/* ChaCha20 with "iv = 12 bytes, all zeros except iv[4] = n", block
 * counter 1, through OpenSSL's EVP_chacha20 (16-byte IV = LE32 counter ‖
 * nonce). */
void tmodel_chacha_record(const uint8_t key[32], unsigned n, uint8_t *buf,
			  size_t len);
/* One tunnel layer step (participant) and its inverse, with OpenSSL. */
void tmodel_layer(const uint8_t layer_key[32], const uint8_t iv_key[32],
		  uint8_t msg[1024], bool forward);

#endif /* TESTS_UNIT_TUNNELS_TMODEL_H */
