/*
 * apps/client/stream_packet: known-answer packets built by hand from the
 * tables of the streaming spec ("Packet Format", "Flags and Option Data
 * Fields"), round trips, signatures (plain and offline) and bad input.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/client/dest.h"
#include "apps/client/stream_packet.h"
#include "crypto/base/err.h"
#include "crypto/ed25519.h"
#include "tests/unit/client/tclient.h"
#include "tests/unit/tharness.h"

static const char http_get[] = "GET / HTTP/1.0\r\n\r\n";

/* A SYN as the initiator sends it: every field written out per the spec. */
static void test_syn_known_answer(struct tctx *t)
{
	struct client_dest *d = tclient_dest(7);
	const struct keys_and_cert *me = client_dest_pub(d);
	struct stream_signer sg;
	struct stream_packet p;
	struct bbuf got = BBUF_INIT, want = BBUF_INIT;
	struct ed25519_pk pk;
	struct ed25519_sig sig;
	static const uint8_t hdr[] = {
		0x00, 0x00, 0x00, 0x00,	/* sendStreamId: 0 in the SYN */
		0x11, 0x22, 0x33, 0x44,	/* receiveStreamId: ours */
		0x00, 0x00, 0x00, 0x00,	/* sequenceNum 0 */
		0x00, 0x00, 0x00, 0x00,	/* ackThrough (ignored: NO_ACK) */
		0x00,			/* NACK count */
		0x09,			/* resendDelay: 9 s */
		0x04, 0xa9,		/* NO_ACK|MAX_SIZE|FROM|SIG|SYN */
		0x01, 0xc9,		/* option size 391 + 2 + 64 = 457 */
	};
	size_t sig_at;

	client_dest_signer(d, &sg);
	T_EQ(t, me->len, 391);
	T_EQ(t, sg.sig_len, 64);
	/* The hand-built packet: header, FROM (order 2), max packet size
	 * (order 3), 64 zero bytes for the signature (order 5), payload. */
	bbuf_put(&want, hdr, sizeof(hdr));
	bbuf_put(&want, me->raw, me->len);
	bbuf_be16(&want, 1730);
	sig_at = want.len;
	memset(bbuf_extend(&want, 64), 0, 64);
	bbuf_put(&want, http_get, strlen(http_get));
	T_OK(t, keys_and_cert_ed25519_pk(me, &pk));
	{
		struct ed25519_seed seed;

		memset(seed.b, 7, sizeof(seed.b));	/* tclient_dest(7) */
		ed25519_sign(&sig, &seed, want.data, want.len);
	}
	memcpy(want.data + sig_at, sig.b, 64);

	memset(&p, 0, sizeof(p));
	p.recv_id = 0x11223344;
	p.resend_delay = 9;
	p.flags = STREAM_F_SYN | STREAM_F_SIG | STREAM_F_FROM |
		  STREAM_F_MAX_SIZE | STREAM_F_NO_ACK;
	T_EQ(t, p.flags, 0x04a9);
	p.max_size = 1730;
	p.payload = (const uint8_t *)http_get;
	p.payload_len = strlen(http_get);
	T_OK(t, stream_packet_encode(&p, &sg, &got));
	T_EQ(t, got.len, want.len);
	if (got.len == want.len)
		T_MEMEQ(t, got.data, want.data, want.len);

	/* Decode it back and check the signature both ways. */
	memset(&p, 0xee, sizeof(p));
	T_OK(t, stream_packet_decode(got.data, got.len, &p));
	T_EQ(t, p.send_id, 0);
	T_EQ(t, p.recv_id, 0x11223344);
	T_EQ(t, p.flags, 0x04a9);
	T_EQ(t, p.max_size, 1730);
	T_EQ(t, p.from.len, 391);
	T_MEMEQ(t, p.from.hash, me->hash, 32);
	T_EQ(t, p.sig_len, 64);
	T_EQ(t, p.sig_off, sig_at);
	T_EQ(t, p.payload_len, strlen(http_get));
	T_MEMEQ(t, p.payload, http_get, strlen(http_get));
	T_OK(t, stream_packet_verify(&p, got.data, got.len, &p.from, 0));
	got.data[got.len - 1] ^= 1;		/* payload is signed */
	T_ERR(t, stream_packet_verify(&p, got.data, got.len, &p.from, 0),
	      ERR_BAD_SIG);
	bbuf_free(&got);
	bbuf_free(&want);
	client_dest_free(d);
}

