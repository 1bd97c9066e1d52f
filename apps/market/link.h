/*
 * Framed messages over an I2P stream, as the market services speak them:
 * each message is a 4-byte big-endian length and that many bytes.  A link
 * reads at most one frame at a time from its stream (the stream's flow
 * control holds the rest back), checks the length against the caller's cap
 * before buffering, and keeps what the stream cannot take yet in an
 * output queue flushed on STREAM_EV_WRITABLE.
 *
 * Thread: the loop thread only.  The link borrows its stream.
 */
#ifndef APPS_MARKET_LINK_H
#define APPS_MARKET_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

struct stream;

#define MARKET_FRAME_HDR_BYTES 4

struct market_link {
	struct stream *s;		/* borrowed */
	size_t in_max;			/* largest frame accepted */
	struct bbuf in;			/* header and part of one frame */
	struct bbuf out;		/* frames not yet taken by s */
	size_t out_off;
};

void market_link_init(struct market_link *l, struct stream *s,
		      size_t in_max);
/* Release the buffers (wiped: frames may hold keys).  The stream is the
 * caller's. */
void market_link_clear(struct market_link *l);
/* Queue one frame of len bytes and write what the stream takes. */
void market_link_send(struct market_link *l, const void *p, size_t len);
/* Write queued bytes (on STREAM_EV_WRITABLE). */
void market_link_flush(struct market_link *l);
/* Bytes queued but not yet taken by the stream. */
size_t market_link_pending(const struct market_link *l);
/*
 * Read towards the next frame.  1: a whole frame is in *p (borrowed until
 * market_link_pop()), *len its length; 0: more bytes are needed;
 * ERR_TOO_BIG: the peer announced a frame over in_max (drop the link).
 */
int market_link_next(struct market_link *l, const uint8_t **p, size_t *len);
/* Drop the frame market_link_next() returned. */
void market_link_pop(struct market_link *l);

#endif /* APPS_MARKET_LINK_H */
