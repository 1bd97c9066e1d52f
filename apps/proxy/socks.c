/*
 * SOCKS4/4a/5 request parsing (see socks.h; RFC 1928, the SOCKS4 protocol
 * note and its 4a extension).  Pure: bytes in, a struct out.
 */
#include "config.h"
#include "apps/proxy/socks.h"

#include <arpa/inet.h>
#include <string.h>

#include "crypto/base/err.h"

int socks5_greeting_parse(const uint8_t *buf, size_t len, bool *no_auth,
			  size_t *used)
{
	size_t n;

	if (len < 2)
		return ERR_TRUNCATED;
	/* "VER field is set to X'05' for this version of the protocol" */
	if (buf[0] != 5)
		return ERR_FORMAT;
	n = buf[1];
	if (n == 0)
		return ERR_FORMAT;
	if (len < 2 + n)
		return ERR_TRUNCATED;
	*no_auth = memchr(buf + 2, SOCKS5_METHOD_NONE, n) != NULL;
	*used = 2 + n;
	return 0;
}

int socks5_request_parse(const uint8_t *buf, size_t len, struct socks_req *out,
			 size_t *used)
{
	struct socks_req r = { .version = 5 };
	size_t alen, off;

	if (len < 5)
		return ERR_TRUNCATED;
	if (buf[0] != 5 || buf[2] != 0)
		return ERR_FORMAT;
	r.cmd = buf[1];
	switch (buf[3]) {
	case SOCKS_ATYP_IPV4:
		alen = 4;
		off = 4;
		break;
	case SOCKS_ATYP_IPV6:
		alen = 16;
		off = 4;
		break;
	case SOCKS_ATYP_DOMAIN:
		/* "the first octet of the address field contains the
		 * number of octets of name that follow" */
		alen = buf[4];
		off = 5;
		if (alen == 0)
			return ERR_FORMAT;
		break;
	default:
		return ERR_UNSUPPORTED;
	}
	r.atyp = buf[3];
	if (len < off + alen + 2)
		return ERR_TRUNCATED;
	if (r.atyp == SOCKS_ATYP_DOMAIN) {
		if (memchr(buf + off, 0, alen))
			return ERR_FORMAT;
		memcpy(r.host, buf + off, alen);
		r.host[alen] = 0;
	} else if (!inet_ntop(r.atyp == SOCKS_ATYP_IPV4 ? AF_INET : AF_INET6,
			      buf + off, r.host, sizeof(r.host))) {
		return ERR_FORMAT;
	}
	r.port = (uint16_t)(buf[off + alen] << 8 | buf[off + alen + 1]);
	*out = r;
	*used = off + alen + 2;
	return 0;
}

/* The NUL-terminated string at buf[off..len), at most max bytes:
 * its length, or ERR_TRUNCATED / ERR_TOO_BIG. */
static int cstr_len(const uint8_t *buf, size_t len, size_t off, size_t max,
		    size_t *n)
{
	size_t avail = len > off ? len - off : 0;
	const uint8_t *z = memchr(buf + off, 0, avail < max + 1 ? avail :
							      max + 1);

	if (!z)
		return avail > max ? ERR_TOO_BIG : ERR_TRUNCATED;
	*n = (size_t)(z - (buf + off));
	return 0;
}

int socks4_request_parse(const uint8_t *buf, size_t len, struct socks_req *out,
			 size_t *used)
{
	struct socks_req r = { .version = 4, .atyp = SOCKS_ATYP_IPV4 };
	size_t uid, hl = 0, off;
	int e;

	if (len < 9)
		return ERR_TRUNCATED;
	if (buf[0] != 4)
		return ERR_FORMAT;
	r.cmd = buf[1];
	r.port = (uint16_t)(buf[2] << 8 | buf[3]);
	if ((e = cstr_len(buf, len, 8, SOCKS4_USERID_MAX_BYTES, &uid)) != 0)
		return e;
	off = 8 + uid + 1;
	/* 4a: "set the first three bytes of DSTIP to NULL and the last
	 * byte to a non-zero value", the domain name follows the USERID */
	if (buf[4] == 0 && buf[5] == 0 && buf[6] == 0 && buf[7] != 0) {
		if ((e = cstr_len(buf, len, off, SOCKS_HOST_MAX_BYTES, &hl)) != 0)
			return e;
		if (hl == 0)
			return ERR_FORMAT;
		r.atyp = SOCKS_ATYP_DOMAIN;
		memcpy(r.host, buf + off, hl);
		r.host[hl] = 0;
		off += hl + 1;
	} else if (!inet_ntop(AF_INET, buf + 4, r.host, sizeof(r.host))) {
		return ERR_FORMAT;
	}
	*out = r;
	*used = off;
	return 0;
}

void socks5_reply_encode(struct bbuf *out, enum socks5_rep rep)
{
	static const uint8_t tail[] = { 0, SOCKS_ATYP_IPV4, 0, 0, 0, 0, 0, 0 };

	bbuf_u8(out, 5);
	bbuf_u8(out, (uint8_t)rep);
	bbuf_put(out, tail, sizeof(tail));
}

void socks4_reply_encode(struct bbuf *out, bool granted)
{
	static const uint8_t tail[] = { 0, 0, 0, 0, 0, 0 };

	bbuf_u8(out, 0);
	bbuf_u8(out, granted ? 90 : 91);
	bbuf_put(out, tail, sizeof(tail));
}
