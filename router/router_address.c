/*
 * RouterAddress (common-structures spec, "RouterAddress") and the NTCP2
 * published-address options (ntcp2 spec, "Published Router Address").
 * router/router_info.c holds a list of these.
 */
#include "config.h"
#include "router/router_address.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void router_address_init(struct router_address *a)
{
	*a = (struct router_address)ROUTER_ADDRESS_INIT;
}

void router_address_clear(struct router_address *a)
{
	if (!a)
		return;
	if (a->style_owned)
		free((char *)a->style);
	mapping_clear(&a->options);
	router_address_init(a);
}

void router_address_set_style(struct router_address *a, const char *s,
			      size_t len)
{
	static const char *const known[] = {
		ROUTER_ADDRESS_STYLE_NTCP2, ROUTER_ADDRESS_STYLE_SSU2,
		"NTCP", "SSU", ""
	};
	const char *style = NULL;
	char *b;

	for (size_t i = 0; i < ARRAY_LEN(known) && !style; i++)
		if (strlen(known[i]) == len && memcmp(known[i], s, len) == 0)
			style = known[i];
	if (a->style_owned)
		free((char *)a->style);
	a->style_owned = !style;
	if (style) {
		a->style = style;
		return;
	}
	b = xmalloc(len + 1);
	memcpy(b, s, len);
	b[len] = '\0';
	a->style = b;
}

void router_address_copy(struct router_address *dst,
			 const struct router_address *src)
{
	dst->cost = src->cost;
	router_address_set_style(dst, src->style, strlen(src->style));
	mapping_copy(&dst->options, &src->options);
}

int router_address_decode(struct breader *r, size_t max_options_bytes,
			  struct router_address *out)
{
	struct mapping opts = MAPPING_INIT;
	struct i2p_string style;
	uint8_t cost;
	uint64_t expiration;
	int ret;

	cost = br_u8(r);
	if ((ret = i2p_date_decode(r, &expiration)) != 0 ||
	    (ret = i2p_string_decode(r, &style)) != 0)
		return ret;
	/* "expiration :: Date (must be all zeros, see notes below)":
	 * "Routers MUST set this field to all zeros." */
	if (expiration != 0)
		return ERR_FORMAT;
	if (style.len && memchr(style.p, 0, style.len))
		return ERR_FORMAT;
	if ((ret = mapping_decode(r, max_options_bytes, &opts)) != 0)
		return ret;
	mapping_clear(&out->options);
	out->options = opts;
	out->cost = cost;
	router_address_set_style(out, (const char *)style.p, style.len);
	return 0;
}

int router_address_encode(const struct router_address *a, struct bbuf *b)
{
	size_t slen = strlen(a->style);

	if (mapping_encoded_len(&a->options) - 2 > MAPPING_MAX_BYTES ||
	    slen > I2P_STRING_MAX_BYTES)
		return ERR_TOO_BIG;
	bbuf_u8(b, a->cost);
	i2p_date_encode(b, 0);
	(void)i2p_string_encode(b, a->style, slen);
	return mapping_encode(&a->options, b);
}

