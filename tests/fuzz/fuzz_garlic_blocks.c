/*
 * libFuzzer target: ECIES ratchet payload blocks (router/ratchet_block.h).
 * The first byte picks the message kind (mod 3: NS, NSR, ES), the rest is
 * a decrypted payload.  Properties: counts stay within their caps, an
 * accepted NS has its DateTime, NS/NSR never carry control blocks, and
 * every clove body lies inside the input.
 */
#include "config.h"
#include "router/ratchet_block.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ratchet_payload pl;
	enum ratchet_kind kind;

	if (size < 1)
		return 0;
	kind = (enum ratchet_kind)(data[0] % 3);
	if (ratchet_payload_parse(data + 1, size - 1, kind, &pl) != 0)
		return 0;
	if (pl.n_acks > RATCHET_MAX_ACKS || pl.n_nextkeys > 2 ||
	    pl.g.n_cloves > GARLIC_MAX_CLOVES)
		abort();
	if (kind == RATCHET_KIND_NS && !pl.g.has_datetime)
		abort();
	if (kind != RATCHET_KIND_ES &&
	    (pl.n_acks || pl.n_nextkeys || pl.ack_request || pl.has_pn ||
	     pl.has_termination))
		abort();
	for (size_t i = 0; i < pl.n_nextkeys; i++)
		if (pl.nextkeys[i].key_id > RATCHET_MAX_KEY_ID)
			abort();
	for (size_t i = 0; i < pl.g.n_cloves; i++) {
		const struct garlic_clove *c = &pl.g.cloves[i];

		if (c->len && (c->body < data + 1 ||
			       c->body + c->len > data + size))
			abort();
	}
	return 0;
}
