/*
 * The I2P tunnel layer step in AES-256 (geti2p.net/docs/tunnels/
 * implementation), over many messages at once.  A message is IV (16) ‖
 * data (a multiple of 16 bytes), and the step with (layerKey, ivKey) is
 *   IV' = ECB(ivKey, IV); data = CBC-encrypt(layerKey, IV', data);
 *   IV  = ECB(ivKey, IV')
 * with the inverse for decryption.  CBC encryption is one chain of
 * dependent blocks per message, so a core's AES unit would idle between
 * them: aes_layer_encrypt_n() runs up to 8 messages' chains side by side
 * (each with its own keys), round by round, with AES-NI and our own key
 * schedules, or up to 16 in pairs with VAES where the CPU has it (32
 * in fours with AVX-512).
 * Without AES-NI (another CPU or architecture) every call goes through
 * crypto/aes.h (OpenSSL EVP), one message after another.
 *
 * A struct aes_layer_keys holds one hop's two keys and their schedules,
 * wiped on free.  It is not thread-safe (the OpenSSL fallback keeps
 * state in it); distinct keys may be used on distinct threads.
 */
#ifndef CRYPTO_AES_LAYER_H
#define CRYPTO_AES_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AES_LAYER_KEY_BYTES 32
#define AES_LAYER_IV_BYTES 16
/* Messages whose chains one pass interleaves, at most (512-bit VAES). */
#define AES_LAYER_LANES 32

struct aes_layer_keys;	/* opaque */

/* Schedules for layer_key and iv_key (copied).  Never NULL; caller owns
 * the result. */
struct aes_layer_keys *aes_layer_keys_new(
	const uint8_t layer_key[AES_LAYER_KEY_BYTES],
	const uint8_t iv_key[AES_LAYER_KEY_BYTES]);
/* Wipe and release k.  Accepts NULL. */
void aes_layer_keys_free(struct aes_layer_keys *k);

/*
 * The encryption step on n messages in place: msgs[i] (IV ‖ data_len
 * bytes) with keys[i].  The messages must not overlap; keys may repeat.
 * data_len must be a multiple of 16 (ERR_ARG otherwise, nothing
 * changed).  ERR_CRYPTO if the OpenSSL fallback fails (messages before
 * the failing one are done, the rest untouched).
 */
int aes_layer_encrypt_n(struct aes_layer_keys *const *keys,
			uint8_t *const *msgs, size_t n, size_t data_len);
/* The inverse step on one message. */
int aes_layer_decrypt(struct aes_layer_keys *k, uint8_t *msg,
		      size_t data_len);

enum aes_layer_path {
	AES_LAYER_PATH_BEST,	/* as VAES, and with 512-bit VAES
				 * (AVX-512) over 16 messages a pass and
				 * CBC decryption 32 blocks at a time */
	AES_LAYER_PATH_VAES,	/* AES-NI, and 256-bit VAES: over 8
				 * messages a pass, decryption 16 blocks */
	AES_LAYER_PATH_AESNI,	/* AES-NI, 8 messages a pass */
	AES_LAYER_PATH_OPENSSL,	/* crypto/aes.h, one by one */
};
/* The path in use: the best the CPU has, or a slower one forced. */
enum aes_layer_path aes_layer_path(void);
/* Whether an AES-NI path is in use. */
bool aes_layer_is_hw(void);
/* For tests and benches: use no better path than p (BEST: back to the
 * best there is).  Not thread-safe against calls on other threads. */
void aes_layer_force_path(enum aes_layer_path p);

#endif /* CRYPTO_AES_LAYER_H */
