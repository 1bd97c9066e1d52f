/*
 * Test helper for test_dest_keys_i2pd.sh (router/dest_keys, router/b33):
 *   dest_keys_tool parse PRIV     SAM private key → pub=, b32=, b33=,
 *                                 enc=, sig=, priv= (re-encoded); exits 1
 *                                 when it does not parse or check
 *   dest_keys_tool generate       new Ed25519 + X25519 keys, same lines
 *   dest_keys_tool els2 PUB LSFILE NOW_S [dh|psk KEYHEX]
 *                                 blind PUB (Base64 Destination) for the
 *                                 day of NOW_S, decode and verify the
 *                                 EncryptedLeaseSet in LSFILE (binary),
 *                                 decrypt it (with a client's X25519
 *                                 private key or PSK) → store_key=,
 *                                 key_match=, inner_b32=, leases=; exits
 *                                 1 on any failure
 *   dest_keys_tool x25519 SKHEX   the public key of SKHEX in Base64
 *   dest_keys_tool els2-make PRIV NOW_S OUT [dh CPK_B64 | psk KEYHEX]
 *                                 an EncryptedLeaseSet of PRIV's (Ed25519)
 *                                 destination published NOW_S, with one
 *                                 lease and its X25519 key, written to OUT
 *                                 (binary) → store_key=, b33=, b32=
 */
#include "config.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/blinding.h"
#include "crypto/ed25519.h"
#include "crypto/rand.h"
#include "router/certificate.h"
#include "crypto/x25519.h"
#include "crypto/init.h"
#include "router/b33.h"
#include "router/dest_keys.h"
#include "router/els2.h"
#include "router/leaseset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int show(const struct dest_keys *k)
{
	struct b33_addr a = { .blinded_sig_type = 11 };
	char b32[DEST_B32_CHARS + 1], b33[B33_MAX_CHARS];
	char *pub = dest_b64_format(&k->dest), *priv = dest_keys_format(k);
	int r;

	dest_b32_format(&k->dest, b32);
	a.sig_type = k->dest.sig_type;
	memcpy(a.pk, k->dest.sig_key, sizeof(a.pk));
	if ((r = b33_format(&a, b33, sizeof(b33))) != 0)
		memcpy(b33, "-", 2);
	printf("pub=%s\nb32=%s\nb33=%s\nenc=%u\nsig=%u\nenc_in_dest=%d\npriv=%s\n",
	       pub, b32, b33, k->dest.enc_type, k->dest.sig_type,
	       dest_keys_enc_key_in_dest(k), priv);
	free(pub);
	xfree_wipe(priv, strlen(priv) + 1);
	return 0;
}

static int fail(const char *what, int r)
{
	fprintf(stderr, "dest_keys_tool: %s: %s\n", what, err_str(r));
	return 1;
}

static int els2(int argc, char **argv)
{
	struct keys_and_cert dest;
	struct els2_blinding bl;
	struct els2_cred cred, *cp = NULL;
	struct leaseset *ls = NULL, *in = NULL;
	uint8_t raw[KAC_MAX_BYTES], *buf = NULL;
	char hex[65], b32[DEST_B32_CHARS + 1];
	struct breader rd;
	size_t n = 0, len = 0;
	int r;

	if ((r = b64_decode(raw, sizeof(raw), &n, argv[2],
			    strlen(argv[2]))) != 0)
		return fail("destination", r);
	br_init(&rd, raw, n);
	if ((r = keys_and_cert_decode(&rd, &dest)) != 0)
		return fail("destination", r);
	if ((r = els2_blinding_derive(dest.sig_key, dest.sig_type,
				      strtoull(argv[4], NULL, 10), NULL, 0,
				      &bl)) != 0)
		return fail("blinding", r);
	(void)hex_encode(hex, sizeof(hex), bl.store_key, 32);
	printf("store_key=%s\n", hex);
	if (argc == 7) {
		memset(&cred, 0, sizeof(cred));
		cred.auth = strcmp(argv[5], "dh") == 0 ? ELS2_AUTH_DH :
			ELS2_AUTH_PSK;
		if ((r = hex_decode(cred.key, 32, &n, argv[6],
				    strlen(argv[6]))) != 0 || n != 32)
			return fail("client key", r ? r : ERR_FORMAT);
		cp = &cred;
	}
	if ((r = fsutil_read_file(argv[3], 65536, &buf, &len)) != 0)
		return fail("leaseset file", r);
	if ((r = leaseset_decode(LEASESET_ENC_LS2, buf, len, &ls)) != 0)
		return fail("decode", r);
	if ((r = leaseset_verify(ls)) != 0)
		return fail("outer signature", r);
	printf("key_match=%d\n",
	       memcmp(leaseset_key(ls), bl.store_key, 32) == 0);
	if ((r = els2_decrypt(ls, &bl, cp, &in)) != 0)
		return fail("decrypt", r);
	dest_b32_format(leaseset_destination(in), b32);
	printf("inner_type=%u\ninner_b32=%s\nleases=%zu\n",
	       (unsigned)leaseset_type(in), b32, leaseset_lease_count(in));
	leaseset_free(in);
	leaseset_free(ls);
	free(buf);
	return 0;
}

