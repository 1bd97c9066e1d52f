/* The DID index's events from the chain (apps/feed/didscan.h). */
#include "config.h"
#include "apps/feed/didscan.h"
#include "chain/calls.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

struct scan_walk {
	struct feed_did_scan *s;
	uint8_t name[32];
};

static int on_log(void *arg, const struct chain_log *l)
{
	struct scan_walk *w = arg;
	struct feed_did_scan *s = w->s;
	struct ev_did_attribute a;
	struct feed_did_event *e;

	if (l->removed)
		return 0;
	if (ev_did_attribute_decode(l, &a) != 0) {
		s->bad++;
		return 0;
	}
	if (memcmp(a.name, w->name, 32) != 0)
		return 0;
	if (s->nev == FEED_DID_MAX) {
		/* Stop before this block (read whole by the next scan),
		 * unless it is the first: a block cannot hold that many. */
		while (l->block_number > s->from && s->nev &&
		       s->ev[s->nev - 1].block == l->block_number)
			s->nev--;
		s->next = l->block_number > s->from ? l->block_number :
			  s->from + 1;
		return ERR_LIMIT;
	}
	if (s->nev == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->ev = xrealloc(s->ev, s->cap * sizeof(*s->ev));
	}
	e = &s->ev[s->nev++];
	memset(e, 0, sizeof(*e));
	e->block = l->block_number;
	memcpy(e->identity, a.identity, 20);
	e->key_ok = a.value_len == 32;
	if (e->key_ok)
		memcpy(e->key, a.value, 32);
	e->valid_to = u256_fits_u64(&a.valid_to) ? a.valid_to.w[0] :
		      UINT64_MAX;
	return 0;
}

int feed_did_scan(struct chain_client *cc, const uint8_t registry[20],
		  uint64_t from, uint64_t max_blocks,
		  struct feed_did_scan *out)
{
	struct chain_log_filter f = { 0 };
	struct scan_walk w = { .s = out };
	uint64_t tip, to;
	int r;

	feed_did_scan_clear(out);
	out->from = out->next = from;
	if ((r = chain_block_number(cc, &tip)) != 0)
		return r;
	out->tip = tip;
	if (from > tip || !max_blocks)
		return 0;
	to = tip - from >= max_blocks ? from + max_blocks - 1 : tip;
	memcpy(w.name, FEED_DID_KEY_ATTR, sizeof(FEED_DID_KEY_ATTR) - 1);
	f.has_address = true;
	memcpy(f.address, registry, 20);
	f.has_topic0 = true;
	chain_event_topic(f.topic0, EV_DID_ATTRIBUTE);
	out->next = to + 1;
	r = chain_get_logs(cc, from, to, &f, on_log, &w);
	if (r == ERR_LIMIT && out->next <= to)
		return 0;	/* the rest next time */
	if (r != 0)
		out->next = from;
	return r;
}

void feed_did_scan_clear(struct feed_did_scan *s)
{
	free(s->ev);
	memset(s, 0, sizeof(*s));
}

size_t feed_did_scan_apply(struct feed_did_index *x,
			   const struct feed_did_scan *s)
{
	uint8_t name[32] = { 0 };
	size_t i, n = 0;

	memcpy(name, FEED_DID_KEY_ATTR, sizeof(FEED_DID_KEY_ATTR) - 1);
	for (i = 0; i < s->nev; i++)
		if (s->ev[i].key_ok &&
		    feed_did_apply(x, s->ev[i].identity, name, s->ev[i].key,
				   32, s->ev[i].valid_to) == 0)
			n++;
	return n;
}
