/*
 * libFuzzer target: the streaming endpoint's Range header parser
 * (swarm_service_parse_range, apps/swarm/service.h).  Input: 8 bytes of
 * file size (big-endian), then the header value.  Properties: no read past
 * the value; an accepted range lies inside the file and is not empty.
 */
#include "config.h"
#include "apps/swarm/service.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t fsize, from = 0, end = 0;
	char *h;
	int r;

	if (size < 8 || size > 8 + 4096)
		return 0;
	fsize = be64_get(data);
	h = malloc(size - 8 + 1);
	if (!h)
		abort();
	memcpy(h, data + 8, size - 8);
	h[size - 8] = 0;
	r = swarm_service_parse_range(h, fsize, &from, &end);
	if (r == 0 && !(from < end && end <= fsize))
		abort();
	if (r != 0 && r != ERR_RANGE && r != ERR_FORMAT)
		abort();
	free(h);
	return 0;
}
