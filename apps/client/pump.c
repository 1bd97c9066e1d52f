/*
 * Socket buffers <-> streams (see pump.h).
 */
#include "config.h"
#include "apps/client/pump.h"

#include <event2/buffer.h>

#include "apps/client/stream.h"

bool client_pump_out(struct stream *s, struct evbuffer *out)
{
	while (evbuffer_get_length(out) < CLIENT_PUMP_OUT_HIGH_BYTES) {
		struct evbuffer_iovec v;
		size_t n;

		if (evbuffer_reserve_space(out, CLIENT_PUMP_STEP_BYTES, &v,
					   1) < 1)
			break;
		n = stream_read(s, v.iov_base,
				v.iov_len < CLIENT_PUMP_STEP_BYTES ?
					v.iov_len : CLIENT_PUMP_STEP_BYTES);
		v.iov_len = n;
		(void)evbuffer_commit_space(out, &v, 1);
		if (n == 0)
			break;
	}
	return stream_is_eof(s);
}

size_t client_pump_in(struct stream *s, struct evbuffer *in, size_t max,
		      bool *full)
{
	struct evbuffer_iovec v[8];
	size_t total = 0;

	*full = false;
	while (total < max && evbuffer_get_length(in) > 0) {
		int nv = evbuffer_peek(in, -1, NULL, v, 8);
		size_t moved = 0;

		if (nv > 8)
			nv = 8;
		for (int i = 0; i < nv && total + moved < max; i++) {
			size_t want = v[i].iov_len, n;

			if (want > max - total - moved)
				want = max - total - moved;
			n = stream_write(s, v[i].iov_base, want);
			moved += n;
			if (n < want) {
				*full = true;
				break;
			}
		}
		evbuffer_drain(in, moved);
		total += moved;
		if (*full || moved == 0)
			break;
	}
	return total;
}
