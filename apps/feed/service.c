/* The feed as a router service, and its JSON API (apps/feed/service.h). */
#include "config.h"
#include "apps/feed/service.h"
#include "apps/content/card.h"
#include "apps/content/par.h"
#include "apps/content/record.h"
#include "apps/content/text.h"
#include "apps/feed/store.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/hash.h"
#include "crypto/secmem.h"
#include "router/b33.h"
#include "router/evloop.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_DEFAULT_LIMIT 20

struct feed_service {
	struct feed_service_cfg cfg;
	struct evloop *el;
	struct client_net net;
	struct client_dest *dest;
	struct feed_store *store;
	struct content_pool *pool;
	struct feed_node *node;
	struct ed25519_seed *creator_sk;	/* secmem */
	struct content_signer creator;
	bool peer_up[FEED_PEERS_MAX];
	struct evloop_timer *round;
};

/* ---- files ---- */

/* ---- the service ---- */

int feed_service_parse_peers(const char *list, struct feed_service_cfg *cfg)
{
	const char *p = list;
	size_t n;

	for (; *p; p += n) {
		p += strspn(p, ", \t");
		if (!(n = strcspn(p, ", \t")))
			break;
		if (cfg->npeers == FEED_PEERS_MAX) {
			log_err(LD_APP, "feed.peers: more than %d", FEED_PEERS_MAX);
			return ERR_LIMIT;
		}
		if (!b32_hash_parse(p, n, cfg->peers[cfg->npeers])) {
			log_err(LD_APP, "feed.peers: not a b32 address nor 64 "
				"hex digits: %.*s", (int)(n > 80 ? 80 : n), p);
			return ERR_FORMAT;
		}
		cfg->npeers++;
	}
	return 0;
}

static void on_round(void *arg)
{
	struct feed_service *s = arg;

	feed_service_round(s);
	evloop_timer_arm(s->round, (uint64_t)s->cfg.round_s * 1000u);
}

void feed_service_round(struct feed_service *s)
{
	struct keys_and_cert *kc = xmalloc(sizeof(*kc));
	unsigned i;
	int r;

	for (i = 0; i < s->cfg.npeers; i++) {
		if (s->peer_up[i] ||
		    s->net.lookup(s->net.ctx, s->cfg.peers[i], kc) != 0)
			continue;
		r = feed_node_add_peer(s->node, kc);
		if (r == 0 || r == ERR_EXISTS)
			s->peer_up[i] = true;
	}
	free(kc);
	feed_node_round(s->node);
}

unsigned feed_service_peers_up(const struct feed_service *s)
{
	unsigned i, n = 0;

	for (i = 0; i < s->cfg.npeers; i++)
		n += s->peer_up[i];
	return n;
}

int feed_service_start(struct evloop *el, const struct feed_service_cfg *cfg,
		       const struct client_net *net,
		       struct feed_service **out)
{
	struct feed_service *s = xzalloc(sizeof(*s));
	struct feed_node_cfg nc = { 0 };
	char *path;
	int r;

	s->cfg = *cfg;
	s->cfg.datadir = NULL;
	if (!s->cfg.round_s)
		s->cfg.round_s = FEED_SERVICE_ROUND_S;
	if (s->cfg.npeers > FEED_PEERS_MAX)
		s->cfg.npeers = FEED_PEERS_MAX;
	s->el = el;
	s->net = *net;
	s->creator_sk = secmem_alloc(sizeof(*s->creator_sk));
	path = fsutil_path_join(cfg->datadir, FEED_SERVICE_CREATOR_FILE);
	if ((r = content_creator_seed_load(path, s->creator_sk)) == ERR_FORMAT)
		log_err(LD_APP, "feed: %s is not a creator key", path);
	free(path);
	if (r == 0) {
		content_signer_from_seed(&s->creator, s->creator_sk);
		path = fsutil_path_join(cfg->datadir, FEED_SERVICE_DEST_FILE);
		r = client_dest_load_or_create(path, &s->dest);
		free(path);
	}
	if (r == 0) {
		path = fsutil_path_join(cfg->datadir, FEED_SERVICE_STORE_FILE);
		r = feed_store_open(path, &s->store);
		if (r != 0)
			log_err(LD_APP, "feed: cannot open %s: %s", path,
				err_str(r));
		free(path);
	}
	if (r != 0) {
		feed_service_free(s);
		return r;
	}
	feed_store_set_owned(s->store, cfg->owned, cfg->owned_ctx);
	s->pool = content_pool_new(cfg->threads ? cfg->threads : 2);
	nc.net = s->net;
	nc.el = el;
	nc.pool = s->pool;
	nc.dest = s->dest;
	nc.store = s->store;
	nc.followed_only = cfg->followed_only;
	nc.peer_items_per_s = cfg->peer_items_per_s;
	nc.peer_burst = cfg->peer_burst;
	nc.creator_items_per_hour = cfg->creator_items_per_hour;
	nc.creator_burst = cfg->creator_burst;
	nc.pow_bits = cfg->pow_bits;
	nc.retention_days = cfg->retention_days;
	nc.favoured = cfg->favoured;
	nc.favoured_ctx = cfg->favoured_ctx;
	if ((r = feed_node_new(&nc, &s->node)) != 0) {
		feed_service_free(s);
		return r;
	}
	s->round = evloop_timer_new(el, on_round, s);
	evloop_timer_arm(s->round, FEED_SERVICE_FIRST_ROUND_MS);
	*out = s;
	return 0;
}