/* A plain ACK with two NACKs, choking by DELAY_REQUESTED > 60000. */
static void test_ack_nacks_known_answer(struct tctx *t)
{
	static const uint8_t wire[] = {
		0x00, 0x00, 0x01, 0x00,	/* sendStreamId */
		0x00, 0x00, 0x02, 0x00,	/* receiveStreamId */
		0x00, 0x00, 0x00, 0x00,	/* sequenceNum 0, no SYN: plain ACK */
		0x00, 0x00, 0x00, 0x0a,	/* ackThrough 10 */
		0x02,			/* two NACKs */
		0x00, 0x00, 0x00, 0x07,
		0x00, 0x00, 0x00, 0x09,
		0x00,			/* resendDelay */
		0x00, 0x40,		/* DELAY_REQUESTED */
		0x00, 0x02,		/* option size */
		0xea, 0x61,		/* 60001 ms: choke */
	};
	struct stream_packet p;
	struct bbuf b = BBUF_INIT;

	T_OK(t, stream_packet_decode(wire, sizeof(wire), &p));
	T_EQ(t, p.send_id, 0x100);
	T_EQ(t, p.recv_id, 0x200);
	T_EQ(t, p.seq, 0);
	T_EQ(t, p.ack_through, 10);
	T_EQ(t, p.nack_count, 2);
	T_EQ(t, p.nacks[0], 7);
	T_EQ(t, p.nacks[1], 9);
	T_EQ(t, p.flags, STREAM_F_DELAY);
	T_EQ(t, p.delay_ms, 60001);
	T_TRUE(t, p.delay_ms > STREAM_DELAY_CHOKE_MS);
	T_EQ(t, p.payload_len, 0);
	T_OK(t, stream_packet_encode(&p, NULL, &b));
	T_EQ(t, b.len, sizeof(wire));
	if (b.len == sizeof(wire))
		T_MEMEQ(t, b.data, wire, sizeof(wire));
	bbuf_free(&b);
}

/* Ping and pong ("Ping / Pong"): the pong echoes the ping's payload. */
static void test_pong_known_answer(struct tctx *t)
{
	static const uint8_t wire[] = {
		0x00, 0x00, 0x00, 0x00,	/* sendStreamId must be zero */
		0x0a, 0x0b, 0x0c, 0x0d,	/* the ping's sendStreamId */
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00,
		0x02, 0x00,		/* ECHO */
		0x00, 0x00,
		'h', 'i',
	};
	struct stream_packet p;
	struct bbuf b = BBUF_INIT;

	T_OK(t, stream_packet_decode(wire, sizeof(wire), &p));
	T_EQ(t, p.flags, STREAM_F_ECHO);
	T_EQ(t, p.recv_id, 0x0a0b0c0d);
	T_EQ(t, p.payload_len, 2);
	T_OK(t, stream_packet_encode(&p, NULL, &b));
	T_EQ(t, b.len, sizeof(wire));
	if (b.len == sizeof(wire))
		T_MEMEQ(t, b.data, wire, sizeof(wire));
	bbuf_free(&b);
}

/* CLOSE and RESET carry a signature but no FROM: its length is the rest
 * of the options, and the key comes from the earlier SYN. */
static void test_close_sig_without_from(struct tctx *t)
{
	struct client_dest *d = tclient_dest(3), *other = tclient_dest(4);
	struct stream_signer sg;
	struct stream_packet p;
	struct bbuf b = BBUF_INIT;

	client_dest_signer(d, &sg);
	memset(&p, 0, sizeof(p));
	p.send_id = 5;
	p.recv_id = 6;
	p.seq = 42;
	p.ack_through = 17;
	p.flags = STREAM_F_CLOSE | STREAM_F_SIG | STREAM_F_DELAY;
	p.delay_ms = 0;
	T_OK(t, stream_packet_encode(&p, &sg, &b));
	T_EQ(t, b.len, STREAM_HEADER_MIN_BYTES + 2 + 64);
	T_EQ(t, be16_get(b.data + 20), 66);
	memset(&p, 0, sizeof(p));
	T_OK(t, stream_packet_decode(b.data, b.len, &p));
	T_EQ(t, p.seq, 42);
	T_EQ(t, p.sig_len, 64);
	T_EQ(t, p.sig_off, STREAM_HEADER_MIN_BYTES + 2);
	T_OK(t, stream_packet_verify(&p, b.data, b.len, client_dest_pub(d), 0));
	T_ERR(t, stream_packet_verify(&p, b.data, b.len,
				      client_dest_pub(other), 0), ERR_BAD_SIG);
	bbuf_free(&b);
	client_dest_free(d);
	client_dest_free(other);
}

/* OFFLINE_SIGNATURE (order 4): the destination signs a transient key,
 * which signs the packet.  Built by hand: we never send one. */
