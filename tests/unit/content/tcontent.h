/* Helpers shared by the apps/content unit tests. */
#ifndef TESTS_UNIT_CONTENT_TCONTENT_H
#define TESTS_UNIT_CONTENT_TCONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "apps/content/card.h"
#include "apps/content/publish.h"
#include "apps/content/record.h"
#include "tests/unit/tharness.h"

/* Deterministic test bytes: byte i of stream seed. */
void tc_fill(uint8_t *buf, size_t n, uint64_t off, uint32_t seed);
/* Write n test bytes of stream seed to path. */
void tc_write_file(struct tctx *t, const char *path, uint64_t n,
		   uint32_t seed);
/* A read-only fd on a new (already unlinked) file in dir holding n test
 * bytes of stream seed; -1 on failure. */
int tc_source(struct tctx *t, const char *dir, uint64_t n, uint32_t seed);
/* Publish n bytes of stream seed into dir. */
int tc_publish(struct tctx *t, const char *dir, uint64_t n, uint32_t seed,
	       unsigned log2, unsigned threads, struct content_published *out);
/* Read a whole file (caller frees); NULL on error. */
uint8_t *tc_read(const char *path, size_t *len);
/* XOR mask into the byte at off of path. */
void tc_flip(struct tctx *t, const char *path, uint64_t off, uint8_t mask);
/* A signer for a fixed test seed (seed byte s). */
void tc_signer(struct content_signer *s, struct ed25519_seed *sk, uint8_t b);
/* A valid, filled-in card (not signed). */
void tc_card(struct content_card *c);
/* Every proper prefix of buf must fail to decode (no crash). */
void tc_prefixes_fail(struct tctx *t, const uint8_t *buf, size_t len,
		      int (*decode)(const uint8_t *, size_t, void *),
		      void *scratch);
/* Decode hex s into out (exactly n bytes). */
void tc_hex(struct tctx *t, const char *s, uint8_t *out, size_t n);

#endif /* TESTS_UNIT_CONTENT_TCONTENT_H */
