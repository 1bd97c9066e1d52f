/*
 * Sealing chunks: AES-256-GCM (NIST SP 800-38D) under a per-content chunk
 * key, with the chunk index as nonce and the content's identity in the
 * associated data (docs/content-format.md §2).
 *
 *   chunk_key = HKDF-SHA256(salt = manifest salt, ikm = K,
 *                           info = "bits/content/v2/chunk-key")
 *   nonce     = 0x00000000 ‖ be64(index)      (96 bits)
 *   ad        = "bits/content/v2/chunk" ‖ salt ‖ u64 size ‖ u8 chunk_log2 ‖
 *               u32 chunk_count ‖ u32 index
 *
 * A nonce never repeats under a chunk key: K is fresh random per publish,
 * the salt too, and each index is sealed once.  The AD binds a chunk to its
 * position and its content, so chunks cannot be swapped, dropped from the
 * end or moved to another content.  GCM does not commit to its key; the
 * key is bound by keyCommitment = keccak256(K ‖ contentHash), which a
 * buyer checks before trusting any plaintext (manifest.h).
 *
 * Sealing and opening go through a struct aesgcm_ctx keyed with the chunk
 * key (aesgcm_new(ck.b)): one per thread, keyed once per content.
 */
#ifndef APPS_CONTENT_CHUNK_H
#define APPS_CONTENT_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "apps/content/manifest.h"
#include "crypto/aesgcm.h"

/* Derived chunk key (secret: wipe it). */
struct content_chunk_key { uint8_t b[AESGCM_KEY_BYTES]; };

void content_chunk_key_derive(struct content_chunk_key *ck,
			      const struct content_key *k,
			      const uint8_t salt[CONTENT_SALT_BYTES]);
/* The 96-bit nonce of chunk idx. */
void content_chunk_nonce(uint8_t nonce[AESGCM_NONCE_BYTES], uint32_t idx);
/* Seal plaintext pt (content_chunk_plain_len(m, idx) bytes) into out
 * (len + CONTENT_TAG_BYTES) with aead, keyed with the chunk key.  out may
 * equal pt.  ERR_CRYPTO if the cipher library fails. */
int content_chunk_seal(uint8_t *out, struct aesgcm_ctx *aead,
		       const struct content_manifest *m, uint32_t idx,
		       const uint8_t *pt, size_t len);
/*
 * Open ciphertext ct of chunk idx into out (ctlen - CONTENT_TAG_BYTES
 * bytes; out may equal ct).  ERR_FORMAT when ctlen is not this chunk's
 * length, ERR_AUTH when the tag does not verify (wrong key, or a chunk
 * from elsewhere); out is then wiped.
 */
int content_chunk_open(uint8_t *out, struct aesgcm_ctx *aead,
		       const struct content_manifest *m, uint32_t idx,
		       const uint8_t *ct, size_t ctlen);

#endif /* APPS_CONTENT_CHUNK_H */
