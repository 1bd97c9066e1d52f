/*
 * Tunnel build messages, both sides (tunnels/tunnel_build.h), after
 * geti2p.net/spec/tunnel-creation-ecies ("Symmetric Encryption of
 * Records", "Build Records" implementation notes) and PROTOCOLS.md 2.8.
 *
 * Notation: E_k is hop k's layer on the records that are not its own (what
 * a participant does), D_k its inverse.  A request for hop j passes hops
 * 0..j-1 first, so the creator sends D_0(D_1(...D_{j-1}(R_j))); after hop
 * j has replaced it by its reply, hops j+1..n-1 put their layers on, and
 * the creator peels them off last hop first.
 */
#include "config.h"
#include "tunnels/tunnel_build.h"
#include "tunnels/replay.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"

#include <string.h>

struct tunnel_build {
	enum tunnel_build_kind kind;
	bool inbound;
	unsigned n_hops, n_records;
	uint8_t slot[TUNNEL_BUILD_MAX_HOPS];
	uint32_t hop_id[TUNNEL_BUILD_MAX_HOPS];
	uint32_t endpoint_id;
	uint32_t first_msg_id, reply_msg_id;
	struct tunnel_build_keys keys[TUNNEL_BUILD_MAX_HOPS];
	/* Inbound: "one "fake" record for the originating router, with the
	 * correct 16-byte hash prefix", as it must come back. */
	bool has_fake;
	unsigned fake_slot;
	uint8_t fake[TUNNEL_BUILD_MAX_RECORD_BYTES];
};

static uint32_t rand_nonzero32(void)
{
	uint32_t v;

	do
		v = (uint32_t)rand_u64();
	while (v == 0);
	return v;
}

static int records_needed(const struct tunnel_build_cfg *cfg, unsigned *out)
{
	unsigned need = cfg->n_hops + (cfg->inbound ? 1 : 0);

	if (cfg->n_hops < 1 || cfg->n_hops > TUNNEL_BUILD_MAX_HOPS ||
	    need > TUNNEL_BUILD_MAX_RECORDS)
		return ERR_ARG;
	if (cfg->n_records == 0)
		*out = need <= TUNNEL_BUILD_MIN_RECORDS ? TUNNEL_BUILD_MIN_RECORDS
							: TUNNEL_BUILD_MAX_RECORDS;
	else if (cfg->n_records < need ||
		 cfg->n_records > TUNNEL_BUILD_MAX_RECORDS)
		return ERR_ARG;
	else
		*out = cfg->n_records;
	return 0;
}

/* Hop i's request: ids, next hop, role flags, keys, times. */
static void hop_request(const struct tunnel_build_cfg *cfg,
			const struct tunnel_build *b, unsigned i,
			struct tunnel_build_request *q)
{
	const bool last = i + 1 == b->n_hops;

	memset(q, 0, sizeof(*q));
	q->receive_id = b->hop_id[i];
	if (!last) {
		q->next_id = b->hop_id[i + 1];
		memcpy(q->next_ident, cfg->hops[i + 1].ident, 32);
		q->next_msg_id = (uint32_t)rand_u64();
	} else if (cfg->inbound) {
		q->next_id = b->endpoint_id;
		memcpy(q->next_ident, cfg->self, 32);
		q->next_msg_id = b->reply_msg_id;
	} else {
		q->next_id = cfg->reply_tunnel_id;
		memcpy(q->next_ident, cfg->reply_gateway, 32);
		q->next_msg_id = b->reply_msg_id;
	}
	if (cfg->inbound && i == 0)
		q->flags = TUNNEL_BUILD_FLAG_IBGW;
	else if (!cfg->inbound && last)
		q->flags = TUNNEL_BUILD_FLAG_OBEP;
	q->layer_type = TUNNEL_BUILD_LAYER_AES;
	q->request_time_min = (uint32_t)(cfg->now_ms / TUNNEL_BUILD_MS_PER_MIN);
	q->expiration_s = TUNNEL_BUILD_EXPIRATION_S;
	if (cfg->kind == TUNNEL_BUILD_LONG) {
		rand_bytes(q->layer_key, 32);
		rand_bytes(q->iv_key, 32);
		rand_bytes(q->reply_key, 32);
		rand_bytes(q->reply_iv, 16);
	}
}

