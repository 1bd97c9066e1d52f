/*
 * Streaming packet codec (streaming spec, "Packet Format", "Flags and
 * Option Data Fields", "Variable Length Signature Notes").  The connection
 * logic that uses it is in stream.c.
 */
#include "config.h"
#include "apps/client/stream_packet.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "router/certificate.h"
#include "router/leaseset.h"

/* Read the OFFLINE_SIGNATURE option; `from` gives the length of the
 * destination's signature over it. */
static int offline_decode(struct breader *r, const struct keys_and_cert *from,
			  struct stream_offline_sig *o)
{
	o->expires_s = br_be32(r);
	o->transient_type = br_be16(r);
	o->transient_key_len = cert_sig_pubkey_len(o->transient_type);
	o->sig_len = keys_and_cert_sig_len(from);
	if (r->failed)
		return ERR_FORMAT;
	if (o->transient_key_len == 0 || o->sig_len == 0)
		return ERR_UNSUPPORTED;
	o->transient_key = br_take(r, o->transient_key_len);
	o->sig = br_take(r, o->sig_len);
	return r->failed ? ERR_FORMAT : 0;
}

/* The option data, in the spec's "Option Order". */
static int options_decode(const uint8_t *opts, size_t optlen, size_t opt_off,
			  struct stream_packet *p)
{
	struct breader r;
	int e;

	br_init(&r, opts, optlen);
	if (p->flags & STREAM_F_DELAY)			/* order 1 */
		p->delay_ms = br_be16(&r);
	if (p->flags & STREAM_F_FROM) {			/* order 2 */
		if (r.failed)
			return ERR_FORMAT;
		if ((e = keys_and_cert_decode(&r, &p->from)) != 0)
			return e == ERR_TRUNCATED ? ERR_FORMAT : e;
	}
	if (p->flags & STREAM_F_MAX_SIZE)		/* order 3 */
		p->max_size = br_be16(&r);
	if (p->flags & STREAM_F_OFFLINE) {		/* order 4 */
		/* "FROM_INCLUDED must also be set." */
		if (!(p->flags & STREAM_F_FROM))
			return ERR_FORMAT;
		if ((e = offline_decode(&r, &p->from, &p->offline)) != 0)
			return e;
	}
	if (p->flags & STREAM_F_SIG) {			/* order 5 */
		if (p->flags & STREAM_F_OFFLINE)
			p->sig_len = cert_sig_len(p->offline.transient_type);
		else if (p->flags & STREAM_F_FROM)
			p->sig_len = keys_and_cert_sig_len(&p->from);
		else	/* the signature is the last option: it takes the rest */
			p->sig_len = br_left(&r);
		if (p->sig_len == 0)
			return (p->flags & STREAM_F_FROM) ? ERR_UNSUPPORTED :
							    ERR_FORMAT;
		if (p->sig_len > STREAM_SIG_MAX_BYTES)
			return ERR_FORMAT;
		p->sig_off = opt_off + (optlen - br_left(&r));
		p->sig = br_take(&r, p->sig_len);
	}
	return br_done(&r) ? 0 : ERR_FORMAT;
}

int stream_packet_decode(const uint8_t *buf, size_t len,
			 struct stream_packet *out)
{
	struct stream_packet *p;
	struct breader r;
	const uint8_t *opts;
	size_t optlen, opt_off;
	int e;

	if (len > STREAM_PACKET_MAX_BYTES)
		return ERR_TOO_BIG;
	p = xzalloc(sizeof(*p));
	br_init(&r, buf, len);
	p->send_id = br_be32(&r);
	p->recv_id = br_be32(&r);
	p->seq = br_be32(&r);
	p->ack_through = br_be32(&r);
	p->nack_count = br_u8(&r);
	for (unsigned i = 0; i < p->nack_count && !r.failed; i++)
		p->nacks[i] = br_be32(&r);
	p->resend_delay = br_u8(&r);
	p->flags = br_be16(&r);
	optlen = br_be16(&r);
	opt_off = len - br_left(&r);
	opts = br_take(&r, optlen);
	if (r.failed) {
		e = ERR_TRUNCATED;
		goto out;
	}
	if ((e = options_decode(opts, optlen, opt_off, p)) != 0)
		goto out;
	p->payload = buf + (len - br_left(&r));
	p->payload_len = br_left(&r);
	memcpy(out, p, sizeof(*p));
out:
	free(p);
	return e;
}