void feed_service_free(struct feed_service *s)
{
	if (!s)
		return;
	evloop_timer_free(s->round);
	feed_node_free(s->node);
	content_pool_free(s->pool);
	feed_store_free(s->store);
	client_dest_free(s->dest);
	if (s->creator_sk)
		secmem_free(s->creator_sk);
	free(s);
}

const struct keys_and_cert *feed_service_dest(const struct feed_service *s)
{
	return client_dest_pub(s->dest);
}

struct feed_node *feed_service_node(struct feed_service *s)
{
	return s->node;
}

/* ---- the JSON API ---- */

static int api_err(json_t **out, int code, const char *msg)
{
	*out = json_pack("{s:s}", "error", msg);
	return code;
}

static json_t *hex_json(const uint8_t *b, size_t n)
{
	char hex[HEX_ENC_LEN(64)];

	if (n > 64 || hex_encode(hex, sizeof(hex), b, n) != 0)
		return json_null();
	return json_string(hex);
}

static bool hex32(const char *s, uint8_t out[32])
{
	size_t got = 0;

	return s && strlen(s) == 64 &&
	       hex_decode(out, 32, &got, s, 64) == 0 && got == 32;
}

static json_t *stats_json(const struct feed_card_stats *st)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I}", "likes", (json_int_t)st->likes,
			 "dislikes", (json_int_t)st->dislikes,
			 "flags", (json_int_t)st->flags,
			 "emojis", (json_int_t)st->emojis,
			 "views", (json_int_t)st->views);
}

