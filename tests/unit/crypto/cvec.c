/* Vector-file helpers for the crypto/ tests (tests/unit/crypto/cvec.h). */
#include "config.h"
#include "tests/unit/crypto/cvec.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct json_t *cvec_find(struct tctx *t, struct json_t *root,
			 const char *prefix)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));

		if (id && strncmp(id, prefix, strlen(prefix)) == 0)
			return v;
	}
	t_fail(t, __FILE__, __LINE__, "no vector with id %s", prefix);
	return NULL;
}

struct json_t *cvec_at(struct json_t *root, size_t i)
{
	return json_array_get(json_object_get(root, "vectors"), i);
}

bool cvec_fixed(struct tctx *t, struct json_t *v, const char *key, void *out,
		size_t n)
{
	size_t len;
	uint8_t *p = tvec_field(t, v, key, &len);
	bool ok = len == n;

	if (ok)
		memcpy(out, p, n);
	else
		t_fail(t, __FILE__, __LINE__, "%s: %zu bytes, want %zu", key,
		       len, n);
	free(p);
	return ok;
}