/* Random slot order: "Build record order must be randomized". */
static void shuffle_slots(uint8_t *perm, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		perm[i] = (uint8_t)i;
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j = rand_uniform(i + 1);
		uint8_t t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
}

/* Mask of the slots of hops in [from, to). */
static uint32_t hop_mask(const struct tunnel_build *b, unsigned from,
			 unsigned to)
{
	uint32_t m = 0;

	for (unsigned j = from; j < to; j++)
		m |= 1u << b->slot[j];
	return m;
}

static void fill_records(const struct tunnel_build_cfg *cfg,
			 struct tunnel_build *b, const uint8_t *perm,
			 uint8_t *records)
{
	const size_t rlen = tunnel_build_record_bytes(b->kind);

	for (unsigned s = b->n_hops; s < b->n_records; s++)
		rand_bytes(records + (size_t)perm[s] * rlen, rlen);
	if (!b->inbound)
		return;
	/* "with the correct 16-byte hash prefix ... The MSB of the ephemeral
	 * key (data[47] & 0x80) must also be cleared". */
	b->has_fake = true;
	b->fake_slot = perm[b->n_hops];
	memcpy(b->fake, records + (size_t)b->fake_slot * rlen, rlen);
	memcpy(b->fake, cfg->self, TUNNEL_BUILD_HASH_PREFIX_BYTES);
	b->fake[47] &= 0x7f;
	memcpy(records + (size_t)b->fake_slot * rlen, b->fake, rlen);
}

int tunnel_build_create(const struct tunnel_build_cfg *cfg,
			struct tunnel_build **out, struct bbuf *msg)
{
	struct tunnel_build *b;
	struct tunnel_build_request q;
	uint8_t perm[TUNNEL_BUILD_MAX_RECORDS];
	uint8_t *records;
	size_t rlen;
	unsigned nrec;
	int r;

	if ((r = records_needed(cfg, &nrec)) != 0)
		return r;
	if (!cfg->inbound && cfg->reply_tunnel_id == 0)
		return ERR_ARG;
	b = xzalloc(sizeof(*b));
	b->kind = cfg->kind;
	b->inbound = cfg->inbound;
	b->n_hops = cfg->n_hops;
	b->n_records = nrec;
	rlen = tunnel_build_record_bytes(b->kind);
	for (unsigned i = 0; i < b->n_hops; i++)
		b->hop_id[i] = rand_nonzero32();
	b->endpoint_id = rand_nonzero32();
	b->first_msg_id = (uint32_t)rand_u64();
	b->reply_msg_id = cfg->reply_msg_id ? cfg->reply_msg_id
					    : rand_nonzero32();
	shuffle_slots(perm, nrec);
	records = xzalloc(nrec * rlen);
	for (unsigned i = 0; i < b->n_hops && r == 0; i++) {
		b->slot[i] = perm[i];
		hop_request(cfg, b, i, &q);
		r = tunnel_build_record_encrypt(b->kind, &q, cfg->hops[i].opts,
						cfg->hops[i].ident,
						&cfg->hops[i].enc_pk, NULL,
						records + (size_t)b->slot[i] * rlen,
						&b->keys[i]);
	}
	memwipe(&q, sizeof(q));
	if (r != 0)
		goto out;
	fill_records(cfg, b, perm, records);
	/* Pre-encryption: for k from the last hop down, D_k on the requests
	 * of every later hop (and on the fake record, which must reach us as
	 * written after all n layers). */
	for (unsigned k = b->n_hops; k-- > 0 && r == 0;) {
		uint32_t mask = hop_mask(b, k + 1, b->n_hops);

		if (b->has_fake)
			mask |= 1u << b->fake_slot;
		r = tunnel_build_records_layer(b->kind, records, nrec, mask,
					       &b->keys[k], false);
	}
	if (r != 0)
		goto out;
	bbuf_u8(msg, (uint8_t)nrec);
	bbuf_put(msg, records, nrec * rlen);
	*out = b;
	b = NULL;
out:
	xfree_wipe(records, nrec * rlen);
	tunnel_build_free(b);
	return r;
}

