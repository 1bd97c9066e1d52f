/*
 * apps/feed/service: three routers' feed services over the in-process
 * localnet, driven through the JSON API as bitsd's /api/feed is: a card
 * published on one shows in the others' feeds, reactions and follows
 * travel, filters and errors, a forged card is refused and counted, and
 * the service keeps its keys and store across a restart.  Waits are on
 * conditions (with a generous cap), never on time.
 */
#include "config.h"
#include "apps/client/localnet.h"
#include "apps/feed/service.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "router/evloop.h"
#include "tests/unit/feed/tfeed.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NSVC 3
#define POLL_MS 5
#define MAX_POLLS 12000		/* 60 s of loop time at most */

struct senv {
	struct tctx *t;
	struct evloop *el;
	struct localnet *ln;
	struct client_net net;
	char *dir[NSVC];
	struct feed_service *s[NSVC];
	struct evloop_timer *poll;
	bool (*cond)(struct senv *e, const void *arg);
	const void *arg;
	unsigned polls;
	bool met;
};

static void on_poll(void *arg)
{
	struct senv *e = arg;

	if (e->cond(e, e->arg)) {
		e->met = true;
		evloop_break(e->el);
		return;
	}
	if (++e->polls >= MAX_POLLS) {
		evloop_break(e->el);
		return;
	}
	evloop_timer_arm(e->poll, POLL_MS);
}

/* Run the loop until cond holds; the test fails if it never does. */
static void run_until(struct senv *e, bool (*cond)(struct senv *, const void *),
		      const void *arg)
{
	e->cond = cond;
	e->arg = arg;
	e->polls = 0;
	e->met = false;
	evloop_timer_arm(e->poll, 0);
	evloop_run(e->el);
	T_TRUE(e->t, e->met);
}

static int call(struct senv *e, unsigned i, bool post, const char *rest,
		const char *query, const char *body, json_t **out)
{
	json_t *b = body ? json_loads(body, 0, NULL) : NULL;
	int code;

	*out = NULL;
	code = feed_service_api(e->s[i], post, rest, query, b, out);
	json_decref(b);
	T_TRUE(e->t, *out != NULL);
	return code;
}

/* Rows of GET /api/feed?query at service i. */
static size_t feed_count(struct senv *e, unsigned i, const char *query)
{
	json_t *o;
	size_t n;

	if (call(e, i, false, "", query, NULL, &o) != 200) {
		json_decref(o);
		return (size_t)-1;
	}
	n = json_array_size(json_object_get(o, "cards"));
	json_decref(o);
	return n;
}

struct want {
	unsigned svc;
	const char *query;
	size_t n;
};

static bool has_rows(struct senv *e, const void *arg)
{
	const struct want *w = arg;

	return feed_count(e, w->svc, w->query) == w->n;
}

static bool all_peers_up(struct senv *e, const void *arg)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < NSVC; i++)
		feed_service_round(e->s[i]);
	return feed_service_peers_up(e->s[0]) == 1 &&
	       feed_service_peers_up(e->s[1]) == 2 &&
	       feed_service_peers_up(e->s[2]) == 1;
}

static json_int_t card_stat(struct senv *e, unsigned i, const char *id,
			    const char *what)
{
	char rest[128];
	json_t *o;
	json_int_t v = -1;

	snprintf(rest, sizeof(rest), "/card/%s", id);
	if (call(e, i, false, rest, NULL, NULL, &o) == 200)
		v = json_integer_value(json_object_get(
			json_object_get(o, "stats"), what));
	json_decref(o);
	return v;
}

struct want_stat {
	unsigned svc;
	const char *id, *what;
	json_int_t v;
};

static bool has_stat(struct senv *e, const void *arg)
{
	const struct want_stat *w = arg;

	return card_stat(e, w->svc, w->id, w->what) == w->v;
}

static json_int_t gossip_stat(struct senv *e, unsigned i, const char *what)
{
	json_t *o;
	json_int_t v = -1;

	if (call(e, i, false, "/status", NULL, NULL, &o) == 200)
		v = json_integer_value(json_object_get(
			json_object_get(o, "gossip"), what));
	json_decref(o);
	return v;
}

/* Service 0 holds a licence for the content of hash 11…11. */
static bool owns_11(void *ctx, const uint8_t content_hash[32])
{
	static const uint8_t h[32] = {
		0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
		0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
		0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	};

	(void)ctx;
	return !memcmp(content_hash, h, 32);
}

