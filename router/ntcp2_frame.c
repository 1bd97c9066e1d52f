/*
 * NTCP2 data-phase frames and blocks (router/ntcp2_frame.h), after
 * geti2p.net/spec/ntcp2 "4) Data Phase": "SipHash obfuscated length",
 * "Raw contents", "Unencrypted data", "Block Ordering Rules" and the block
 * sections.  Frames carry no associated data; each direction has its own
 * ChaChaPoly key, nonce counter, SipHash key and IV chain.
 */
#include "config.h"
#include "router/ntcp2_frame.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/chacha.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

const char *ntcp2_term_reason_str(unsigned reason)
{
	static const char *const names[] = {
		"normal close", "termination received", "idle timeout",
		"router shutdown", "data phase AEAD failure",
		"incompatible options", "incompatible signature type",
		"clock skew", "padding violation", "AEAD framing error",
		"payload format error", "message 1 error", "message 2 error",
		"message 3 error", "intra-frame read timeout",
		"RI signature verification fail",
		"s parameter missing, invalid, or mismatched", "banned",
	};

	return reason < ARRAY_LEN(names) ? names[reason] : "unknown";
}

void ntcp2_dir_init(struct ntcp2_dir *d, const struct ntcp2_dir_keys *keys)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	memcpy(d->k, keys->k, sizeof(d->k));
	d->n = 0;
	memcpy(d->sipkey, keys->sipkey, sizeof(d->sipkey));
	memcpy(d->iv, keys->sipiv, sizeof(d->iv));
	/* The key is set once; each frame only sets its nonce. */
	if (!c || EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, d->k,
				    NULL, -1) != 1)
		abort();	/* like OOM: OpenSSL cannot allocate */
	d->ctx = c;
}

void ntcp2_dir_wipe(struct ntcp2_dir *d)
{
	EVP_CIPHER_CTX_free(d->ctx);	/* cleans the key schedule */
	memwipe(d, sizeof(*d));
}

/* ChaCha20-Poly1305 (RFC 8439) of len bytes in to out (may be equal) with
 * the I2P nonce for d->n and no AD; enc: append the tag, else check the
 * tag at in + len.  0 or ERR_AUTH / ERR_CRYPTO. */
static int aead(struct ntcp2_dir *d, bool enc, uint8_t *out, const uint8_t *in,
		size_t len)
{
	EVP_CIPHER_CTX *c = d->ctx;
	uint8_t nonce[CHACHAPOLY_NONCE_BYTES];
	int l = 0, fl = 0;

	if (BUG(!c) || len > INT32_MAX)
		return ERR_CRYPTO;
	chachapoly_nonce(nonce, d->n);
	if (EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, enc) != 1)
		return ERR_CRYPTO;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG,
					NTCP2_TAG_BYTES, (void *)(in + len)) != 1)
		return ERR_CRYPTO;
	if ((len > 0 && EVP_CipherUpdate(c, out, &l, in, (int)len) != 1) ||
	    EVP_CipherFinal_ex(c, out + l, &fl) != 1) {
		if (enc)
			return ERR_CRYPTO;
		memwipe(out, len);	/* never hand out unauthenticated bytes */
		return ERR_AUTH;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, NTCP2_TAG_BYTES,
				       out + len) != 1)
		return ERR_CRYPTO;
	return 0;
}

uint16_t ntcp2_dir_next_mask(struct ntcp2_dir *d)
{
	/* "If you use a SipHash library function that returns an unsigned
	 * long integer, use the least significant two bytes as the Mask.
	 * Convert the long integer to the next IV as little endian." */
	siphash24(d->iv, d->sipkey, d->iv, sizeof(d->iv));
	return (uint16_t)(d->iv[0] | d->iv[1] << 8);
}

int ntcp2_frame_seal(struct ntcp2_dir *d, uint8_t *out, const uint8_t *plain,
		     size_t plen)
{
	uint16_t len;
	int r;

	if (plen > NTCP2_FRAME_MAX_PLAIN_BYTES)
		return ERR_TOO_BIG;
	/* "Maximum value is 2**64 - 2 ... The value 2**64 - 1 must never
	 * be sent." */
	if (d->n == UINT64_MAX)
		return ERR_LIMIT;
	len = (uint16_t)(plen + NTCP2_TAG_BYTES);
	if ((r = aead(d, true, out + NTCP2_LEN_BYTES, plain, plen)) != 0)
		return r;
	be16_put(out, len ^ ntcp2_dir_next_mask(d));
	d->n++;
	return 0;
}

