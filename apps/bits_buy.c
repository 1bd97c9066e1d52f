/*
 * bits buy: buy a content's licence and get its key through the local
 * bitsd (docs/market.md §5): the same purchase as the console's, run by
 * bitsd's market (POST /api/market/buy, then GET /api/market/buy/ID polled
 * until it is done or failed).
 *
 *   bits buy HASH --agent DEST [--index N] --api-port P [--datadir DIR]
 *            [--quiet]
 *
 * HASH is the content hash (the card's contentHash; 0x allowed), DEST the key agent's
 * address (the card's keyAgent), N the licence index (0 or none: the
 * registry is asked).  The API token is read from DIR/api.token (DIR:
 * --datadir, $BITS_DATADIR or ~/.bits).  The key stays in bitsd's key
 * library: `bits get` and the console play the content with it.
 * Exit status: 0 bought (or held already), 1 failed, 2 usage.
 *
 * bits resale: resell a licence held in bitsd's key library through its
 * relayer (POST /api/market/resale; docs/market.md §5):
 *
 *   bits resale list HASH --price N     offer it at N token base units
 *   bits resale cancel HASH             take the offer back
 *   bits resale payout HASH [--to 0xA]  collect what its sales are owed
 *                                       (to the wallet by default)
 *   each with --api-port P [--datadir DIR].
 */
#include "config.h"
#include "apps/bits_buy.h"
#include "apps/bits_get.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUY_POLL_MS 1000
#define BUY_TOKEN_MAX_BYTES 256

static int buy_usage(void)
{
	fputs("usage: bits buy HASH --agent DEST [--index N] --api-port P\n"
	      "           [--datadir DIR] [--quiet]\n", stderr);
	return 2;
}

/* One API call; the reply's JSON in *out (caller's). */
static int api_call(uint16_t port, const char *token, const char *method,
		    const char *path, const char *body, int *status,
		    json_t **out)
{
	size_t blen = body ? strlen(body) : 0, n = 512 + blen;
	char *req = xmalloc(n), *reply = NULL;
	int r;

	snprintf(req, n, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
		 "Authorization: Bearer %s\r\nContent-Type: application/json"
		 "\r\nContent-Length: %zu\r\n\r\n%s", method, path, token,
		 blen, body ? body : "");
	r = bits_http_do(port, req, status, -1, &reply, NULL);
	memwipe(req, n);
	free(req);
	if (r == 0 && !(*out = json_loads(reply, 0, NULL)))
		r = ERR_FORMAT;
	free(reply);
	return r;
}

/* The API token of DIR (NULL: $BITS_DATADIR or ~/.bits) into token. */
static bool read_token(const char *dir, char token[BUY_TOKEN_MAX_BYTES + 1])
{
	char dbuf[512], *tokpath;
	uint8_t *tok = NULL;
	size_t toklen = 0;

	if (!dir) {
		const char *d = getenv("BITS_DATADIR"), *home = getenv("HOME");

		if (d && *d) {
			dir = d;
		} else {
			snprintf(dbuf, sizeof(dbuf), "%s/.bits",
				 home && *home ? home : ".");
			dir = dbuf;
		}
	}
	tokpath = fsutil_path_join(dir, "api.token");
	if (fsutil_read_file(tokpath, BUY_TOKEN_MAX_BYTES, &tok,
			     &toklen) != 0) {
		fprintf(stderr, "bits: cannot read the API token %s\n",
			tokpath);
		free(tokpath);
		return false;
	}
	free(tokpath);
	while (toklen && (tok[toklen - 1] == '\n' || tok[toklen - 1] == '\r'))
		toklen--;
	memcpy(token, tok, toklen);
	token[toklen] = 0;
	xfree_wipe(tok, toklen);
	return true;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

/* --api-port: 1 to 65535, digits only */
static bool port_arg(const char *v, long *port)
{
	uint64_t n;

	if (dec_decode(&n, 65535, v, strlen(v)) != 0 || !n)
		return false;
	*port = (long)n;
	return true;
}

int bits_buy_main(int argc, char **argv)
{
	const char *hash_s = NULL, *agent_s = NULL, *dir = NULL;
	char hash[HEX_ENC_LEN(32)], agent[HEX_ENC_LEN(32)], body[256];
	char path[128], token[BUY_TOKEN_MAX_BYTES + 1];
	uint64_t index = 0;
	long port = 0;
	bool quiet = false;
	json_t *o = NULL;
	int status = 0, r = 1;
	char last[32] = "";

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--quiet")) {
			quiet = true;
			continue;
		}
		if (argv[i][0] != '-') {
			if (hash_s)
				return buy_usage();
			hash_s = argv[i];
			continue;
		}
		if (!v)
			return buy_usage();
		i++;
		if (!strcmp(argv[i - 1], "--agent")) {
			agent_s = v;
		} else if (!strcmp(argv[i - 1], "--datadir")) {
			dir = v;
		} else if (!strcmp(argv[i - 1], "--index")) {
			if (dec_decode(&index, UINT64_MAX, v, strlen(v)) != 0)
				return buy_usage();
		} else if (!strcmp(argv[i - 1], "--api-port")) {
			if (!port_arg(v, &port))
				return buy_usage();
		} else {
			return buy_usage();
		}
	}
	/* 0x as cast and the chain tools print it */
	if (hash_s && hash_s[0] == '0' &&
	    (hash_s[1] == 'x' || hash_s[1] == 'X'))
		hash_s += 2;
	if (!hash_s || !agent_s || !port || !bits_hash_arg(hash_s, hash) ||
	    !bits_hash_arg(agent_s, agent))
		return buy_usage();
	if (!read_token(dir, token))
		return 1;
	/* the index as a string: JSON integers stop at 2^63 */
	snprintf(body, sizeof(body), "{\"content_hash\":\"%s\",\"index\":\"%llu\","
		 "\"agent\":\"%s\"}", hash, (unsigned long long)index, agent);
	if (api_call((uint16_t)port, token, "POST", "/api/market/buy",
		     body, &status, &o) != 0) {
		fprintf(stderr, "bits: no bitsd API at 127.0.0.1:%ld\n", port);
		goto out;
	}
	if (status != 200 && status != 202) {
		fprintf(stderr, "bits: bitsd refused the purchase (%d): %s\n",
			status, jstr(o, "error"));
		goto out;
	}
	snprintf(path, sizeof(path), "/api/market/buy/%lld",
		 (long long)json_integer_value(json_object_get(o, "id")));
	for (;;) {
		const char *st = jstr(o, "state");

		if (!quiet && strcmp(st, last) != 0) {
			fprintf(stderr, "bits: %s\n", st);
			snprintf(last, sizeof(last), "%s", st);
		}
		if (!strcmp(st, "done") || !strcmp(st, "failed"))
			break;
		json_decref(o);
		o = NULL;
		usleep(BUY_POLL_MS * 1000);
		if (api_call((uint16_t)port, token, "GET", path, NULL,
			     &status, &o) != 0 || status != 200) {
			fprintf(stderr, "bits: bitsd stopped answering\n");
			goto out;
		}
	}
	if (!strcmp(jstr(o, "state"), "failed")) {
		fprintf(stderr, "bits: the purchase failed: %s\n",
			jstr(o, "error"));
		goto out;
	}
	printf("content: %s\ntoken-id: %s\nprice: %s\nrelayer-fee: %s\n"
	       "route: %s\nholder: %s\nkey: held by bitsd\n", jstr(o,
	       "content_hash"), jstr(o, "token_id"), jstr(o, "price"),
	       jstr(o, "relayer_fee"), jstr(o, "route"), jstr(o, "holder"));
	r = 0;
