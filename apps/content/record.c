/*
 * Reactions, follows and views (apps/content/record.h,
 * docs/content-format.md §6).
 */
#include "config.h"
#include "apps/content/record.h"
#include "apps/content/codec_internal.h"
#include "apps/content/text.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t record_magic[4] = { 'B', 'R', 'E', 'C' };
static const char record_domain[] = "bits/record/v1";

const char *content_record_kind_name(enum content_record_kind k)
{
	switch (k) {
	case CONTENT_RECORD_REACTION:
		return "reaction";
	case CONTENT_RECORD_FOLLOW:
		return "follow";
	case CONTENT_RECORD_VIEW:
		return "view";
	case CONTENT_RECORD_DELETE:
		return "delete";
	}
	return "unknown";
}

static int validate_reaction(const struct content_record *rec)
{
	size_t n = strnlen(rec->text, sizeof(rec->text));

	if (n >= sizeof(rec->text))
		return ERR_TOO_BIG;
	switch (rec->reaction) {
	case CONTENT_REACT_LIKE:
	case CONTENT_REACT_DISLIKE:
	case CONTENT_REACT_FLAG:
		return n == 0 ? 0 : ERR_FORMAT;
	case CONTENT_REACT_EMOJI:
		return n > 0 && content_text_is_valid((const uint8_t *)rec->text,
						      n, false) ? 0 : ERR_FORMAT;
	}
	return ERR_FORMAT;
}

int content_record_validate(const struct content_record *rec)
{
	switch (rec->kind) {
	case CONTENT_RECORD_REACTION:
		return validate_reaction(rec);
	case CONTENT_RECORD_FOLLOW:
	case CONTENT_RECORD_VIEW:
	case CONTENT_RECORD_DELETE:
		/* The other kinds leave the reaction fields empty. */
		if (rec->reaction != 0 || rec->text[0] != '\0')
			return ERR_FORMAT;
		if (rec->kind != CONTENT_RECORD_FOLLOW && rec->follow)
			return ERR_FORMAT;
		return 0;
	}
	return ERR_FORMAT;
}

static void encode_body(const struct content_record *rec, struct bbuf *b)
{
	size_t n;

	bbuf_put(b, record_magic, 4);
	bbuf_u8(b, CONTENT_RECORD_VERSION);
	bbuf_u8(b, (uint8_t)rec->kind);
	bbuf_put(b, rec->card_id, 32);
	bbuf_put(b, rec->author.b, 32);
	bbuf_be64(b, rec->created);
	switch (rec->kind) {
	case CONTENT_RECORD_REACTION:
		n = strlen(rec->text);
		bbuf_u8(b, (uint8_t)rec->reaction);
		bbuf_u8(b, (uint8_t)n);
		bbuf_put(b, rec->text, n);
		break;
	case CONTENT_RECORD_FOLLOW:
		bbuf_u8(b, rec->follow ? 1 : 0);
		break;
	case CONTENT_RECORD_VIEW:
	case CONTENT_RECORD_DELETE:
		break;
	}
}

static int signed_msg(const void *obj, struct bbuf *b)
{
	const struct content_record *rec = obj;
	int r = content_record_validate(rec);

	if (r == 0) {
		bbuf_put(b, record_domain, sizeof(record_domain) - 1);
		encode_body(rec, b);
	}
	return r;
}

int content_record_sign(struct content_record *rec,
			const struct content_signer *s)
{
	rec->author = s->pk;
	return content_msg_sign(s, signed_msg, rec, &rec->sig);
}

int content_record_encode(const struct content_record *rec, struct bbuf *out)
{
	int r = content_record_validate(rec);

	if (r == 0) {
		encode_body(rec, out);
		bbuf_put(out, rec->sig.b, sizeof(rec->sig.b));
	}
	return r;
}

int content_record_verify(const struct content_record *rec)
{
	return content_msg_verify(&rec->author, &rec->sig, signed_msg, rec);
}

/* The kind-specific body; rec->kind is already known to be valid. */
static int decode_body(struct breader *r, struct content_record *rec)
{
	uint8_t v, n;
	const uint8_t *p;

	switch (rec->kind) {
	case CONTENT_RECORD_REACTION:
		v = br_u8(r);
		n = br_u8(r);
		if (n > RECORD_TEXT_MAX_BYTES)
			return ERR_TOO_BIG;
		p = br_take(r, n);
		if (r->failed)
			return ERR_TRUNCATED;
		if (v < CONTENT_REACT_LIKE || v > CONTENT_REACT_EMOJI ||
		    (n && memchr(p, '\0', n)))
			return ERR_FORMAT;
		rec->reaction = (enum content_reaction)v;
		if (n)
			memcpy(rec->text, p, n);
		rec->text[n] = '\0';
		return 0;
	case CONTENT_RECORD_FOLLOW:
		v = br_u8(r);
		if (r->failed)
			return ERR_TRUNCATED;
		if (v > 1)
			return ERR_FORMAT;
		rec->follow = v == 1;
		return 0;
	case CONTENT_RECORD_VIEW:
	case CONTENT_RECORD_DELETE:
		return 0;
	}
	return ERR_FORMAT;
}

int content_record_decode(const uint8_t *buf, size_t len,
			  struct content_record *out)
{
	struct content_record rec = { 0 };
	struct breader r;
	uint8_t kind;
	int rc;

	if (len > CONTENT_RECORD_MAX_BYTES)
		return ERR_TOO_BIG;
	br_init(&r, buf, len);
	if ((rc = content_header_read(&r, record_magic, CONTENT_RECORD_VERSION)))
		return rc;
	kind = br_u8(&r);
	br_copy(&r, rec.card_id, 32);
	br_copy(&r, rec.author.b, 32);
	rec.created = br_be64(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (kind < CONTENT_RECORD_REACTION || kind > CONTENT_RECORD_DELETE)
		return ERR_FORMAT;
	rec.kind = (enum content_record_kind)kind;
	if ((rc = decode_body(&r, &rec)) != 0)
		return rc;
	br_copy(&r, rec.sig.b, sizeof(rec.sig.b));
	if (r.failed)
		return ERR_TRUNCATED;
	if (br_left(&r) != 0)
		return ERR_FORMAT;
	if ((rc = content_record_validate(&rec)) != 0)
		return rc;
	*out = rec;
	return 0;
}