int ntcp2_frame_len_decode(struct ntcp2_dir *d, const uint8_t in[2],
			   size_t *len)
{
	size_t l = be16_get(in) ^ ntcp2_dir_next_mask(d);

	if (l < NTCP2_FRAME_MIN_BYTES)
		return ERR_FORMAT;
	*len = l;
	return 0;
}

int ntcp2_frame_open(struct ntcp2_dir *d, uint8_t *buf, size_t len,
		     size_t *plen)
{
	int r;

	if (len < NTCP2_TAG_BYTES)
		return ERR_TRUNCATED;
	if (d->n == UINT64_MAX)
		return ERR_LIMIT;
	if ((r = aead(d, false, buf, buf, len - NTCP2_TAG_BYTES)) != 0)
		return r;
	d->n++;
	*plen = len - NTCP2_TAG_BYTES;
	return 0;
}

/* ---- blocks ---- */

/* The size limits of a known block type; false for unknown types. */
static bool block_limits(uint8_t type, size_t *min, size_t *max)
{
	switch (type) {
	case NTCP2_BLOCK_DATETIME:
		*min = *max = NTCP2_DATETIME_BYTES;
		return true;
	case NTCP2_BLOCK_OPTIONS:
		*min = NTCP2_OPTIONS_MIN_BYTES;
		*max = NTCP2_BLOCK_MAX_BYTES;
		return true;
	case NTCP2_BLOCK_ROUTERINFO:
		*min = 2;
		*max = NTCP2_RI_BLOCK_MAX_BYTES;
		return true;
	case NTCP2_BLOCK_I2NP:
		*min = NTCP2_I2NP_BLOCK_MIN_BYTES;
		*max = NTCP2_I2NP_BLOCK_MAX_BYTES;
		return true;
	case NTCP2_BLOCK_TERMINATION:
		*min = NTCP2_TERMINATION_MIN_BYTES;
		*max = NTCP2_BLOCK_MAX_BYTES;
		return true;
	case NTCP2_BLOCK_PADDING:
		*min = 0;
		*max = NTCP2_BLOCK_MAX_BYTES;
		return true;
	default:
		return false;
	}
}

int ntcp2_block_decode(struct breader *r, struct ntcp2_block *out)
{
	size_t len, min, max;

	memset(out, 0, sizeof(*out));
	out->type = br_u8(r);
	len = br_be16(r);
	if (r->failed)
		return ERR_TRUNCATED;
	if (block_limits(out->type, &min, &max)) {
		if (len > max)
			return ERR_TOO_BIG;
		if (len < min)
			return ERR_FORMAT;
	}
	out->data = br_take(r, len);
	out->len = len;
	return r->failed ? ERR_TRUNCATED : 0;
}

/* Message 3 part 2: RouterInfo, then Options?, then Padding?. */
static int check_msg3_order(unsigned idx, uint8_t type, uint8_t *last)
{
	if (idx == 0)
		return type == NTCP2_BLOCK_ROUTERINFO ? 0 : ERR_FORMAT;
	if ((type == NTCP2_BLOCK_OPTIONS && *last == NTCP2_BLOCK_ROUTERINFO) ||
	    (type == NTCP2_BLOCK_PADDING && *last != NTCP2_BLOCK_PADDING))
		return 0;
	return ERR_FORMAT;
}

int ntcp2_frame_check(const uint8_t *p, size_t len, enum ntcp2_frame_kind kind,
		      size_t *nblocks)
{
	struct breader r;
	struct ntcp2_block b;
	size_t n = 0;
	bool seen_padding = false, seen_term = false;
	uint8_t last = 0;
	int e;

	br_init(&r, p, len);
	while (br_left(&r) > 0) {
		if ((e = ntcp2_block_decode(&r, &b)) != 0)
			return e;
		/* Nothing may follow Padding; only Padding may follow
		 * Termination. */
		if (seen_padding || (seen_term && b.type != NTCP2_BLOCK_PADDING))
			return ERR_FORMAT;
		switch (kind) {
		case NTCP2_FRAME_MSG3:
			if ((e = check_msg3_order(n, b.type, &last)) != 0)
				return e;
			break;
		case NTCP2_FRAME_DATA:
			break;
		}
		seen_padding = b.type == NTCP2_BLOCK_PADDING;
		seen_term = seen_term || b.type == NTCP2_BLOCK_TERMINATION;
		last = b.type;
		n++;
	}
	if (kind == NTCP2_FRAME_MSG3 && n == 0)
		return ERR_FORMAT;	/* "Alice's Router Info block (required)" */
	if (nblocks)
		*nblocks = n;
	return 0;
}

