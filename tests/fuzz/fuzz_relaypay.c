/*
 * libFuzzer target: a relay's side of paid relaying (chain/relaypay.h) on
 * untrusted ticket bytes: the wire decoder, then, with the input's
 * commitment tag replaced by the payee's own so the deeper steps are
 * reached, the stealth derivation, signer recovery, the policy checks and
 * the accept step against a funded pot; the same bytes as a saved
 * payee state (relaypay_payee_load); and each of their lines as a
 * withdrawal to try again (relaypay_retry_line_parse: what reads writes
 * back a line that reads the same).
 */
#include "config.h"
#include "chain/relaypay.h"

#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct relaypay_policy pol = {
		.max_paper_ttl_s = 12 * 3600, .redeem_cost = { { 1, 0, 0, 0 } },
		.epoch_s = 3600, .grace_s = 600, .redeem_margin_s = 600,
		.max_tickets = 64,
	};
	struct hub_pot pot = {
		.deposit = { { ~0ull, 0, 0, 0 } }, .escrow = { { ~0ull, 0, 0, 0 } },
		.funder = { 1 },
	};
	uint8_t sep[32] = { 0 }, buf[RELAYPAY_WIRE_BYTES], commit[32];
	struct relaypay_payee *p;
	struct relaypay_checked c;
	struct relaypay_wire w;
	struct relaypay_batch b;
	struct secp_sk view;
	struct secp_pk spend;
	bool won;

	(void)relaypay_wire_decode(data, size, &w);
	for (size_t i = 0; i < size;) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t n = nl ? (size_t)(nl - (data + i)) : size - i;
		struct secp_pk e, e2;
		unsigned r, r2;

		if (relaypay_retry_line_parse((const char *)data + i, n, 6, &e,
					      &r) == 0) {
			struct bbuf out = BBUF_INIT;

			relaypay_retry_line_format(&e, r, &out);
			if (r >= 6 || out.len < 1 ||
			    relaypay_retry_line_parse((const char *)out.data,
						      out.len - 1, 6, &e2,
						      &r2) != 0 ||
			    r2 != r || memcmp(&e, &e2, sizeof(e)) != 0)
				abort();
			bbuf_free(&out);
		}
		i += n + 1;
	}
	/* the same bytes as a saved payee state */
	memset(view.b, 0x22, sizeof(view.b));
	if (secp_sk_pubkey(&view, &spend) == 0 &&
	    relaypay_payee_load(&pol, sep, &view, &spend, data, size,
				&p) == 0) {
		struct bbuf out = BBUF_INIT;

		relaypay_payee_save(p, &out);
		if (out.len != size)	/* what loads saves to as many bytes */
			abort();
		(void)relaypay_payee_tick(p, 1800003600);
		if (relaypay_payee_batch_take(p, 1800004200, &b) == 0)
			relaypay_batch_free(&b);
		bbuf_free(&out);
		relaypay_payee_free(p);
	}
	memset(view.b, 0x22, sizeof(view.b));
	if (secp_sk_pubkey(&view, &spend) != 0)
		return 0;
	p = relaypay_payee_new(&pol, sep, &view, &spend, 1800000000);
	(void)relaypay_payee_check(p, data, size, 1800000000, &c);
	if (size == RELAYPAY_WIRE_BYTES) {
		relaypay_payee_commitment(p, commit, NULL);
		memcpy(buf, data, size);
		memcpy(buf + 70, commit, RELAYPAY_TAG_BYTES);
		if (relaypay_payee_check(p, buf, size, 1800000000, &c) ==
		    RELAYPAY_OK)
			(void)relaypay_payee_accept(p, &c, &pot, 1800000000,
						    &won);
		(void)relaypay_payee_tick(p, 1800003600);
		if (relaypay_payee_batch_take(p, 1800004200, &b) == 0)
			relaypay_batch_free(&b);
	}
	relaypay_payee_free(p);
	return 0;
}
