/*
 * libFuzzer target: SSU2 packet headers and handshake parsers.  The input
 * is taken as a received datagram: its header is peeled with fixed keys
 * the way router/ssu2.c does, decoded as long or short header, and handed
 * to the reader of its type (SessionRequest, SessionCreated and
 * SessionConfirmed with fresh handshake states, out-of-session messages,
 * data packets).  Then the input is used as a payload: sealed as a data
 * packet and an out-of-session packet and opened again, which must give
 * the same bytes.
 */
#include "config.h"
#include "router/ssu2_handshake.h"
#include "crypto/base/alloc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t ik[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const uint8_t ik2[32] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };

static void parse(const uint8_t *data, size_t size)
{
	static uint8_t pkt[SSU2_MAX_PACKET_BYTES], out[SSU2_MAX_PACKET_BYTES];
	struct x25519_sk sk = { { 0x41, 0x42, 0x43 } };
	struct x25519_pk bs;
	struct noise_static st;
	struct ssu2_long_hdr lh;
	struct ssu2_short_hdr sh;
	struct ssu2_dir_keys dk;
	struct ssu2_hs hs;
	size_t plen;

	if (size < SSU2_MIN_PACKET_BYTES || size > sizeof(pkt))
		return;
	memcpy(pkt, data, size);
	noise_static_from_sk(&st, &sk);
	ssu2_hp_part1(pkt, size, ik);
	(void)ssu2_pkt_dst_id(pkt);
	ssu2_hp_part2(pkt, size, ik);
	ssu2_short_hdr_decode(pkt, &sh);
	if (ssu2_type_is_long(sh.type)) {
		size_t n = sh.type <= SSU2_SESSION_CREATED ? 48 : 16;

		if (size < 16 + n + 24)
			return;
		ssu2_hp_long(pkt, size, ik, n);
		ssu2_long_hdr_decode(pkt, &lh);
		switch (lh.type) {
		case SSU2_SESSION_REQUEST:
			ssu2_hs_init_bob(&hs, &st, ik);
			(void)ssu2_hs_read_request(&hs, pkt, size, out,
						   sizeof(out), &plen);
			ssu2_hs_wipe(&hs);
			break;
		case SSU2_SESSION_CREATED:
			x25519_pk_from_sk(&bs, &sk);
			ssu2_hs_init_alice(&hs, &st, &bs, ik);
			(void)ssu2_hs_read_created(&hs, pkt, size, out,
						   sizeof(out), &plen);
			ssu2_hs_wipe(&hs);
			break;
		default:
			(void)ssu2_oos_decrypt(pkt, size, ik, out, sizeof(out),
					       &plen);
			break;
		}
		return;
	}
	if (sh.type == SSU2_SESSION_CONFIRMED) {
		ssu2_hs_init_bob(&hs, &st, ik);
		(void)ssu2_hs_read_confirmed(&hs, pkt, size, out, sizeof(out),
					     &plen);
		ssu2_hs_wipe(&hs);
		return;
	}
	memcpy(dk.k_data, ik2, 32);
	memcpy(dk.k_hdr2, ik, 32);
	(void)ssu2_data_decrypt(&dk, pkt, size, out, sizeof(out), &plen);
}

static void roundtrip(const uint8_t *data, size_t size)
{
	static uint8_t pkt[SSU2_MAX_PACKET_BYTES], out[SSU2_MAX_PACKET_BYTES];
	struct ssu2_dir_keys dk;
	struct ssu2_long_hdr lh = { .dst_id = 1, .src_id = 2, .pkt_num = 3,
				    .type = SSU2_PEER_TEST, .ver = 2 };
	size_t len, plen;

	if (size < SSU2_MIN_PAYLOAD_BYTES)
		return;
	memcpy(dk.k_data, ik2, 32);
	memcpy(dk.k_hdr2, ik, 32);
	if (ssu2_data_encrypt(&dk, ik2, 77, (uint32_t)size, 1, data, size, pkt,
			      sizeof(pkt), &len) == 0) {
		ssu2_hp_part1(pkt, len, ik2);
		ssu2_hp_part2(pkt, len, ik);
		if (ssu2_pkt_dst_id(pkt) != 77 ||
		    ssu2_data_decrypt(&dk, pkt, len, out, sizeof(out),
				      &plen) != 0 ||
		    plen != size || memcmp(out, data, size) != 0)
			abort();
	}
	if (ssu2_oos_encrypt(&lh, ik, data, size, pkt, sizeof(pkt),
			     &len) == 0) {
		ssu2_hp_part1(pkt, len, ik);
		ssu2_hp_part2(pkt, len, ik);
		ssu2_hp_long(pkt, len, ik, 16);
		if (ssu2_oos_decrypt(pkt, len, ik, out, sizeof(out),
				     &plen) != 0 ||
		    plen != size || memcmp(out, data, size) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse(data, size);
	roundtrip(data, size);
	return 0;
}