/* Start service i from its datadir, gossiping with its neighbours in the
 * line 0-1-2 (hashes: NULL for none); 2 publishes views. */
static void svc_start(struct senv *e, unsigned i, uint8_t hashes[][32])
{
	struct feed_service_cfg c = { 0 };
	unsigned j;

	c.datadir = e->dir[i];
	c.views = i == 2;
	if (i == 0)
		c.owned = owns_11;
	c.round_s = 3600;	/* the test runs the rounds */
	for (j = 0; hashes && j < NSVC; j++)
		if (j + 1 == i || j == i + 1)
			memcpy(c.peers[c.npeers++], hashes[j], 32);
	T_OK(e->t, feed_service_start(e->el, &c, &e->net, &e->s[i]));
}

static void senv_init(struct tctx *t, struct senv *e)
{
	uint8_t hashes[NSVC][32];
	unsigned i;

	memset(e, 0, sizeof(*e));
	e->t = t;
	e->el = evloop_new();
	e->ln = localnet_new(e->el);
	e->net = localnet_client_net(e->ln);
	e->poll = evloop_timer_new(e->el, on_poll, e);
	/* A first start makes each one's keys; the second knows the
	 * others' addresses. */
	for (i = 0; i < NSVC; i++) {
		e->dir[i] = t_tmpdir(t);
		svc_start(e, i, NULL);
		memcpy(hashes[i], feed_service_dest(e->s[i])->hash, 32);
		feed_service_free(e->s[i]);
		e->s[i] = NULL;
	}
	for (i = 0; i < NSVC; i++)
		svc_start(e, i, hashes);
}

static void senv_free(struct senv *e)
{
	unsigned i;

	for (i = 0; i < NSVC; i++) {
		feed_service_free(e->s[i]);
		free(e->dir[i]);
	}
	evloop_timer_free(e->poll);
	localnet_free(e->ln);
	evloop_free(e->el);
}

/* {"card": "<hex of b>"} (caller frees). */
static char *card_body(const struct bbuf *b)
{
	size_t n = b->len * 2 + 16;
	char *s = xmalloc(n);

	snprintf(s, n, "{\"card\":\"");
	hex_encode(s + 9, n - 9, b->data, b->len);
	snprintf(s + 9 + b->len * 2, n - 9 - b->len * 2, "\"}");
	return s;
}

/* The query string's filters and sorts. */
static void test_parse_query(struct tctx *t)
{
	char buf[512];
	struct feed_query q;
	unsigned i;
	static const char *const bad[] = {
		"price=owns", "media=", "sort=hot", "media=aaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};

	snprintf(buf, sizeof(buf), "media=audio%%2Fogg&price=owned&"
		 "sort=trending&tag=live");
	T_TRUE(t, feed_service_parse_query(buf, &q) == NULL);
	T_STREQ(t, q.media, "audio/ogg");
	T_TRUE(t, q.owned_only);
	T_EQ(t, q.sort, FEED_SORT_TRENDING);
	T_EQ(t, q.tag_count, 1);
	T_TRUE(t, !q.has_price_min && !q.has_price_max);
	snprintf(buf, sizeof(buf), "media=video&sort=popular");
	T_TRUE(t, feed_service_parse_query(buf, &q) == NULL);
	T_STREQ(t, q.media, "video");
	T_TRUE(t, !q.owned_only);
	T_EQ(t, q.sort, FEED_SORT_POPULAR);
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		T_TRUE(t, feed_service_parse_query(buf, &q) != NULL);
	}
}

