/*
 * The wallet's at-rest format: an account key (pays gas, signs as payer or
 * pot signer) and a stealth spend/view key pair (CHAIN.md §4), sealed with
 * XChaCha20-Poly1305 under an Argon2id key derived from a passphrase
 * (libsodium).  Files are read and written by the embedder
 * (apps/chainrpc/); this module only turns keys into bytes and back.
 *
 *   "BITSWAL1" | ver u8 = 1 | kdf u8 = 1 (Argon2id v1.3) | aead u8 = 1
 *   (XChaCha20-Poly1305-IETF) | nkeys u8 = 3 | opslimit be64 | memlimit
 *   be64 | salt[16] | nonce[24] | ciphertext of 3 × 32 key bytes ‖ tag[16]
 * The header (everything before the ciphertext) is the AEAD's associated
 * data, so a changed cost or salt fails authentication.
 */
#ifndef CHAIN_WALLET_H
#define CHAIN_WALLET_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "chain/secp.h"

#define WALLET_MAGIC "BITSWAL1"
#define WALLET_SALT_BYTES 16
#define WALLET_NONCE_BYTES 24
#define WALLET_HEADER_BYTES (8 + 4 + 8 + 8 + WALLET_SALT_BYTES + WALLET_NONCE_BYTES)
#define WALLET_FILE_BYTES (WALLET_HEADER_BYTES + 3 * SECP_SK_BYTES + 16)
/* Bounds on costs read from a file (a hostile file must not make us
 * allocate gigabytes or spin for minutes). */
#define WALLET_MAX_OPSLIMIT 16u
#define WALLET_MAX_MEMLIMIT_BYTES (1024u * 1024 * 1024)

/* The keys, in secmem (crypto/secmem.h), read-only once loaded. */
struct wallet_keys {
	struct secp_sk account;
	struct secp_sk spend;
	struct secp_sk view;
};

/* Argon2id costs. */
struct wallet_kdf {
	uint64_t opslimit;
	uint64_t memlimit_bytes;
};
/* libsodium's "moderate" costs (3 passes, 256 MiB) for people; tests use
 * wallet_kdf_min(). */
struct wallet_kdf wallet_kdf_default(void);
struct wallet_kdf wallet_kdf_min(void);

/* Fresh random keys in secmem (read-only).  Free with wallet_keys_free(). */
struct wallet_keys *wallet_keys_generate(void);
/* Keys from given bytes (tests, imports); ERR_CRYPTO for an invalid key. */
int wallet_keys_from(const struct secp_sk *account, const struct secp_sk *spend,
		     const struct secp_sk *view, struct wallet_keys **out);
/* Wipe and release.  Accepts NULL. */
void wallet_keys_free(struct wallet_keys *k);

/* Seal k under pass into out (WALLET_FILE_BYTES appended). */
int wallet_seal(const struct wallet_keys *k, const char *pass, size_t pass_len,
		const struct wallet_kdf *kdf, struct bbuf *out);
/*
 * Open a sealed wallet (untrusted bytes).  ERR_FORMAT for a bad header,
 * ERR_UNSUPPORTED for an unknown version or algorithm, ERR_RANGE for
 * costs past the bounds, ERR_AUTH for a wrong passphrase or a changed
 * file, ERR_CRYPTO for keys out of range.  *out is new secmem.
 */
int wallet_open(const uint8_t *buf, size_t len, const char *pass,
		size_t pass_len, struct wallet_keys **out);

#endif /* CHAIN_WALLET_H */
