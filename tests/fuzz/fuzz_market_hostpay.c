/*
 * libFuzzer target: hosts paid per epoch (apps/market/hostpay.h).  The
 * input is a request to a host (TERMS, VOUCHER, anything else), whose
 * answer must be one of its statuses and at most
 * HOSTPAY_REPLY_MAX_BYTES; and a host's answer to a creator, as terms
 * (its last 32 bytes taken as the proof expected: a voucher request is
 * signed only for well-formed terms) and as the answer to a voucher; and
 * as a host's file of kept lanes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/market/hostpay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool held(void *ctx, const uint8_t hash[32])
{
	(void)ctx;
	return hash[0] != 0xff;
}

static int prove(void *ctx, const uint8_t hash[32],
		 const uint8_t challenge[HOSTPAY_CHALLENGE_BYTES],
		 uint32_t idx, uint8_t proof[HOSTPAY_PROOF_BYTES])
{
	(void)ctx;
	if (idx > 3)
		return -1;
	hostpay_proof(challenge, idx, hash, 32, proof);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sep[32] = { 9 }, peer[32] = { 7 };
	static const uint8_t hash[32] = { 1 };
	static struct secp_sk view = { { 0x22 } }, pot = { { 0x44 } };
	struct chunkpay_policy pol = { .price = { { 5 } }, .credit = 4,
				       .max_paper_ttl_s = 43200 };
	struct hostpay_creator_config cc = { .max_price = { { 10 } },
					     .budget = { { 100 } },
					     .ttl_s = 60 };
	struct hub_pot hp = { .deposit = { { 100 } }, .escrow = { { 800 } } };
	struct u256 price = u256_from_u64(3);
	struct chunkpay_payee *pe;
	struct hostpay_host *h;
	struct hostpay_creator *c;
	struct hostpay_host_stats hs;
	struct secp_pk spend;
	struct bbuf out = BBUF_INIT;
	uint8_t signer[20], req[HOSTPAY_VOUCHER_REQ_BYTES];
	enum chunkpay_reason why;

	view.b[31] = 1;
	if (secp_sk_pubkey(&view, &spend) != 0)
		abort();
	pe = chunkpay_payee_new(&pol, sep, &view, &spend);
	h = hostpay_host_new(pe, &price, held, prove, NULL);
	why = hostpay_host_request(h, peer, data, size, 1000, &out, signer);
	if (why == CHUNKPAY_NEED_POT)
		(void)chunkpay_payee_pot_set(pe, signer, &hp, 1000);
	if (out.len < 1 || out.len > HOSTPAY_REPLY_MAX_BYTES ||
	    out.data[0] > HOSTPAY_BAD_REQUEST)
		abort();
	hostpay_host_stats(h, &hs);
	{
		size_t adopted = 0;
		struct bbuf b = BBUF_INIT;

		/* as a file of kept lanes: decoded, it encodes back to the
		 * lanes adopted (none here: the payee restored none) */
		if (hostpay_host_lanes_load(h, data, size, &adopted) == 0 &&
		    adopted != 0)
			abort();
		hostpay_host_lanes_encode(h, &b);
		if (b.len < 8)
			abort();
		bbuf_free(&b);
	}
	bbuf_free(&out);
	hostpay_host_free(h);
	chunkpay_payee_free(pe);

	c = hostpay_creator_new(&cc, &pot, sep);
	if (size >= HOSTPAY_PROOF_BYTES &&
	    hostpay_creator_terms(c, peer, hash, data + size -
				  HOSTPAY_PROOF_BYTES, data, size, 1000,
				  req) == 0 &&
	    (req[0] != HOSTPAY_REQ_VOUCHER || memcmp(req + 1, hash, 32)))
		abort();
	(void)hostpay_creator_voucher_reply(c, peer, hash, data, size);
	hostpay_creator_free(c);
	return 0;
}