int ntcp2_block_datetime(const struct ntcp2_block *b, uint32_t *ts_s)
{
	if (b->type != NTCP2_BLOCK_DATETIME || b->len != NTCP2_DATETIME_BYTES)
		return ERR_FORMAT;
	*ts_s = be32_get(b->data);
	return 0;
}

int ntcp2_block_routerinfo(const struct ntcp2_block *b, uint8_t *flag,
			   const uint8_t **ri, size_t *ri_len)
{
	if (b->type != NTCP2_BLOCK_ROUTERINFO || b->len < 2 ||
	    b->len > NTCP2_RI_BLOCK_MAX_BYTES)
		return ERR_FORMAT;
	*flag = b->data[0];
	*ri = b->data + 1;
	*ri_len = b->len - 1;
	return 0;
}

int ntcp2_block_termination(const struct ntcp2_block *b, uint64_t *frames,
			    uint8_t *reason)
{
	if (b->type != NTCP2_BLOCK_TERMINATION ||
	    b->len < NTCP2_TERMINATION_MIN_BYTES)
		return ERR_FORMAT;
	*frames = be64_get(b->data);
	*reason = b->data[8];
	return 0;
}

int ntcp2_block_options(const struct ntcp2_block *b, struct ntcp2_options *o)
{
	struct breader r;

	if (b->type != NTCP2_BLOCK_OPTIONS || b->len < NTCP2_OPTIONS_MIN_BYTES)
		return ERR_FORMAT;
	br_init(&r, b->data, b->len);
	o->tmin = br_u8(&r);
	o->tmax = br_u8(&r);
	o->rmin = br_u8(&r);
	o->rmax = br_u8(&r);
	o->tdmy = br_be16(&r);
	o->rdmy = br_be16(&r);
	o->tdelay = br_be16(&r);
	o->rdelay = br_be16(&r);
	/* "more_options :: Format TBD": ignored. */
	return r.failed ? ERR_TRUNCATED : 0;
}

static void put_header(struct bbuf *out, uint8_t type, size_t len)
{
	bbuf_u8(out, type);
	bbuf_be16(out, (uint16_t)len);
}

void ntcp2_block_put_datetime(struct bbuf *out, uint32_t ts_s)
{
	put_header(out, NTCP2_BLOCK_DATETIME, NTCP2_DATETIME_BYTES);
	bbuf_be32(out, ts_s);
}

void ntcp2_block_put_options(struct bbuf *out, const struct ntcp2_options *o)
{
	put_header(out, NTCP2_BLOCK_OPTIONS, NTCP2_OPTIONS_MIN_BYTES);
	bbuf_u8(out, o->tmin);
	bbuf_u8(out, o->tmax);
	bbuf_u8(out, o->rmin);
	bbuf_u8(out, o->rmax);
	bbuf_be16(out, o->tdmy);
	bbuf_be16(out, o->rdmy);
	bbuf_be16(out, o->tdelay);
	bbuf_be16(out, o->rdelay);
}

int ntcp2_block_put_routerinfo(struct bbuf *out, uint8_t flag,
			       const uint8_t *ri, size_t ri_len)
{
	if (ri_len == 0 || ri_len > NTCP2_RI_MAX_BYTES)
		return ERR_TOO_BIG;
	put_header(out, NTCP2_BLOCK_ROUTERINFO, 1 + ri_len);
	bbuf_u8(out, flag);
	bbuf_put(out, ri, ri_len);
	return 0;
}

int ntcp2_block_put_i2np(struct bbuf *out, const struct i2np_msg *m)
{
	if (m->len > I2NP_MAX_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	put_header(out, NTCP2_BLOCK_I2NP, I2NP_SHORT_HEADER_BYTES + m->len);
	i2np_msg_encode_short(m, out);
	return 0;
}

void ntcp2_block_put_termination(struct bbuf *out, uint64_t frames,
				 uint8_t reason)
{
	put_header(out, NTCP2_BLOCK_TERMINATION, NTCP2_TERMINATION_MIN_BYTES);
	bbuf_be64(out, frames);
	bbuf_u8(out, reason);
}

void ntcp2_block_put_padding(struct bbuf *out, size_t n)
{
	if (n > NTCP2_BLOCK_MAX_BYTES)
		n = NTCP2_BLOCK_MAX_BYTES;
	put_header(out, NTCP2_BLOCK_PADDING, n);
	rand_bytes(bbuf_extend(out, n), n);
}
