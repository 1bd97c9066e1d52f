/*
 * libFuzzer target: the SSU2 payload splitter (both contexts), every typed
 * block decoder (PeerTest and relay blocks too), ACK range readers (foreach must agree with has), the I2NP
 * short header, and fragment reassembly over the input's fragments.
 */
#include "config.h"
#include "router/ssu2_block.h"
#include "router/ssu2_peertest.h"
#include "router/ssu2_relay.h"
#include "crypto/base/alloc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ack_check {
	const struct ssu2_ack *a;
	unsigned n;
};

static void ack_fn(void *arg, uint32_t pn)
{
	struct ack_check *c = arg;

	if (!ssu2_ack_has(c->a, pn))
		abort();	/* foreach and has disagree */
	c->n++;
}

static void one_block(const struct ssu2_block *b, struct ssu2_reasm *r)
{
	static struct ssu2_ack ack;
	static uint8_t ri[SSU2_RI_MAX_BYTES];
	struct ssu2_address a;
	struct ssu2_termination term;
	struct ssu2_ri_block rb;
	struct ssu2_i2np_part part;
	struct ssu2_pt pt;
	struct ssu2_relay_req rq;
	struct ssu2_relay_resp rs;
	struct i2np_msg *m;
	uint32_t u32;
	uint64_t u64;
	size_t n;

	switch (b->type) {
	case SSU2_BLK_DATETIME:
		if (ssu2_datetime_decode(b, &u32) != 0)
			abort();	/* the splitter checked the size */
		break;
	case SSU2_BLK_ADDRESS:
		if (ssu2_address_decode(b, &a) != 0)
			abort();
		break;
	case SSU2_BLK_TERMINATION:
		if (ssu2_termination_decode(b, &term) != 0)
			abort();
		break;
	case SSU2_BLK_NEW_TOKEN:
		if (ssu2_new_token_decode(b, &u32, &u64) != 0)
			abort();
		break;
	case SSU2_BLK_RELAY_TAG:
		(void)ssu2_relay_tag_decode(b, &u32);
		break;
	case SSU2_BLK_ROUTERINFO:
		if (ssu2_ri_block_decode(b, &rb) == 0)
			(void)ssu2_ri_block_extract(&rb, ri, sizeof(ri), &n);
		break;
	case SSU2_BLK_ACK:
		if (ssu2_ack_decode(b, &ack) == 0) {
			struct ack_check c = { &ack, 0 };

			ssu2_ack_foreach(&ack, ack_fn, &c);
		}
		break;
	case SSU2_BLK_I2NP:
		if (ssu2_i2np_part_decode(b, &part) != 0)
			abort();
		if (i2np_msg_decode_short(b->data, b->len, &m) == 0)
			i2np_msg_free(m);
		break;
	case SSU2_BLK_FIRST_FRAG:
	case SSU2_BLK_FOLLOW_FRAG:
		if (ssu2_i2np_part_decode(b, &part) == 0 &&
		    ssu2_reasm_add(r, &part, 1, &m) == 0 && m)
			i2np_msg_free(m);
		break;
	case SSU2_BLK_RELAY_REQUEST:
	case SSU2_BLK_RELAY_INTRO:
		if (ssu2_relay_req_decode(b, &rq) == 0 &&
		    rq.sdata + rq.slen + rq.siglen > b->data + b->len)
			abort();
		break;
	case SSU2_BLK_RELAY_RESPONSE:
		if (ssu2_relay_resp_decode(b, &rs) == 0 &&
		    rs.sdata + rs.slen > b->data + b->len)
			abort();
		break;
	case SSU2_BLK_PEER_TEST:
		if (ssu2_pt_decode(b, &pt) == 0 &&
		    (pt.slen > SSU2_PT_SDATA_MAX_BYTES ||
		     pt.sdata + pt.slen > b->data + b->len))
			abort();	/* the signed part lies in the block */
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ssu2_payload pl;
	struct ssu2_reasm *r = ssu2_reasm_new();

	for (int ctx = 0; ctx < 2; ctx++) {
		if (ssu2_payload_decode(data, size, ctx == 1, &pl) != 0)
			continue;
		for (size_t i = 0; i < pl.n; i++)
			one_block(&pl.b[i], r);
	}
	ssu2_reasm_expire(r, 1 + SSU2_REASM_TIMEOUT_MS + 1,
			  SSU2_REASM_TIMEOUT_MS);
	if (ssu2_reasm_count(r) != 0)
		abort();
	ssu2_reasm_free(r);
	return 0;
}
