/*
 * router/datagram: the client payload's gzip header (ports in bytes 4-7,
 * XFL 2, protocol in byte 9, checked byte by byte and through zlib's own
 * header reader), inflate caps, repliable datagrams signed and checked
 * (tampering, truncation, another signer), raw payloads.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/err.h"
#include "crypto/ed25519.h"
#include "crypto/rand.h"
#include "router/datagram.h"
#include "router/keys_and_cert.h"

#include <string.h>
#include <zlib.h>

static void test_client_payload(struct tctx *t)
{
	static const char msg[] = "hello over i2p, hello over i2p, hello";
	struct client_payload_hdr h = { 1234, 0xfedc, DATAGRAM_PROTO_RAW }, g;
	struct bbuf b = BBUF_INIT;
	uint8_t out[128];
	size_t n = 0;

	T_OK(t, client_payload_encode(msg, sizeof(msg), &h, &b));
	T_EQ(t, b.data[0], 0x1f);
	T_EQ(t, b.data[1], 0x8b);
	T_EQ(t, b.data[4], 0x04);
	T_EQ(t, b.data[5], 0xd2);
	T_EQ(t, b.data[6], 0xfe);
	T_EQ(t, b.data[7], 0xdc);
	T_EQ(t, b.data[8], 2);
	T_EQ(t, b.data[9], 18);
	T_OK(t, client_payload_decode(b.data, b.len, &g, out, sizeof(out), &n));
	T_EQ(t, n, sizeof(msg));
	T_MEMEQ(t, out, msg, sizeof(msg));
	T_EQ(t, g.src_port, 1234);
	T_EQ(t, g.dst_port, 0xfedc);
	T_EQ(t, g.proto, 18);
	/* zlib reads the same member as plain gzip: MTIME holds the ports */
	{
		z_stream z;
		gz_header gh;
		uint8_t o2[128];

		memset(&z, 0, sizeof(z));
		memset(&gh, 0, sizeof(gh));
		T_EQ(t, inflateInit2(&z, 16 + 15), Z_OK);
		T_EQ(t, inflateGetHeader(&z, &gh), Z_OK);
		z.next_in = b.data;
		z.avail_in = (uInt)b.len;
		z.next_out = o2;
		z.avail_out = sizeof(o2);
		T_EQ(t, inflate(&z, Z_FINISH), Z_STREAM_END);
		T_EQ(t, gh.time & 0xff, 0x04);		/* little-endian MTIME */
		T_EQ(t, gh.time >> 8 & 0xff, 0xd2);
		T_EQ(t, gh.time >> 16 & 0xff, 0xfe);
		T_EQ(t, gh.time >> 24 & 0xff, 0xdc);
		T_EQ(t, gh.xflags, 2);
		T_EQ(t, gh.os, 18);
		T_EQ(t, z.total_out, sizeof(msg));
		inflateEnd(&z);
	}
	/* a cap below the size, a cut stream, a bad magic */
	T_ERR(t, client_payload_decode(b.data, b.len, &g, out, 8, &n),
	      ERR_TOO_BIG);
	T_TRUE(t, client_payload_decode(b.data, b.len - 3, &g, out,
					sizeof(out), &n) != 0);
	T_ERR(t, client_payload_decode(b.data, 5, &g, out, sizeof(out), &n),
	      ERR_TRUNCATED);
	b.data[0] ^= 1;
	T_ERR(t, client_payload_decode(b.data, b.len, &g, out, sizeof(out),
				       &n), ERR_FORMAT);
	bbuf_free(&b);
}

static void make_dest(struct keys_and_cert *k, struct ed25519_seed *sk)
{
	struct ed25519_pk pk;

	ed25519_keygen(sk, &pk);
	keys_and_cert_build(k, NULL, &pk, NULL);
}

static void test_repliable(struct tctx *t)
{
	struct keys_and_cert me, other, got;
	struct ed25519_seed sk, sk2;
	struct bbuf b = BBUF_INIT;
	uint8_t payload[300];
	const uint8_t *p = NULL;
	size_t n = 0;

	make_dest(&me, &sk);
	make_dest(&other, &sk2);
	rand_bytes(payload, sizeof(payload));
	T_OK(t, datagram_repliable_encode(&me, &sk, payload, sizeof(payload),
					  &b));
	T_EQ(t, b.len, me.len + 64 + sizeof(payload));
	T_OK(t, datagram_repliable_decode(b.data, b.len, &got, &p, &n));
	T_EQ(t, n, sizeof(payload));
	T_MEMEQ(t, p, payload, sizeof(payload));
	T_MEMEQ(t, got.hash, me.hash, 32);
	/* the signature is Ed25519 over exactly the payload */
	{
		struct ed25519_sig sig;
		struct ed25519_pk pk;

		memcpy(sig.b, b.data + me.len, 64);
		T_OK(t, keys_and_cert_ed25519_pk(&me, &pk));
		T_TRUE(t, ed25519_verify(&sig, &pk, payload, sizeof(payload)));
	}
	/* tampered payload, signature, or a different sender's identity */
	b.data[b.len - 1] ^= 1;
	T_ERR(t, datagram_repliable_decode(b.data, b.len, &got, &p, &n),
	      ERR_BAD_SIG);
	b.data[b.len - 1] ^= 1;
	b.data[me.len + 3] ^= 1;
	T_ERR(t, datagram_repliable_decode(b.data, b.len, &got, &p, &n),
	      ERR_BAD_SIG);
	b.data[me.len + 3] ^= 1;
	memcpy(b.data, other.raw, other.len);
	T_ERR(t, datagram_repliable_decode(b.data, b.len, &got, &p, &n),
	      ERR_BAD_SIG);
	memcpy(b.data, me.raw, me.len);
	/* every truncation fails */
	for (size_t cut = 0; cut < me.len + 64; cut += 7)
		T_TRUE(t, datagram_repliable_decode(b.data, cut, &got, &p,
						    &n) != 0);
	/* empty payload is allowed; oversize is not */
	bbuf_reset(&b);
	T_OK(t, datagram_repliable_encode(&me, &sk, NULL, 0, &b));
	T_OK(t, datagram_repliable_decode(b.data, b.len, &got, &p, &n));
	T_EQ(t, n, 0);
	T_ERR(t, datagram_repliable_encode(&me, &sk, payload,
					  DATAGRAM_MAX_PAYLOAD_BYTES + 1, &b),
	      ERR_TOO_BIG);
	bbuf_free(&b);
}

/* A raw datagram is the payload alone, inside the protocol-18 wrapper. */
static void test_raw(struct tctx *t)
{
	struct client_payload_hdr h = { 7, 8, DATAGRAM_PROTO_RAW }, g;
	struct bbuf b = BBUF_INIT;
	uint8_t data[1000], out[1000];
	size_t n = 0;

	rand_bytes(data, sizeof(data));
	T_OK(t, client_payload_encode(data, sizeof(data), &h, &b));
	T_OK(t, client_payload_decode(b.data, b.len, &g, out, sizeof(out), &n));
	T_EQ(t, n, sizeof(data));
	T_MEMEQ(t, out, data, sizeof(data));
	T_EQ(t, g.proto, DATAGRAM_PROTO_RAW);
	bbuf_free(&b);
}

const struct test_case router_datagram_tests[] = {
	{ "client_payload", test_client_payload, 0 },
	{ "repliable", test_repliable, 0 },
	{ "raw", test_raw, 0 },
	{ NULL, NULL, 0 }
};
