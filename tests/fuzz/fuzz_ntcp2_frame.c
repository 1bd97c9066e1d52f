/*
 * libFuzzer target: the NTCP2 data-phase block parser (both frame kinds,
 * every typed block view, the I2NP short header inside I2NP blocks) and
 * the frame layer (length de-obfuscation and AEAD open on the input as a
 * byte stream with fixed keys, and a seal/open round trip of the input).
 */
#include "config.h"
#include "router/ntcp2_frame.h"
#include "crypto/base/alloc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void blocks(const uint8_t *p, size_t len, enum ntcp2_frame_kind kind)
{
	struct breader r;
	struct ntcp2_block b;
	struct ntcp2_options o;
	struct i2np_msg *m;
	const uint8_t *ri;
	size_t ril;
	uint64_t frames;
	uint32_t ts;
	uint8_t flag, reason;

	if (ntcp2_frame_check(p, len, kind, NULL) != 0)
		return;
	br_init(&r, p, len);
	while (br_left(&r) > 0) {
		if (ntcp2_block_decode(&r, &b) != 0)
			abort();	/* check said the frame is fine */
		switch (b.type) {
		case NTCP2_BLOCK_DATETIME:
			if (ntcp2_block_datetime(&b, &ts) != 0)
				abort();
			break;
		case NTCP2_BLOCK_OPTIONS:
			if (ntcp2_block_options(&b, &o) != 0)
				abort();
			break;
		case NTCP2_BLOCK_ROUTERINFO:
			if (ntcp2_block_routerinfo(&b, &flag, &ri, &ril) != 0)
				abort();
			break;
		case NTCP2_BLOCK_I2NP:
			if (i2np_msg_decode_short(b.data, b.len, &m) == 0)
				i2np_msg_free(m);
			break;
		case NTCP2_BLOCK_TERMINATION:
			if (ntcp2_block_termination(&b, &frames, &reason) != 0)
				abort();
			(void)ntcp2_term_reason_str(reason);
			break;
		default:
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntcp2_dir_keys k;
	struct ntcp2_dir tx, rx;
	uint8_t *buf;
	size_t off = 0, len, plen;

	blocks(data, size, NTCP2_FRAME_DATA);
	blocks(data, size, NTCP2_FRAME_MSG3);

	memset(&k, 0x42, sizeof(k));
	ntcp2_dir_init(&rx, &k);
	ntcp2_dir_init(&tx, &k);
	/* the input as a received stream: almost every frame fails its tag */
	buf = xmalloc(size + 1);
	memcpy(buf, data, size);
	while (size - off >= NTCP2_LEN_BYTES &&
	       ntcp2_frame_len_decode(&rx, buf + off, &len) == 0 &&
	       len <= size - off - NTCP2_LEN_BYTES) {
		off += NTCP2_LEN_BYTES;
		if (ntcp2_frame_open(&rx, buf + off, len, &plen) != 0)
			break;
		blocks(buf + off, plen, NTCP2_FRAME_DATA);
		off += len;
	}
	free(buf);
	/* seal and reopen the input as a plaintext frame */
	if (size <= NTCP2_FRAME_MAX_PLAIN_BYTES) {
		ntcp2_dir_wipe(&rx);
		ntcp2_dir_init(&rx, &k);
		buf = xmalloc(size + NTCP2_LEN_BYTES + NTCP2_TAG_BYTES);
		if (ntcp2_frame_seal(&tx, buf, data, size) != 0 ||
		    ntcp2_frame_len_decode(&rx, buf, &len) != 0 ||
		    len != size + NTCP2_TAG_BYTES ||
		    ntcp2_frame_open(&rx, buf + 2, len, &plen) != 0 ||
		    plen != size || memcmp(buf + 2, data, size) != 0)
			abort();
		free(buf);
	}
	ntcp2_dir_wipe(&tx);
	ntcp2_dir_wipe(&rx);
	return 0;
}
