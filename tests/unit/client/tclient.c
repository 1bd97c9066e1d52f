/* Helpers shared by the apps/client tests. */
#include "config.h"
#include "tests/unit/client/tclient.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/base/bytes.h"
#include "crypto/ed25519.h"

struct client_dest *tclient_dest(uint8_t n)
{
	struct ed25519_seed seed;
	struct ed25519_pk pk;
	struct keys_and_cert kac;
	uint8_t pattern[KAC_PADDING_PATTERN_BYTES];
	struct client_dest *d = NULL;
	struct bbuf b = BBUF_INIT;

	memset(seed.b, n, sizeof(seed.b));
	memset(pattern, n + 1, sizeof(pattern));
	ed25519_pk_from_seed(&pk, &seed);
	keys_and_cert_build(&kac, NULL, &pk, pattern);
	bbuf_put(&b, kac.raw, kac.len);
	memset(bbuf_extend(&b, 256), 0, 256);
	bbuf_put(&b, seed.b, sizeof(seed.b));
	if (client_dest_decode(b.data, b.len, &d) != 0)
		abort();
	bbuf_free(&b);
	return d;
}
