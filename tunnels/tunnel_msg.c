/*
 * Tunnel message body and delivery instructions (tunnels/tunnel_msg.h),
 * after geti2p.net/spec/tunnel-message ("Tunnel Message (Decrypted)",
 * "Tunnel Message Delivery Instructions").
 */
#include "config.h"
#include "tunnels/tunnel_msg.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"
#include "crypto/rand.h"

#include <string.h>

/* First-fragment flag bits ("Bit order: 76543210"). */
#define DI_FOLLOW_ON 0x80
#define DI_TYPE_SHIFT 5
#define DI_TYPE_MASK 0x03
#define DI_DELAY 0x10
#define DI_FRAGMENTED 0x08
#define DI_EXTENDED 0x04

size_t tunnel_di_len(const struct tunnel_di *di)
{
	size_t n = 1 + 2;		/* flag, size */

	if (di->follow_on)
		return TUNNEL_DI_FOLLOW_BYTES;
	if (di->type == TUNNEL_DELIVER_TUNNEL)
		n += 4 + 32;
	else if (di->type == TUNNEL_DELIVER_ROUTER)
		n += 32;
	if (di->fragmented)
		n += 4;
	return n;
}

size_t tunnel_di_encode(const struct tunnel_di *di, uint8_t *out)
{
	size_t n = 1;

	if (di->follow_on) {
		/* "binary 1nnnnnnd" */
		out[0] = (uint8_t)(DI_FOLLOW_ON | (di->frag_num & 0x3f) << 1 |
				   (di->last ? 1 : 0));
		be32_put(out + 1, di->msg_id);
		be16_put(out + 5, di->size);
		return TUNNEL_DI_FOLLOW_BYTES;
	}
	out[0] = (uint8_t)((di->type & DI_TYPE_MASK) << DI_TYPE_SHIFT |
			   (di->fragmented ? DI_FRAGMENTED : 0));
	if (di->type == TUNNEL_DELIVER_TUNNEL) {
		be32_put(out + n, di->tunnel_id);
		n += 4;
	}
	if (di->type != TUNNEL_DELIVER_LOCAL) {
		memcpy(out + n, di->hash, 32);
		n += 32;
	}
	if (di->fragmented) {
		be32_put(out + n, di->msg_id);
		n += 4;
	}
	be16_put(out + n, di->size);
	return n + 2;
}

int tunnel_di_decode(struct breader *r, struct tunnel_di *out)
{
	struct tunnel_di d;
	uint8_t flag = br_u8(r);

	memset(&d, 0, sizeof(d));
	if (flag & DI_FOLLOW_ON) {
		d.follow_on = true;
		d.frag_num = (flag >> 1) & 0x3f;
		d.last = flag & 1;
		d.msg_id = br_be32(r);
		d.size = br_be16(r);
		if (r->failed)
			return ERR_TRUNCATED;
		/* "the 6 bit fragment number from 1 to 63" */
		if (d.frag_num == 0 || d.size == 0)
			return ERR_FORMAT;
		*out = d;
		return 0;
	}
	if (flag & (DI_DELAY | DI_EXTENDED))
		return r->failed ? ERR_TRUNCATED : ERR_UNSUPPORTED;
	switch ((flag >> DI_TYPE_SHIFT) & DI_TYPE_MASK) {
	case TUNNEL_DELIVER_LOCAL:
		d.type = TUNNEL_DELIVER_LOCAL;
		break;
	case TUNNEL_DELIVER_TUNNEL:
		d.type = TUNNEL_DELIVER_TUNNEL;
		d.tunnel_id = br_be32(r);
		br_copy(r, d.hash, 32);
		break;
	case TUNNEL_DELIVER_ROUTER:
		d.type = TUNNEL_DELIVER_ROUTER;
		br_copy(r, d.hash, 32);
		break;
	default:			/* "0x03 = unused, invalid" */
		return r->failed ? ERR_TRUNCATED : ERR_FORMAT;
	}
	d.fragmented = flag & DI_FRAGMENTED;
	if (d.fragmented)
		d.msg_id = br_be32(r);
	d.size = br_be16(r);
	if (r->failed)
		return ERR_TRUNCATED;
	if (d.size == 0)
		return ERR_FORMAT;
	*out = d;
	return 0;
}

static void checksum(uint8_t out[32], const uint8_t *payload, size_t len,
		     const uint8_t *iv)
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, payload, len);
	sha256_update(&c, iv, TUNNEL_IV_BYTES);
	sha256_final(&c, out);
}

void tunnel_msg_finish(uint8_t *msg, const uint8_t *payload, size_t len)
{
	const size_t body = TUNNEL_IV_BYTES + TUNNEL_CHECKSUM_BYTES;
	uint8_t *p = msg + TUNNEL_MSG_BYTES - len, h[32];
	size_t pad = TUNNEL_MSG_BYTES - len - 1 - body;

	memmove(p, payload, len);
	rand_bytes(msg, TUNNEL_IV_BYTES);
	/* "Nonzero padding ... random nonzero data for padding" */
	rand_bytes(msg + body, pad);
	for (size_t i = 0; i < pad; i++)
		while (msg[body + i] == 0)
			rand_bytes(msg + body + i, 1);
	p[-1] = 0;
	checksum(h, p, len, msg);
	memcpy(msg + TUNNEL_IV_BYTES, h, TUNNEL_CHECKSUM_BYTES);
}

int tunnel_msg_open(const uint8_t *msg, const uint8_t **payload, size_t *len)
{
	const uint8_t *start = msg + TUNNEL_IV_BYTES + TUNNEL_CHECKSUM_BYTES;
	const uint8_t *zero = memchr(start, 0, (size_t)(msg + TUNNEL_MSG_BYTES -
							 start));
	uint8_t h[32];
	size_t n;

	if (!zero)
		return ERR_FORMAT;
	n = (size_t)(msg + TUNNEL_MSG_BYTES - (zero + 1));
	checksum(h, zero + 1, n, msg);
	if (memcmp(h, msg + TUNNEL_IV_BYTES, TUNNEL_CHECKSUM_BYTES) != 0)
		return ERR_AUTH;
	*payload = zero + 1;
	*len = n;
	return 0;
}
