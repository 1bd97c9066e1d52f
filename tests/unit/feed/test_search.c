/*
 * apps/feed/store at scale: searches and filters over a synthetic set of
 * 100,000 cards return exactly the cards a plain scan of the set picks, in
 * order, page by page.  The cards are not signed (the store takes them as
 * checked), so the set builds in seconds.  Times are printed, never
 * asserted.
 */
#include "config.h"
#include "apps/feed/store.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"
#include "tests/unit/feed/tfeed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_CARDS 100000u
#define S_CREATORS 200u
#define S_BATCH 10000u
#define S_LIKED 60u	/* cards with likes: S_CARDS - 1 - 997 * j */

static const char *const S_WORDS[] = {
	"river", "night", "city", "piano", "forest", "engine", "garden",
	"winter", "signal", "harbour", "desert", "orbit", "violin", "market"
};
#define S_NWORDS (sizeof(S_WORDS) / sizeof(S_WORDS[0]))

/* Card i's attributes (created grows with i; cards are put in another
 * order). */
static unsigned s_w1(unsigned i) { return i % S_NWORDS; }
static unsigned s_w2(unsigned i) { return (i / S_NWORDS) % S_NWORDS; }
static unsigned s_w3(unsigned i) { return (i * 5 / 3) % S_NWORDS; }
static unsigned s_words(unsigned i)
{ return 1u << s_w1(i) | 1u << s_w2(i) | 1u << s_w3(i); }
static unsigned s_creator(unsigned i) { return i % S_CREATORS; }
static uint64_t s_created(unsigned i) { return TF_T0 + (uint64_t)i * 7; }
static bool s_music(unsigned i) { return i % 3 == 0; }
static uint64_t s_price(unsigned i)
{ return i % 4 == 0 ? 0 : (uint64_t)(i % 1000) * 1000 + 1; }

static void s_pk(unsigned k, struct ed25519_pk *pk)
{
	memset(pk->b, 0, sizeof(pk->b));
	pk->b[0] = (uint8_t)k;
	pk->b[1] = (uint8_t)(k >> 8);
	pk->b[31] = 0x5a;
}

static void s_price_be(uint8_t out[32], uint64_t v)
{
	int b;

	memset(out, 0, 32);
	for (b = 0; b < 8; b++)
		out[31 - b] = (uint8_t)(v >> (8 * b));
}

/* The item id of card i (the SHA-256 of its stand-in encoding). */
static void s_enc(unsigned i, uint8_t enc[12], uint8_t id[32])
{
	memcpy(enc, "card", 4);
	for (int b = 0; b < 8; b++)
		enc[4 + b] = (uint8_t)((uint64_t)i >> (8 * b));
	sha256(id, enc, 12);
}

static void s_card(unsigned i, struct content_card *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->content_hash, &i, sizeof(i));
	c->size = 1000 + i;
	snprintf(c->mime, sizeof(c->mime), "video/mp4");
	snprintf(c->title, sizeof(c->title), "%s %s %u", S_WORDS[s_w1(i)],
		 S_WORDS[s_w2(i)], i);
	snprintf(c->description, sizeof(c->description), "A %s story.",
		 S_WORDS[s_w3(i)]);
	c->tag_count = 2;
	snprintf(c->tags[0], sizeof(c->tags[0]), "%s",
		 s_music(i) ? "music" : "video");
	snprintf(c->tags[1], sizeof(c->tags[1]), "t%u", i % 50);
	s_price_be(c->price, s_price(i));
	if (s_price(i))
		snprintf(c->currency, sizeof(c->currency), "USDC");
	s_pk(s_creator(i), &c->creator);
	c->created = s_created(i);
	c->version = 1;
}

/* What a query asks, as the scan tests it. */
struct s_want {
	unsigned words;		/* all of these S_WORDS bits */
	int number;		/* the title's number, or -1 */
	int tag50;		/* tN, or -1 */
	int music;		/* 1 music, 0 video, -1 either */
	int creator;		/* or -1 */
	uint64_t price_min, price_max;	/* inclusive */
	const bool *followed;	/* by creator, or NULL */
};

static bool s_pick(const struct s_want *w, unsigned i)
{
	return (s_words(i) & w->words) == w->words &&
	       (w->number < 0 || (unsigned)w->number == i) &&
	       (w->tag50 < 0 || (unsigned)w->tag50 == i % 50) &&
	       (w->music < 0 || (w->music == 1) == s_music(i)) &&
	       (w->creator < 0 || (unsigned)w->creator == s_creator(i)) &&
	       s_price(i) >= w->price_min && s_price(i) <= w->price_max &&
	       (!w->followed || w->followed[s_creator(i)]);
}

