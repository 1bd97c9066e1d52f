/*
 * Sealing chunks: ChaCha20-Poly1305 (RFC 8439) under a per-content chunk
 * key, with the chunk index as nonce and the content's identity in the
 * associated data (docs/content-format.md §2).
 *
 *   chunk_key = HKDF-SHA256(salt = manifest salt, ikm = K,
 *                           info = "bits/content/v1/chunk-key")
 *   nonce     = 0x00000000 ‖ le64(index)       (the I2P nonce helper)
 *   ad        = "bits/content/v1/chunk" ‖ salt ‖ u64 size ‖ u8 chunk_log2 ‖
 *               u32 chunk_count ‖ u32 index
 *
 * A nonce never repeats under a chunk key: K is fresh random per publish,
 * the salt too, and each index is sealed once.  The AD binds a chunk to its
 * position and its content, so chunks cannot be swapped, dropped from the
 * end or moved to another content.
 */
#ifndef APPS_CONTENT_CHUNK_H
#define APPS_CONTENT_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "apps/content/manifest.h"

/* Derived chunk key (secret: wipe it). */
struct content_chunk_key { uint8_t b[32]; };

void content_chunk_key_derive(struct content_chunk_key *ck,
			      const struct content_key *k,
			      const uint8_t salt[CONTENT_SALT_BYTES]);
/* Seal plaintext pt (content_chunk_plain_len(m, idx) bytes) into out
 * (len + CONTENT_TAG_BYTES).  out may equal pt. */
void content_chunk_seal(uint8_t *out, const struct content_chunk_key *ck,
			const struct content_manifest *m, uint32_t idx,
			const uint8_t *pt, size_t len);
/*
 * Open ciphertext ct of chunk idx into out (ctlen - CONTENT_TAG_BYTES
 * bytes; out may equal ct).  ERR_FORMAT when ctlen is not this chunk's
 * length, ERR_AUTH when the tag does not verify (wrong key, or a chunk
 * from elsewhere); out is then wiped.
 */
int content_chunk_open(uint8_t *out, const struct content_chunk_key *ck,
		       const struct content_manifest *m, uint32_t idx,
		       const uint8_t *ct, size_t ctlen);

#endif /* APPS_CONTENT_CHUNK_H */
