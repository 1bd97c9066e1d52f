/*
 * Manifest encoding, limits and the hashes that tie it to the chain
 * (apps/content/manifest.h, docs/content-format.md §3).
 *
 * CHAIN.md §5.1: "random K; AEAD chunks; manifest → contentHash;
 * keyCommitment = keccak256(K ‖ contentHash)".
 */
#include "config.h"
#include "apps/content/manifest.h"
#include "apps/content/codec_internal.h"
#include "apps/content/text.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"
#include "crypto/keccak.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t manifest_magic[4] = { 'B', 'M', 'A', 'N' };

uint32_t content_chunk_count(uint64_t size, unsigned log2)
{
	uint64_t n = (size + ((uint64_t)1 << log2) - 1) >> log2;

	if (n == 0)
		return 1;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

size_t content_chunk_plain_len(const struct content_manifest *m, uint32_t idx)
{
	uint64_t chunk = (uint64_t)1 << m->chunk_log2;
	uint64_t start = (uint64_t)idx << m->chunk_log2;

	if (idx >= m->chunk_count || start >= m->size)
		return 0;
	return (size_t)(m->size - start < chunk ? m->size - start : chunk);
}

uint64_t content_chunk_data_offset(const struct content_manifest *m,
				   uint32_t idx)
{
	return (uint64_t)idx * (((uint64_t)1 << m->chunk_log2) +
				CONTENT_TAG_BYTES);
}

uint64_t content_data_bytes(const struct content_manifest *m)
{
	return m->size + (uint64_t)CONTENT_TAG_BYTES * m->chunk_count;
}

static int validate_index(const struct content_manifest *m)
{
	if (m->timescale == 0)
		return m->duration == 0 && m->index_count == 0 ? 0 : ERR_FORMAT;
	if (m->timescale > CONTENT_TIMESCALE_MAX)
		return ERR_RANGE;
	if (m->index_count > CONTENT_INDEX_MAX_ENTRIES)
		return ERR_TOO_BIG;
	if (m->index_count == 0 || !m->index)
		return ERR_FORMAT;
	for (uint32_t i = 0; i < m->index_count; i++) {
		const struct content_index_entry *e = &m->index[i];
		if (e->offset >= m->size || e->time > m->duration)
			return ERR_RANGE;
		if (i > 0 && (e->time <= e[-1].time || e->offset <= e[-1].offset))
			return ERR_FORMAT;
	}
	return 0;
}

int content_manifest_validate(const struct content_manifest *m)
{
	size_t ml = strnlen(m->mime, sizeof(m->mime));

	if (m->chunk_log2 < CONTENT_CHUNK_LOG2_MIN ||
	    m->chunk_log2 > CONTENT_CHUNK_LOG2_MAX)
		return ERR_RANGE;
	if (m->size > CONTENT_MAX_BYTES ||
	    content_chunk_count(m->size, m->chunk_log2) > CONTENT_MAX_CHUNKS)
		return ERR_TOO_BIG;
	if (m->chunk_count != content_chunk_count(m->size, m->chunk_log2))
		return ERR_FORMAT;
	if (ml == 0 || ml > CONTENT_MIME_MAX_BYTES ||
	    !content_mime_is_valid(m->mime, ml))
		return ERR_FORMAT;
	return validate_index(m);
}

int content_manifest_encode(const struct content_manifest *m, struct bbuf *out)
{
	size_t ml;
	int r;

	if ((r = content_manifest_validate(m)) != 0)
		return r;
	ml = strlen(m->mime);
	bbuf_put(out, manifest_magic, 4);
	bbuf_u8(out, CONTENT_MANIFEST_VERSION);
	bbuf_u8(out, m->chunk_log2);
	bbuf_be64(out, m->size);
	bbuf_be32(out, m->chunk_count);
	bbuf_put(out, m->salt, sizeof(m->salt));
	bbuf_put(out, m->root, sizeof(m->root));
	bbuf_u8(out, (uint8_t)ml);
	bbuf_put(out, m->mime, ml);
	bbuf_u8(out, m->timescale ? 1 : 0);
	if (m->timescale) {
		bbuf_be32(out, m->timescale);
		bbuf_be64(out, m->duration);
		bbuf_be32(out, m->index_count);
		for (uint32_t i = 0; i < m->index_count; i++) {
			bbuf_be64(out, m->index[i].time);
			bbuf_be64(out, m->index[i].offset);
		}
	}
	return 0;
}

/* The keyframe index section (after index_kind 1). */
static int decode_index(struct breader *r, struct content_manifest *m)
{
	m->timescale = br_be32(r);
	m->duration = br_be64(r);
	m->index_count = br_be32(r);
	if (r->failed)
		return ERR_TRUNCATED;
	if (m->timescale == 0 || m->index_count == 0)
		return ERR_FORMAT;
	if (m->index_count > CONTENT_INDEX_MAX_ENTRIES)
		return ERR_TOO_BIG;
	if ((size_t)m->index_count * 16 > br_left(r))
		return ERR_TRUNCATED;
	m->index = xcalloc(m->index_count, sizeof(*m->index));
	for (uint32_t i = 0; i < m->index_count; i++) {
		m->index[i].time = br_be64(r);
		m->index[i].offset = br_be64(r);
	}
	return r->failed ? ERR_TRUNCATED : 0;
}

int content_manifest_decode(const uint8_t *buf, size_t len,
			    struct content_manifest *out)
{
	struct content_manifest m = { 0 };
	struct breader r;
	const uint8_t *mime;
	uint8_t ml, kind;
	int rc;

	br_init(&r, buf, len);
	if ((rc = content_header_read(&r, manifest_magic,
				      CONTENT_MANIFEST_VERSION)))
		return rc;
	m.chunk_log2 = br_u8(&r);
	m.size = br_be64(&r);
	m.chunk_count = br_be32(&r);
	br_copy(&r, m.salt, sizeof(m.salt));
	br_copy(&r, m.root, sizeof(m.root));
	ml = br_u8(&r);
	if (ml > CONTENT_MIME_MAX_BYTES)
		return ERR_TOO_BIG;
	mime = br_take(&r, ml);
	kind = br_u8(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (mime)
		memcpy(m.mime, mime, ml);
	if (ml == 0 || memchr(m.mime, '\0', ml))
		return ERR_FORMAT;
	if (kind == 1) {
		if ((rc = decode_index(&r, &m)) != 0)
			goto fail;
	} else if (kind != 0) {
		return ERR_FORMAT;
	}
	rc = br_left(&r) ? ERR_FORMAT : content_manifest_validate(&m);
	if (rc != 0)
		goto fail;
	*out = m;
	return 0;
fail:
	content_manifest_clear(&m);
	return rc;
}

void content_manifest_clear(struct content_manifest *m)
{
	free(m->index);
	memset(m, 0, sizeof(*m));
}

void content_manifest_copy(struct content_manifest *dst,
			   const struct content_manifest *src)
{
	*dst = *src;
	dst->index = src->index_count ?
		     xmemdup(src->index, src->index_count * sizeof(*src->index)) :
		     NULL;
}

int content_manifest_seek(const struct content_manifest *m, uint64_t t,
			  uint64_t *offset)
{
	uint32_t lo = 0, hi;

	if (m->timescale == 0 || m->index_count == 0)
		return ERR_NOT_FOUND;
	if (t < m->index[0].time) {
		*offset = 0;
		return 0;
	}
	hi = m->index_count;	/* invariant: index[lo].time <= t */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (m->index[mid].time <= t)
			lo = mid;
		else
			hi = mid;
	}
	*offset = m->index[lo].offset;
	return 0;
}

void content_hash_of(uint8_t out[32], const uint8_t *enc, size_t len)
{
	sha256(out, enc, len);
}

void content_key_commitment(uint8_t out[32], const struct content_key *k,
			    const uint8_t content_hash[32])
{
	struct keccak256_ctx c;

	keccak256_init(&c);
	keccak256_update(&c, k->b, sizeof(k->b));
	keccak256_update(&c, content_hash, 32);
	keccak256_final(&c, out);
}

bool content_key_matches(const struct content_key *k,
			 const uint8_t content_hash[32],
			 const uint8_t commitment[32])
{
	uint8_t c[32];
	bool ok;

	content_key_commitment(c, k, content_hash);
	ok = crypto_verify_32(c, commitment) == 0;
	memwipe(c, sizeof(c));
	return ok;
}
