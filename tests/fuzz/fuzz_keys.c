/*
 * libFuzzer target: the key-file decoders (crypto/keystore.h and
 * router/router_keys.h).  Both files end in a SHA-256 checksum, so each
 * input is tried as is and with a valid checksum appended, which lets the
 * fuzzer reach the field parsing behind the checksum.
 */
#include "config.h"
#include "router/router_keys.h"
#include "crypto/base/alloc.h"
#include "crypto/base/log.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void both(const uint8_t *buf, size_t len)
{
	struct keystore *ks = NULL;
	struct router_keys *rk = NULL;

	if (keystore_decode(buf, len, &ks) == 0)
		keystore_free(ks);
	if (router_keys_decode(buf, len, &rk) == 0)
		router_keys_free(rk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	log_set_level(LOG_NONE);
	if (size > 4096)
		return 0;
	both(data, size);
	buf = xmalloc(size + SHA256_BYTES);
	memcpy(buf, data, size);
	sha256(buf + size, data, size);
	both(buf, size + SHA256_BYTES);
	free(buf);
	return 0;
}
