/* The independent tunnel-build model (tests/unit/tunnels/tmodel.h). */
#include "config.h"
#include "tests/unit/tunnels/tmodel.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void hmac(const uint8_t *key, size_t klen, const uint8_t *msg,
		 size_t mlen, uint8_t out[32])
{
	unsigned olen = 32;

	if (!HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &olen))
		abort();
}

void tmodel_hkdf(const uint8_t salt[32], const uint8_t *ikm, size_t ikmlen,
		 const char *info, uint8_t out[64])
{
	uint8_t prk[32], buf[32 + 64 + 1];
	size_t il = strlen(info);

	/* prk = HMAC(salt, ikm); out1 = HMAC(prk, info || 0x01);
	 * out2 = HMAC(prk, out1 || info || 0x02) */
	hmac(salt, 32, ikm, ikmlen, prk);
	memcpy(buf, info, il);
	buf[il] = 1;
	hmac(prk, 32, buf, il + 1, out);
	memcpy(buf, out, 32);
	memcpy(buf + 32, info, il);
	buf[32 + il] = 2;
	hmac(prk, 32, buf, 32 + il + 1, out + 32);
}

static void sha256(const uint8_t *d, size_t n, uint8_t out[32])
{
	if (EVP_Digest(d, n, out, NULL, EVP_sha256(), NULL) != 1)
		abort();
}

static void mix_hash(uint8_t h[32], const uint8_t *d, size_t n)
{
	uint8_t buf[32 + 600];

	if (n > 600)
		abort();
	memcpy(buf, h, 32);
	memcpy(buf + 32, d, n);
	sha256(buf, 32 + n, h);
}

/* "h = protocol_name || 0 ... Set chainKey = h ... h = SHA256(h)",
 * then "h = SHA256(h || hepk)". */
static void init_state(struct tmodel_state *s, const uint8_t hop_pk[32])
{
	static const char name[] = "Noise_N_25519_ChaChaPoly_SHA256";

	memset(s->h, 0, 32);
	memcpy(s->h, name, 31);
	memcpy(s->ck, s->h, 32);
	sha256(s->h, 32, s->h);
	mix_hash(s->h, hop_pk, 32);
}

static void nonce_for(uint8_t nonce[12], uint64_t n)
{
	memset(nonce, 0, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

void tmodel_record_encrypt(const uint8_t hop_hash[32], const uint8_t hop_pk[32],
			   const uint8_t eph_sk[32], const uint8_t *plain,
			   size_t plen, uint8_t *out, struct tmodel_state *st)
{
	uint8_t epk[32], dh[32], kd[64], nonce[12];
	unsigned long long clen;

	init_state(st, hop_pk);
	crypto_scalarmult_base(epk, eph_sk);
	mix_hash(st->h, epk, 32);			/* MixHash(sepk) */
	if (crypto_scalarmult(dh, eph_sk, hop_pk) != 0)
		abort();
	tmodel_hkdf(st->ck, dh, 32, "", kd);	/* keydata = HKDF(ck, dh, "") */
	memcpy(st->ck, kd, 32);
	nonce_for(nonce, 0);
	memcpy(out, hop_hash, 16);
	memcpy(out + 16, epk, 32);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + 48, &clen, plain, plen,
						  st->h, 32, NULL, nonce,
						  kd + 32);
	mix_hash(st->h, out + 48, plen + 16);	/* MixHash(ciphertext) */
}

bool tmodel_record_decrypt(const uint8_t hop_sk[32], const uint8_t *record,
			   size_t plen, uint8_t *plain, struct tmodel_state *st)
{
	uint8_t pk[32], dh[32], kd[64], nonce[12];
	unsigned long long mlen;

	crypto_scalarmult_base(pk, hop_sk);
	init_state(st, pk);
	mix_hash(st->h, record + 16, 32);
	if (crypto_scalarmult(dh, hop_sk, record + 16) != 0)
		return false;
	tmodel_hkdf(st->ck, dh, 32, "", kd);
	memcpy(st->ck, kd, 32);
	nonce_for(nonce, 0);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(plain, &mlen, NULL,
						      record + 48, plen + 16,
						      st->h, 32, nonce,
						      kd + 32) != 0)
		return false;
	mix_hash(st->h, record + 48, plen + 16);
	return true;
}

