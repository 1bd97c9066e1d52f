/*
 * tunnels: a paying hop's ticket in its build record's options
 * (docs/relaypay.md §3): only that hop finds it, beside the bandwidth
 * options; the other hops' records carry none; short records have no
 * room; bad values are refused.  And tickets after the build (the body
 * of a Data message): the layout byte by byte, several tickets, and every
 * malformed form refused.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/tunnels/thops.h"
#include "tunnels/build_record.h"
#include "tunnels/tunnel_build.h"
#include "router/mapping.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"

#include <string.h>

#define NOW_MS 1700000000000ull

static void cfg_for(struct tunnel_build_cfg *cfg, struct thop *h, unsigned n,
		    enum tunnel_build_kind kind)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = kind;
	cfg->n_hops = n;
	for (unsigned i = 0; i < n; i++)
		thop_to_cfg(&h[i], &cfg->hops[i]);
	memset(cfg->self, 0xee, 32);
	memset(cfg->reply_gateway, 0x33, 32);
	cfg->reply_tunnel_id = 4242;
	cfg->now_ms = NOW_MS;
}

static void test_ticket_one_hop(struct tctx *t)
{
	struct thop h[3];
	struct tunnel_build_cfg cfg;
	struct tunnel_build *b = NULL;
	struct bbuf msg = BBUF_INIT;
	struct mapping opts = MAPPING_INIT, seen = MAPPING_INIT;
	uint8_t ticket[139], got[TUNNEL_BUILD_TICKET_MAX_BYTES], codes[8];
	size_t len = 0;
	unsigned n;

	for (unsigned i = 0; i < 3; i++)
		thop_init(&h[i], (uint8_t)(40 + i));
	rand_bytes(ticket, sizeof(ticket));
	T_OK(t, mapping_set(&opts, "m", "100"));
	T_OK(t, mapping_set(&opts, "r", "400"));
	T_OK(t, tunnel_build_opts_set_ticket(&opts, ticket, sizeof(ticket)));
	cfg_for(&cfg, h, 3, TUNNEL_BUILD_LONG);
	cfg.hops[1].opts = &opts;
	T_OK(t, tunnel_build_create(&cfg, &b, &msg));
	if (!b)
		goto out;
	n = msg.data[0];
	for (unsigned i = 0; i < 3; i++) {
		struct tunnel_build_open o;

		T_OK(t, tunnel_build_participant_open(&h[i].p, TUNNEL_BUILD_LONG,
						      msg.data + 1, n,
						      NOW_MS + 1000, &o, NULL));
		if (i == 1) {
			T_OK(t, tunnel_build_request_ticket(&o.req, got,
							    sizeof(got), &len));
			T_EQ(t, len, sizeof(ticket));
			T_MEMEQ(t, got, ticket, sizeof(ticket));
			/* the bandwidth options are still there */
			T_OK(t, tunnel_build_request_options(&o.req, &seen));
			T_STREQ(t, mapping_get(&seen, "m"), "100");
			T_STREQ(t, mapping_get(&seen, "r"), "400");
		} else {
			T_ERR(t, tunnel_build_request_ticket(&o.req, got,
							     sizeof(got), &len),
			      ERR_NOT_FOUND);
		}
		T_OK(t, tunnel_build_participant_reply(&o, msg.data + 1, n,
						       NULL, 0));
		tunnel_build_open_wipe(&o);
	}
	memset(codes, 0xff, sizeof(codes));
	T_OK(t, tunnel_build_reply_process(b, msg.data + 1, n, codes));
	T_EQ(t, codes[0] | codes[1] | codes[2], 0);
out:
	tunnel_build_free(b);
	bbuf_free(&msg);
	mapping_clear(&opts);
	mapping_clear(&seen);
	for (unsigned i = 0; i < 3; i++)
		thop_free(&h[i]);
}