struct s_ctx {
	struct feed_store *st;
	uint32_t likes[S_CARDS];	/* distinct likers per card */
	uint8_t ids[S_CARDS][32];
	struct feed_row rows[FEED_QUERY_MAX_ROWS];
	unsigned order[S_CARDS];	/* the expected order (scan) */
	double worst_ms;
	const char *worst;
};

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Popular order: score (4 per like here) down, then created down. */
static const uint32_t *s_sort_likes;
static int s_cmp_popular(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	if (s_sort_likes[x] != s_sort_likes[y])
		return s_sort_likes[x] > s_sort_likes[y] ? -1 : 1;
	return x > y ? -1 : x < y;
}

/* Run q (its filters written from w as well) and compare the page with
 * the scan's. */
static void s_check(struct tctx *t, struct s_ctx *s, struct feed_query *q,
		    const struct s_want *w, const char *what)
{
	unsigned n = 0, k = 0, i, skipped = 9, total = 0;
	double t0;

	for (i = S_CARDS; i-- > 0;)
		if (s_pick(w, i))
			s->order[total++] = i;
	if (q->sort == FEED_SORT_POPULAR) {
		s_sort_likes = s->likes;
		qsort(s->order, total, sizeof(s->order[0]), s_cmp_popular);
	}
	t0 = s_now();
	T_OK(t, feed_store_query(s->st, q, s->rows, &n, &skipped));
	t0 = (s_now() - t0) * 1000;
	if (t0 > s->worst_ms) {
		s->worst_ms = t0;
		s->worst = what;
	}
	T_EQ(t, skipped, 0);
	for (i = q->offset; i < total && k < q->limit; i++, k++) {
		if (k >= n)
			break;
		if (memcmp(s->rows[k].id, s->ids[s->order[i]], 32)) {
			T_MEMEQ(t, s->rows[k].id, s->ids[s->order[i]], 32);
			fprintf(stderr, "  %s: row %u is not card %u\n", what,
				k, s->order[i]);
			return;
		}
		T_EQ(t, s->rows[k].created, s_created(s->order[i]));
		T_EQ(t, s->rows[k].stats.likes, s->likes[s->order[i]]);
	}
	T_EQ(t, n, k);
	if (n != k)
		fprintf(stderr, "  %s: %u rows, want %u (of %u)\n", what, n, k,
			total);
}

static void s_want_all(struct s_want *w)
{
	memset(w, 0, sizeof(*w));
	w->number = w->tag50 = w->music = w->creator = -1;
	w->price_max = UINT64_MAX;
}

