/*
 * Tunnel layer encryption (tunnels/layer.h): AES-256 with the double IV
 * encryption, after geti2p.net/docs/tunnels/implementation ("Participant
 * processing", "Outbound tunnel processing", "Inbound endpoint
 * processing").
 */
#include "config.h"
#include "tunnels/layer.h"
#include "crypto/aes.h"
#include "crypto/base/err.h"

#include <string.h>

void tunnel_layer_init(struct tunnel_layer *l, const uint8_t layer_key[32],
		       const uint8_t iv_key[32])
{
	l->layer = aes256_new(layer_key);
	l->iv = aes256_new(iv_key);
}

void tunnel_layer_wipe(struct tunnel_layer *l)
{
	aes256_free(l->layer);
	aes256_free(l->iv);
	l->layer = l->iv = NULL;
}

int tunnel_layer_encrypt(struct tunnel_layer *l, uint8_t *msg)
{
	uint8_t iv[TUNNEL_IV_BYTES];
	int r;

	/* "the IV is encrypted with AES256/ECB using their IV key ... the
	 * data is encrypted using that encrypted IV ... with AES256/CBC using
	 * their layer key ... the IV is encrypted again ... with the IV key" */
	if ((r = aes256_ecb_encrypt(l->iv, msg, TUNNEL_IV_BYTES)) != 0)
		return r;
	memcpy(iv, msg, TUNNEL_IV_BYTES);
	if ((r = aes256_cbc_encrypt(l->layer, iv, msg + TUNNEL_IV_BYTES,
				    TUNNEL_ENC_BYTES)) != 0)
		return r;
	return aes256_ecb_encrypt(l->iv, msg, TUNNEL_IV_BYTES);
}

int tunnel_layer_decrypt(struct tunnel_layer *l, uint8_t *msg)
{
	uint8_t iv[TUNNEL_IV_BYTES];
	int r;

	if ((r = aes256_ecb_decrypt(l->iv, msg, TUNNEL_IV_BYTES)) != 0)
		return r;
	memcpy(iv, msg, TUNNEL_IV_BYTES);
	if ((r = aes256_cbc_decrypt(l->layer, iv, msg + TUNNEL_IV_BYTES,
				    TUNNEL_ENC_BYTES)) != 0)
		return r;
	return aes256_ecb_decrypt(l->iv, msg, TUNNEL_IV_BYTES);
}

int tunnel_layer_peel(struct tunnel_layer *hops, unsigned n, uint8_t *msg)
{
	int r;

	for (unsigned i = n; i-- > 0;)
		if ((r = tunnel_layer_decrypt(&hops[i], msg)) != 0)
			return r;
	return 0;
}
