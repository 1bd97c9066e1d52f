/* Helpers shared by the apps/feed unit tests. */
#include "config.h"
#include "crypto/base/err.h"
#include "tests/unit/feed/tfeed.h"
#include "apps/content/signer.h"
#include "crypto/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* s borrows sk: keep sk alive while s is used. */
static void tf_signer(uint8_t who, struct content_signer *s,
		      struct ed25519_seed *sk)
{
	memset(sk->b, who, sizeof(sk->b));
	content_signer_from_seed(s, sk);
}

void tf_pk(uint8_t who, struct ed25519_pk *out)
{
	struct content_signer s;
	struct ed25519_seed sk;

	tf_signer(who, &s, &sk);
	*out = s.pk;
}

void tf_card(struct tctx *t, uint8_t who, const char *title,
	     const char *desc, const char *tags, uint64_t price,
	     uint64_t created, struct bbuf *out, uint8_t id[32])
{
	tf_card_v(t, who, title, desc, tags, price, created, 1, out, id);
}

static void tf_card_any(struct tctx *t, uint8_t who, const char *title,
			const char *desc, const char *tags, const char *mime,
			const char *did, uint64_t price, uint64_t created,
			uint32_t version, struct bbuf *out, uint8_t id[32]);

void tf_card_v(struct tctx *t, uint8_t who, const char *title,
	       const char *desc, const char *tags, uint64_t price,
	       uint64_t created, uint32_t version, struct bbuf *out,
	       uint8_t id[32])
{
	tf_card_any(t, who, title, desc, tags, "video/mp4", NULL, price,
		    created, version, out, id);
}

void tf_card_mime(struct tctx *t, uint8_t who, const char *title,
		  const char *mime, uint64_t price, uint64_t created,
		  uint32_t version, struct bbuf *out, uint8_t id[32])
{
	tf_card_any(t, who, title, "", "", mime, NULL, price, created,
		    version, out, id);
}

void tf_card_did(struct tctx *t, uint8_t who, const char *title,
		 const char *did, uint64_t created, struct bbuf *out,
		 uint8_t id[32])
{
	tf_card_any(t, who, title, "", "", "video/mp4", did, 0, created, 1,
		    out, id);
}

static void tf_card_any(struct tctx *t, uint8_t who, const char *title,
			const char *desc, const char *tags, const char *mime,
			const char *did, uint64_t price, uint64_t created,
			uint32_t version, struct bbuf *out, uint8_t id[32])
{
	struct content_card *c = calloc(1, sizeof(*c));
	struct content_signer s;
	struct ed25519_seed sk;
	size_t start = out->len;
	const char *p = tags;
	int i;

	memset(c->content_hash, who, 32);
	c->content_hash[0] = (uint8_t)created;
	c->content_hash[1] = (uint8_t)(created >> 8);
	memset(c->key_commitment, 0x22, 32);
	c->size = 1000;
	snprintf(c->mime, sizeof(c->mime), "%s", mime);
	if (did)
		snprintf(c->did, sizeof(c->did), "%s", did);
	snprintf(c->title, sizeof(c->title), "%s", title);
	snprintf(c->description, sizeof(c->description), "%s", desc);
	while (p && *p && c->tag_count < CARD_TAGS_MAX) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		snprintf(c->tags[c->tag_count++], CARD_TAG_MAX_BYTES + 1,
			 "%.*s", (int)l, p);
		p = e ? e + 1 : NULL;
	}
	for (i = 0; i < 8; i++)
		c->price[31 - i] = (uint8_t)(price >> (8 * i));
	if (price) {
		snprintf(c->currency, sizeof(c->currency), "USDC");
		c->decimals = 6;
	}
	c->created = created;
	c->version = version;
	content_card_normalize(c);
	tf_signer(who, &s, &sk);
	T_OK(t, content_card_sign(c, &s));
	T_OK(t, content_card_encode(c, out));
	sha256(id, out->data + start, out->len - start);
	free(c);
}

void tf_record(struct tctx *t, uint8_t who, enum content_record_kind kind,
	       enum content_reaction reaction, const uint8_t card_id[32],
	       uint64_t created, struct bbuf *out, uint8_t id[32])
{
	struct content_record r;
	struct content_signer s;
	struct ed25519_seed sk;
	size_t start = out->len;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	memcpy(r.card_id, card_id, 32);
	r.created = created;
	if (kind == CONTENT_RECORD_REACTION)
		r.reaction = reaction;
	if (kind == CONTENT_RECORD_FOLLOW)
		r.follow = true;
	tf_signer(who, &s, &sk);
	T_OK(t, content_record_sign(&r, &s));
	T_OK(t, content_record_encode(&r, out));
	sha256(id, out->data + start, out->len - start);
}