/* Does a comma-separated version list name version 2? */
static bool versions_have_2(const char *v)
{
	for (const char *p = v; *p; ) {
		size_t n = strcspn(p, ",");
		if (n == 1 && p[0] == '2')
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

bool router_address_is_ntcp2(const struct router_address *a)
{
	const char *v;

	if (strcmp(a->style, ROUTER_ADDRESS_STYLE_NTCP2) == 0)
		return true;
	/* Before 0.9.50 Java published NTCP2 inside "NTCP" addresses, marked
	 * with v=2. */
	return strcmp(a->style, "NTCP") == 0 &&
	       (v = mapping_get(&a->options, "v")) != NULL &&
	       versions_have_2(v);
}

/* Decimal port 1-65535, digits only. */
static int port_parse(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
		return ERR_FORMAT;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v == 0 || v > 65535)
		return ERR_FORMAT;
	*out = (uint16_t)v;
	return 0;
}

/* An IPv4 or IPv6 literal: its family, or 0. */
static int host_family(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return AF_INET6;
	return 0;
}

/* Base64 text that must decode to exactly n bytes. */
static int b64_exact(const char *s, uint8_t *out, size_t n)
{
	size_t got;

	if (b64_decode(out, n, &got, s, strlen(s)) != 0 || got != n)
		return ERR_FORMAT;
	return 0;
}

int router_address_ntcp2_parse(const struct router_address *a,
			       struct router_address_ntcp2 *out)
{
	struct router_address_ntcp2 n;
	const char *s, *i, *v, *host, *port;

	if (!router_address_is_ntcp2(a))
		return ERR_ARG;
	memset(&n, 0, sizeof(n));
	s = mapping_get(&a->options, "s");
	i = mapping_get(&a->options, "i");
	v = mapping_get(&a->options, "v");
	host = mapping_get(&a->options, "host");
	port = mapping_get(&a->options, "port");
	/* "s: The Noise static public key (s) in base 64" (32 bytes) */
	if (!s || b64_exact(s, n.s.b, sizeof(n.s.b)) != 0)
		return ERR_FORMAT;
	if (v && !versions_have_2(v))
		return ERR_UNSUPPORTED;
	/* "i: The AES IV ... 16 bytes, base 64" */
	if (i) {
		if (b64_exact(i, n.iv, sizeof(n.iv)) != 0)
			return ERR_FORMAT;
		n.has_iv = true;
	}
	if (port && port_parse(port, &n.port) != 0)
		return ERR_FORMAT;
	if (host) {
		if (strlen(host) >= sizeof(n.host) ||
		    (n.family = host_family(host)) == 0)
			return ERR_UNSUPPORTED;
		memcpy(n.host, host, strlen(host) + 1);
	}
	n.published = host && port && n.has_iv;
	*out = n;
	return 0;
}

int router_address_ntcp2_build(struct router_address *out, uint8_t cost,
			       const struct x25519_pk *s, const char *host,
			       uint16_t port,
			       const uint8_t iv[ROUTER_ADDRESS_NTCP2_IV_BYTES])
{
	struct router_address a = ROUTER_ADDRESS_INIT;
	char s64[B64_ENC_LEN(sizeof(s->b))];
	char i64[B64_ENC_LEN(ROUTER_ADDRESS_NTCP2_IV_BYTES)];
	char pstr[8];

	if (host && (strlen(host) >= ROUTER_ADDRESS_HOST_MAX_BYTES ||
		     host_family(host) == 0 || port == 0 || !iv))
		return ERR_ARG;
	a.cost = cost;
	a.style = ROUTER_ADDRESS_STYLE_NTCP2;
	(void)b64_encode(s64, sizeof(s64), s->b, sizeof(s->b));
	(void)mapping_set(&a.options, "s", s64);
	(void)mapping_set(&a.options, "v", "2");
	if (host) {
		(void)b64_encode(i64, sizeof(i64), iv,
				 ROUTER_ADDRESS_NTCP2_IV_BYTES);
		snprintf(pstr, sizeof(pstr), "%u", (unsigned)port);
		(void)mapping_set(&a.options, "host", host);
		(void)mapping_set(&a.options, "port", pstr);
		(void)mapping_set(&a.options, "i", i64);
	}
	router_address_clear(out);
	*out = a;
	return 0;
}

/* ---- SSU2 ---- */

bool router_address_is_ssu2(const struct router_address *a)
{
	const char *v;

	if (strcmp(a->style, ROUTER_ADDRESS_STYLE_SSU2) == 0)
		return true;
	return strcmp(a->style, "SSU") == 0 &&
	       (v = mapping_get(&a->options, "v")) != NULL &&
	       versions_have_2(v);
}

/* Decimal u32 without sign or leading junk. */
static int u32_parse(const char *s, uint32_t *out)
{
	unsigned long long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
		return ERR_FORMAT;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long long)(s[i] - '0');
	if (v > 0xffffffffull)
		return ERR_FORMAT;
	*out = (uint32_t)v;
	return 0;
}

static int ssu2_intro_parse(const struct router_address *a,
			    struct router_address_ssu2 *n)
{
	for (unsigned k = 0; k < ROUTER_ADDRESS_SSU2_MAX_INTRODUCERS; k++) {
		char key[8];
		const char *ih, *itag, *iexp;
		struct router_address_ssu2_intro *in = &n->intro[n->nintro];

		snprintf(key, sizeof(key), "ih%u", k);
		ih = mapping_get(&a->options, key);
		snprintf(key, sizeof(key), "itag%u", k);
		itag = mapping_get(&a->options, key);
		snprintf(key, sizeof(key), "iexp%u", k);
		iexp = mapping_get(&a->options, key);
		if (!ih && !itag)
			continue;
		if (!ih || !itag || b64_exact(ih, in->h, 32) != 0 ||
		    u32_parse(itag, &in->tag) != 0 || in->tag == 0 ||
		    (iexp && u32_parse(iexp, &in->exp) != 0))
			return ERR_FORMAT;
		n->nintro++;
	}
	return 0;
}