void tmodel_short_keys(const uint8_t ck[32], bool obep, uint8_t reply[32],
		       uint8_t layer[32], uint8_t iv[32], uint8_t gkey[32],
		       uint8_t gtag[8])
{
	uint8_t kd[64], c[32];

	tmodel_hkdf(ck, NULL, 0, "SMTunnelReplyKey", kd);
	memcpy(reply, kd + 32, 32);
	memcpy(c, kd, 32);
	tmodel_hkdf(c, NULL, 0, "SMTunnelLayerKey", kd);
	memcpy(layer, kd + 32, 32);
	if (!obep) {
		memcpy(iv, kd, 32);		/* "ivKey = keydata[0:31]" */
		return;
	}
	memcpy(c, kd, 32);
	tmodel_hkdf(c, NULL, 0, "TunnelLayerIVKey", kd);
	memcpy(iv, kd + 32, 32);
	memcpy(c, kd, 32);
	tmodel_hkdf(c, NULL, 0, "RGarlicKeyAndTag", kd);
	memcpy(gkey, kd + 32, 32);
	memcpy(gtag, kd, 8);
}

void tmodel_reply_encrypt(const uint8_t key[32], uint64_t n,
			  const uint8_t h[32], uint8_t *record, size_t plen)
{
	uint8_t nonce[12];
	unsigned long long clen;

	nonce_for(nonce, n);
	crypto_aead_chacha20poly1305_ietf_encrypt(record, &clen, record, plen,
						  h, 32, NULL, nonce, key);
}

bool tmodel_reply_decrypt(const uint8_t key[32], uint64_t n,
			  const uint8_t h[32], uint8_t *record, size_t plen)
{
	uint8_t nonce[12];
	unsigned long long mlen;

	nonce_for(nonce, n);
	return crypto_aead_chacha20poly1305_ietf_decrypt(record, &mlen, NULL,
							 record, plen + 16, h,
							 32, nonce, key) == 0;
}

static void evp(const EVP_CIPHER *c, const uint8_t *key, const uint8_t *iv,
		uint8_t *buf, size_t len, int enc)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int o1 = 0, o2 = 0;

	if (!x || EVP_CipherInit_ex(x, c, NULL, key, iv, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(x, 0) != 1 ||
	    EVP_CipherUpdate(x, buf, &o1, buf, (int)len) != 1 ||
	    EVP_CipherFinal_ex(x, buf + o1, &o2) != 1 || (size_t)(o1 + o2) != len)
		abort();
	EVP_CIPHER_CTX_free(x);
}

void tmodel_cbc(const uint8_t key[32], const uint8_t iv[16], uint8_t *buf,
		size_t len, bool encrypt)
{
	evp(EVP_aes_256_cbc(), key, iv, buf, len, encrypt ? 1 : 0);
}

void tmodel_chacha_record(const uint8_t key[32], unsigned n, uint8_t *buf,
			  size_t len)
{
	uint8_t iv[16] = { 1, 0, 0, 0 };	/* LE32 block counter 1 */

	iv[4 + 4] = (uint8_t)n;		/* nonce byte 4 = the record number */
	evp(EVP_chacha20(), key, iv, buf, len, 1);
}

void tmodel_layer(const uint8_t layer_key[32], const uint8_t iv_key[32],
		  uint8_t msg[1024], bool forward)
{
	uint8_t iv[16];

	if (forward) {
		evp(EVP_aes_256_ecb(), iv_key, NULL, msg, 16, 1);
		memcpy(iv, msg, 16);
		evp(EVP_aes_256_cbc(), layer_key, iv, msg + 16, 1008, 1);
		evp(EVP_aes_256_ecb(), iv_key, NULL, msg, 16, 1);
	} else {
		evp(EVP_aes_256_ecb(), iv_key, NULL, msg, 16, 0);
		memcpy(iv, msg, 16);
		evp(EVP_aes_256_cbc(), layer_key, iv, msg + 16, 1008, 0);
		evp(EVP_aes_256_ecb(), iv_key, NULL, msg, 16, 0);
	}
}