static void test_ticket_limits(struct tctx *t)
{
	struct thop h[2];
	struct tunnel_build_cfg cfg;
	struct tunnel_build *b = NULL;
	struct bbuf msg = BBUF_INIT, enc = BBUF_INIT;
	struct mapping opts = MAPPING_INIT;
	struct tunnel_build_request req;
	uint8_t ticket[TUNNEL_BUILD_TICKET_MAX_BYTES + 1], got[TUNNEL_BUILD_TICKET_MAX_BYTES];
	size_t len;

	memset(ticket, 0x5a, sizeof(ticket));
	T_ERR(t, tunnel_build_opts_set_ticket(&opts, ticket, 0), ERR_ARG);
	T_ERR(t, tunnel_build_opts_set_ticket(&opts, ticket, sizeof(ticket)),
	      ERR_TOO_BIG);
	T_TRUE(t, mapping_get(&opts, TUNNEL_BUILD_OPT_TICKET) == NULL);
	/* the largest ticket with bandwidth options fits a long record */
	T_OK(t, mapping_set(&opts, "m", "1000000"));
	T_OK(t, mapping_set(&opts, "r", "1000000"));
	T_OK(t, mapping_set(&opts, "l", "1000000"));
	T_OK(t, tunnel_build_opts_set_ticket(&opts, ticket,
					     TUNNEL_BUILD_TICKET_MAX_BYTES));
	T_TRUE(t, mapping_encoded_len(&opts) <= TUNNEL_BUILD_LONG_OPTIONS_MAX_BYTES);
	for (unsigned i = 0; i < 2; i++)
		thop_init(&h[i], (uint8_t)(50 + i));
	cfg_for(&cfg, h, 2, TUNNEL_BUILD_LONG);
	cfg.hops[0].opts = &opts;
	T_OK(t, tunnel_build_create(&cfg, &b, &msg));
	tunnel_build_free(b);
	b = NULL;
	bbuf_reset(&msg);
	/* but not a short one */
	cfg_for(&cfg, h, 2, TUNNEL_BUILD_SHORT);
	cfg.hops[0].opts = &opts;
	T_ERR(t, tunnel_build_create(&cfg, &b, &msg), ERR_TOO_BIG);
	T_TRUE(t, b == NULL);

	/* a value that is not base64, and one too long for out */
	mapping_clear(&opts);
	T_OK(t, mapping_set(&opts, TUNNEL_BUILD_OPT_TICKET, "not*base64"));
	memset(&req, 0, sizeof(req));
	T_OK(t, mapping_encode(&opts, &enc));
	memcpy(req.options, enc.data, enc.len);
	req.options_len = enc.len;
	T_ERR(t, tunnel_build_request_ticket(&req, got, sizeof(got), &len),
	      ERR_FORMAT);
	mapping_clear(&opts);
	bbuf_reset(&enc);
	T_OK(t, tunnel_build_opts_set_ticket(&opts, ticket, 100));
	T_OK(t, mapping_encode(&opts, &enc));
	memcpy(req.options, enc.data, enc.len);
	req.options_len = enc.len;
	T_ERR(t, tunnel_build_request_ticket(&req, got, 99, &len), ERR_FORMAT);
	T_OK(t, tunnel_build_request_ticket(&req, got, 100, &len));
	T_EQ(t, len, 100);
	tunnel_build_free(b);
	bbuf_free(&msg);
	bbuf_free(&enc);
	mapping_clear(&opts);
	for (unsigned i = 0; i < 2; i++)
		thop_free(&h[i]);
}