/* One query-string value, %-decoded in place ('+' is a space). */
static void url_decode(char *s)
{
	char *o = s;
	size_t got;
	uint8_t c;

	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%' && s[1] && s[2] &&
			   hex_decode(&c, 1, &got, s + 1, 2) == 0 && got == 1 &&
			   c != 0) {
			*o++ = (char)c;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static bool parse_uint(const char *v, unsigned max, unsigned *out)
{
	uint64_t x;

	if (dec_decode(&x, max, v, strlen(v)) != 0)
		return false;
	*out = (unsigned)x;
	return true;
}

const char *feed_service_parse_query(char *buf, struct feed_query *q)
{
	char *save = NULL, *kv;
	unsigned v;

	memset(q, 0, sizeof(*q));
	q->limit = FEED_DEFAULT_LIMIT;
	for (kv = strtok_r(buf, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *val = strchr(kv, '=');

		if (!val)
			return "a query parameter without a value";
		*val++ = '\0';
		url_decode(val);
		if (!strcmp(kv, "text")) {
			q->text = val;
		} else if (!strcmp(kv, "tag")) {
			if (q->tag_count == CARD_TAGS_MAX)
				return "too many tags";
			q->tags[q->tag_count++] = val;
		} else if (!strcmp(kv, "creator")) {
			if (!hex32(val, q->creator.b))
				return "creator: 64 hex digits";
			q->has_creator = true;
		} else if (!strcmp(kv, "price")) {
			if (!strcmp(val, "free")) {
				q->has_price_max = true;	/* max 0 */
			} else if (!strcmp(val, "paid")) {
				q->has_price_min = true;
				q->price_min[31] = 1;
			} else if (!strcmp(val, "owned")) {
				q->owned_only = true;
			} else {
				return "price: free, paid or owned";
			}
		} else if (!strcmp(kv, "media")) {
			if (!val[0] || strlen(val) > CONTENT_MIME_MAX_BYTES)
				return "media: a MIME type or its top-level "
				       "type";
			q->media = val;
		} else if (!strcmp(kv, "price_min") || !strcmp(kv, "price_max")) {
			bool min = kv[6] == 'm' && kv[7] == 'i';

			if (content_amount_parse(val, 0, min ? q->price_min :
						 q->price_max) != 0)
				return "price_min/price_max: base units";
			if (min)
				q->has_price_min = true;
			else
				q->has_price_max = true;
		} else if (!strcmp(kv, "followed")) {
			q->followed_only = !strcmp(val, "1") ||
					   !strcmp(val, "true");
		} else if (!strcmp(kv, "sort")) {
			if (!strcmp(val, "new"))
				q->sort = FEED_SORT_NEW;
			else if (!strcmp(val, "popular"))
				q->sort = FEED_SORT_POPULAR;
			else if (!strcmp(val, "trending"))
				q->sort = FEED_SORT_TRENDING;
			else
				return "sort: new, popular or trending";
		} else if (!strcmp(kv, "offset")) {
			if (!parse_uint(val, 1000000, &q->offset))
				return "offset: a number";
		} else if (!strcmp(kv, "limit")) {
			if (!parse_uint(val, FEED_QUERY_MAX_ROWS, &v) || !v)
				return "limit: 1 to 100";
			q->limit = v;
		} else {
			return "unknown query parameter";
		}
	}
	return NULL;
}

static int api_query(struct feed_service *s, const char *qs, json_t **out)
{
	struct feed_row *rows = xcalloc(FEED_QUERY_MAX_ROWS, sizeof(*rows));
	char *buf = xstrdup(qs ? qs : "");
	struct feed_query q;
	const char *bad = feed_service_parse_query(buf, &q);
	char amount[CONTENT_AMOUNT_TEXT_BYTES];
	unsigned n = 0, i;
	json_t *cards;
	int r, code = 200;

	if (bad) {
		code = api_err(out, 400, bad);
		goto out;
	}
	r = feed_store_query(s->store, &q, rows, &n, NULL);
	if (r != 0) {
		code = api_err(out, r == ERR_ARG ? 400 : 500, err_str(r));
		goto out;
	}
	cards = json_array();
	for (i = 0; i < n; i++) {
		static const uint8_t zero[32];

		content_amount_format(rows[i].price, 0, amount);
		json_array_append_new(cards, json_pack(
			"{s:o,s:o,s:I,s:s,s:s,s:s,s:b,s:o}",
			"id", hex_json(rows[i].id, 32),
			"creator", hex_json(rows[i].creator.b, 32),
			"created", (json_int_t)rows[i].created,
			"title", rows[i].title, "mime", rows[i].mime,
			"price", amount,
			"free", memcmp(rows[i].price, zero, 32) == 0,
			"stats", stats_json(&rows[i].stats)));
	}
	*out = json_pack("{s:o,s:I}", "cards", cards, "offset",
			 (json_int_t)q.offset);
out:
	free(buf);
	free(rows);
	return code;
}

static int api_card(struct feed_service *s, const char *hex, json_t **out)
{
	struct content_card *c;
	struct feed_card_stats st;
	enum feed_item_kind kind;
	struct bbuf b = BBUF_INIT;
	uint8_t id[32];
	char *js;
	json_t *card;
	int code;

	if (!hex32(hex, id))
		return api_err(out, 400, "card id: 64 hex digits");
	if (feed_store_get_item(s->store, id, &kind, &b, NULL) != 0 ||
	    kind != FEED_ITEM_CARD) {
		bbuf_free(&b);
		return api_err(out, 404, "no such card");
	}
	c = xmalloc(sizeof(*c));
	/* The store holds only verified cards; decode what it hands back
	 * all the same (the file is not trusted). */
	if (content_card_decode(b.data, b.len, c) != 0 ||
	    !(js = content_card_to_json(c))) {
		code = api_err(out, 500, "stored card does not decode");
		goto out;
	}
	card = json_loads(js, 0, NULL);
	free(js);
	if (feed_store_card_stats(s->store, id, &st) != 0)
		memset(&st, 0, sizeof(st));
	*out = json_pack("{s:o,s:o,s:o,s:b}", "id", hex_json(id, 32),
			 "card", card ? card : json_null(),
			 "stats", stats_json(&st),
			 "followed", feed_store_is_followed(s->store, &c->creator));
	code = 200;
out:
	free(c);
	bbuf_free(&b);
	return code;
}

/* Publish an item we made or were handed; its id in *out. */
static int publish_item(struct feed_service *s, enum feed_item_kind kind,
			const uint8_t *enc, size_t len, json_t **out)
{
	uint8_t id[32];
	int r = feed_node_publish(s->node, kind, enc, len);

	if (r == ERR_DUPLICATE)
		r = 0;	/* held already: publishing again is a no-op */
	if (r != 0)
		return api_err(out, r == ERR_IO ? 500 : 422, err_str(r));
	sha256(id, enc, len);
	*out = json_pack("{s:o}", "id", hex_json(id, 32));
	return 200;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A card from the body's fields, signed by our creator key. */
static const char *card_from_fields(struct feed_service *s, json_t *body,
				    struct content_card *c)
{
	const char *v, *bad;
	bool free_content;
	unsigned royalty;	/* a resale's share: not the feed's business */

	memset(c, 0, sizeof(*c));
	if (!hex32(jstr(body, "content_hash"), c->content_hash))
		return "content_hash: 64 hex digits";
	if ((v = jstr(body, "key_commitment")) && !hex32(v, c->key_commitment))
		return "key_commitment: 64 hex digits";
	if (json_integer_value(json_object_get(body, "size")) < 0)
		return "size: a number of bytes";
	c->size = (uint64_t)json_integer_value(json_object_get(body, "size"));
	snprintf(c->mime, sizeof(c->mime), "%s",
		 (v = jstr(body, "mime")) ? v : "application/octet-stream");
	if ((bad = content_card_fields_json(body, NULL, c, &free_content,
					    &royalty)))
		return bad;
	c->created = time_now_s();
	c->version = 1;
	content_card_normalize(c);
	return content_card_sign(c, &s->creator) == 0 ? NULL :
	       "the card's fields are out of their limits";
}

static int api_publish(struct feed_service *s, json_t *body, json_t **out)
{
	const char *hex = jstr(body, "card"), *bad;
	struct content_card *c;
	struct bbuf b = BBUF_INIT;
	size_t got = 0;
	int code;

	if (hex) {	/* a card signed elsewhere (`bits publish`) */
		size_t n = strlen(hex);
		uint8_t *enc;

		if (n == 0 || n % 2 || n / 2 > FEED_ITEM_MAX_BYTES)
			return api_err(out, 400, "card: hex of a signed card");
		enc = xmalloc(n / 2);
		if (hex_decode(enc, n / 2, &got, hex, n) != 0 ||
		    got != n / 2)
			code = api_err(out, 400, "card: hex of a signed card");
		else
			code = publish_item(s, FEED_ITEM_CARD, enc, got, out);
		free(enc);
		return code;
	}
	c = xmalloc(sizeof(*c));
	if ((bad = card_from_fields(s, body, c)))
		code = api_err(out, 400, bad);
	else if (content_card_encode(c, &b) != 0)
		code = api_err(out, 400, "the card does not encode");
	else
		code = publish_item(s, FEED_ITEM_CARD, b.data, b.len, out);
	bbuf_free(&b);
	free(c);
	return code;
}

/* Sign and publish a record of kind about card_hex. */
static int publish_record(struct feed_service *s, const char *card_hex,
			  struct content_record *rec, json_t **out)
{
	struct bbuf b = BBUF_INIT;
	int code;

	if (!hex32(card_hex, rec->card_id))
		return api_err(out, 400, "card: 64 hex digits");
	if (!feed_store_has(s->store, rec->card_id))
		return api_err(out, 404, "no such card");
	rec->created = time_now_s();
	if (content_record_sign(rec, &s->creator) != 0 ||
	    content_record_encode(rec, &b) != 0)
		code = api_err(out, 400, "the record is out of its limits");
	else
		code = publish_item(s, FEED_ITEM_RECORD, b.data, b.len, out);
	bbuf_free(&b);
	return code;
}

static int api_react(struct feed_service *s, json_t *body, json_t **out)
{
	static const char *const names[] = { "like", "dislike", "flag",
					     "emoji" };
	struct content_record rec = { .kind = CONTENT_RECORD_REACTION };
	const char *what = jstr(body, "reaction"), *text = jstr(body, "text");
	unsigned i;

	for (i = 0; what && i < ARRAY_LEN(names); i++)
		if (!strcmp(what, names[i]))
			rec.reaction = (enum content_reaction)(i + 1);
	if (!rec.reaction)
		return api_err(out, 400, "reaction: like, dislike, flag or "
			       "emoji");
	if (rec.reaction == CONTENT_REACT_EMOJI) {
		if (!text || !text[0] || strlen(text) > RECORD_TEXT_MAX_BYTES)
			return api_err(out, 400, "text: the emoji");
		snprintf(rec.text, sizeof(rec.text), "%s", text);
	}
	return publish_record(s, jstr(body, "card"), &rec, out);
}

/* Follow a creator (key, local only) or the creator of a card (local,
 * and a signed follow record for the others). */
static int api_follow(struct feed_service *s, json_t *body, json_t **out)
{
	json_t *on_j = json_object_get(body, "on");
	bool on = on_j ? json_is_true(on_j) : true;
	struct content_record rec = { .kind = CONTENT_RECORD_FOLLOW };
	const char *card = jstr(body, "card");
	struct ed25519_pk who;
	int r, code;

	if (card) {
		if (!hex32(card, rec.card_id))
			return api_err(out, 400, "card: 64 hex digits");
		if (feed_store_card_creator(s->store, rec.card_id, &who) != 0)
			return api_err(out, 404, "no such card");
	} else if (!hex32(jstr(body, "creator"), who.b)) {
		return api_err(out, 400, "creator or card: 64 hex digits");
	}
	if ((r = feed_node_follow(s->node, &who, on)) != 0)
		return api_err(out, 500, err_str(r));
	if (!card) {
		*out = json_pack("{s:o,s:b}", "creator", hex_json(who.b, 32),
				 "following", on);
		return 200;
	}
	rec.follow = on;
	code = publish_record(s, card, &rec, out);
	if (code == 200)
		json_object_set_new(*out, "creator", hex_json(who.b, 32));
	return code;
}

/* Block or unblock a creator here (local only). */
static int api_block(struct feed_service *s, json_t *body, json_t **out)
{
	json_t *on_j = json_object_get(body, "on");
	bool on = on_j ? json_is_true(on_j) : true;
	struct ed25519_pk who;
	int r;

	if (!hex32(jstr(body, "creator"), who.b))
		return api_err(out, 400, "creator: 64 hex digits");
	if ((r = feed_node_block(s->node, &who, on)) != 0)
		return api_err(out, 500, err_str(r));
	*out = json_pack("{s:o,s:b}", "creator", hex_json(who.b, 32),
			 "blocked", on);
	return 200;
}

/* Gossip with one more peer from now on ({"peer": b32 or hex}). */
static int api_peer(struct feed_service *s, json_t *body, json_t **out)
{
	struct feed_service_cfg *one = xzalloc(sizeof(*one));
	const char *v = jstr(body, "peer");
	unsigned i;
	int code = 200;

	if (!v || feed_service_parse_peers(v, one) != 0 || one->npeers != 1) {
		code = api_err(out, 400, "peer: one b32 address or 64 hex "
			       "digits");
		goto out;
	}
	for (i = 0; i < s->cfg.npeers; i++)
		if (!memcmp(s->cfg.peers[i], one->peers[0], 32))
			break;
	if (i == s->cfg.npeers) {
		if (s->cfg.npeers == FEED_PEERS_MAX) {
			code = api_err(out, 409, "too many peers");
			goto out;
		}
		memcpy(s->cfg.peers[s->cfg.npeers++], one->peers[0], 32);
		feed_service_round(s);	/* look it up now */
	}
	*out = json_pack("{s:I,s:I}", "peers", (json_int_t)s->cfg.npeers,
			 "peers_up", (json_int_t)feed_service_peers_up(s));
out:
	free(one);
	return code;
}

/* Withdraw one of our own cards: a deletion record for every feed. */
static int api_delete(struct feed_service *s, json_t *body, json_t **out)
{
	struct content_record rec = { .kind = CONTENT_RECORD_DELETE };
	struct ed25519_pk who;

	if (!hex32(jstr(body, "card"), rec.card_id))
		return api_err(out, 400, "card: 64 hex digits");
	if (feed_store_card_creator(s->store, rec.card_id, &who) != 0)
		return api_err(out, 404, "no such card");
	if (memcmp(who.b, s->creator.pk.b, 32))
		return api_err(out, 403, "not a card of our creator key");
	return publish_record(s, jstr(body, "card"), &rec, out);
}

static int api_view(struct feed_service *s, json_t *body, json_t **out)
{
	struct content_record rec = { .kind = CONTENT_RECORD_VIEW };

	if (!s->cfg.views)
		return api_err(out, 403, "view records are off (feed.views)");
	return publish_record(s, jstr(body, "card"), &rec, out);
}

static int api_status(struct feed_service *s, json_t **out)
{
	const struct feed_node_stats *st = feed_node_get_stats(s->node);
	json_t *tmp;
	char b32[64];

	if (b32_encode(b32, sizeof(b32), feed_service_dest(s)->hash, 32) != 0)
		b32[0] = '\0';
	snprintf(b32 + strlen(b32), sizeof(b32) - strlen(b32), ".b32.i2p");
	*out = json_pack("{s:s,s:o,s:b,s:b,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I,"
			 "s:I,s:I,s:I,s:I,s:I,s:I,s:I}}",
			 "dest", b32, "creator", hex_json(s->creator.pk.b, 32),
			 "followed_only", s->cfg.followed_only,
			 "views", s->cfg.views,
			 "peers", (json_int_t)s->cfg.npeers,
			 "peers_up", (json_int_t)feed_service_peers_up(s),
			 "gossip", "rx_msgs", (json_int_t)st->rx_msgs,
			 "rx_bad", (json_int_t)st->rx_bad,
			 "tx_msgs", (json_int_t)st->tx_msgs,
			 "items_new", (json_int_t)st->items_new,
			 "items_dup", (json_int_t)st->items_dup,
			 "rej_format", (json_int_t)st->rej_format,
			 "rej_sig", (json_int_t)st->rej_sig,
			 "rej_time", (json_int_t)st->rej_time,
			 "rej_follow", (json_int_t)st->rej_follow,
			 "rej_peer_rate", (json_int_t)st->rej_peer_rate,
			 "rej_creator_rate", (json_int_t)st->rej_creator_rate,
			 "tx_fail", (json_int_t)st->tx_fail);
	json_object_update(json_object_get(*out, "gossip"), tmp = json_pack(
		"{s:I,s:I,s:I,s:I}", "rej_pow", (json_int_t)st->rej_pow,
		"rej_blocked", (json_int_t)st->rej_blocked,
		"rej_delete", (json_int_t)st->rej_delete,
		"favoured", (json_int_t)st->favoured));
	json_decref(tmp);
	return 200;
}

int feed_service_api(struct feed_service *s, bool post, const char *rest,
		     const char *query, json_t *body, json_t **out)
{
	if (!post) {
		if (!rest[0])
			return api_query(s, query, out);
		if (!strncmp(rest, "/card/", 6))
			return api_card(s, rest + 6, out);
		if (!strcmp(rest, "/status"))
			return api_status(s, out);
		return api_err(out, 404, "no such feed call");
	}
	if (!json_is_object(body))
		return api_err(out, 400, "the body must be a JSON object");
	if (!strcmp(rest, "/publish"))
		return api_publish(s, body, out);
	if (!strcmp(rest, "/react"))
		return api_react(s, body, out);
	if (!strcmp(rest, "/follow"))
		return api_follow(s, body, out);
	if (!strcmp(rest, "/view"))
		return api_view(s, body, out);
	if (!strcmp(rest, "/block"))
		return api_block(s, body, out);
	if (!strcmp(rest, "/peers"))
		return api_peer(s, body, out);
	if (!strcmp(rest, "/delete"))
		return api_delete(s, body, out);
	return api_err(out, 404, "no such feed call");
}
