/*
 * libFuzzer target: every LeaseSet type (router/leaseset.h).  The first
 * byte picks the type (its low 3 bits: 1 LS1, 3 LS2, 5 encrypted LS2,
 * 7 meta LS; anything else must be refused), the rest is the LeaseSet.
 * Properties: an accepted LeaseSet keeps exactly the input bytes, stays
 * within every limit, and decodes again to the same key and version;
 * verification and time checks never crash.
 */
#include "config.h"
#include "router/leaseset.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct leaseset *ls, const uint8_t *in, size_t len)
{
	const uint8_t *b;
	size_t n, cap;
	uint16_t st;

	b = leaseset_bytes(ls, &n);
	if (n != len || (len && memcmp(b, in, len) != 0) ||
	    len > LEASESET_MAX_BYTES)
		abort();
	cap = leaseset_type(ls) == LEASESET_META ? LEASESET_MAX_META_LEASES :
						    LEASESET_MAX_LEASES;
	if (leaseset_lease_count(ls) > cap ||
	    leaseset_enc_key_count(ls) > LEASESET_MAX_ENC_KEYS ||
	    leaseset_revocation_count(ls) > LEASESET_MAX_REVOCATIONS)
		abort();
	for (size_t i = 0; i < leaseset_enc_key_count(ls); i++) {
		const struct leaseset_enc_key *k = leaseset_enc_key(ls, i);
		if (!k || !k->key || k->len == 0 ||
		    k->len > LEASESET_MAX_ENC_KEY_BYTES)
			abort();
	}
	if ((leaseset_type(ls) == LEASESET_ENC_LS2) !=
	    (leaseset_destination(ls) == NULL))
		abort();
	if (leaseset_type(ls) == LEASESET_ENC_LS2 &&
	    (!leaseset_blinded_key(ls, &st, &n) ||
	     !leaseset_ciphertext(ls, &n) || n == 0))
		abort();
	(void)leaseset_verify(ls);
	(void)leaseset_check_time(ls, 1700000000000ULL);
	(void)leaseset_is_unpublished(ls);
	(void)leaseset_is_newer(ls, ls);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct leaseset *ls = NULL, *again = NULL;
	enum leaseset_type type;

	if (size < 1)
		return 0;
	type = (enum leaseset_type)(data[0] & 7);
	if (leaseset_decode(type, data + 1, size - 1, &ls) != 0)
		return 0;
	if (type != LEASESET_LS1 && type != LEASESET_LS2 &&
	    type != LEASESET_ENC_LS2 && type != LEASESET_META)
		abort();
	check(ls, data + 1, size - 1);
	if (leaseset_decode(type, data + 1, size - 1, &again) != 0 ||
	    memcmp(leaseset_key(again), leaseset_key(ls), 32) != 0 ||
	    leaseset_published_ms(again) != leaseset_published_ms(ls) ||
	    leaseset_expires_ms(again) != leaseset_expires_ms(ls))
		abort();
	leaseset_free(again);
	leaseset_free(ls);
	return 0;
}
