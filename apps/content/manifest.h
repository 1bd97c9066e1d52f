/*
 * The content manifest: what a seeder needs to store and check a content
 * without its key, and what a player needs to start mid-file.  Its SHA-256
 * is the contentHash that goes on chain (CHAIN.md §5.1), and
 * keyCommitment = keccak256(K ‖ contentHash).
 *
 * Encoding v2 (big-endian, docs/content-format.md §3):
 *   "BMAN" ‖ u8 version=2 ‖ u8 chunk_log2 ‖ u64 size ‖ u32 chunk_count ‖
 *   salt[32] ‖ root[32] ‖ u8 mime_len ‖ mime ‖ u8 index_kind
 *   index_kind 1: u32 timescale ‖ u64 duration ‖ u32 n ‖ n × (u64 time ‖
 *   u64 offset)
 * Canonical: every field has one accepted value for a given content, so
 * decode → encode gives back the same bytes.
 */
#ifndef APPS_CONTENT_MANIFEST_H
#define APPS_CONTENT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/content/merkle.h"
#include "crypto/base/bytes.h"

#define CONTENT_MANIFEST_VERSION 2	/* 1: ChaCha20-Poly1305 chunks (rejected) */
#define CONTENT_CHUNK_LOG2_MIN 14		/* 16 KiB */
#define CONTENT_CHUNK_LOG2_DEFAULT 16		/* 64 KiB */
#define CONTENT_CHUNK_LOG2_MAX 20		/* 1 MiB */
#define CONTENT_MAX_BYTES ((uint64_t)1 << 40)	/* 1 TiB */
#define CONTENT_MIME_MAX_BYTES 127
#define CONTENT_INDEX_MAX_ENTRIES 16384
#define CONTENT_TIMESCALE_MAX 1000000000u
#define CONTENT_TAG_BYTES 16			/* AEAD tag per chunk */
#define CONTENT_SALT_BYTES 32
#define CONTENT_HASH_BYTES 32
#define CONTENT_MANIFEST_FIXED_BYTES (4 + 1 + 1 + 8 + 4 + 32 + 32 + 1 + 1)
#define CONTENT_MANIFEST_MAX_BYTES (CONTENT_MANIFEST_FIXED_BYTES + \
	CONTENT_MIME_MAX_BYTES + 4 + 8 + 4 + 16 * CONTENT_INDEX_MAX_ENTRIES)

/* The content key K (secret: wipe it). */
struct content_key { uint8_t b[32]; };

/* A keyframe: playback can start at plaintext byte `offset` for media
 * time `time` (in timescale units). */
struct content_index_entry {
	uint64_t time;
	uint64_t offset;
};

struct content_manifest {
	uint8_t chunk_log2;
	uint64_t size;				/* plaintext bytes */
	uint32_t chunk_count;			/* content_chunk_count(size) */
	uint8_t salt[CONTENT_SALT_BYTES];	/* random per publish */
	uint8_t root[CONTENT_NODE_BYTES];	/* merkle root of ciphertext */
	char mime[CONTENT_MIME_MAX_BYTES + 1];	/* NUL-terminated */
	/* Keyframe index; timescale 0 means none (then the rest is 0). */
	uint32_t timescale;			/* units per second */
	uint64_t duration;			/* in timescale units */
	uint32_t index_count;
	struct content_index_entry *index;	/* owned, index_count entries */
};

/* Chunks for size bytes at 2^log2 a chunk: max(1, ceil(size / chunk));
 * an empty content has one empty chunk, so its emptiness is sealed too. */
uint32_t content_chunk_count(uint64_t size, unsigned log2);
/* Plaintext bytes of chunk idx (< chunk_count). */
size_t content_chunk_plain_len(const struct content_manifest *m, uint32_t idx);
/* Offset of chunk idx's ciphertext in the data file (chunks are stored
 * back to back, each plaintext length + CONTENT_TAG_BYTES). */
uint64_t content_chunk_data_offset(const struct content_manifest *m,
				   uint32_t idx);
/* Size of the data file: size + CONTENT_TAG_BYTES * chunk_count. */
uint64_t content_data_bytes(const struct content_manifest *m);

/*
 * Check every field and limit: chunk_log2 in range, size ≤
 * CONTENT_MAX_BYTES, chunk_count consistent, lowercase MIME type, and an
 * index that is strictly increasing in both time and offset, with offsets
 * below size and times ≤ duration.  ERR_RANGE / ERR_FORMAT / ERR_TOO_BIG.
 */
int content_manifest_validate(const struct content_manifest *m);
/* Validate m and append its encoding to out. */
int content_manifest_encode(const struct content_manifest *m, struct bbuf *out);
/*
 * Decode untrusted bytes into *out (which the caller then owns and
 * releases with content_manifest_clear).  Errors: ERR_TRUNCATED,
 * ERR_FORMAT (bad magic, a field out of its canonical form, trailing
 * bytes), ERR_TOO_BIG (a count or size over its limit), ERR_UNSUPPORTED
 * (another version).  *out is written only on success.
 */
int content_manifest_decode(const uint8_t *buf, size_t len,
			    struct content_manifest *out);
/* Release what m owns and zero it.  Accepts a zeroed manifest. */
void content_manifest_clear(struct content_manifest *m);
/* Deep copy (dst is overwritten; caller clears it). */
void content_manifest_copy(struct content_manifest *dst,
			   const struct content_manifest *src);
/* Plaintext offset of the last keyframe at or before time t (0 when t is
 * before the first).  ERR_NOT_FOUND if the manifest has no index. */
int content_manifest_seek(const struct content_manifest *m, uint64_t t,
			  uint64_t *offset);

/* contentHash = SHA-256(encoded manifest). */
void content_hash_of(uint8_t out[32], const uint8_t *enc, size_t len);
/* keyCommitment = keccak256(K ‖ contentHash) (CHAIN.md §5.1). */
void content_key_commitment(uint8_t out[32], const struct content_key *k,
			    const uint8_t content_hash[32]);
/* True when k matches commitment for content_hash (constant time). */
bool content_key_matches(const struct content_key *k,
			 const uint8_t content_hash[32],
			 const uint8_t commitment[32]);

#endif /* APPS_CONTENT_MANIFEST_H */