static void test_topup(struct tctx *t)
{
	uint8_t tk[TUNNEL_BUILD_TICKET_MAX_BYTES + 1], buf[1024];
	struct bbuf b = BBUF_INIT;
	struct tunnel_topup tu;
	const uint8_t *tks[TUNNEL_TOPUP_MAX_TICKETS + 1];
	size_t lens[TUNNEL_TOPUP_MAX_TICKETS + 1];
	size_t n, len139 = 139, len0 = 0, lenbig = sizeof(tk);
	const uint8_t *tk0 = tk;

	for (size_t i = 0; i < sizeof(tk); i++)
		tk[i] = (uint8_t)i;
	T_OK(t, tunnel_topup_encode(0x01020304, &tk0, &len139, 1, &b));
	T_EQ(t, b.len, 4 + 4 + 1 + 1 + 139);
	T_MEMEQ(t, b.data, "btk1\x01\x02\x03\x04\x01\x8b", 10);
	T_MEMEQ(t, b.data + 10, tk, 139);
	T_OK(t, tunnel_topup_decode(b.data, b.len, &tu));
	T_EQ(t, tu.tunnel_id, 0x01020304);
	T_EQ(t, tu.n, 1);
	T_EQ(t, tu.len[0], 139);
	T_TRUE(t, tu.tk[0] == b.data + 10);
	/* every shorter prefix is truncated, a longer one too big */
	for (size_t k = 4; k < b.len; k++)
		T_ERR(t, tunnel_topup_decode(b.data, k, &tu), ERR_TRUNCATED);
	T_ERR(t, tunnel_topup_decode(b.data, 3, &tu), ERR_TRUNCATED);
	memcpy(buf, b.data, b.len);
	buf[b.len] = 0;
	T_ERR(t, tunnel_topup_decode(buf, b.len + 1, &tu), ERR_TOO_BIG);
	/* another magic: not a top-up */
	buf[3] = '2';
	T_ERR(t, tunnel_topup_decode(buf, b.len, &tu), ERR_NOT_FOUND);
	/* tunnel id 0, no ticket, too many, an empty ticket */
	memcpy(buf, b.data, b.len);
	memset(buf + 4, 0, 4);
	T_ERR(t, tunnel_topup_decode(buf, b.len, &tu), ERR_FORMAT);
	memcpy(buf, b.data, b.len);
	buf[8] = 0;
	T_ERR(t, tunnel_topup_decode(buf, 9, &tu), ERR_FORMAT);
	buf[8] = TUNNEL_TOPUP_MAX_TICKETS + 1;
	T_ERR(t, tunnel_topup_decode(buf, b.len, &tu), ERR_FORMAT);
	buf[8] = 1;
	buf[9] = 0;
	T_ERR(t, tunnel_topup_decode(buf, 10, &tu), ERR_FORMAT);
	buf[9] = TUNNEL_BUILD_TICKET_MAX_BYTES + 1;
	T_ERR(t, tunnel_topup_decode(buf, b.len, &tu), ERR_FORMAT);
	/* several tickets of several sizes */
	memcpy(buf, b.data, 8);
	buf[8] = TUNNEL_TOPUP_MAX_TICKETS;
	n = 9;
	for (size_t i = 0; i < TUNNEL_TOPUP_MAX_TICKETS; i++) {
		size_t len = i == 0 ? 1 : TUNNEL_BUILD_TICKET_MAX_BYTES - i;

		buf[n++] = (uint8_t)len;
		memcpy(buf + n, tk + i, len);
		n += len;
	}
	T_TRUE(t, n <= TUNNEL_TOPUP_MAX_BYTES);
	T_OK(t, tunnel_topup_decode(buf, n, &tu));
	T_EQ(t, tu.n, TUNNEL_TOPUP_MAX_TICKETS);
	T_EQ(t, tu.len[0], 1);
	T_EQ(t, tu.len[3], TUNNEL_BUILD_TICKET_MAX_BYTES - 3);
	T_MEMEQ(t, tu.tk[3], tk + 3, tu.len[3]);
	/* the encoder's limits */
	T_ERR(t, tunnel_topup_encode(1, &tk0, &len0, 1, &b), ERR_ARG);
	T_ERR(t, tunnel_topup_encode(0, &tk0, &len139, 1, &b), ERR_ARG);
	T_ERR(t, tunnel_topup_encode(1, &tk0, &lenbig, 1, &b), ERR_TOO_BIG);
	T_ERR(t, tunnel_topup_encode(1, &tk0, &len139, 0, &b), ERR_ARG);
	for (size_t i = 0; i <= TUNNEL_TOPUP_MAX_TICKETS; i++) {
		tks[i] = tk + i;
		lens[i] = 139 + i;
	}
	T_ERR(t, tunnel_topup_encode(1, tks, lens,
				     TUNNEL_TOPUP_MAX_TICKETS + 1, &b),
	      ERR_ARG);
	lens[2] = 0;	/* a bad one among good ones: nothing appended */
	T_ERR(t, tunnel_topup_encode(1, tks, lens, 3, &b), ERR_ARG);
	T_EQ(t, b.len, 4 + 4 + 1 + 1 + 139);
	/* several: what the decoder reads back */
	lens[2] = 141;
	bbuf_free(&b);
	T_OK(t, tunnel_topup_encode(7, tks, lens, TUNNEL_TOPUP_MAX_TICKETS,
				    &b));
	T_OK(t, tunnel_topup_decode(b.data, b.len, &tu));
	T_EQ(t, tu.tunnel_id, 7);
	T_EQ(t, tu.n, TUNNEL_TOPUP_MAX_TICKETS);
	for (size_t i = 0; i < TUNNEL_TOPUP_MAX_TICKETS; i++) {
		T_EQ(t, tu.len[i], 139 + i);
		T_MEMEQ(t, tu.tk[i], tk + i, 139 + i);
	}
	bbuf_free(&b);
}

const struct test_case tunnels_build_ticket_tests[] = {
	{ "one_hop", test_ticket_one_hop, 0 },
	{ "limits", test_ticket_limits, 0 },
	{ "topup", test_topup, 0 },
	{ NULL, NULL, 0 }
};
