/*
 * Chunk sealing (apps/content/chunk.h, docs/content-format.md §2):
 * AES-256-GCM through crypto/aesgcm.h, the nonce a 96-bit big-endian
 * encoding of the chunk index.
 */
#include "config.h"
#include "apps/content/chunk.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"

#include <string.h>

static const char key_info[] = "bits/content/v2/chunk-key";
static const char ad_label[] = "bits/content/v2/chunk";
#define AD_BYTES (sizeof(ad_label) - 1 + CONTENT_SALT_BYTES + 8 + 1 + 4 + 4)

_Static_assert(CONTENT_TAG_BYTES == AESGCM_TAG_BYTES, "tag size");
_Static_assert(((size_t)1 << CONTENT_CHUNK_LOG2_MAX) <= AESGCM_MAX_BYTES,
	       "a chunk fits one AEAD call");

void content_chunk_key_derive(struct content_chunk_key *ck,
			      const struct content_key *k,
			      const uint8_t salt[CONTENT_SALT_BYTES])
{
	hkdf_sha256(ck->b, sizeof(ck->b), salt, CONTENT_SALT_BYTES, k->b,
		    sizeof(k->b), key_info, sizeof(key_info) - 1);
}

void content_chunk_nonce(uint8_t nonce[AESGCM_NONCE_BYTES], uint32_t idx)
{
	memset(nonce, 0, 4);
	be64_put(nonce + 4, idx);
}

static void chunk_ad(uint8_t ad[AD_BYTES], const struct content_manifest *m,
		     uint32_t idx)
{
	uint8_t *p = ad;

	memcpy(p, ad_label, sizeof(ad_label) - 1);
	p += sizeof(ad_label) - 1;
	memcpy(p, m->salt, CONTENT_SALT_BYTES);
	p += CONTENT_SALT_BYTES;
	be64_put(p, m->size);
	p += 8;
	*p++ = m->chunk_log2;
	be32_put(p, m->chunk_count);
	p += 4;
	be32_put(p, idx);
}

int content_chunk_seal(uint8_t *out, struct aesgcm_ctx *aead,
		       const struct content_manifest *m, uint32_t idx,
		       const uint8_t *pt, size_t len)
{
	uint8_t ad[AD_BYTES], nonce[AESGCM_NONCE_BYTES];

	chunk_ad(ad, m, idx);
	content_chunk_nonce(nonce, idx);
	return aesgcm_seal(aead, out, nonce, ad, sizeof(ad), pt, len);
}

int content_chunk_open(uint8_t *out, struct aesgcm_ctx *aead,
		       const struct content_manifest *m, uint32_t idx,
		       const uint8_t *ct, size_t ctlen)
{
	uint8_t ad[AD_BYTES], nonce[AESGCM_NONCE_BYTES];

	if (idx >= m->chunk_count ||
	    ctlen != content_chunk_plain_len(m, idx) + CONTENT_TAG_BYTES)
		return ERR_FORMAT;
	chunk_ad(ad, m, idx);
	content_chunk_nonce(nonce, idx);
	return aesgcm_open(aead, out, nonce, ad, sizeof(ad), ct, ctlen);
}
