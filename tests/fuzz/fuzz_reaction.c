/*
 * libFuzzer target: reaction, follow and view records
 * (apps/content/record.h).  Properties: a decoded record re-encodes to the
 * input and its signature check returns cleanly.
 */
#include "config.h"
#include "apps/content/record.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct content_record rec;
	struct bbuf b = BBUF_INIT;
	int r;

	if (content_record_decode(data, size, &rec) != 0)
		return 0;
	if (content_record_encode(&rec, &b) != 0 || b.len != size ||
	    memcmp(b.data, data, size) != 0 ||
	    !strcmp(content_record_kind_name(rec.kind), "unknown"))
		abort();
	r = content_record_verify(&rec);
	if (r != 0 && r != ERR_BAD_SIG)
		abort();
	bbuf_free(&b);
	return 0;
}
