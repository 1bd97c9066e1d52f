/*
 * Copying between a local socket's libevent buffers and a stream: the
 * loops SAM and the proxies share.  Neither blocks nor closes anything;
 * the caller keeps its own states (half-closes, limits) and turns the
 * socket's reading off while the stream is full.
 * Thread: the loop thread.
 */
#ifndef APPS_CLIENT_PUMP_H
#define APPS_CLIENT_PUMP_H

#include <stdbool.h>
#include <stddef.h>

struct evbuffer;
struct stream;

/* The socket's output takes no more from the stream past this. */
#define CLIENT_PUMP_OUT_HIGH_BYTES (256 * 1024)
/* Bytes moved per step. */
#define CLIENT_PUMP_STEP_BYTES 16384

/*
 * Stream -> out (a socket's output buffer) until out holds
 * CLIENT_PUMP_OUT_HIGH_BYTES or the stream has nothing to read; read
 * straight into out's free space.  True when the stream is at EOF (its
 * last byte is in out).
 */
bool client_pump_out(struct stream *s, struct evbuffer *out);

/*
 * in (a socket's input buffer) -> stream, at most max bytes (SIZE_MAX:
 * all), without making in contiguous.  Returns the bytes moved (drained
 * from in); *full is set when the stream took less than it was offered
 * (its send buffer is full: wait for STREAM_EV_WRITABLE), cleared
 * otherwise.
 */
size_t client_pump_in(struct stream *s, struct evbuffer *in, size_t max,
		      bool *full);

#endif /* APPS_CLIENT_PUMP_H */
