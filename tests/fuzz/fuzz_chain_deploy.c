/*
 * libFuzzer target: the deploy file (chain/calls.h chain_deploy_parse),
 * the contracts' addresses bitsd reads from market.deploy and
 * relaypay.deploy.  Accepted: a chain id and every address the client
 * needs, found; refused: a reason, and the output left as it was.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chain/calls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[20];
	struct chain_deploy d, before;
	const char *why = NULL;

	memset(&d, 0xa5, sizeof(d));
	before = d;
	if (chain_deploy_parse((const char *)data, size, &d, &why) != 0) {
		if (!why || !*why || memcmp(&d, &before, sizeof(d)) != 0)
			abort();
		return 0;
	}
	if (why || !memcmp(d.token, zero, 20) ||
	    !memcmp(d.license_registry, zero, 20) ||
	    !memcmp(d.key_release, zero, 20) ||
	    !memcmp(d.payment_hub, zero, 20) ||
	    !memcmp(d.did_registry, zero, 20))
		abort();
	return 0;
}
