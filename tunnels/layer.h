/*
 * Tunnel layer encryption (geti2p.net/docs/tunnels/implementation,
 * PROTOCOLS.md 2.9): the 1024 bytes of a TunnelData message after its
 * tunnel id are IV (16) ‖ 1008 encrypted bytes, and every hop applies
 *   IV = AES-256-ECB(ivKey, IV); data = AES-256-CBC(layerKey, IV, data);
 *   IV = AES-256-ECB(ivKey, IV)
 * (the "double IV encryption").  The creator undoes hops with the inverse:
 * an outbound gateway pre-decrypts for every hop, last hop first, so the
 * OBEP sees plaintext; an inbound endpoint peels every hop, last hop
 * first.
 *
 * A struct tunnel_layer keeps both keys' AES schedules (crypto/aes_layer.h),
 * made once; it is not thread-safe.  It holds tunnel secrets:
 * tunnel_layer_wipe() it.  tunnel_layer_encrypt_n() runs several
 * messages' steps at once, which a hop relaying a burst of messages
 * does several times faster than one after another.
 */
#ifndef TUNNELS_LAYER_H
#define TUNNELS_LAYER_H

#include <stddef.h>
#include <stdint.h>

#define TUNNEL_IV_BYTES 16
#define TUNNEL_ENC_BYTES 1008
/* IV ‖ encrypted data: the TunnelData payload after the tunnel id. */
#define TUNNEL_MSG_BYTES (TUNNEL_IV_BYTES + TUNNEL_ENC_BYTES)

struct aes_layer_keys;

struct tunnel_layer {
	struct aes_layer_keys *keys;	/* layerKey and ivKey */
};

/* Set l up for one hop's keys (copied). */
void tunnel_layer_init(struct tunnel_layer *l, const uint8_t layer_key[32],
		       const uint8_t iv_key[32]);
/* Release l's contexts, wiping the keys.  l may be zeroed or wiped. */
void tunnel_layer_wipe(struct tunnel_layer *l);
/* A participant's step on msg (TUNNEL_MSG_BYTES, in place).  ERR_CRYPTO
 * if OpenSSL fails. */
int tunnel_layer_encrypt(struct tunnel_layer *l, uint8_t *msg);
/* The same on n messages at once: msgs[i] with layers[i] (which may
 * repeat; the messages may not overlap).  ERR_CRYPTO if OpenSSL fails,
 * with some messages done. */
int tunnel_layer_encrypt_n(struct tunnel_layer *const *layers,
			   uint8_t *const *msgs, size_t n);
/* The inverse step. */
int tunnel_layer_decrypt(struct tunnel_layer *l, uint8_t *msg);
/* The creator's pass over n hops' layers (hop 0 first in the tunnel):
 * tunnel_layer_decrypt with hops n-1 down to 0. */
int tunnel_layer_peel(struct tunnel_layer *hops, unsigned n, uint8_t *msg);

#endif /* TUNNELS_LAYER_H */
