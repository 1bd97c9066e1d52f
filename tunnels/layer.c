/*
 * Tunnel layer encryption (tunnels/layer.h): AES-256 with the double IV
 * encryption, after geti2p.net/docs/tunnels/implementation ("Participant
 * processing", "Outbound tunnel processing", "Inbound endpoint
 * processing"); the AES is crypto/aes_layer.h's.
 */
#include "config.h"
#include "tunnels/layer.h"
#include "crypto/aes_layer.h"
#include "crypto/base/err.h"

#include <string.h>

void tunnel_layer_init(struct tunnel_layer *l, const uint8_t layer_key[32],
		       const uint8_t iv_key[32])
{
	/* "the IV is encrypted with AES256/ECB using their IV key ... the
	 * data is encrypted using that encrypted IV ... with AES256/CBC using
	 * their layer key ... the IV is encrypted again ... with the IV key" */
	l->keys = aes_layer_keys_new(layer_key, iv_key);
}

void tunnel_layer_wipe(struct tunnel_layer *l)
{
	aes_layer_keys_free(l->keys);
	l->keys = NULL;
}

int tunnel_layer_encrypt(struct tunnel_layer *l, uint8_t *msg)
{
	return aes_layer_encrypt_n(&l->keys, &msg, 1, TUNNEL_ENC_BYTES);
}

int tunnel_layer_encrypt_n(struct tunnel_layer *const *layers,
			   uint8_t *const *msgs, size_t n)
{
	struct aes_layer_keys *k[AES_LAYER_LANES];
	int r;

	while (n) {
		size_t m = n < AES_LAYER_LANES ? n : AES_LAYER_LANES;

		for (size_t i = 0; i < m; i++)
			k[i] = layers[i]->keys;
		if ((r = aes_layer_encrypt_n(k, msgs, m, TUNNEL_ENC_BYTES)) != 0)
			return r;
		layers += m;
		msgs += m;
		n -= m;
	}
	return 0;
}

int tunnel_layer_decrypt(struct tunnel_layer *l, uint8_t *msg)
{
	return aes_layer_decrypt(l->keys, msg, TUNNEL_ENC_BYTES);
}

int tunnel_layer_peel(struct tunnel_layer *hops, unsigned n, uint8_t *msg)
{
	int r;

	for (unsigned i = n; i-- > 0;)
		if ((r = tunnel_layer_decrypt(&hops[i], msg)) != 0)
			return r;
	return 0;
}
