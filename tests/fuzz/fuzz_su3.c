/*
 * libFuzzer target: su3 files and the zip archives inside them
 * (router/su3.h, router/zip.h, netdb/reseed.h).  The input is decoded as an
 * su3; its content (or, when it is no su3, the input itself) is walked as
 * a zip with the reseed limits, every entry handed to the RouterInfo
 * decoder the way a reseed does.  Properties: every borrowed range lies
 * inside the input, and no entry exceeds the cap.
 */
#include "config.h"
#include "netdb/reseed.h"
#include "router/router_info.h"
#include "router/su3.h"
#include "router/zip.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int entry(void *ctx, const char *name, const uint8_t *d, size_t len)
{
	struct router_info *ri = NULL;

	(void)ctx;
	if (len > RESEED_MAX_ENTRY_BYTES || strlen(name) == 0 ||
	    strlen(name) > ZIP_MAX_NAME_BYTES)
		abort();
	if (router_info_decode(d, len, &ri) == 0)
		(void)router_info_verify(ri);
	router_info_free(ri);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *zip = data;
	size_t zlen = size;
	struct su3 s;

	if (su3_decode(data, size, &s) == 0) {
		if (s.content < data || s.content + s.content_len > data + size ||
		    s.sig + s.sig_len != data + size ||
		    s.signed_len + s.sig_len != size ||
		    strlen(s.signer) > SU3_MAX_ID_BYTES)
			abort();
		zip = s.content;
		zlen = s.content_len;
	}
	(void)zip_foreach(zip, zlen, RESEED_MAX_ENTRIES, RESEED_MAX_ENTRY_BYTES,
			  entry, NULL);
	return 0;
}