static void test_search_100k(struct tctx *t)
{
	struct s_ctx *s = calloc(1, sizeof(*s));
	struct content_card *c = malloc(sizeof(*c));
	struct content_record rec;
	struct feed_query q;
	struct s_want w;
	bool followed[S_CREATORS] = { false };
	char path[512], *dir = t_tmpdir(t), number[16];
	uint8_t enc[12];
	double t0 = s_now(), t_build;
	unsigned i, j, a;

	snprintf(path, sizeof(path), "%s/feed.db", dir);
	T_OK(t, feed_store_open(path, &s->st));
	/* Put in about the order of creation, as gossip brings them, but
	 * each pair the wrong way round (in a scattered order the random
	 * updates of the indexes take twice the time). */
	for (j = 0; j < S_CARDS; j++) {
		i = j ^ 1;
		if (j % S_BATCH == 0)
			T_OK(t, feed_store_begin(s->st));
		s_card(i, c);
		s_enc(i, enc, s->ids[i]);
		T_OK(t, feed_store_put_card(s->st, c, enc, sizeof(enc),
					    s->ids[i], 0));
		if (j % S_BATCH == S_BATCH - 1)
			T_OK(t, feed_store_commit(s->st));
	}
	/* Likes: card S_CARDS - 1 - 997 j gets 1 + j % 3 likers. */
	for (j = 0; j < S_LIKED; j++) {
		i = S_CARDS - 1 - 997 * j;
		for (a = 0; a < 1 + j % 3; a++) {
			uint8_t rid[32], renc[16];

			memset(&rec, 0, sizeof(rec));
			rec.kind = CONTENT_RECORD_REACTION;
			rec.reaction = CONTENT_REACT_LIKE;
			memcpy(rec.card_id, s->ids[i], 32);
			s_pk(1000 + a, &rec.author);
			rec.created = s_created(i) + 1;
			memcpy(renc, "like", 4);
			memcpy(renc + 4, &i, 4);
			memcpy(renc + 8, &a, 4);
			memset(renc + 12, 0, 4);
			sha256(rid, renc, sizeof(renc));
			T_OK(t, feed_store_put_record(s->st, &rec, renc,
						      sizeof(renc), rid, 0));
			s->likes[i]++;
		}
	}
	t_build = s_now() - t0;

	memset(&q, 0, sizeof(q));
	q.limit = 100;
	s_want_all(&w);
	s_check(t, s, &q, &w, "newest");
	q.offset = 50000;	/* a deep page */
	s_check(t, s, &q, &w, "newest, page 501");
	q.offset = S_CARDS - 30;	/* the last, short page */
	s_check(t, s, &q, &w, "newest, last page");
	q.offset = 0;

	q.text = "river";
	w.words = 1u << 0;
	s_check(t, s, &q, &w, "text");
	q.offset = 3000;
	s_check(t, s, &q, &w, "text, page 31");
	q.offset = 0;
	q.text = "Orbit  RIVER";	/* case and spaces do not matter */
	w.words = 1u << 0 | 1u << 11;
	s_check(t, s, &q, &w, "two words");
	snprintf(number, sizeof(number), "%u", 77777u);
	q.text = number;	/* one card */
	w.words = 0;
	w.number = 77777;
	s_check(t, s, &q, &w, "number");
	w.number = -1;

	q.text = NULL;
	q.tags[0] = "t7";
	q.tags[1] = "music";
	q.tag_count = 2;
	q.offset = 100;
	w.tag50 = 7;
	w.music = 1;
	s_check(t, s, &q, &w, "two tags, page 2");
	q.text = "piano";
	w.words = 1u << 3;
	s_check(t, s, &q, &w, "text and two tags, page 2");
	q.text = NULL;
	q.tag_count = 0;
	q.offset = 0;
	s_want_all(&w);

	q.has_creator = true;
	s_pk(17, &q.creator);
	q.offset = 200;
	w.creator = 17;
	s_check(t, s, &q, &w, "creator, page 3");
	q.text = "garden";
	q.offset = 0;
	w.words = 1u << 6;
	s_check(t, s, &q, &w, "creator and text");
	q.text = NULL;
	q.has_creator = false;
	s_want_all(&w);

	q.has_price_max = true;	/* zero: free only */
	q.offset = 1000;
	w.price_max = 0;
	s_check(t, s, &q, &w, "free, page 11");
	q.offset = 0;
	q.has_price_min = true;
	s_price_be(q.price_min, 5001);
	s_price_be(q.price_max, 20001);
	w.price_min = 5001;
	w.price_max = 20001;
	s_check(t, s, &q, &w, "price range");
	q.text = "winter";
	w.words = 1u << 7;
	s_check(t, s, &q, &w, "price range and text");
	q.text = NULL;
	q.has_price_min = q.has_price_max = false;
	s_want_all(&w);

	for (a = 0; a < 3; a++) {
		struct ed25519_pk pk;

		s_pk(40 + 50 * a, &pk);
		T_OK(t, feed_store_follow(s->st, &pk, true));
		followed[40 + 50 * a] = true;
	}
	q.followed_only = true;
	w.followed = followed;
	q.offset = 100;
	s_check(t, s, &q, &w, "followed, page 2");
	q.text = "signal";
	q.offset = 0;
	w.words = 1u << 8;
	s_check(t, s, &q, &w, "followed and text");
	q.text = NULL;
	q.followed_only = false;
	s_want_all(&w);

	q.sort = FEED_SORT_POPULAR;
	s_check(t, s, &q, &w, "popular");
	q.offset = 40;
	s_check(t, s, &q, &w, "popular, from 41");
	q.offset = 0;
	q.text = "river";
	w.words = 1u << 0;
	s_check(t, s, &q, &w, "popular and text");

	fprintf(stderr, "  store/search_100k: %u cards and %u likes put in "
		"%.1f s, slowest query %.1f ms (%s; printed, not asserted)\n",
		S_CARDS, S_LIKED * 2, t_build, s->worst_ms, s->worst);
	feed_store_free(s->st);
	free(c);
	free(s);
	free(dir);
}

const struct test_case feed_search_tests[] = {
	{ "search_100k", test_search_100k, 0 },
	{ NULL, NULL, 0 }
};
