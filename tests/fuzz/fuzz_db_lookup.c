/*
 * libFuzzer target: DatabaseLookup payloads handed to a floodfill netDb
 * (netdb/net.c): the decoder (excluded list and reply key limits), the
 * answer (RouterInfo, LeaseSet or DatabaseSearchReply), reply tunnels and
 * ECIES one-time garlic replies.  Property: no crash, no leak.
 */
#include "config.h"
#include "tests/fuzz/fuzz_netdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_netdb_feed(I2NP_DATABASE_LOOKUP, data, size);
	return 0;
}
