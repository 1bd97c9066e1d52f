/*
 * libFuzzer target: the NTCP2 handshake parsers with fixed keys.  The
 * first input byte picks what the rest is:
 *   0: raw bytes for Bob (SessionRequest, its padding, SessionConfirmed)
 *      and for Alice (SessionCreated after a real SessionRequest);
 *   1: the 16 plaintext option bytes of a correctly encrypted
 *      SessionRequest, then padding (reaches the option checks);
 *   2: the plaintext of SessionConfirmed part 2 in an otherwise valid
 *      handshake (reaches the message 3 block rules).
 */
#include "config.h"
#include "router/ntcp2_frame.h"
#include "router/ntcp2_handshake.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

#define NOW 1700000000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct keys {
	struct x25519_sk as, bs, ae, be;
	struct noise_static ast, bst;
	uint8_t rh[32], iv[16];
};

static void keys_init(struct keys *k)
{
	memset(k, 0, sizeof(*k));
	memset(k->as.b, 1, 32);
	memset(k->bs.b, 2, 32);
	memset(k->ae.b, 3, 32);
	memset(k->be.b, 4, 32);
	memset(k->rh, 5, 32);
	memset(k->iv, 6, 16);
	noise_static_from_sk(&k->ast, &k->as);
	noise_static_from_sk(&k->bst, &k->bs);
}

static void bob_start(struct keys *k, struct ntcp2_hs *b)
{
	ntcp2_hs_init_bob(b, &k->bst, k->rh, k->iv, 77);
	ntcp2_hs_set_ephemeral(b, &k->be);
}

static void alice_start(struct keys *k, struct ntcp2_hs *a)
{
	ntcp2_hs_init_alice(a, &k->ast, k->rh, &k->bst.pk, k->iv, 77);
	ntcp2_hs_set_ephemeral(a, &k->ae);
}

/* Bob reads msg (64 bytes), then padding and message 3 from rest. */
static void bob_reads(struct keys *k, const uint8_t *msg, const uint8_t *rest,
		      size_t rlen)
{
	struct ntcp2_hs b;
	struct ntcp2_hs_options o;
	struct bbuf out = BBUF_INIT;
	uint8_t *payload;
	size_t plen, need;
	int r;

	bob_start(k, &b);
	r = ntcp2_hs_read_request(&b, msg, NOW, NULL, 0, &o);
	if ((r == 0 || r == ERR_EXPIRED) && o.pad_len <= rlen &&
	    ntcp2_hs_read_padding(&b, rest, o.pad_len) == 0 &&
	    ntcp2_hs_write_created(&b, NOW, NULL, 0, &out) == 0) {
		rest += o.pad_len;
		rlen -= o.pad_len;
		need = ntcp2_hs_confirmed_len(&b);
		if (rlen >= need) {
			payload = xmalloc(need);
			if (ntcp2_hs_read_confirmed(&b, rest, need, payload,
						    &plen) == 0)
				(void)ntcp2_frame_check(payload, plen,
							NTCP2_FRAME_MSG3, NULL);
			free(payload);
		}
	}
	ntcp2_hs_wipe(&b);
	bbuf_free(&out);
}

static void raw(struct keys *k, const uint8_t *d, size_t n)
{
	struct ntcp2_hs a;
	struct ntcp2_hs_options o;
	struct bbuf m1 = BBUF_INIT;

	if (n < NTCP2_MSG1_BYTES)
		return;
	bob_reads(k, d, d + 64, n - 64);
	alice_start(k, &a);
	if (ntcp2_hs_write_request(&a, NOW, NULL, 0, 100, &m1) == 0 &&
	    ntcp2_hs_read_created(&a, d, NOW, NULL, 0, &o) == 0)
		(void)ntcp2_hs_read_padding(&a, d + 64,
					    o.pad_len <= n - 64 ? o.pad_len : 0);
	ntcp2_hs_wipe(&a);
	bbuf_free(&m1);
}

/* A SessionRequest with arbitrary (correctly encrypted) options. */
static void options(struct keys *k, const uint8_t *d, size_t n)
{
	struct noise_sym s;
	struct aes256_ctx *aes;
	struct x25519_pk x;
	uint8_t msg[64], dh[32], iv[16];

	if (n < NTCP2_OPTIONS_BYTES)
		return;
	x25519_pk_from_sk(&x, &k->ae);
	memcpy(msg, x.b, 32);
	memcpy(iv, k->iv, 16);
	aes = aes256_new(k->rh);
	(void)aes256_cbc_encrypt(aes, iv, msg, 32);
	aes256_free(aes);
	noise_sym_init(&s, NTCP2_PROTOCOL_NAME);
	noise_sym_mix_hash(&s, NULL, 0);
	noise_sym_mix_hash(&s, k->bst.pk.b, 32);
	noise_sym_mix_hash(&s, x.b, 32);
	if (x25519_dh(dh, &k->ae, &k->bst.pk) != 0)
		abort();
	noise_sym_mix_key(&s, dh, 32);
	if (noise_sym_encrypt_and_hash(&s, msg + 32, d, 16) != 0)
		abort();
	noise_sym_wipe(&s);
	bob_reads(k, msg, d + 16, n - 16);
}

/* A valid handshake whose message 3 part 2 plaintext is d. */
static void confirmed(struct keys *k, const uint8_t *d, size_t n)
{
	struct ntcp2_hs a, b;
	struct ntcp2_hs_options o;
	struct bbuf m1 = BBUF_INIT, m2 = BBUF_INIT, m3 = BBUF_INIT;
	uint8_t *payload;
	size_t plen;

	if (n + 16 > NTCP2_M3P2_MAX_BYTES)
		return;
	alice_start(k, &a);
	bob_start(k, &b);
	if (ntcp2_hs_write_request(&a, NOW, NULL, 0, (uint16_t)(n + 16), &m1) ||
	    ntcp2_hs_read_request(&b, m1.data, NOW, NULL, 0, &o) ||
	    ntcp2_hs_read_padding(&b, NULL, 0) ||
	    ntcp2_hs_write_created(&b, NOW, NULL, 0, &m2) ||
	    ntcp2_hs_read_created(&a, m2.data, NOW, NULL, 0, &o) ||
	    ntcp2_hs_read_padding(&a, NULL, 0) ||
	    ntcp2_hs_write_confirmed(&a, d, n, &m3))
		abort();
	payload = xmalloc(n + 1);
	if (ntcp2_hs_read_confirmed(&b, m3.data, m3.len, payload, &plen) != 0 ||
	    plen != n || memcmp(payload, d, n) != 0)
		abort();
	(void)ntcp2_frame_check(payload, plen, NTCP2_FRAME_MSG3, NULL);
	free(payload);
	ntcp2_hs_wipe(&a);
	ntcp2_hs_wipe(&b);
	bbuf_free(&m1);
	bbuf_free(&m2);
	bbuf_free(&m3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keys k;

	if (size < 1)
		return 0;
	keys_init(&k);
	switch (data[0] % 3) {
	case 0:
		raw(&k, data + 1, size - 1);
		break;
	case 1:
		options(&k, data + 1, size - 1);
		break;
	default:
		confirmed(&k, data + 1, size - 1);
		break;
	}
	return 0;
}
