/* Simulated tunnel hops (tests/unit/tunnels/thops.h). */
#include "config.h"
#include "tests/unit/tunnels/thops.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"

#include <stdlib.h>
#include <string.h>

struct keystore *thop_keystore(const uint8_t sk[32], uint8_t seed)
{
	uint8_t buf[KEYSTORE_ENCODED_BYTES];
	struct keystore *ks = NULL;
	size_t at = 0;

	/* "magic "BITSKEYS" (8) ‖ version u16 = 1 ‖ Ed25519 seed (32) ‖
	 * X25519 secrets in enum order (3 × 32) ‖ SHA-256" */
	memcpy(buf, "BITSKEYS", 8);
	at = 8;
	be16_put(buf + at, KEYSTORE_VERSION);
	at += 2;
	for (unsigned i = 0; i < 32; i++)
		buf[at + i] = (uint8_t)(seed * 3 + i);
	at += 32;
	memcpy(buf + at, sk, 32);			/* KEYSTORE_X_IDENTITY */
	at += 32;
	for (unsigned i = 0; i < 64; i++)
		buf[at + i] = (uint8_t)(seed * 5 + i + 1);
	at += 64;
	sha256(buf + at, buf, at);
	if (keystore_decode(buf, sizeof(buf), &ks) != 0)
		abort();
	return ks;
}

void thop_init(struct thop *h, uint8_t seed)
{
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < 32; i++) {
		h->sk[i] = (uint8_t)(seed * 7 + i * 13 + 1);
		h->hash[i] = (uint8_t)(seed * 11 + i * 5 + 3);
	}
	h->ks = thop_keystore(h->sk, seed);
	keystore_x25519_pk(h->ks, KEYSTORE_X_IDENTITY, &h->pk);
	h->replay = tunnel_replay_new(1024, TUNNEL_REPLAY_BUILD_PERIOD_MS);
	tunnel_build_participant_init(&h->p, h->ks, h->hash, h->replay);
}

void thop_free(struct thop *h)
{
	keystore_free(h->ks);
	tunnel_replay_free(h->replay);
	memset(h, 0, sizeof(*h));
}

void thop_to_cfg(const struct thop *h, struct tunnel_build_hop *out)
{
	memcpy(out->ident, h->hash, 32);
	out->enc_pk = h->pk;
}
