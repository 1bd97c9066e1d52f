/*
 * libFuzzer target: DatabaseSearchReply payloads (netdb/lookup.c).  A
 * lookup for the reply's key is started first (so the reply is one we
 * asked for, from the floodfill we asked), then the reply is handed in:
 * the decoder, the fetching of unknown routers and the lookup's next
 * step.  Property: no crash, no leak, the pending lookups stay bounded.
 */
#include "config.h"
#include "tests/fuzz/fuzz_netdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_netdb *f = fuzz_netdb_get();

	if (size >= 32)
		(void)netdb_lookup_start(f->db, data, NETDB_LOOKUP_RI, NULL,
					 NULL);
	fuzz_netdb_feed(I2NP_DATABASE_SEARCH_REPLY, data, size);
	if (netdb_lookups_pending(f->db) > NETDB_LOOKUP_MAX_PENDING)
		abort();
	if (size >= 32)
		(void)netdb_lookup_cancel(f->db, data);
	return 0;
}