static void test_api(struct tctx *t)
{
	struct senv *e = xzalloc(sizeof(*e));
	char id[65], body[512], *hex;
	struct bbuf forged = BBUF_INIT;
	uint8_t fid[32];
	json_t *o;
	const char *v;

	senv_init(t, e);
	run_until(e, all_peers_up, NULL);
	/* 0 takes 2 as a peer too, at run time (lookup at once here). */
	{
		char hh[65];

		hex_encode(hh, sizeof(hh), feed_service_dest(e->s[2])->hash, 32);
		snprintf(body, sizeof(body), "{\"peer\":\"%s\"}", hh);
		T_EQ(t, call(e, 0, true, "/peers", NULL, body, &o), 200);
		T_EQ(t, json_integer_value(json_object_get(o, "peers_up")), 2);
		json_decref(o);
		T_EQ(t, call(e, 0, true, "/peers", NULL, body, &o), 200);
		T_EQ(t, json_integer_value(json_object_get(o, "peers")), 2);
		json_decref(o);
	}

	/* Publish on 0 from fields, signed by 0's creator key. */
	T_EQ(t, call(e, 0, true, "/publish", NULL,
		     "{\"content_hash\":\"" "1111111111111111111111111111111111111111111111111111111111111111"
		     "\",\"size\":1234,\"mime\":\"video/mp4\",\"title\":"
		     "\"Harbour lights\",\"description\":\"a night walk\","
		     "\"tags\":[\"film\",\"night\"]}", &o), 200);
	v = json_string_value(json_object_get(o, "id"));
	T_TRUE(t, v && strlen(v) == 64);
	snprintf(id, sizeof(id), "%s", v ? v : "");
	json_decref(o);
	T_EQ(t, feed_count(e, 0, NULL), 1);
	{
		struct want w = { 2, NULL, 1 };

		run_until(e, has_rows, &w);	/* through 1, pushed */
	}
	T_EQ(t, feed_count(e, 1, "text=harbour&tag=film&price=free"), 1);
	T_EQ(t, feed_count(e, 2, "text=desert"), 0);
	T_EQ(t, feed_count(e, 2, "price=paid"), 0);
	T_EQ(t, feed_count(e, 2, "sort=popular&limit=1"), 1);
	snprintf(body, sizeof(body), "/card/%s", id);
	T_EQ(t, call(e, 2, false, body, NULL, NULL, &o), 200);
	T_STREQ(t, json_string_value(json_object_get(json_object_get(o, "card"),
						     "title")), "Harbour lights");
	json_decref(o);

	/* A paid card signed by another creator, handed over as hex. */
	{
		struct bbuf b = BBUF_INIT;
		uint8_t cid[32];

		tf_card(t, 9, "Desert orbit", "", "music", 5000000,
			TF_T0, &b, cid);
		hex = card_body(&b);
		T_EQ(t, call(e, 2, true, "/publish", NULL, hex, &o), 200);
		json_decref(o);
		free(hex);
		bbuf_free(&b);
	}
	{
		struct want w = { 0, "price=paid&tag=music", 1 };

		run_until(e, has_rows, &w);
	}
	T_EQ(t, feed_count(e, 0, NULL), 2);
	T_EQ(t, feed_count(e, 0, "price=free"), 1);
	/* Owned: what the callback says this router holds (0 only). */
	T_EQ(t, feed_count(e, 0, "price=owned"), 1);
	T_EQ(t, feed_count(e, 0, "price=owned&tag=music"), 0);
	T_EQ(t, feed_count(e, 1, "price=owned"), 0);
	/* Media types (both cards video/mp4), trending. */
	T_EQ(t, feed_count(e, 0, "media=video"), 2);
	T_EQ(t, feed_count(e, 0, "media=video%2Fmp4&sort=trending"), 2);
	T_EQ(t, feed_count(e, 0, "media=audio"), 0);
	T_EQ(t, call(e, 0, false, "", "price=owned", NULL, &o), 200);
	T_STREQ(t, json_string_value(json_object_get(json_array_get(
		json_object_get(o, "cards"), 0), "title")), "Harbour lights");
	T_STREQ(t, json_string_value(json_object_get(json_array_get(
		json_object_get(o, "cards"), 0), "mime")), "video/mp4");
	json_decref(o);

	/* Reactions travel and count once per author. */
	snprintf(body, sizeof(body), "{\"card\":\"%s\",\"reaction\":\"like\"}",
		 id);
	T_EQ(t, call(e, 2, true, "/react", NULL, body, &o), 200);
	json_decref(o);
	T_EQ(t, call(e, 2, true, "/react", NULL, body, &o), 200);
	json_decref(o);
	{
		struct want_stat w = { 0, id, "likes", 1 };

		run_until(e, has_stat, &w);
	}
	/* Views are off by default (1), on at 2. */
	snprintf(body, sizeof(body), "{\"card\":\"%s\"}", id);
	T_EQ(t, call(e, 1, true, "/view", NULL, body, &o), 403);
	json_decref(o);
	T_EQ(t, call(e, 2, true, "/view", NULL, body, &o), 200);
	json_decref(o);
	{
		struct want_stat w = { 0, id, "views", 1 };

		run_until(e, has_stat, &w);
	}
	/* Follow the card's creator at 1: followed-only query sees it. */
	T_EQ(t, feed_count(e, 1, "followed=1"), 0);
	snprintf(body, sizeof(body), "{\"card\":\"%s\",\"on\":true}", id);
	T_EQ(t, call(e, 1, true, "/follow", NULL, body, &o), 200);
	json_decref(o);
	T_EQ(t, feed_count(e, 1, "followed=1"), 1);

	/* Block the creator at 1: hidden there; unblock: back. */
	{
		char creator[65];

		T_EQ(t, call(e, 0, false, "/status", NULL, NULL, &o), 200);
		snprintf(creator, sizeof(creator), "%s", json_string_value(
			json_object_get(o, "creator")));
		json_decref(o);
		snprintf(body, sizeof(body), "{\"creator\":\"%s\"}", creator);
		T_EQ(t, call(e, 1, true, "/block", NULL, body, &o), 200);
		json_decref(o);
		T_EQ(t, feed_count(e, 1, "text=harbour"), 0);
		snprintf(body, sizeof(body), "{\"creator\":\"%s\",\"on\":"
			 "false}", creator);
		T_EQ(t, call(e, 1, true, "/block", NULL, body, &o), 200);
		json_decref(o);
		T_EQ(t, feed_count(e, 1, "text=harbour"), 1);
	}
	/* Only the creator withdraws a card; it then goes from every feed. */
	snprintf(body, sizeof(body), "{\"card\":\"%s\"}", id);
	T_EQ(t, call(e, 1, true, "/delete", NULL, body, &o), 403);
	json_decref(o);
	T_EQ(t, call(e, 0, true, "/delete", NULL, body, &o), 200);
	json_decref(o);
	{
		struct want w = { 2, "text=harbour", 0 };

		run_until(e, has_rows, &w);
	}
	T_EQ(t, feed_count(e, 1, "text=harbour"), 0);

	/* Bad calls: answered with an error, nothing changed. */
	T_EQ(t, call(e, 0, false, "", "limit=0", NULL, &o), 400);
	json_decref(o);
	T_EQ(t, call(e, 0, false, "", "sort=oldest", NULL, &o), 400);
	json_decref(o);
	T_EQ(t, call(e, 0, false, "", "price=bought", NULL, &o), 400);
	json_decref(o);
	T_EQ(t, call(e, 0, false, "", "media=", NULL, &o), 400);
	json_decref(o);
	T_EQ(t, call(e, 0, false, "", "bogus=1", NULL, &o), 400);
	json_decref(o);
	T_EQ(t, call(e, 0, false, "/card/00", NULL, NULL, &o), 400);
	json_decref(o);
	T_EQ(t, call(e, 0, true, "/react", NULL, "{\"card\":\"00\","
		     "\"reaction\":\"like\"}", &o), 400);
	json_decref(o);
	T_EQ(t, call(e, 0, true, "/publish", NULL, "{\"title\":\"x\"}", &o),
	     400);
	json_decref(o);
	T_EQ(t, call(e, 0, true, "/peers", NULL, "{\"peer\":\"xyz\"}", &o),
	     400);
	json_decref(o);
	T_EQ(t, call(e, 0, true, "/nope", NULL, "{}", &o), 404);
	json_decref(o);

	/* A forged card (one signature byte changed) is refused, counted,
	 * and never shown nor relayed. */
	tf_card(t, 7, "Forged", "", "film", 0, TF_T0 + 5, &forged, fid);
	forged.data[forged.len - 1] ^= 1;
	hex = card_body(&forged);
	T_EQ(t, call(e, 0, true, "/publish", NULL, hex, &o), 422);
	json_decref(o);
	free(hex);
	T_EQ(t, gossip_stat(e, 0, "rej_sig"), 1);
	T_EQ(t, gossip_stat(e, 0, "rej_pow"), 0);
	T_EQ(t, feed_count(e, 0, "text=forged"), 0);
	bbuf_free(&forged);

	/* Restart 0: same destination and creator, same store. */
	{
		uint8_t hash[32];
		struct feed_service_cfg c = { 0 };

		memcpy(hash, feed_service_dest(e->s[0])->hash, 32);
		feed_service_free(e->s[0]);
		e->s[0] = NULL;
		c.datadir = e->dir[0];
		T_OK(t, feed_service_start(e->el, &c, &e->net, &e->s[0]));
		T_MEMEQ(t, feed_service_dest(e->s[0])->hash, hash, 32);
		T_EQ(t, feed_count(e, 0, NULL), 1);	/* one withdrawn */
		T_EQ(t, card_stat(e, 0, id, "likes"), 1);
	}
	senv_free(e);
	free(e);
}

const struct test_case feed_service_tests[] = {
	{ "api", test_api, 0 },
	{ "parse_query", test_parse_query, 0 },
	{ NULL, NULL, 0 }
};
