/*
 * libFuzzer target: DatabaseStore payloads handed to a floodfill netDb
 * (netdb/net.c): the I2NP body decoder, gzip inflation with its cap,
 * RouterInfo and every LeaseSet type's decoding and validation, the
 * acknowledgement and flooding paths.  Property: no crash, no leak, and
 * nothing invalid stored (every stored entry still verifies).
 */
#include "config.h"
#include "tests/fuzz/fuzz_netdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netdb_store *s;

	fuzz_netdb_feed(I2NP_DATABASE_STORE, data, size);
	s = netdb_get_store(fuzz_netdb_get()->db);
	for (size_t i = 0; i < netdb_store_ls_count(s); i++)
		if (leaseset_verify(netdb_store_ls_at(s, i)->ls) != 0)
			abort();
	return 0;
}