int router_address_ssu2_parse(const struct router_address *a,
			      struct router_address_ssu2 *out)
{
	struct router_address_ssu2 n;
	const char *s, *i, *v, *host, *port, *mtu, *caps;
	uint32_t m;

	if (!router_address_is_ssu2(a))
		return ERR_ARG;
	memset(&n, 0, sizeof(n));
	s = mapping_get(&a->options, "s");
	i = mapping_get(&a->options, "i");
	v = mapping_get(&a->options, "v");
	host = mapping_get(&a->options, "host");
	port = mapping_get(&a->options, "port");
	mtu = mapping_get(&a->options, "mtu");
	caps = mapping_get(&a->options, "caps");
	if (!s || b64_exact(s, n.s.b, sizeof(n.s.b)) != 0 ||
	    !i || b64_exact(i, n.ik, sizeof(n.ik)) != 0)
		return ERR_FORMAT;
	if (v && !versions_have_2(v))
		return ERR_UNSUPPORTED;
	if (port && port_parse(port, &n.port) != 0)
		return ERR_FORMAT;
	if (mtu) {
		if (u32_parse(mtu, &m) != 0 || m > 65535)
			return ERR_FORMAT;
		n.mtu = (uint16_t)m;
	}
	if (caps && strlen(caps) <= ROUTER_ADDRESS_SSU2_CAPS_MAX)
		memcpy(n.caps, caps, strlen(caps) + 1);
	if (host) {
		if (strlen(host) >= sizeof(n.host) ||
		    (n.family = host_family(host)) == 0)
			return ERR_UNSUPPORTED;
		memcpy(n.host, host, strlen(host) + 1);
	} else if (strchr(n.caps, '6') && !strchr(n.caps, '4')) {
		n.family = AF_INET6;	/* unpublished: the caps say */
	} else if (strchr(n.caps, '4') && !strchr(n.caps, '6')) {
		n.family = AF_INET;
	}
	if (ssu2_intro_parse(a, &n) != 0)
		return ERR_FORMAT;
	n.published = host && port;
	*out = n;
	return 0;
}

int router_address_ssu2_build(struct router_address *out, uint8_t cost,
			      const struct x25519_pk *s,
			      const uint8_t ik[ROUTER_ADDRESS_SSU2_IK_BYTES],
			      const char *host, uint16_t port,
			      const char *caps,
			      const struct router_address_ssu2_intro *intro,
			      size_t n)
{
	struct router_address a = ROUTER_ADDRESS_INIT;
	char s64[B64_ENC_LEN(32)], i64[B64_ENC_LEN(32)], pstr[12], key[8];

	if ((host && (strlen(host) >= ROUTER_ADDRESS_HOST_MAX_BYTES ||
		      host_family(host) == 0 || port == 0)) ||
	    (caps && strlen(caps) > ROUTER_ADDRESS_SSU2_CAPS_MAX) ||
	    n > ROUTER_ADDRESS_SSU2_MAX_INTRODUCERS)
		return ERR_ARG;
	a.cost = cost;
	a.style = ROUTER_ADDRESS_STYLE_SSU2;
	(void)b64_encode(s64, sizeof(s64), s->b, sizeof(s->b));
	(void)b64_encode(i64, sizeof(i64), ik, ROUTER_ADDRESS_SSU2_IK_BYTES);
	(void)mapping_set(&a.options, "s", s64);
	(void)mapping_set(&a.options, "i", i64);
	(void)mapping_set(&a.options, "v", "2");
	if (caps && *caps)
		(void)mapping_set(&a.options, "caps", caps);
	if (host) {
		snprintf(pstr, sizeof(pstr), "%u", (unsigned)port);
		(void)mapping_set(&a.options, "host", host);
		(void)mapping_set(&a.options, "port", pstr);
	}
	for (size_t k = 0; k < n; k++) {
		char h64[B64_ENC_LEN(32)];

		(void)b64_encode(h64, sizeof(h64), intro[k].h, 32);
		snprintf(key, sizeof(key), "ih%zu", k);
		(void)mapping_set(&a.options, key, h64);
		snprintf(key, sizeof(key), "itag%zu", k);
		snprintf(pstr, sizeof(pstr), "%u", (unsigned)intro[k].tag);
		(void)mapping_set(&a.options, key, pstr);
		if (intro[k].exp) {
			snprintf(key, sizeof(key), "iexp%zu", k);
			snprintf(pstr, sizeof(pstr), "%u",
				 (unsigned)intro[k].exp);
			(void)mapping_set(&a.options, key, pstr);
		}
	}
	router_address_clear(out);
	*out = a;
	return 0;
}
