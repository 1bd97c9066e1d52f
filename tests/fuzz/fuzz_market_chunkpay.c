/*
 * libFuzzer target: pay per chunk's messages (apps/market/chunkpay.h) as
 * a viewer gets TERMS and a seeder gets VOUCHERs.  A decoded message must
 * encode back to the same bytes; the input is also given to a payer as
 * terms and to a payee session as a voucher (with its pot known), whose
 * answer must be a reason it names.  The input as a file of kept
 * vouchers (chunkpay_saved_decode): decoded, it encodes back to the same
 * bytes, and each record given to chunkpay_payee_restore() must not
 * crash.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/market/chunkpay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sep[32] = { 9 };
	static struct secp_sk view = { { 0x22 } }, pot = { { 0x44 } };
	struct chunkpay_policy pol = { .price = { { 5 } }, .credit = 4,
				       .max_paper_ttl_s = 43200 };
	struct chunkpay_payer_config pc = { .max_price = { { 10 } },
					    .max_batch = 2, .ttl_s = 60 };
	struct chunkpay_terms t;
	struct chunkpay_voucher v;
	struct chunkpay_payee *pe;
	struct chunkpay_payer *pa;
	struct secp_pk spend;
	struct hub_pot hp = { .deposit = { { 100 } }, .escrow = { { 800 } } };
	uint8_t buf[CHUNKPAY_MSG_MAX_BYTES], signer[20];
	enum chunkpay_reason why;
	uint32_t id;

	if (chunkpay_terms_decode(data, size, &t) == 0) {
		if (chunkpay_terms_encode(&t, buf) != 0 ||
		    size != CHUNKPAY_TERMS_BYTES || memcmp(buf, data, size))
			abort();
	}
	if (chunkpay_voucher_decode(data, size, &v) == 0) {
		if (chunkpay_voucher_encode(&v, buf) != 0 ||
		    size != CHUNKPAY_VOUCHER_BYTES || memcmp(buf, data, size))
			abort();
	}
	pa = chunkpay_payer_new(&pc, &pot, sep);
	if (chunkpay_payer_terms(pa, data, size) == 0) {
		int r = chunkpay_payer_chunk(pa, 1000, buf);

		if (r != 0 && r != 1)	/* a price ≤ 10: always signable */
			abort();
	}
	chunkpay_payer_free(pa);
	view.b[31] = 1;
	if (secp_sk_pubkey(&view, &spend) != 0)
		abort();
	pe = chunkpay_payee_new(&pol, sep, &view, &spend);
	if (chunkpay_session_open(pe, &id) != 0)
		abort();
	why = chunkpay_session_voucher(pe, id, data, size, 1000, signer);
	if (why == CHUNKPAY_NEED_POT)
		(void)chunkpay_payee_pot_set(pe, signer, &hp, 1000);
	if (strcmp(chunkpay_reason_str(why), "?") == 0)
		abort();
	{
		struct chunkpay_saved *sv = NULL;
		struct bbuf b = BBUF_INIT;
		size_t n = 0;

		if (chunkpay_saved_decode(data, size, &sv, &n) == 0) {
			chunkpay_saved_encode(sv, n, &b);
			if (b.len != size || memcmp(b.data, data, size))
				abort();
			for (size_t i = 0; i < n; i++)
				(void)chunkpay_payee_restore(pe, &sv[i], 1000);
		}
		free(sv);
		bbuf_free(&b);
	}
	chunkpay_payee_free(pe);
	return 0;
}
