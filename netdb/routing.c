/*
 * Routing keys, the XOR metric and k-closest selection (netdb/routing.h;
 * network-database page, "Kademlia Closeness Metric").  The floodfill and
 * lookup code ranks candidates with netdb_closest, an insertion-sorted
 * array: k is tiny (3 to 16), so a heap would buy nothing.
 */
#include "config.h"
#include "netdb/routing.h"
#include "crypto/base/time.h"
#include "crypto/hash.h"

#include <string.h>

void netdb_routing_date(uint64_t now_ms, char out[NETDB_DATE_CHARS + 1])
{
	time_date_format(out, now_ms / 1000);
}

void netdb_routing_key_for_date(const uint8_t key[NETDB_HASH_BYTES],
				const char date[NETDB_DATE_CHARS],
				uint8_t out[NETDB_HASH_BYTES])
{
	sha256_2(out, key, NETDB_HASH_BYTES, date, NETDB_DATE_CHARS);
}

void netdb_routing_key(const uint8_t key[NETDB_HASH_BYTES], uint64_t now_ms,
		       uint8_t out[NETDB_HASH_BYTES])
{
	char date[NETDB_DATE_CHARS + 1];

	netdb_routing_date(now_ms, date);
	netdb_routing_key_for_date(key, date, out);
}

uint64_t netdb_ms_to_rotation(uint64_t now_ms)
{
	return NETDB_DAY_MS - now_ms % NETDB_DAY_MS;
}

void netdb_xor(const uint8_t a[NETDB_HASH_BYTES],
	       const uint8_t b[NETDB_HASH_BYTES], uint8_t out[NETDB_HASH_BYTES])
{
	for (size_t i = 0; i < NETDB_HASH_BYTES; i++)
		out[i] = a[i] ^ b[i];
}

int netdb_xor_cmp(const uint8_t target[NETDB_HASH_BYTES],
		  const uint8_t a[NETDB_HASH_BYTES],
		  const uint8_t b[NETDB_HASH_BYTES])
{
	for (size_t i = 0; i < NETDB_HASH_BYTES; i++) {
		uint8_t da = a[i] ^ target[i], db = b[i] ^ target[i];
		if (da != db)
			return da < db ? -1 : 1;
	}
	return 0;
}

void netdb_closest_init(struct netdb_closest *c,
			const uint8_t target[NETDB_HASH_BYTES], size_t k)
{
	memcpy(c->target, target, NETDB_HASH_BYTES);
	c->k = k < 1 ? 1 : k > NETDB_CLOSEST_MAX ? NETDB_CLOSEST_MAX : k;
	c->n = 0;
}

bool netdb_closest_add(struct netdb_closest *c,
		       const uint8_t hash[NETDB_HASH_BYTES], void *obj)
{
	size_t i = c->n;

	/* Full and not closer than the farthest kept: drop it early. */
	if (c->n == c->k &&
	    netdb_xor_cmp(c->target, hash, c->e[c->n - 1].hash) >= 0)
		return false;
	if (c->n < c->k)
		c->n++;
	else
		i = c->n - 1;
	while (i > 0 && netdb_xor_cmp(c->target, hash, c->e[i - 1].hash) < 0) {
		c->e[i] = c->e[i - 1];
		i--;
	}
	memcpy(c->e[i].hash, hash, NETDB_HASH_BYTES);
	c->e[i].obj = obj;
	return true;
}
