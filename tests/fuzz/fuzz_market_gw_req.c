/*
 * libFuzzer target: the chain RPC gateway's request check
 * (apps/market/gateway.h).  The input is one request frame from a peer;
 * an accepted request must come out as a JSON-RPC 2.0 call with an
 * allowed method and an array of params.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/market/gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct market_gw_config c;
	const char *why = NULL;
	char *out = NULL;
	size_t len = 0;
	json_t *id = NULL, *o;
	json_error_t e;
	int code = 0;

	market_gw_config_default(&c);
	if (market_gw_request_check(&c, data, size, &out, &len, &id, &code,
				    &why) == 0) {
		o = json_loadb(out, len, 0, &e);
		if (!json_is_object(o) ||
		    !json_is_array(json_object_get(o, "params")) ||
		    !json_is_string(json_object_get(o, "method")) || !id)
			abort();
		json_decref(o);
		free(out);
	} else if (!why || code == 0) {
		abort();
	}
	json_decref(id);
	return 0;
}
