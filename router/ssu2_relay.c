/*
 * SSU2 relay block codecs and signed data (router/ssu2_relay.h).
 */
#include "config.h"
#include "router/ssu2_relay.h"
#include "crypto/base/err.h"

#include <string.h>

#define ED25519_SIG_BYTES 64

int ssu2_relay_req_decode(const struct ssu2_block *b,
			  struct ssu2_relay_req *out)
{
	struct breader r;
	const uint8_t *start;
	uint8_t asz;

	memset(out, 0, sizeof(*out));
	if (b->type != SSU2_BLK_RELAY_REQUEST && b->type != SSU2_BLK_RELAY_INTRO)
		return ERR_FORMAT;
	br_init(&r, b->data, b->len);
	(void)br_u8(&r);			/* flag */
	if (b->type == SSU2_BLK_RELAY_INTRO) {
		br_copy(&r, out->hash, 32);
		out->has_hash = true;
	}
	start = r.p;
	out->nonce = br_be32(&r);
	out->tag = br_be32(&r);
	out->ts = br_be32(&r);
	out->ver = br_u8(&r);
	asz = br_u8(&r);
	if (r.failed)
		return ERR_TRUNCATED;
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
	if (out->siglen == 0)
		return ERR_FORMAT;	/* "signature :: ... as signed by Alice" */
	if (out->siglen > SSU2_RELAY_SIG_MAX_BYTES)
		return ERR_TOO_BIG;
	out->sig = br_take(&r, out->siglen);
	return 0;
}

int ssu2_relay_resp_decode(const struct ssu2_block *b,
			   struct ssu2_relay_resp *out)
{
	struct breader r;
	const uint8_t *start;
	uint8_t csz;

	memset(out, 0, sizeof(*out));
	if (b->type != SSU2_BLK_RELAY_RESPONSE)
		return ERR_FORMAT;
	br_init(&r, b->data, b->len);
	(void)br_u8(&r);			/* flag */
	out->code = br_u8(&r);
	start = r.p;
	out->nonce = br_be32(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	/* "The data below is present only if the code is 0" -- i2pd and
	 * Java send it for rejections too; take it when it is there. */
	if (br_left(&r) == 0) {
		out->sdata = start;
		out->slen = 4;
		return out->code == SSU2_RELAY_ACCEPT ? ERR_TRUNCATED : 0;
	}
	out->ts = br_be32(&r);
	out->ver = br_u8(&r);
	csz = br_u8(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (csz != 0 && csz != 6 && csz != 18)
		return ERR_FORMAT;
	if (csz) {
		out->port = br_be16(&r);
		out->iplen = csz - 2u;
		br_copy(&r, out->ip, out->iplen);
	}
	if (r.failed)
		return ERR_TRUNCATED;
	out->sdata = start;
	out->slen = (size_t)(r.p - start);
	if (out->code == SSU2_RELAY_ACCEPT) {
		out->sig = br_take(&r, ED25519_SIG_BYTES);
		out->siglen = ED25519_SIG_BYTES;
		out->token = br_be64(&r);
		out->has_token = true;
		if (r.failed)
			return ERR_TRUNCATED;
		if (out->ver != 2 || csz == 0)
			return ERR_FORMAT;
		return br_left(&r) == 0 ? 0 : ERR_FORMAT;
	}
	out->siglen = br_left(&r);
	if (out->siglen > SSU2_RELAY_SIG_MAX_BYTES)
		return ERR_TOO_BIG;
	out->sig = br_take(&r, out->siglen);
	return 0;
}

size_t ssu2_relay_req_sdata(uint8_t out[SSU2_RELAY_SDATA_MAX_BYTES],
			    uint32_t nonce, uint32_t tag, uint32_t ts,
			    const uint8_t *ip, size_t iplen, uint16_t port)
{
	be32_put(out, nonce);
	be32_put(out + 4, tag);
	be32_put(out + 8, ts);
	out[12] = 2;
	out[13] = (uint8_t)(2 + iplen);
	be16_put(out + 14, port);
	memcpy(out + 16, ip, iplen);
	return 16 + iplen;
}

size_t ssu2_relay_resp_sdata(uint8_t out[SSU2_RELAY_SDATA_MAX_BYTES],
			     uint32_t nonce, uint32_t ts, const uint8_t *ip,
			     size_t iplen, uint16_t port)
{
	be32_put(out, nonce);
	be32_put(out + 4, ts);
	out[8] = 2;
	if (!ip) {
		out[9] = 0;
		return 10;
	}
	out[9] = (uint8_t)(2 + iplen);
	be16_put(out + 10, port);
	memcpy(out + 12, ip, iplen);
	return 12 + iplen;
}

void ssu2_relay_put_req(struct bbuf *b, const uint8_t *alice_hash,
			const uint8_t *sdata, size_t slen, const uint8_t *sig,
			size_t siglen)
{
	bbuf_u8(b, alice_hash ? SSU2_BLK_RELAY_INTRO : SSU2_BLK_RELAY_REQUEST);
	bbuf_be16(b, (uint16_t)(1 + (alice_hash ? 32 : 0) + slen + siglen));
	bbuf_u8(b, 0);
	if (alice_hash)
		bbuf_put(b, alice_hash, 32);
	bbuf_put(b, sdata, slen);
	bbuf_put(b, sig, siglen);
}

void ssu2_relay_put_resp(struct bbuf *b, uint8_t code, const uint8_t *sdata,
			 size_t slen, const uint8_t *sig, size_t siglen,
			 uint64_t token)
{
	bool tok = code == SSU2_RELAY_ACCEPT;

	bbuf_u8(b, SSU2_BLK_RELAY_RESPONSE);
	bbuf_be16(b, (uint16_t)(2 + slen + siglen + (tok ? 8 : 0)));
	bbuf_u8(b, 0);
	bbuf_u8(b, code);
	bbuf_put(b, sdata, slen);
	if (siglen)
		bbuf_put(b, sig, siglen);
	if (tok)
		bbuf_be64(b, token);
}

void ssu2_relay_sigmsg(struct bbuf *out, const char *prologue,
		       const uint8_t bhash[32], const uint8_t *chash,
		       const uint8_t *sdata, size_t slen)
{
	bbuf_put(out, prologue, SSU2_RELAY_PROLOGUE_BYTES);
	bbuf_put(out, bhash, 32);
	if (chash)
		bbuf_put(out, chash, 32);
	bbuf_put(out, sdata, slen);
}
