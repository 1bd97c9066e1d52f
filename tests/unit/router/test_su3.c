/*
 * router/su3: a bundle from an independent model (tests/vectors/gen-su3.py:
 * Python header and zip, openssl pkeyutl signature) verified with its
 * certificate; our encoder checked by our verifier with a fresh RSA key
 * (2048 bits to keep the suite fast: RSA-4096 signing is exercised by
 * tests/integration/test_netdb_reseed.sh, which i2pd verifies); malformed
 * headers.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/certificate.h"
#include "crypto/base/fsutil.h"
#include "router/su3.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *read_vec(struct tctx *t, const char *rel, size_t *len)
{
	char *p = t_srcpath(rel);
	uint8_t *buf = NULL;

	T_OK(t, fsutil_read_file(p, 1 << 20, &buf, len));
	free(p);
	return buf;
}

static void test_model_vector(struct tctx *t)
{
	size_t len = 0, clen = 0;
	uint8_t *buf = read_vec(t, "tests/vectors/su3-model-reseed.su3", &len);
	uint8_t *crt = read_vec(t, "tests/vectors/su3-model-signer.crt", &clen);
	struct su3_signer *sg = NULL;
	struct su3 s;

	if (!buf || !crt)
		goto out;
	T_OK(t, su3_signer_from_pem(crt, clen, &sg));
	if (!sg)
		goto out;
	T_STREQ(t, su3_signer_id(sg), "test@bits.i2p");
	T_OK(t, su3_decode(buf, len, &s));
	T_EQ(t, s.sig_type, CERT_SIG_RSA_SHA512_4096);
	T_EQ(t, s.sig_len, 512);
	T_EQ(t, s.content_type, SU3_CONTENT_RESEED);
	T_EQ(t, s.file_type, SU3_FILE_ZIP);
	T_STREQ(t, s.version, "1700000000");
	T_STREQ(t, s.signer, "test@bits.i2p");
	T_EQ(t, s.content_len + 40 + 16 + 13 + 512, len);
	T_TRUE(t, s.content[0] == 'P' && s.content[1] == 'K');
	T_OK(t, su3_verify(&s, sg));
	/* One content byte changed: the signature fails. */
	buf[40 + 16 + 13 + 20] ^= 1;
	T_OK(t, su3_decode(buf, len, &s));
	T_ERR(t, su3_verify(&s, sg), ERR_BAD_SIG);
	buf[40 + 16 + 13 + 20] ^= 1;
	/* A different signer ID: not this certificate's file. */
	buf[40 + 16] = 'T';
	T_OK(t, su3_decode(buf, len, &s));
	T_ERR(t, su3_verify(&s, sg), ERR_ARG);
out:
	su3_signer_free(sg);
	free(buf);
	free(crt);
}

/* A fresh RSA key and a self-signed certificate for CN, as PEM. */
static void make_signer(struct tctx *t, unsigned bits, const char *cn,
			struct bbuf *key_pem, struct bbuf *crt_pem)
{
	EVP_PKEY *pk = EVP_RSA_gen(bits);
	X509 *x = X509_new();
	X509_NAME *nm;
	BIO *b;
	char *p;
	long n;

	T_TRUE(t, pk && x);
	if (!pk || !x)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, nm);
	T_TRUE(t, X509_sign(x, pk, EVP_sha256()) > 0);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &p);
	bbuf_put(key_pem, p, (size_t)n);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	bbuf_put(crt_pem, p, (size_t)n);
	BIO_free(b);
out:
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void roundtrip(struct tctx *t, unsigned bits, uint16_t want_type)
{
	struct bbuf key = BBUF_INIT, crt = BBUF_INIT, out = BBUF_INIT;
	static const uint8_t content[] = "zip bytes would go here";
	struct su3_signer *sg = NULL;
	struct su3 s;

	make_signer(t, bits, "me@example.i2p", &key, &crt);
	T_OK(t, su3_encode("1700000001", "me@example.i2p", SU3_FILE_ZIP,
			   SU3_CONTENT_RESEED, content, sizeof(content),
			   key.data, key.len, &out));
	T_OK(t, su3_signer_from_pem(crt.data, crt.len, &sg));
	T_OK(t, su3_decode(out.data, out.len, &s));
	T_EQ(t, s.sig_type, want_type);
	T_EQ(t, s.content_len, sizeof(content));
	T_STREQ(t, s.version, "1700000001");
	/* Version padded to 16 bytes: "Version length ... at least 16". */
	T_EQ(t, out.data[13], 16);
	if (sg)
		T_OK(t, su3_verify(&s, sg));
	/* Tampering with the header is caught too. */
	out.data[27] = SU3_CONTENT_NEWS;
	T_OK(t, su3_decode(out.data, out.len, &s));
	if (sg)
		T_ERR(t, su3_verify(&s, sg), ERR_BAD_SIG);
	su3_signer_free(sg);
	bbuf_free(&key);
	bbuf_free(&crt);
	bbuf_free(&out);
}

static void test_encode_rsa2048(struct tctx *t)
{
	roundtrip(t, 2048, CERT_SIG_RSA_SHA256_2048);
}

static void test_malformed(struct tctx *t)
{
	size_t len = 0;
	uint8_t *buf = read_vec(t, "tests/vectors/su3-model-reseed.su3", &len);
	uint8_t *m, *big;
	struct su3_signer *sg = NULL;
	struct su3 s;
	size_t ok = 0;

	if (!buf)
		return;
	m = xmalloc(len + 1);
	for (size_t n = 0; n < len; n++)
		ok += su3_decode(buf, n, &s) == 0;
	T_EQ(t, ok, 0);
	memcpy(m, buf, len);
	m[len] = 0;
	T_ERR(t, su3_decode(m, len + 1, &s), ERR_FORMAT);	/* trailing */
	memcpy(m, buf, len);
	m[0] = 'X';
	T_ERR(t, su3_decode(m, len, &s), ERR_FORMAT);		/* magic */
	memcpy(m, buf, len);
	m[7] = 1;
	T_ERR(t, su3_decode(m, len, &s), ERR_UNSUPPORTED);	/* format */
	memcpy(m, buf, len);
	m[9] = 7;						/* Ed25519 */
	T_ERR(t, su3_decode(m, len, &s), ERR_UNSUPPORTED);
	memcpy(m, buf, len);
	m[10] = 1;						/* sig len 512 -> 256 */
	T_ERR(t, su3_decode(m, len, &s), ERR_FORMAT);
	memcpy(m, buf, len);
	m[13] = 15;						/* version < 16 */
	T_ERR(t, su3_decode(m, len, &s), ERR_FORMAT);
	memcpy(m, buf, len);
	m[30] = 1;						/* unused != 0 */
	T_ERR(t, su3_decode(m, len, &s), ERR_FORMAT);
	memcpy(m, buf, len);
	m[16] = 0x7f;						/* huge content */
	T_ERR(t, su3_decode(m, len, &s), ERR_TOO_BIG);
	/* Not a certificate. */
	big = xzalloc(1000);
	T_ERR(t, su3_signer_from_pem(big, 1000, &sg), ERR_FORMAT);
	T_TRUE(t, sg == NULL);
	free(big);
	free(m);
	free(buf);
}

const struct test_case router_su3_tests[] = {
	{ "model_vector", test_model_vector, 0 },
	{ "encode_rsa2048", test_encode_rsa2048, 0 },
	{ "malformed", test_malformed, 0 },
	{ NULL, NULL, 0 }
};
