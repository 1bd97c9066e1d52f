/*
 * Simulated tunnel hops for the tests: each with its own keystore (whose
 * X25519 identity secret the test knows, for the model), router hash,
 * replay filter and participant state.
 */
#ifndef TESTS_UNIT_TUNNELS_THOPS_H
#define TESTS_UNIT_TUNNELS_THOPS_H

#include "crypto/keystore.h"
#include "tunnels/replay.h"
#include "tunnels/tunnel_build.h"

struct thop {
	uint8_t sk[32];			/* X25519 identity secret */
	struct x25519_pk pk;
	uint8_t hash[32];
	struct keystore *ks;
	struct tunnel_replay *replay;
	struct tunnel_build_participant p;
};

/* A keystore whose X25519 identity secret is sk (other keys derived from
 * seed). */
struct keystore *thop_keystore(const uint8_t sk[32], uint8_t seed);
void thop_init(struct thop *h, uint8_t seed);
void thop_free(struct thop *h);
/* Fill cfg's hop i from h. */
void thop_to_cfg(const struct thop *h, struct tunnel_build_hop *out);

#endif /* TESTS_UNIT_TUNNELS_THOPS_H */
