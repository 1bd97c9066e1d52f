/*
 * RouterAddress (common-structures spec, "RouterAddress"): how to reach a
 * router over one transport.  Wire form: cost (1) ‖ expiration (8, must be
 * all zeros) ‖ transport style String ‖ options Mapping.
 *
 * Helpers read and build NTCP2 addresses (ntcp2 spec, "Published Router
 * Address"): `host`, `port`, `s` (Base64 X25519 static key), `i` (Base64
 * 16-byte AES IV) and `v=2`.
 *
 * A struct router_address owns its options.  Decoders do not log; the
 * caller knows the context and logs once.
 */
#ifndef ROUTER_ROUTER_ADDRESS_H
#define ROUTER_ROUTER_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "crypto/x25519.h"
#include "router/i2p_types.h"
#include "router/mapping.h"

#define ROUTER_ADDRESS_STYLE_NTCP2 "NTCP2"
#define ROUTER_ADDRESS_STYLE_SSU2 "SSU2"
#define ROUTER_ADDRESS_NTCP2_IV_BYTES 16
/* An IPv6 literal with a zone would not fit; neither is published. */
#define ROUTER_ADDRESS_HOST_MAX_BYTES 46	/* INET6_ADDRSTRLEN */
/* cost ‖ expiration ‖ empty style ‖ empty Mapping */
#define ROUTER_ADDRESS_MIN_BYTES (1 + I2P_DATE_BYTES + 1 + 2)

struct router_address {
	uint8_t cost;		/* 0 free ... 255 expensive */
	bool style_owned;	/* style is a block of ours */
	/* NUL-terminated, at most I2P_STRING_MAX_BYTES: a static string for
	 * the styles routers publish, a block for any other (a netDb of
	 * 50,000 RouterInfos kept a 256-byte array in each address). */
	const char *style;
	struct mapping options;
};

#define ROUTER_ADDRESS_INIT { 0, false, "", MAPPING_INIT }

void router_address_init(struct router_address *a);
/* Free the style and options; a is empty and reusable.  Accepts NULL. */
void router_address_clear(struct router_address *a);
/* Set the style to len bytes of s (no NUL among them, len at most
 * I2P_STRING_MAX_BYTES: the caller checks). */
void router_address_set_style(struct router_address *a, const char *s,
			      size_t len);
/* Replace dst's content with a deep copy of src. */
void router_address_copy(struct router_address *dst,
			 const struct router_address *src);

/*
 * Decode a RouterAddress whose options Mapping may be at most
 * max_options_bytes long.  out must be initialised; on success its old
 * content is freed and replaced, on error it is untouched.  Errors:
 * ERR_TRUNCATED, ERR_FORMAT (non-zero expiration, NUL in the style, a bad
 * Mapping), ERR_TOO_BIG, ERR_DUPLICATE (see mapping_decode()).
 */
int router_address_decode(struct breader *r, size_t max_options_bytes,
			  struct router_address *out);
/* Append a (options in canonical order, expiration zero).  ERR_TOO_BIG
 * when the options do not fit a Mapping (nothing is written). */
int router_address_encode(const struct router_address *a, struct bbuf *b);

/* The parsed options of an NTCP2 address. */
struct router_address_ntcp2 {
	struct x25519_pk s;		/* static key, always present */
	bool published;			/* host, port and i all present */
	int family;			/* AF_INET, AF_INET6, 0 without host */
	char host[ROUTER_ADDRESS_HOST_MAX_BYTES];	/* "" without host */
	uint16_t port;			/* 0 without port */
	bool has_iv;
	uint8_t iv[ROUTER_ADDRESS_NTCP2_IV_BYTES];
};

/* True for style "NTCP2" (or the transitional "NTCP" with v=2). */
bool router_address_is_ntcp2(const struct router_address *a);
/*
 * Read the NTCP2 options of a.  Errors: ERR_ARG (not NTCP2), ERR_FORMAT
 * (missing or bad `s`, bad `i` or `port`), ERR_UNSUPPORTED (`v` without 2,
 * or a `host` that is not an IPv4/IPv6 literal: host names are deprecated
 * by proposal 141).  out is written only on success.
 */
int router_address_ntcp2_parse(const struct router_address *a,
			       struct router_address_ntcp2 *out);
/*
 * Make out an NTCP2 address with static key s.  With host NULL it is
 * unpublished (only `s` and `v`); otherwise host (an IP literal), port
 * (non-zero) and iv are all required and published.  out must be
 * initialised; its old content is replaced.  ERR_ARG on a bad host, port
 * or missing iv (out untouched).
 */
int router_address_ntcp2_build(struct router_address *out, uint8_t cost,
			       const struct x25519_pk *s, const char *host,
			       uint16_t port,
			       const uint8_t iv[ROUTER_ADDRESS_NTCP2_IV_BYTES]);

/* ---- SSU2 (ssu2 spec, "Published Router Address") ---- */

#define ROUTER_ADDRESS_SSU2_IK_BYTES 32
/* Introducers: ih0..ih2, itag0.., iexp0.. ("up to 3"). */
#define ROUTER_ADDRESS_SSU2_MAX_INTRODUCERS 3
#define ROUTER_ADDRESS_SSU2_CAPS_MAX 8

struct router_address_ssu2_intro {
	uint8_t h[32];		/* introducer's router hash (ihN) */
	uint32_t tag;		/* itagN, nonzero */
	uint32_t exp;		/* iexpN, seconds; 0 when absent */
};

/* The parsed options of an SSU2 address. */
struct router_address_ssu2 {
	struct x25519_pk s;		/* static key, always present */
	uint8_t ik[ROUTER_ADDRESS_SSU2_IK_BYTES];	/* "i", always present */
	bool published;			/* host and port present */
	/* AF_INET or AF_INET6: the host's; without host the caps' ("4" or
	 * "6" alone), else 0 */
	int family;
	char host[ROUTER_ADDRESS_HOST_MAX_BYTES];
	uint16_t port;
	uint16_t mtu;			/* 0 when absent */
	char caps[ROUTER_ADDRESS_SSU2_CAPS_MAX + 1];	/* "" when absent */
	size_t nintro;
	struct router_address_ssu2_intro intro[ROUTER_ADDRESS_SSU2_MAX_INTRODUCERS];
};

/* True for style "SSU2" (or "SSU" with v=2, as Java published before
 * 0.9.57). */
bool router_address_is_ssu2(const struct router_address *a);
/*
 * Read the SSU2 options of a.  Errors: ERR_ARG (not SSU2), ERR_FORMAT
 * (missing or bad `s` or `i`, bad port, mtu or introducer), ERR_UNSUPPORTED
 * (`v` without 2, host not an IP literal).  out is written only on
 * success.
 */
int router_address_ssu2_parse(const struct router_address *a,
			      struct router_address_ssu2 *out);
/*
 * Make out an SSU2 address with static key s and intro key ik, caps
 * (may be NULL) and, with host non-NULL, host and port (published).
 * intro (n ≤ 3) adds introducers.  out must be initialised; its content
 * is replaced.  ERR_ARG on a bad host, port, caps or count.
 */
int router_address_ssu2_build(struct router_address *out, uint8_t cost,
			      const struct x25519_pk *s,
			      const uint8_t ik[ROUTER_ADDRESS_SSU2_IK_BYTES],
			      const char *host, uint16_t port,
			      const char *caps,
			      const struct router_address_ssu2_intro *intro,
			      size_t n);

#endif /* ROUTER_ROUTER_ADDRESS_H */