void tunnel_build_free(struct tunnel_build *b)
{
	xfree_wipe(b, b ? sizeof(*b) : 0);
}

uint32_t tunnel_build_first_msg_id(const struct tunnel_build *b)
{
	return b->first_msg_id;
}

uint32_t tunnel_build_reply_msg_id(const struct tunnel_build *b)
{
	return b->reply_msg_id;
}

enum tunnel_build_kind tunnel_build_get_kind(const struct tunnel_build *b)
{
	return b->kind;
}

bool tunnel_build_is_inbound(const struct tunnel_build *b)
{
	return b->inbound;
}

unsigned tunnel_build_n_hops(const struct tunnel_build *b)
{
	return b->n_hops;
}

uint32_t tunnel_build_hop_id(const struct tunnel_build *b, unsigned i)
{
	return i < b->n_hops ? b->hop_id[i] : 0;
}

uint32_t tunnel_build_endpoint_id(const struct tunnel_build *b)
{
	return b->endpoint_id;
}

const struct tunnel_build_keys *tunnel_build_hop_keys(
	const struct tunnel_build *b, unsigned i)
{
	return i < b->n_hops ? &b->keys[i] : NULL;
}

unsigned tunnel_build_hop_slot(const struct tunnel_build *b, unsigned i)
{
	return i < b->n_hops ? b->slot[i] : 0;
}

int tunnel_build_reply_process(struct tunnel_build *b, uint8_t *records,
			       unsigned n, uint8_t codes[TUNNEL_BUILD_MAX_HOPS])
{
	const size_t rlen = tunnel_build_record_bytes(b->kind);
	uint8_t got[TUNNEL_BUILD_MAX_HOPS] = { 0 };
	int r;

	if (n != b->n_records)
		return ERR_FORMAT;
	/* "walk hops from last to first: AEAD-decrypt that hop's own record,
	 * then undo its encryption on the earlier hops' records". */
	for (unsigned k = b->n_hops; k-- > 0;) {
		if ((r = tunnel_build_reply_decrypt(b->kind,
				records + (size_t)b->slot[k] * rlen,
				b->slot[k], &b->keys[k], &got[k])) != 0)
			return ERR_AUTH;
		if (k > 0 &&
		    (r = tunnel_build_records_layer(b->kind, records, n,
						    hop_mask(b, 0, k),
						    &b->keys[k], false)) != 0)
			return r;
	}
	/* "Originators of inbound tunnels must use some method to validate
	 * that their "fake" record has not been modified". */
	if (b->has_fake &&
	    memcmp(records + (size_t)b->fake_slot * rlen, b->fake, rlen) != 0)
		return ERR_AUTH;
	memcpy(codes, got, sizeof(got));
	return 0;
}

/* ---- participant ---- */

void tunnel_build_open_wipe(struct tunnel_build_open *o)
{
	memwipe(o, sizeof(*o));
}

void tunnel_build_participant_init(struct tunnel_build_participant *p,
				   const struct keystore *ks,
				   const uint8_t self[32],
				   struct tunnel_replay *replay)
{
	memset(p, 0, sizeof(*p));
	tunnel_build_responder_init(&p->rs, ks);
	memcpy(p->self, self, 32);
	p->replay = replay;
	p->max_age_ms = TUNNEL_BUILD_MAX_AGE_MS;
	p->max_future_ms = TUNNEL_BUILD_MAX_FUTURE_MS;
}

static int drop(struct tunnel_build_participant *p, enum tunnel_build_drop d,
		enum tunnel_build_drop *why, int err)
{
	p->drops[d]++;
	if (why)
		*why = d;
	return err;
}

/* Java's rule: "time is in minutes, rounded down"; reject if the rounded
 * now is more than max_age past it or max_future before it. */
