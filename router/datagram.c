/*
 * Client payload wrapper and datagrams (router/datagram.h): the datagrams
 * spec ("Repliable datagrams", "Raw datagrams") and the i2cp spec's gzip
 * header with ports, on router/gzip.h.
 */
#include "config.h"
#include "router/datagram.h"
#include "crypto/base/err.h"
#include "router/gzip.h"

#include <string.h>

int client_payload_encode(const void *data, size_t len,
			  const struct client_payload_hdr *h, struct bbuf *out)
{
	size_t at = out->len;
	int r;

	if (len > CLIENT_PAYLOAD_MAX_BYTES)
		return ERR_TOO_BIG;
	/* Stored, not compressed, as i2pd sends them by default: zlib's
	 * compressor set up per payload was over half the CPU of a stream's
	 * endpoints (its state alone is 256 KiB), and the payloads that
	 * cross tunnels are mostly compressed or encrypted already. */
	if ((r = gzip_store(data, len, out)) != 0)
		return r;
	/* the MTIME field carries the ports, XFL = 2, OS = protocol */
	be16_put(out->data + at + 4, h->src_port);
	be16_put(out->data + at + 6, h->dst_port);
	out->data[at + 8] = 2;
	out->data[at + 9] = h->proto;
	return 0;
}

int client_payload_decode(const uint8_t *in, size_t len,
			  struct client_payload_hdr *h, uint8_t *out,
			  size_t outmax, size_t *outlen)
{
	struct client_payload_hdr tmp;
	int r;

	if (len < CLIENT_PAYLOAD_HEADER_BYTES)
		return ERR_TRUNCATED;
	if (in[0] != 0x1f || in[1] != 0x8b || in[2] != 8)
		return ERR_FORMAT;
	tmp.src_port = be16_get(in + 4);
	tmp.dst_port = be16_get(in + 6);
	tmp.proto = in[9];
	if ((r = gzip_decompress(in, len, out, outmax, outlen)) != 0)
		return r;
	*h = tmp;
	return 0;
}

int datagram_repliable_encode(const struct keys_and_cert *from,
			      const struct ed25519_seed *sk,
			      const void *payload, size_t len,
			      struct bbuf *out)
{
	struct ed25519_sig sig;

	if (len > DATAGRAM_MAX_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	if (from->sig_type != CERT_SIG_EDDSA_SHA512_ED25519)
		return ERR_UNSUPPORTED;
	/* "the signature covers the payload" (Ed25519: the payload itself) */
	ed25519_sign(&sig, sk, payload, len);
	bbuf_put(out, from->raw, from->len);
	bbuf_put(out, sig.b, sizeof(sig.b));
	bbuf_put(out, payload, len);
	return 0;
}

int datagram_repliable_decode(const uint8_t *in, size_t len,
			      struct keys_and_cert *from,
			      const uint8_t **payload, size_t *plen)
{
	struct breader r;
	const uint8_t *sig, *p;
	size_t siglen, n;
	int ret;

	br_init(&r, in, len);
	if ((ret = keys_and_cert_decode(&r, from)) != 0)
		return ret;
	siglen = keys_and_cert_sig_len(from);
	if (siglen == 0)
		return ERR_UNSUPPORTED;
	sig = br_take(&r, siglen);
	if (r.failed)
		return ERR_TRUNCATED;
	if (br_left(&r) > DATAGRAM_MAX_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	n = br_left(&r);
	p = br_take(&r, n);
	if ((ret = keys_and_cert_verify(from, p, n, sig, siglen)) != 0)
		return ret;
	*payload = p;
	*plen = n;
	return 0;
}