out:
	json_decref(o);
	memwipe(token, sizeof(token));
	return r;
}

static int resale_usage(void)
{
	fputs("usage: bits resale list HASH --price N --api-port P "
	      "[--datadir DIR]\n"
	      "       bits resale cancel HASH --api-port P [--datadir DIR]\n"
	      "       bits resale payout HASH [--to 0xADDRESS] --api-port P "
	      "[--datadir DIR]\n", stderr);
	return 2;
}

int bits_resale_main(int argc, char **argv)
{
	const char *action, *hash_s = NULL, *dir = NULL, *price = NULL;
	const char *to = NULL;
	char hash[HEX_ENC_LEN(32)], token[BUY_TOKEN_MAX_BYTES + 1];
	long port = 0;
	json_t *body, *o = NULL;
	char *bs;
	int status = 0, r = 1;

	if (argc < 3)
		return resale_usage();
	action = argv[1];
	if (strcmp(action, "list") && strcmp(action, "cancel") &&
	    strcmp(action, "payout"))
		return resale_usage();
	hash_s = argv[2];
	for (int i = 3; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return resale_usage();
		if (!strcmp(argv[i], "--datadir")) {
			dir = v;
		} else if (!strcmp(argv[i], "--price")) {
			price = v;
		} else if (!strcmp(argv[i], "--to")) {
			to = v;
		} else if (!strcmp(argv[i], "--api-port")) {
			if (!port_arg(v, &port))
				return resale_usage();
		} else {
			return resale_usage();
		}
	}
	if (hash_s[0] == '0' && (hash_s[1] == 'x' || hash_s[1] == 'X'))
		hash_s += 2;
	if (!port || !bits_hash_arg(hash_s, hash) ||
	    (!strcmp(action, "list") != (price != NULL)) ||
	    (to && strcmp(action, "payout")))
		return resale_usage();
	if (!read_token(dir, token))
		return 1;
	body = json_pack("{ssss}", "content_hash", hash, "action", action);
	if (price)
		json_object_set_new(body, "price", json_string(price));
	if (to)
		json_object_set_new(body, "to", json_string(to));
	bs = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (api_call((uint16_t)port, token, "POST", "/api/market/resale", bs,
		     &status, &o) != 0) {
		fprintf(stderr, "bits: no bitsd API at 127.0.0.1:%ld\n", port);
		goto out;
	}
	if (status != 200) {
		fprintf(stderr, "bits: the resale %s failed (%d): %s\n", action,
			status, jstr(o, "error"));
		goto out;
	}
	printf("action: %s\ncontent: %s\ntoken-id: %s\nrelayer-fee: %s\n",
	       jstr(o, "action"), jstr(o, "content_hash"), jstr(o, "token_id"),
	       jstr(o, "relayer_fee"));
	if (!strcmp(action, "list"))
		printf("price: %s\n", jstr(o, "price"));
	if (!strcmp(action, "payout"))
		printf("amount: %s\nto: %s\n", jstr(o, "amount"),
		       jstr(o, "to"));
	r = 0;
out:
	free(bs);
	json_decref(o);
	memwipe(token, sizeof(token));
	return r;
}
