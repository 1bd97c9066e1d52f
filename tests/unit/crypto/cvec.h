/*
 * Small helpers over tharness's tvec_* for the crypto/ vector files:
 * pick a vector by id and copy fixed-size fields.
 */
#ifndef TESTS_UNIT_CRYPTO_CVEC_H
#define TESTS_UNIT_CRYPTO_CVEC_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/unit/tharness.h"

struct json_t;

/* The entry of root's "vectors" whose "id" starts with prefix (borrowed
 * from root); fails the test and returns NULL if there is none. */
struct json_t *cvec_find(struct tctx *t, struct json_t *root,
			 const char *prefix);
/* Entry i of root's "vectors" (borrowed), or NULL. */
struct json_t *cvec_at(struct json_t *root, size_t i);
/* Hex-decode field key of v into out, which must be exactly n bytes long;
 * otherwise fail the test and return false. */
bool cvec_fixed(struct tctx *t, struct json_t *v, const char *key, void *out,
		size_t n);

#endif /* TESTS_UNIT_CRYPTO_CVEC_H */
