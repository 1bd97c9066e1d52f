/* libFuzzer target: I2NP headers (standard and short) and every body codec. */
#include "config.h"
#include "router/i2np.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bodies(const struct i2np_msg *m)
{
	struct i2np_db_store s;
	struct i2np_db_lookup l;
	struct i2np_search_reply sr;
	struct i2np_delivery_status ds;
	struct i2np_tunnel_data td;
	struct i2np_tunnel_gateway g;
	struct i2np_build b;
	const uint8_t *p;
	size_t n;

	(void)i2np_db_store_decode(m, &s);
	(void)i2np_db_lookup_decode(m, &l);
	(void)i2np_search_reply_decode(m, &sr);
	(void)i2np_delivery_status_decode(m, &ds);
	(void)i2np_tunnel_data_decode(m, &td);
	(void)i2np_blob_decode(m, &p, &n);
	(void)i2np_build_decode(m, &b);
	if (i2np_tunnel_gateway_decode(m, &g) == 0) {
		struct breader r;
		struct i2np_msg *inner = NULL, hdr;
		int peeked = i2np_msg_peek(g.data, g.len, &hdr);

		br_init(&r, g.data, g.len);
		if (i2np_msg_decode(&r, &inner) == 0) {
			/* peek takes what decode takes, whole */
			if ((peeked == 0) != (br_left(&r) == 0))
				abort();
			i2np_msg_free(inner);
		} else if (peeked == 0) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct breader r;
	struct i2np_msg *m = NULL;

	br_init(&r, data, size);
	while (i2np_msg_decode(&r, &m) == 0) {
		bodies(m);
		i2np_msg_free(m);
		m = NULL;
	}
	if (i2np_msg_decode_short(data, size, &m) == 0) {
		bodies(m);
		i2np_msg_free(m);
	}
	return 0;
}