static void test_offline_signature(struct tctx *t)
{
	struct client_dest *d = tclient_dest(9);
	const struct keys_and_cert *me = client_dest_pub(d);
	struct ed25519_seed dseed, tseed;
	struct ed25519_pk tpk;
	struct ed25519_sig s;
	struct stream_packet p;
	struct bbuf b = BBUF_INIT;
	uint8_t block[6 + 32];
	size_t sig_at;

	memset(dseed.b, 9, 32);
	memset(tseed.b, 0x55, 32);
	ed25519_pk_from_seed(&tpk, &tseed);
	be32_put(block, 2000000000u);
	be16_put(block + 4, 7);
	memcpy(block + 6, tpk.b, 32);
	bbuf_be32(&b, 0);
	bbuf_be32(&b, 99);
	bbuf_be32(&b, 0);
	bbuf_be32(&b, 0);
	bbuf_u8(&b, 0);
	bbuf_u8(&b, 0);
	bbuf_be16(&b, STREAM_F_SYN | STREAM_F_FROM | STREAM_F_OFFLINE |
			  STREAM_F_SIG);
	bbuf_be16(&b, (uint16_t)(me->len + sizeof(block) + 64 + 64));
	bbuf_put(&b, me->raw, me->len);
	bbuf_put(&b, block, sizeof(block));
	ed25519_sign(&s, &dseed, block, sizeof(block));
	bbuf_put(&b, s.b, 64);
	sig_at = b.len;
	memset(bbuf_extend(&b, 64), 0, 64);
	bbuf_put(&b, "x", 1);
	ed25519_sign(&s, &tseed, b.data, b.len);
	memcpy(b.data + sig_at, s.b, 64);

	T_OK(t, stream_packet_decode(b.data, b.len, &p));
	T_EQ(t, p.offline.expires_s, 2000000000u);
	T_EQ(t, p.offline.transient_type, 7);
	T_EQ(t, p.offline.transient_key_len, 32);
	T_EQ(t, p.sig_off, sig_at);
	T_EQ(t, p.payload_len, 1);
	T_OK(t, stream_packet_verify(&p, b.data, b.len, &p.from, 1900000000u));
	T_ERR(t, stream_packet_verify(&p, b.data, b.len, &p.from, 2000000001u),
	      ERR_EXPIRED);
	b.data[sig_at - 70] ^= 1;	/* inside the transient key */
	T_OK(t, stream_packet_decode(b.data, b.len, &p));
	T_ERR(t, stream_packet_verify(&p, b.data, b.len, &p.from, 0),
	      ERR_BAD_SIG);
	bbuf_free(&b);
	client_dest_free(d);
}

static void test_bad_input(struct tctx *t)
{
	uint8_t buf[64];
	struct stream_packet p;

	memset(buf, 0, sizeof(buf));
	T_ERR(t, stream_packet_decode(buf, 21, &p), ERR_TRUNCATED);
	T_OK(t, stream_packet_decode(buf, 22, &p));
	buf[16] = 10;				/* 10 NACKs, not there */
	T_ERR(t, stream_packet_decode(buf, 22, &p), ERR_TRUNCATED);
	buf[16] = 0;
	buf[21] = 5;				/* option size past the end */
	T_ERR(t, stream_packet_decode(buf, 22, &p), ERR_TRUNCATED);
	buf[21] = 2;				/* options without flags */
	T_ERR(t, stream_packet_decode(buf, 24, &p), ERR_FORMAT);
	buf[19] = STREAM_F_DELAY;		/* now they match */
	T_OK(t, stream_packet_decode(buf, 24, &p));
	buf[21] = 1;				/* a short delay option */
	T_ERR(t, stream_packet_decode(buf, 24, &p), ERR_FORMAT);
	buf[19] = STREAM_F_FROM;		/* FROM in 1 byte */
	T_ERR(t, stream_packet_decode(buf, 24, &p), ERR_FORMAT);
	buf[19] = STREAM_F_SIG;			/* a 0-byte signature */
	buf[21] = 0;
	T_ERR(t, stream_packet_decode(buf, 24, &p), ERR_FORMAT);
	buf[18] = STREAM_F_OFFLINE >> 8;	/* offline without FROM */
	buf[19] = 0;
	T_ERR(t, stream_packet_decode(buf, 24, &p), ERR_FORMAT);
	{
		uint8_t *big = calloc(1, STREAM_PACKET_MAX_BYTES + 1);

		T_ERR(t, stream_packet_decode(big, STREAM_PACKET_MAX_BYTES + 1,
					      &p), ERR_TOO_BIG);
		free(big);
	}
	/* A signer is needed for FROM or SIG. */
	memset(&p, 0, sizeof(p));
	p.flags = STREAM_F_SIG;
	{
		struct bbuf b = BBUF_INIT;

		T_ERR(t, stream_packet_encode(&p, NULL, &b), ERR_ARG);
		bbuf_free(&b);
	}
}

const struct test_case client_stream_packet_tests[] = {
	{ "syn_known_answer", test_syn_known_answer, 0 },
	{ "ack_nacks_known_answer", test_ack_nacks_known_answer, 0 },
	{ "pong_known_answer", test_pong_known_answer, 0 },
	{ "close_sig_without_from", test_close_sig_without_from, 0 },
	{ "offline_signature", test_offline_signature, 0 },
	{ "bad_input", test_bad_input, 0 },
	{ NULL, NULL, 0 }
};
