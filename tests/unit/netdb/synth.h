/*
 * Synthetic netDb entries for tests and benchmarks: RouterInfos of fresh
 * random identities (signed, with an NTCP2 address on 127.0.0.x) and
 * LeaseSet2s of fresh Ed25519 destinations.
 */
#ifndef TESTS_UNIT_NETDB_SYNTH_H
#define TESTS_UNIT_NETDB_SYNTH_H

#include <stdint.h>

#include "crypto/base/bytes.h"
#include "crypto/ed25519.h"

/*
 * Append a signed RouterInfo published at pub_ms with caps (e.g. "XfR"
 * for a floodfill) on netid to out; hash gets its router hash.  Returns
 * 0 or ERR_*.
 */
int synth_ri(struct bbuf *out, uint8_t hash[32], uint8_t netid,
	     const char *caps, uint64_t pub_ms);
/* The same, keeping the router's keystore in *ks (caller frees). */
struct keystore;
int synth_ri_ks(struct bbuf *out, uint8_t hash[32], uint8_t netid,
		const char *caps, uint64_t pub_ms, struct keystore **ks);
/* Append a signed LeaseSet2 (one X25519 key, n_leases leases ending
 * around pub_s + 500) for a fresh destination; key gets its netDb key. */
int synth_ls2(struct bbuf *out, uint8_t key[32], uint32_t pub_s,
	      unsigned n_leases);

#endif /* TESTS_UNIT_NETDB_SYNTH_H */