static int els2_make(int argc, char **argv)
{
	struct dest_keys k;
	struct ed25519_seed seed;
	struct x25519_sk xsk;
	struct x25519_pk xpk;
	struct leaseset_enc_key key;
	struct lease l;
	struct leaseset2_params lp;
	struct els2_blinding bl;
	struct bbuf inner = BBUF_INIT, out = BBUF_INIT;
	uint8_t a[32], bsk[32], client[32];
	uint32_t now = (uint32_t)strtoul(argv[3], NULL, 10);
	struct b33_addr ba = { .sig_type = 7, .blinded_sig_type = 11 };
	char hex[65], b33[B33_MAX_CHARS], b32[DEST_B32_CHARS + 1];
	struct els2_params ep;
	size_t n = 0;
	int r;

	if ((r = dest_keys_parse(argv[2], strlen(argv[2]), &k)) != 0 ||
	    (r = dest_keys_check(&k)) != 0)
		return fail("keys", r);
	if (k.dest.sig_type != CERT_SIG_EDDSA_SHA512_ED25519 || k.offline)
		return fail("keys", ERR_UNSUPPORTED);
	memcpy(seed.b, k.sig_sk, 32);
	memcpy(xsk.b, k.enc_sk, 32);
	x25519_pk_from_sk(&xpk, &xsk);
	key = (struct leaseset_enc_key){ CERT_ENC_X25519, 32, xpk.b };
	memset(&l, 0, sizeof(l));
	rand_bytes(l.gateway, sizeof(l.gateway));
	l.tunnel_id = 1234;
	l.end_ms = ((uint64_t)now + 500) * 1000;
	lp = (struct leaseset2_params){
		.type = LEASESET_LS2, .dest = &k.dest, .published_s = now,
		.expires_s = 600, .keys = &key, .n_keys = 1, .leases = &l,
		.n_leases = 1,
	};
	if ((r = leaseset2_encode(&lp, leaseset_sign_ed25519, &seed,
				     &inner)) != 0)
		return fail("inner LeaseSet", r);
	if ((r = els2_blinding_derive(k.dest.sig_key, 7, now, NULL, 0,
				      &bl)) != 0)
		return fail("blinding", r);
	blind_ed25519_scalar(a, &seed);
	blind_privkey(bsk, a, bl.alpha);
	ep = (struct els2_params){
		.bl = &bl, .blinded_sk = bsk, .published_s = now,
		.expires_s = 600, .inner_type = LEASESET_LS2,
		.inner = inner.data, .inner_len = inner.len,
		.auth = ELS2_AUTH_NONE,
	};
	if (argc == 7) {
		ep.auth = strcmp(argv[5], "dh") == 0 ? ELS2_AUTH_DH :
			ELS2_AUTH_PSK;
		r = ep.auth == ELS2_AUTH_DH ?
			b64_decode(client, 32, &n, argv[6], strlen(argv[6])) :
			hex_decode(client, 32, &n, argv[6], strlen(argv[6]));
		if (r != 0 || n != 32)
			return fail("client key", r ? r : ERR_FORMAT);
		ep.clients = (const uint8_t (*)[32])client;
		ep.n_clients = 1;
		ba.flags = B33_FLAG_CLIENT_AUTH;
	}
	if ((r = els2_encode(&ep, &out)) != 0)
		return fail("encode", r);
	if ((r = fsutil_write_atomic(argv[4], out.data, out.len, 0600,
				     true)) != 0)
		return fail("write", r);
	memcpy(ba.pk, k.dest.sig_key, 32);
	(void)b33_format(&ba, b33, sizeof(b33));
	(void)hex_encode(hex, sizeof(hex), bl.store_key, 32);
	dest_b32_format(&k.dest, b32);
	printf("store_key=%s\nb33=%s\nb32=%s\n", hex, b33, b32);
	bbuf_free(&inner);
	bbuf_free(&out);
	dest_keys_wipe(&k);
	memwipe(&seed, sizeof(seed));
	memwipe(bsk, sizeof(bsk));
	return 0;
}

int main(int argc, char **argv)
{
	struct dest_keys k;
	int r;

	crypto_init();
	if ((argc == 5 || argc == 7) && strcmp(argv[1], "els2") == 0)
		return els2(argc, argv);
	if ((argc == 5 || argc == 7) && strcmp(argv[1], "els2-make") == 0)
		return els2_make(argc, argv);
	if (argc == 3 && strcmp(argv[1], "x25519") == 0) {
		struct x25519_sk sk;
		struct x25519_pk pk;
		char b64[B64_ENC_LEN(32)];

		if ((r = hex_decode(sk.b, 32, &(size_t){ 0 }, argv[2],
				    strlen(argv[2]))) != 0)
			return fail("key", r);
		x25519_pk_from_sk(&pk, &sk);
		(void)b64_encode(b64, sizeof(b64), pk.b, 32);
		printf("%s\n", b64);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "generate") == 0) {
		dest_keys_generate(&k);
	} else if (argc == 3 && strcmp(argv[1], "parse") == 0) {
		if ((r = dest_keys_parse(argv[2], strlen(argv[2]), &k)) != 0 ||
		    (r = dest_keys_check(&k)) != 0) {
			fprintf(stderr, "dest_keys_tool: %s\n", err_str(r));
			return 1;
		}
	} else {
		fprintf(stderr, "usage: dest_keys_tool parse PRIV | generate\n");
		return 2;
	}
	show(&k);
	dest_keys_wipe(&k);
	return 0;
}
