/*
 * libFuzzer target: the interim DatabaseStore/DatabaseLookup handler
 * (router/ri_table.c) that answers what peers send over NTCP2.  The input
 * is one or more I2NP messages with the NTCP2 short header, each preceded
 * by a 2-byte length; replies go to a sender that checks and drops them.
 */
#include "config.h"
#include "router/i2np.h"
#include "router/ri_table.h"
#include "crypto/base/bytes.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int drop(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	(void)ctx;
	(void)peer;
	if (m->len > I2NP_MAX_PAYLOAD_BYTES)
		abort();	/* we never build an oversize reply */
	i2np_msg_free(m);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t self[32] = { 1 }, from[32] = { 2 };
	struct ri_table *rt = ri_table_new(self, 77, NULL, NULL);
	struct breader r;

	ri_table_set_sender(rt, (struct ri_table_sender){ drop, NULL });
	ri_table_set_self(rt, (const uint8_t *)"not a RouterInfo", 16);
	br_init(&r, data, size);
	while (br_left(&r) > 2) {
		size_t len = br_be16(&r);
		const uint8_t *p = br_take(&r, len);
		struct i2np_msg *m;

		if (!p)
			break;
		if (i2np_msg_decode_short(p, len, &m) == 0)
			ri_table_handle(rt, from, m);
	}
	(void)ri_table_announce(rt, 4);
	ri_table_free(rt);
	return 0;
}