static enum tunnel_build_drop check_time(const struct tunnel_build_participant *p,
					 uint32_t req_min, uint64_t now_ms)
{
	uint64_t req_ms = (uint64_t)req_min * TUNNEL_BUILD_MS_PER_MIN;
	uint64_t rounded = now_ms / TUNNEL_BUILD_MS_PER_MIN *
			   TUNNEL_BUILD_MS_PER_MIN;

	if (rounded >= req_ms && rounded - req_ms > p->max_age_ms)
		return TUNNEL_BUILD_DROP_TOO_OLD;
	if (req_ms > rounded && req_ms - rounded > p->max_future_ms)
		return TUNNEL_BUILD_DROP_FUTURE;
	return TUNNEL_BUILD_DROP_NONE;
}

int tunnel_build_participant_open(struct tunnel_build_participant *p,
				  enum tunnel_build_kind kind,
				  const uint8_t *records, unsigned n,
				  uint64_t now_ms, struct tunnel_build_open *out,
				  enum tunnel_build_drop *why)
{
	const size_t rlen = tunnel_build_record_bytes(kind);
	struct tunnel_build_open o;
	const uint8_t *rec = NULL, *eph;
	enum tunnel_build_drop d;
	int r;

	if (n < 1 || n > TUNNEL_BUILD_MAX_RECORDS)
		return drop(p, TUNNEL_BUILD_DROP_FORMAT, why, ERR_FORMAT);
	memset(&o, 0, sizeof(o));
	o.kind = kind;
	for (unsigned i = 0; i < n; i++) {
		if (memcmp(records + (size_t)i * rlen, p->self,
			   TUNNEL_BUILD_HASH_PREFIX_BYTES) == 0) {
			rec = records + (size_t)i * rlen;
			o.index = i;
			break;
		}
	}
	if (!rec)
		return drop(p, TUNNEL_BUILD_DROP_NOT_OURS, why, ERR_NOT_FOUND);
	eph = rec + TUNNEL_BUILD_EPH_OFFSET;
	/* A replayed record is refused before the DH, the costly part. */
	if (p->replay && tunnel_replay_check(p->replay, eph, 32, now_ms))
		return drop(p, TUNNEL_BUILD_DROP_REPLAY, why, ERR_DUPLICATE);
	r = tunnel_build_record_decrypt(&p->rs, kind, rec, &o.req, &o.keys);
	if (r == ERR_FORMAT || r == ERR_TRUNCATED) {
		d = TUNNEL_BUILD_DROP_FORMAT;
		goto fail;
	}
	if (r != 0) {
		d = TUNNEL_BUILD_DROP_DECRYPT;
		goto fail;
	}
	/* "Loop checks": we are the next hop of a hop that is not an OBEP
	 * (Java and i2pd drop these without a reply). */
	if (!(o.req.flags & TUNNEL_BUILD_FLAG_OBEP) &&
	    memcmp(o.req.next_ident, p->self, 32) == 0) {
		d = TUNNEL_BUILD_DROP_LOOP;
		r = ERR_PROTOCOL;
		goto fail;
	}
	if ((d = check_time(p, o.req.request_time_min, now_ms)) !=
	    TUNNEL_BUILD_DROP_NONE) {
		r = ERR_EXPIRED;
		goto fail;
	}
	if (p->replay)
		tunnel_replay_add(p->replay, eph, 32, now_ms);
	*out = o;
	tunnel_build_open_wipe(&o);
	if (why)
		*why = TUNNEL_BUILD_DROP_NONE;
	return 0;
fail:
	tunnel_build_open_wipe(&o);
	return drop(p, d, why, r);
}

int tunnel_build_participant_reply(const struct tunnel_build_open *o,
				   uint8_t *records, unsigned n,
				   const struct mapping *opts, uint8_t code)
{
	const size_t rlen = tunnel_build_record_bytes(o->kind);
	uint32_t others;
	int r;

	if (o->index >= n || n > TUNNEL_BUILD_MAX_RECORDS)
		return ERR_ARG;
	if ((r = tunnel_build_reply_encrypt(o->kind,
					    records + (size_t)o->index * rlen,
					    o->index, &o->keys, opts, code)) != 0)
		return r;
	others = ((1u << n) - 1) & ~(1u << o->index);
	return tunnel_build_records_layer(o->kind, records, n, others, &o->keys,
					  true);
}
