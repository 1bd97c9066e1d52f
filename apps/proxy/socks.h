/*
 * SOCKS request parsing (RFC 1928 SOCKS5 without authentication, SOCKS4
 * and its 4a extension for names), as pure functions over the bytes a
 * client sent so far: the proxy calls them again as more bytes arrive.
 *
 * Every parser returns 0 with *used set when a whole message is there,
 * ERR_TRUNCATED when more bytes are needed, and ERR_FORMAT /
 * ERR_UNSUPPORTED / ERR_TOO_BIG for input that no more bytes can fix.
 * Names are kept as sent (never resolved here, never given to the system
 * resolver anywhere).  Thread: any.
 */
#ifndef APPS_PROXY_SOCKS_H
#define APPS_PROXY_SOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

#define SOCKS_HOST_MAX_BYTES 255	/* a SOCKS5 domain name's length byte */
#define SOCKS4_USERID_MAX_BYTES 255	/* our cap on SOCKS4's user id */

enum socks_atyp {
	SOCKS_ATYP_IPV4 = 1,
	SOCKS_ATYP_DOMAIN = 3,
	SOCKS_ATYP_IPV6 = 4
};

#define SOCKS_CMD_CONNECT 1
#define SOCKS5_METHOD_NONE 0x00
#define SOCKS5_METHOD_REFUSED 0xff

/* RFC 1928 §6 reply codes. */
enum socks5_rep {
	SOCKS5_OK = 0,
	SOCKS5_FAILURE = 1,
	SOCKS5_NOT_ALLOWED = 2,
	SOCKS5_NET_UNREACHABLE = 3,
	SOCKS5_HOST_UNREACHABLE = 4,
	SOCKS5_REFUSED = 5,
	SOCKS5_TTL_EXPIRED = 6,
	SOCKS5_CMD_UNSUPPORTED = 7,
	SOCKS5_ATYP_UNSUPPORTED = 8
};

struct socks_req {
	uint8_t version;		/* 4 or 5 */
	uint8_t cmd;			/* SOCKS_CMD_CONNECT, ... */
	enum socks_atyp atyp;
	/* A name (4a or ATYP 3), NUL-terminated, or an address in text
	 * ("1.2.3.4", "[::1]" form without brackets). */
	char host[SOCKS_HOST_MAX_BYTES + 1];
	uint16_t port;
};

/*
 * The SOCKS5 greeting "VER NMETHODS METHODS...".  *no_auth says whether
 * the client offers method 0 (the only one we take).
 */
int socks5_greeting_parse(const uint8_t *buf, size_t len, bool *no_auth,
			  size_t *used);
/*
 * The SOCKS5 request "VER CMD RSV ATYP DST.ADDR DST.PORT".  A domain name
 * with a NUL or a zero length is ERR_FORMAT.  A command other than
 * CONNECT parses (the caller answers SOCKS5_CMD_UNSUPPORTED).
 */
int socks5_request_parse(const uint8_t *buf, size_t len, struct socks_req *out,
			 size_t *used);
/*
 * The SOCKS4 / 4a request "VN CD DSTPORT DSTIP USERID NUL [HOST NUL]":
 * DSTIP 0.0.0.x with x != 0 means a name follows the user id (4a).
 */
int socks4_request_parse(const uint8_t *buf, size_t len, struct socks_req *out,
			 size_t *used);
/* Append the SOCKS5 reply (BND.ADDR 0.0.0.0:0) / the SOCKS4 reply (90 =
 * granted, 91 = refused). */
void socks5_reply_encode(struct bbuf *out, enum socks5_rep rep);
void socks4_reply_encode(struct bbuf *out, bool granted);

#endif /* APPS_PROXY_SOCKS_H */
