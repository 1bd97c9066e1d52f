/*
 * libFuzzer target: encrypted LeaseSet2 parsing (router/els2.h) and b33
 * addresses (router/b33.h).  The first byte picks:
 *   0: b33_parse() of the rest, which must format back to an address that
 *      parses to the same fields;
 *   1: els2_layer1_decode() of the rest, whose pointers must stay inside;
 *   2: the rest as the outer ciphertext of an EncryptedLeaseSet signed by
 *      a fixed blinded key, decrypted with a fixed PSK (ChaCha20 has no
 *      MAC, so every input reaches the layer 1 and inner parsers).
 */
#include "config.h"
#include "crypto/blinding.h"
#include "router/b33.h"
#include "router/els2.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct els2_blinding bl;
static uint8_t bsk[32];
static bool ready;

static int sign_cb(void *ctx, uint8_t *sig, size_t sig_len,
		   const uint8_t *msg, size_t len)
{
	static const uint8_t T[REDDSA_NONCE_SEED_BYTES];

	(void)ctx;
	if (sig_len != REDDSA_SIG_BYTES)
		return -1;
	reddsa_sign(sig, bsk, bl.blinded_pk, msg, len, T);
	return 0;
}

static void setup(void)
{
	uint8_t a[32], pk[32];

	memset(a, 0x11, sizeof(a));
	if (reddsa_pk_from_sk(pk, a) != 0 ||
	    els2_blinding_derive(pk, 11, 1700000000, NULL, 0, &bl) != 0)
		abort();
	blind_privkey(bsk, a, bl.alpha);
	ready = true;
}

static void one_b33(const uint8_t *p, size_t n)
{
	struct b33_addr a, b;
	char s[B33_MAX_CHARS];

	if (b33_parse((const char *)p, n, &a) != 0)
		return;
	if (b33_format(&a, s, sizeof(s)) != 0 ||
	    b33_parse(s, strlen(s), &b) != 0 || a.flags != b.flags ||
	    a.sig_type != b.sig_type ||
	    a.blinded_sig_type != b.blinded_sig_type ||
	    memcmp(a.pk, b.pk, sizeof(a.pk)) != 0)
		abort();
}

static void one_layer1(const uint8_t *p, size_t n)
{
	struct els2_layer1 l;

	if (els2_layer1_decode(p, n, &l) != 0)
		return;
	if (l.inner < p || l.inner + l.inner_len != p + n ||
	    (l.n_clients && (l.entries < p ||
			     l.entries + l.n_clients * ELS2_AUTH_ENTRY_BYTES >
			     l.inner)))
		abort();
}

static void one_decrypt(const uint8_t *p, size_t n)
{
	struct bbuf b = BBUF_INIT;
	struct leaseset *ls = NULL, *in = NULL;
	struct els2_cred c = { .auth = ELS2_AUTH_PSK };

	if (n == 0 || n > 2000)
		return;
	memset(c.key, 0x22, sizeof(c.key));
	if (leaseset_enc_encode(bl.blinded_sig_type, bl.blinded_pk,
				1700000000, 600, 0, NULL, p, n, sign_cb, NULL,
				&b) != 0 ||
	    leaseset_decode(LEASESET_ENC_LS2, b.data, b.len, &ls) != 0)
		abort();
	if (els2_decrypt(ls, &bl, &c, &in) == 0 && !in)
		abort();
	leaseset_free(in);
	leaseset_free(ls);
	bbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		one_b33(data + 1, size - 1);
		break;
	case 1:
		one_layer1(data + 1, size - 1);
		break;
	default:
		one_decrypt(data + 1, size - 1);
		break;
	}
	return 0;
}
