/*
 * libFuzzer target: Garlic messages to the router (netdb/net.c
 * handle_garlic, router/garlic_router.c garlic_router_open), past the
 * encryption.  The first byte picks what the rest is:
 *   0: the blocks of a Noise_N message correctly encrypted to the
 *      router's identity key (so the DateTime window, the block parser
 *      and the cloves are reached);
 *   1: a DateTime block of the netDb's clock, then a LOCAL clove of the
 *      type the next byte names and the rest as its body (a
 *      DatabaseStore, a lookup, a status or a Garlic inside a Garlic:
 *      the depth limit), encrypted as above;
 *   2: the bytes as the Garlic message's body itself (length field and
 *      all: the tag lookup, ephemeral key and AEAD refusals).
 * Properties: no crash, no leak; every stored entry still verifies; the
 * netDb counts every Garlic message it is given, as opened or refused.
 */
#include "config.h"
#include "tests/fuzz/fuzz_netdb.h"
#include "crypto/x25519.h"
#include "router/leaseset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_netdb *f = fuzz_netdb_get();
	struct netdb_store *s = netdb_get_store(f->db);
	struct netdb_stats before, after;
	struct x25519_pk rs;
	struct i2np_msg *m = NULL;
	struct bbuf b = BBUF_INIT;

	if (size < 2 || size > I2NP_MAX_PAYLOAD_BYTES - 1024)
		return 0;
	keystore_x25519_pk(f->ks, KEYSTORE_X_IDENTITY, &rs);
	netdb_stats(f->db, &before);
	switch (data[0] % 3) {
	case 0:
		(void)garlic_router_encrypt(&rs, NULL, data + 1, size - 1, &m);
		break;
	case 1: {
		struct i2np_msg *c = i2np_msg_new(data[1], data + 2, size - 2,
						  10000);

		garlic_block_datetime(&b, (uint32_t)(time_now_ms() / 1000));
		if (garlic_block_clove(&b, c, GARLIC_DELIVERY_LOCAL, NULL,
				       0) == 0)
			(void)garlic_router_encrypt(&rs, NULL, b.data, b.len,
						    &m);
		i2np_msg_free(c);
		break;
	}
	default:
		m = i2np_msg_new(I2NP_GARLIC, data + 1, size - 1, 10000);
		break;
	}
	if (!m)
		goto out;
	netdb_handle_msg(f->db, f->peer, m);
	netdb_stats(f->db, &after);
	if (after.garlic_in + after.dropped <= before.garlic_in + before.dropped ||
	    after.garlic_bad < before.garlic_bad)
		abort();
	for (size_t i = 0; i < netdb_store_ls_count(s); i++)
		if (leaseset_verify(netdb_store_ls_at(s, i)->ls) != 0)
			abort();
out:
	bbuf_free(&b);
	return 0;
}
