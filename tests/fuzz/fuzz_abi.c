/*
 * libFuzzer target: the ABI decoder as the chain client uses it: paper
 * (vouchers, tickets), view results, revert data, and event logs whose
 * topics and data come from the input.
 */
#include "config.h"
#include "chain/abi.h"
#include "chain/calls.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const events[] = {
	EV_CONTENT_PUBLISHED, EV_LICENSE_PURCHASED, EV_KEY_REQUESTED,
	EV_KEY_DELIVERED, EV_DID_ATTRIBUTE, EV_ANNOUNCEMENT,
};

static void logs(const uint8_t *data, size_t size)
{
	struct chain_log l = { 0 };
	struct ev_content_published cp;
	struct ev_key_requested kr;
	struct ev_did_attribute da;
	struct ev_announcement an;
	struct u256 a, b;
	uint8_t h[20], w[32];
	size_t nt;

	if (size < 2)
		return;
	/* byte 0: event, byte 1: topic count; then topics, then data */
	chain_event_topic(l.topics[0], events[data[0] % 6]);
	nt = data[1] % (CHAIN_LOG_MAX_TOPICS + 1);
	data += 2;
	size -= 2;
	l.ntopics = nt ? nt : 1;
	for (size_t i = 1; i < l.ntopics; i++) {
		if (size < 32)
			return;
		memcpy(l.topics[i], data, 32);
		data += 32;
		size -= 32;
	}
	l.data = (uint8_t *)data;
	l.data_len = size;
	(void)ev_content_published_decode(&l, &cp);
	(void)ev_license_purchased_decode(&l, &a, &b);
	(void)ev_key_requested_decode(&l, &kr);
	(void)ev_key_delivered_decode(&l, &a, h, w);
	if (ev_did_attribute_decode(&l, &da) == 0 && da.value_len)
		w[0] = da.value[da.value_len - 1];	/* touch the borrow */
	(void)ev_announcement_decode(&l, &an);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eip712_voucher v;
	struct eip712_ticket t;
	struct license_content lc;
	struct hub_pot pot;
	struct abi_dec d = abi_dec_init(data, size), sub;
	uint8_t sig[65];
	char why[256];
	const uint8_t *p;
	size_t n, count;

	(void)chain_voucher_paper_decode(data, size, &v, sig);
	(void)chain_ticket_paper_decode(data, size, &t, sig);
	(void)license_content_decode(data, size, &lc);
	(void)hub_pot_decode(data, size, &pot);
	abi_revert_format(why, sizeof(why), data, size, chain_calls_error_name);
	for (size_t i = 0; i < 4; i++) {
		if (abi_dec_bytes(&d, i, 4096, &p, &n) == 0 && n)
			why[0] = (char)p[n - 1];
		if (abi_dec_array(&d, i, 64, 0, &count, &sub) == 0)
			for (size_t j = 0; j < count; j++)
				(void)abi_dec_bytes(&sub, j, 4096, &p, &n);
	}
	logs(data, size);
	return 0;
}
