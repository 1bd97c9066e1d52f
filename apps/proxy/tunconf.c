/*
 * tunnels.conf (see tunconf.h): i2pd's tunnel file format, INI sections
 * of "key = value" lines, '#' and ';' comments.
 */
#include "config.h"
#include "apps/proxy/tunconf.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"

static int fail(char *err, size_t errlen, int code, unsigned line,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t errlen, int code, unsigned line,
		const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err && errlen) {
		n = snprintf(err, errlen, "line %u: ", line);
		if (n > 0 && (size_t)n < errlen) {
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return code;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static bool parse_num(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 9)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static int set_key(struct tunconf_entry *e, const char *k, const char *v,
		   unsigned line, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		size_t off;
	} limits[] = {
		{ "i2p.streaming.maxConcurrentStreams",
		  offsetof(struct tunconf_entry, max_streams) },
		{ "i2p.streaming.maxConnsPerMinute",
		  offsetof(struct tunconf_entry, per_minute) },
		{ "i2p.streaming.maxConnsPerHour",
		  offsetof(struct tunconf_entry, per_hour) },
		{ "i2p.streaming.maxConnsPerDay",
		  offsetof(struct tunconf_entry, per_day) },
		{ "i2p.streaming.maxTotalConnsPerMinute",
		  offsetof(struct tunconf_entry, total_minute) },
		{ "i2p.streaming.maxTotalConnsPerHour",
		  offsetof(struct tunconf_entry, total_hour) },
		{ "i2p.streaming.maxTotalConnsPerDay",
		  offsetof(struct tunconf_entry, total_day) },
	};
	static const struct {
		const char *key;
		size_t off;
		unsigned long min, max;
	} tunnel[] = {
		{ "inbound.length", offsetof(struct tunconf_entry, in_length),
		  0, 7 },
		{ "outbound.length", offsetof(struct tunconf_entry, out_length),
		  0, 7 },
		{ "inbound.quantity",
		  offsetof(struct tunconf_entry, in_quantity), 1, 16 },
		{ "outbound.quantity",
		  offsetof(struct tunconf_entry, out_quantity), 1, 16 },
	};
	unsigned long n;
	struct in_addr a;

	for (size_t i = 0; i < sizeof(tunnel) / sizeof(tunnel[0]); i++)
		if (strcmp(k, tunnel[i].key) == 0) {
			if (!parse_num(v, tunnel[i].max, &n) ||
			    n < tunnel[i].min)
				return fail(err, errlen, ERR_RANGE, line,
					    "%s: expected %lu-%lu", k,
					    tunnel[i].min, tunnel[i].max);
			*(int *)((char *)e + tunnel[i].off) = (int)n;
			return 0;
		}
	if (strcmp(k, "i2cp.leaseSetType") == 0) {
		if (!parse_num(v, 5, &n) || (n != 1 && n != 3 && n != 5))
			return fail(err, errlen, ERR_RANGE, line,
				    "%s: expected 1, 3 or 5", k);
		e->ls_encrypted = n == 5;
	} else if (strcmp(k, "i2cp.leaseSetAuthType") == 0) {
		if (!parse_num(v, 2, &n))
			return fail(err, errlen, ERR_RANGE, line,
				    "%s: expected 0, 1 or 2", k);
		e->ls_auth = (unsigned)n;
	} else if (strncmp(k, "i2cp.leaseSetClient.dh.", 23) == 0 ||
		   strncmp(k, "i2cp.leaseSetClient.psk.", 24) == 0 ||
		   strcmp(k, "i2cp.leaseSetPrivKey") == 0) {
		const char *colon = strchr(v, ':');
		uint8_t key[32];
		size_t kl;

		/* i2pd writes the clients as "name:key" */
		if (colon && strncmp(k, "i2cp.leaseSetClient.", 20) == 0)
			v = colon + 1;
		if (strlen(v) != 44 || b64_decode(key, sizeof(key), &kl, v,
						  44) != 0 || kl != 32)
			return fail(err, errlen, ERR_FORMAT, line,
				    "%s: expected 32 bytes in base64", k);
		if (strcmp(k, "i2cp.leaseSetPrivKey") == 0) {
			memcpy(e->ls_priv_key, key, 32);
			e->has_ls_priv_key = true;
		} else if (e->n_ls_clients == TUNCONF_MAX_LS_CLIENTS) {
			return fail(err, errlen, ERR_TOO_BIG, line,
				    "more than %d clients",
				    TUNCONF_MAX_LS_CLIENTS);
		} else {
			e->ls_clients = xrealloc(e->ls_clients,
						 (e->n_ls_clients + 1) * 32);
			memcpy(e->ls_clients[e->n_ls_clients++], key, 32);
		}
		memwipe(key, sizeof(key));
	} else if (strcmp(k, "i2cp.leaseSetSecret") == 0) {
		uint8_t s[TUNCONF_MAX_LS_SECRET_BYTES];
		size_t sl;

		if (b64_decode(s, sizeof(s), &sl, v, strlen(v)) != 0 ||
		    sl == 0)
			return fail(err, errlen, ERR_FORMAT, line,
				    "%s: expected 1-%d bytes in base64", k,
				    TUNCONF_MAX_LS_SECRET_BYTES);
		xfree_wipe(e->ls_secret, e->ls_secret_len);
		e->ls_secret = xmemdup(s, sl);
		e->ls_secret_len = sl;
		memwipe(s, sizeof(s));
	} else if (strcmp(k, "type") == 0) {
		if (strcmp(v, "server") == 0 || strcmp(v, "http") == 0)
			e->type = TUNCONF_SERVER;
		else if (strcmp(v, "client") == 0)
			e->type = TUNCONF_CLIENT;
		else if (strcmp(v, "web") == 0)
			e->type = TUNCONF_WEB;
		else
			return fail(err, errlen, ERR_FORMAT, line,
				    "unsupported type \"%s\"", v);
	} else if (strcmp(k, "host") == 0 || strcmp(k, "address") == 0) {
		if (strlen(v) >= sizeof(e->host) || inet_pton(AF_INET, v, &a) != 1)
			return fail(err, errlen, ERR_FORMAT, line,
				    "%s: expected an IPv4 address (names are "
				    "never resolved)", k);
		memcpy(e->host, v, strlen(v) + 1);
	} else if (strcmp(k, "port") == 0 ||
		   strcmp(k, "destinationport") == 0) {
		if (!parse_num(v, 65535, &n))
			return fail(err, errlen, ERR_RANGE, line,
				    "%s: expected 0-65535", k);
		if (k[0] == 'p')
			e->port = (uint16_t)n;
		else
			e->destination_port = (uint16_t)n;
	} else if (strcmp(k, "destination") == 0) {
		free(e->destination);
		e->destination = xstrdup(v);
	} else if (strcmp(k, "keys") == 0) {
		if (strchr(v, '/') || v[0] == '.' || !*v)
			return fail(err, errlen, ERR_FORMAT, line,
				    "keys: a file name in the data directory");
		free(e->keys);
		e->keys = xstrdup(v);
	} else if (strcmp(k, "root") == 0) {
		free(e->root);
		e->root = xstrdup(v);
	} else if (strcmp(k, "listing") == 0) {
		e->listing = strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
			     strcmp(v, "yes") == 0;
	} else {
		for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
			if (strcmp(k, limits[i].key) == 0) {
				if (!parse_num(v, 1000000, &n))
					return fail(err, errlen, ERR_RANGE,
						    line, "%s: expected a "
						    "number", k);
				*(unsigned *)((char *)e + limits[i].off) =
					(unsigned)n;
				return 0;
			}
		/* other i2pd keys: accepted, not used */
	}
	return 0;
}

static int check_entry(const struct tunconf_entry *e, unsigned line,
		       char *err, size_t errlen)
{
	switch (e->type) {
	case TUNCONF_SERVER:
		if (!e->port)
			return fail(err, errlen, ERR_FORMAT, line,
				    "[%s]: server needs host and port", e->name);
		if (!e->keys)
			return fail(err, errlen, ERR_FORMAT, line,
				    "[%s]: server needs keys", e->name);
		break;
	case TUNCONF_CLIENT:
		if (!e->destination || !*e->destination)
			return fail(err, errlen, ERR_FORMAT, line,
				    "[%s]: client needs a destination",
				    e->name);
		break;
	case TUNCONF_WEB:
		if (!e->root || !e->keys)
			return fail(err, errlen, ERR_FORMAT, line,
				    "[%s]: web needs root and keys", e->name);
		break;
	}
	if (e->ls_encrypted && e->ls_auth && !e->n_ls_clients)
		return fail(err, errlen, ERR_FORMAT, line,
			    "[%s]: i2cp.leaseSetAuthType needs "
			    "i2cp.leaseSetClient.* keys", e->name);
	return 0;
}

static void entry_clear(struct tunconf_entry *e)
{
	free(e->destination);
	free(e->keys);
	free(e->root);
	free(e->ls_clients);
	xfree_wipe(e->ls_secret, e->ls_secret_len);
	memwipe(e, sizeof(*e));
}

void tunconf_free(struct tunconf *tc)
{
	if (!tc)
		return;
	for (size_t i = 0; i < tc->n; i++)
		entry_clear(&tc->e[i]);
	free(tc);
}

int tunconf_parse(const char *text, size_t len, struct tunconf **out,
		  char *err, size_t errlen)
{
	struct tunconf *tc;
	struct tunconf_entry *cur = NULL;
	char *buf, *p;
	unsigned line = 0, cur_line = 0;
	int e = 0;

	if (len > TUNCONF_MAX_BYTES)
		return fail(err, errlen, ERR_TOO_BIG, 0, "file too big");
	if (memchr(text, 0, len))
		return fail(err, errlen, ERR_FORMAT, 0, "NUL byte");
	tc = xzalloc(sizeof(*tc));
	buf = xmalloc(len + 1);
	memcpy(buf, text, len);
	buf[len] = 0;
	for (p = buf; p && e == 0; line++) {
		char *nl = strchr(p, '\n'), *s, *eq;

		if (nl)
			*nl = 0;
		s = trim(p);
		p = nl ? nl + 1 : NULL;
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			size_t n;

			if (cur && (e = check_entry(cur, cur_line + 1, err,
						    errlen)) != 0)
				break;
			if (!close || close[1] || (n = (size_t)(close - s - 1)) == 0 ||
			    n > TUNCONF_NAME_MAX_BYTES) {
				e = fail(err, errlen, ERR_FORMAT, line + 1,
					 "bad section");
				break;
			}
			if (tc->n == TUNCONF_MAX_TUNNELS) {
				e = fail(err, errlen, ERR_TOO_BIG, line + 1,
					 "too many tunnels");
				break;
			}
			cur = &tc->e[tc->n++];
			memcpy(cur->name, s + 1, n);
			memcpy(cur->host, "127.0.0.1", 10);
			cur->in_length = cur->out_length = -1;
			cur->in_quantity = cur->out_quantity = -1;
			cur->type = TUNCONF_CLIENT;
			cur_line = line;
			continue;
		}
		if (!(eq = strchr(s, '=')) || !cur) {
			e = fail(err, errlen, ERR_FORMAT, line + 1,
				 cur ? "expected key = value" :
				       "key outside a [section]");
			break;
		}
		*eq = 0;
		e = set_key(cur, trim(s), trim(eq + 1), line + 1, err, errlen);
	}
	if (e == 0 && cur)
		e = check_entry(cur, cur_line + 1, err, errlen);
	free(buf);
	if (e != 0) {
		tunconf_free(tc);
		return e;
	}
	*out = tc;
	return 0;
}
