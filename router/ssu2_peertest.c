/*
 * SSU2 Peer Test block codec and signed data (router/ssu2_peertest.h).
 */
#include "config.h"
#include "router/ssu2_peertest.h"
#include "crypto/base/err.h"

#include <string.h>

int ssu2_pt_decode(const struct ssu2_block *b, struct ssu2_pt *out)
{
	struct breader r;
	uint8_t asz;
	const uint8_t *start;

	memset(out, 0, sizeof(*out));
	if (b->type != SSU2_BLK_PEER_TEST)
		return ERR_FORMAT;
	br_init(&r, b->data, b->len);
	out->msg = br_u8(&r);
	out->code = br_u8(&r);
	(void)br_u8(&r);			/* flag */
	if (r.failed)
		return ERR_TRUNCATED;
	if (out->msg < 1 || out->msg > 7)
		return ERR_FORMAT;
	/* "hash :: ... only present in messages 2 and 4" */
	if (out->msg == 2 || out->msg == 4) {
		br_copy(&r, out->hash, 32);
		out->has_hash = true;
	}
	start = r.p;
	out->ver = br_u8(&r);
	out->nonce = br_be32(&r);
	out->ts = br_be32(&r);
	asz = br_u8(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	/* "ver: 2 (required)"; "asz :: endpoint size (6 or 18)" */
	if (out->ver != 2 || (asz != 6 && asz != 18))
		return ERR_FORMAT;
	out->port = br_be16(&r);
	out->iplen = asz - 2u;
	br_copy(&r, out->ip, out->iplen);
	if (r.failed)
		return ERR_TRUNCATED;
	out->sdata = start;
	out->slen = (size_t)(r.p - start);
	out->siglen = br_left(&r);
	if (out->siglen > SSU2_PT_SIG_MAX_BYTES)
		return ERR_TOO_BIG;
	out->sig = br_take(&r, out->siglen);
	return 0;
}

size_t ssu2_pt_sdata(uint8_t out[SSU2_PT_SDATA_MAX_BYTES], uint32_t nonce,
		     uint32_t ts, const uint8_t *ip, size_t iplen,
		     uint16_t port)
{
	out[0] = 2;
	be32_put(out + 1, nonce);
	be32_put(out + 5, ts);
	out[9] = (uint8_t)(2 + iplen);
	be16_put(out + 10, port);
	memcpy(out + 12, ip, iplen);
	return 12 + iplen;
}

void ssu2_pt_put(struct bbuf *b, uint8_t msg, uint8_t code,
		 const uint8_t *hash, const uint8_t *sdata, size_t slen,
		 const uint8_t *sig, size_t siglen)
{
	bbuf_u8(b, SSU2_BLK_PEER_TEST);
	bbuf_be16(b, (uint16_t)(3 + (hash ? 32 : 0) + slen + siglen));
	bbuf_u8(b, msg);
	bbuf_u8(b, code);
	bbuf_u8(b, 0);
	if (hash)
		bbuf_put(b, hash, 32);
	bbuf_put(b, sdata, slen);
	if (siglen)
		bbuf_put(b, sig, siglen);
}

void ssu2_pt_sigmsg(struct bbuf *out, const uint8_t bhash[32],
		    const uint8_t *ahash, const uint8_t *sdata, size_t slen)
{
	bbuf_put(out, SSU2_PT_PROLOGUE, SSU2_PT_PROLOGUE_BYTES);
	bbuf_put(out, bhash, 32);
	if (ahash)
		bbuf_put(out, ahash, 32);
	bbuf_put(out, sdata, slen);
}
