/*
 * libFuzzer target: RouterInfo and RouterAddress decoding
 * (router/router_info.h, router/router_address.h), signature verification
 * and every lookup a caller makes on a received RouterInfo (the pay
 * options of router/ri_pay.h among them).  Properties:
 * the kept bytes are the input, decoding them again gives the same router,
 * an NTCP2 or SSU2 address read from it is whole,
 * and no RouterInfo over the size limit is accepted.
 */
#include "config.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "router/ri_pay.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void lookups(const struct router_info *ri)
{
	struct router_address_ntcp2 n;
	const char *v;
	uint32_t ver;
	char name[ROUTER_INFO_FILE_NAME_BYTES];
	struct ri_pay pay;

	for (size_t i = 0; i < router_info_address_count(ri); i++) {
		const struct router_address *a = router_info_address(ri, i);
		struct router_address_ssu2 u;

		if (router_address_ntcp2_parse(a, &n) == 0 &&
		    (n.published && (n.port == 0 || n.family == 0)))
			abort();
		/* SSU2's options: a published host has its port and family,
		 * caps and introducers within bounds, every itag nonzero */
		if (router_address_ssu2_parse(a, &u) == 0) {
			if ((u.published && (u.port == 0 || u.family == 0)) ||
			    u.nintro > ROUTER_ADDRESS_SSU2_MAX_INTRODUCERS ||
			    strnlen(u.caps, sizeof(u.caps)) == sizeof(u.caps) ||
			    strnlen(u.host, sizeof(u.host)) == sizeof(u.host))
				abort();
			for (size_t k = 0; k < u.nintro; k++)
				if (u.intro[k].tag == 0)
					abort();
		}
	}
	if (router_info_address_count(ri) > ROUTER_INFO_MAX_ADDRESSES)
		abort();
	(void)router_info_find_address(ri, ROUTER_ADDRESS_STYLE_NTCP2);
	(void)router_info_check_netid(ri, 2);
	(void)router_info_check_published(ri, 1700000000000ULL);
	if ((v = router_info_option(ri, "router.version")) != NULL)
		(void)router_info_version_parse(v, &ver);
	if (ri_pay_parse(router_info_options(ri), &pay) == 0 &&
	    !ri_pay_price_is_valid(pay.price))
		abort();
	if (router_info_file_name(router_info_hash(ri), name, sizeof(name)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct router_info *ri = NULL, *again = NULL;
	struct router_address a = ROUTER_ADDRESS_INIT;
	const uint8_t *bytes;
	struct breader r;
	size_t len;

	if (router_info_decode(data, size, &ri) == 0) {
		if (size > ROUTER_INFO_MAX_BYTES)
			abort();
		bytes = router_info_bytes(ri, &len);
		if (!bytes || len != size || memcmp(bytes, data, size) != 0)
			abort();
		(void)router_info_verify(ri);
		lookups(ri);
		if (router_info_decode(bytes, len, &again) != 0 ||
		    memcmp(router_info_hash(again), router_info_hash(ri),
			   SHA256_BYTES) != 0 ||
		    router_info_published(again) != router_info_published(ri))
			abort();
		router_info_free(again);
	}
	router_info_free(ri);
	br_init(&r, data, size);
	if (router_address_decode(&r, MAPPING_MAX_BYTES, &a) == 0 &&
	    strlen(a.style) > I2P_STRING_MAX_BYTES)
		abort();
	router_address_clear(&a);
	return 0;
}