int stream_packet_encode(const struct stream_packet *p,
			 const struct stream_signer *signer, struct bbuf *out)
{
	size_t start = out->len, optsize_at, opt_start, sig_at = 0;

	if ((p->flags & (STREAM_F_SIG | STREAM_F_FROM)) &&
	    (!signer || !signer->dest || !signer->sign ||
	     signer->sig_len == 0 || signer->sig_len > STREAM_SIG_MAX_BYTES))
		return ERR_ARG;
	if (p->flags & STREAM_F_OFFLINE)
		return ERR_UNSUPPORTED;
	if (p->payload_len > STREAM_PACKET_MAX_BYTES - STREAM_HEADER_MIN_BYTES)
		return ERR_ARG;
	bbuf_be32(out, p->send_id);
	bbuf_be32(out, p->recv_id);
	bbuf_be32(out, p->seq);
	bbuf_be32(out, p->ack_through);
	bbuf_u8(out, p->nack_count);
	for (unsigned i = 0; i < p->nack_count; i++)
		bbuf_be32(out, p->nacks[i]);
	bbuf_u8(out, p->resend_delay);
	bbuf_be16(out, p->flags);
	optsize_at = out->len;
	bbuf_be16(out, 0);
	opt_start = out->len;
	if (p->flags & STREAM_F_DELAY)
		bbuf_be16(out, p->delay_ms);
	if (p->flags & STREAM_F_FROM)
		bbuf_put(out, signer->dest->raw, signer->dest->len);
	if (p->flags & STREAM_F_MAX_SIZE)
		bbuf_be16(out, p->max_size);
	if (p->flags & STREAM_F_SIG) {
		sig_at = out->len;
		memset(bbuf_extend(out, signer->sig_len), 0, signer->sig_len);
	}
	be16_put(out->data + optsize_at, (uint16_t)(out->len - opt_start));
	if (p->payload_len)
		bbuf_put(out, p->payload, p->payload_len);
	/* "sign the entire header and payload with the space in the option
	 * data field for the signature being set to all zeroes" */
	if (p->flags & STREAM_F_SIG)
		signer->sign(signer->ctx, out->data + start, out->len - start,
			     out->data + sig_at);
	return 0;
}

int stream_packet_verify(const struct stream_packet *p, const uint8_t *buf,
			 size_t len, const struct keys_and_cert *from,
			 uint64_t now_s)
{
	uint8_t *copy;
	int e;

	if (!(p->flags & STREAM_F_SIG) || !p->sig ||
	    p->sig_off + p->sig_len > len)
		return ERR_FORMAT;
	copy = xmemdup(buf, len);
	memset(copy + p->sig_off, 0, p->sig_len);
	if (p->flags & STREAM_F_OFFLINE) {
		const struct stream_offline_sig *o = &p->offline;
		uint8_t signed_part[6 + KAC_MAX_SIG_PUBKEY_BYTES];

		if (o->expires_s < now_s) {
			e = ERR_EXPIRED;
			goto out;
		}
		be32_put(signed_part, o->expires_s);
		be16_put(signed_part + 4, o->transient_type);
		memcpy(signed_part + 6, o->transient_key, o->transient_key_len);
		if ((e = keys_and_cert_verify(from, signed_part,
					      6 + o->transient_key_len, o->sig,
					      o->sig_len)) != 0)
			goto out;
		e = leaseset_sig_verify(o->transient_type, o->transient_key,
			       o->transient_key_len, copy, len, p->sig,
			       p->sig_len);
	} else {
		e = keys_and_cert_verify(from, copy, len, p->sig, p->sig_len);
	}
out:
	free(copy);
	return e;
}
