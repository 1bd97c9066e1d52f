/*
 * The one reader for untrusted bytes, and a growable writer (STYLE.md §5).
 *
 * Reader: a failed read sticks (CLN's fromwire); later reads yield zeros or
 * NULL, so a decoder checks r->failed once at the end.  Integers are
 * big-endian unless the name says _le.
 *
 * Writer: struct bbuf grows as needed; memory is wiped when freed or grown,
 * since buffers carry plaintext and keys (OpenSSH's sshbuf).
 */
#ifndef CRYPTO_BASE_BYTES_H
#define CRYPTO_BASE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct breader {
	const uint8_t *p;
	size_t left;
	bool failed;
};

void br_init(struct breader *r, const void *buf, size_t len);
/* Borrow the next n bytes (no copy). On short input: poison r, return NULL. */
const uint8_t *br_take(struct breader *r, size_t n);
/* Copy the next n bytes into out; on short input out is zeroed. */
void br_copy(struct breader *r, void *out, size_t n);
void br_skip(struct breader *r, size_t n);
uint8_t br_u8(struct breader *r);
uint16_t br_be16(struct breader *r);
uint32_t br_be32(struct breader *r);
uint64_t br_be64(struct breader *r);
uint16_t br_le16(struct breader *r);
uint32_t br_le32(struct breader *r);
uint64_t br_le64(struct breader *r);
/* Poison r (a decoder found bad content). */
void br_fail(struct breader *r);
static inline size_t br_left(const struct breader *r) { return r->left; }
/* True when nothing is left and nothing failed. */
static inline bool br_done(const struct breader *r) { return !r->failed && r->left == 0; }

struct bbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

#define BBUF_INIT { NULL, 0, 0 }
void bbuf_init(struct bbuf *b);
/* Wipe and release the contents; b is empty and reusable afterwards. */
void bbuf_free(struct bbuf *b);
/* Make room for n more bytes and return a pointer to them (len += n). */
uint8_t *bbuf_extend(struct bbuf *b, size_t n);
void bbuf_reserve(struct bbuf *b, size_t n);
void bbuf_put(struct bbuf *b, const void *p, size_t n);
void bbuf_u8(struct bbuf *b, uint8_t v);
void bbuf_be16(struct bbuf *b, uint16_t v);
void bbuf_be32(struct bbuf *b, uint32_t v);
void bbuf_be64(struct bbuf *b, uint64_t v);
void bbuf_le16(struct bbuf *b, uint16_t v);
void bbuf_le32(struct bbuf *b, uint32_t v);
void bbuf_le64(struct bbuf *b, uint64_t v);
/* Wipe and drop the content but keep the allocation. */
void bbuf_reset(struct bbuf *b);
/* Hand the bytes to the caller (who frees them); b becomes empty. */
uint8_t *bbuf_steal(struct bbuf *b, size_t *len);

/* Big/little-endian store and load helpers for fixed buffers. */
static inline void be16_put(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static inline void be32_put(uint8_t *p, uint32_t v)
{ p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static inline void be64_put(uint8_t *p, uint64_t v)
{ be32_put(p, (uint32_t)(v >> 32)); be32_put(p + 4, (uint32_t)v); }
static inline void le64_put(uint8_t *p, uint64_t v)
{ for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline uint16_t be16_get(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32_get(const uint8_t *p)
{ return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline uint64_t be64_get(const uint8_t *p)
{ return (uint64_t)be32_get(p) << 32 | be32_get(p + 4); }
static inline uint64_t le64_get(const uint8_t *p)
{ uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

#endif /* CRYPTO_BASE_BYTES_H */
