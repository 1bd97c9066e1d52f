/*
 * A hash table from 32-byte keys (router hashes, LeaseSet keys) to
 * pointers.  Chained buckets, keyed with a random SipHash key so a peer
 * cannot pick hashes that pile into one bucket; the table doubles when it
 * holds more entries than buckets.
 *
 * Ownership: the map owns its nodes and key copies, never the values.
 * Not thread-safe.
 */
#ifndef NETDB_KEYMAP_H
#define NETDB_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYMAP_KEY_BYTES 32

struct keymap;

/* New empty map.  Never returns NULL; caller owns it. */
struct keymap *keymap_new(void);
/* Release m (not the values).  Accepts NULL. */
void keymap_free(struct keymap *m);
/* The value of key, or NULL. */
void *keymap_get(const struct keymap *m, const uint8_t key[KEYMAP_KEY_BYTES]);
/* Set key to val (non-NULL); returns the value it replaces, or NULL. */
void *keymap_put(struct keymap *m, const uint8_t key[KEYMAP_KEY_BYTES],
		 void *val);
/* Remove key; returns its value, or NULL when absent. */
void *keymap_remove(struct keymap *m, const uint8_t key[KEYMAP_KEY_BYTES]);
size_t keymap_count(const struct keymap *m);
/* Remove every entry, calling fn on each value (fn may be NULL). */
void keymap_clear(struct keymap *m, void (*fn)(void *val));

#endif /* NETDB_KEYMAP_H */
