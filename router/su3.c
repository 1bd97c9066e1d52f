/*
 * su3 files (router/su3.h; updates spec "SU3 File Specification",
 * PROTOCOLS.md 2.18): decode with every length checked, raw RSA PKCS#1
 * v1.5 verification through OpenSSL (no digest set on the context, so
 * the padded block carries the bare digest, as Java's NONEwithRSA
 * does), and the matching signer for tools/bits-su3.
 */
#include "config.h"
#include "router/su3.h"
#include "router/certificate.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* A certificate file this large is not one. */
#define SU3_MAX_PEM_BYTES 65536

struct su3_signer {
	EVP_PKEY *pk;
	char id[SU3_MAX_ID_BYTES + 1];
};

/* The digest the RSA signature types use ("RSA-SHA512-4096" ...). */
static const EVP_MD *sig_md(uint16_t sig_type)
{
	switch (sig_type) {
	case CERT_SIG_RSA_SHA256_2048:
		return EVP_sha256();
	case CERT_SIG_RSA_SHA384_3072:
		return EVP_sha384();
	case CERT_SIG_RSA_SHA512_4096:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/* A String field: strip the trailing NUL padding into out. */
static void copy_id(char *out, const uint8_t *p, size_t n)
{
	while (n > 0 && p[n - 1] == 0)
		n--;
	memcpy(out, p, n);
	out[n] = '\0';
}

int su3_decode(const uint8_t *buf, size_t len, struct su3 *out)
{
	struct su3 s;
	struct breader r;
	const uint8_t *h, *ver, *id;
	size_t ver_len, id_len;
	uint64_t clen;

	memset(&s, 0, sizeof(s));
	br_init(&r, buf, len);
	if ((h = br_take(&r, SU3_HEADER_BYTES)) == NULL)
		return ERR_TRUNCATED;
	/* 0-5 "I2Psu3", 6 unused = 0, 7 "su3 file format version = 0" */
	if (memcmp(h, SU3_MAGIC, SU3_MAGIC_BYTES) != 0 || h[6] != 0)
		return ERR_FORMAT;
	if (h[7] != 0)
		return ERR_UNSUPPORTED;
	s.sig_type = be16_get(h + 8);
	s.sig_len = be16_get(h + 10);
	ver_len = h[13];
	id_len = h[15];
	clen = be64_get(h + 16);
	s.file_type = h[25];
	s.content_type = h[27];
	/* "All unused fields must be set to 0" */
	if (h[12] || h[14] || h[24] || h[26])
		return ERR_FORMAT;
	for (int i = 28; i < SU3_HEADER_BYTES; i++)
		if (h[i])
			return ERR_FORMAT;
	if (!sig_md(s.sig_type))
		return ERR_UNSUPPORTED;
	/* "Signature length ... Must match that specified for the
	 * Signature type." */
	if (s.sig_len != cert_sig_len(s.sig_type))
		return ERR_FORMAT;
	if (ver_len < SU3_MIN_VERSION_BYTES)
		return ERR_FORMAT;
	if (clen > SU3_MAX_CONTENT_BYTES)
		return ERR_TOO_BIG;
	ver = br_take(&r, ver_len);
	id = br_take(&r, id_len);
	s.content = br_take(&r, (size_t)clen);
	s.content_len = (size_t)clen;
	s.signed_len = len - br_left(&r);
	s.sig = br_take(&r, s.sig_len);
	if (r.failed)
		return ERR_TRUNCATED;
	if (br_left(&r))
		return ERR_FORMAT;
	copy_id(s.version, ver, ver_len);
	copy_id(s.signer, id, id_len);
	s.signed_data = buf;
	*out = s;
	return 0;
}

int su3_signer_from_pem(const uint8_t *pem, size_t len,
			struct su3_signer **out)
{
	struct su3_signer *s;
	BIO *bio;
	X509 *x;
	EVP_PKEY *pk;
	int n;

	if (len > SU3_MAX_PEM_BYTES)
		return ERR_TOO_BIG;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return ERR_INTERNAL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!x)
		return ERR_FORMAT;
	pk = X509_get_pubkey(x);
	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pk);
		X509_free(x);
		return pk ? ERR_UNSUPPORTED : ERR_FORMAT;
	}
	s = xzalloc(sizeof(*s));
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(x),
				      NID_commonName, s->id, sizeof(s->id));
	X509_free(x);
	if (n <= 0 || (size_t)n >= sizeof(s->id)) {
		EVP_PKEY_free(pk);
		free(s);
		return ERR_FORMAT;
	}
	s->pk = pk;
	*out = s;
	return 0;
}

int su3_signer_from_file(const char *path, struct su3_signer **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = fsutil_read_file(path, SU3_MAX_PEM_BYTES, &buf, &len)) != 0)
		return r;
	r = su3_signer_from_pem(buf, len, out);
	xfree_wipe(buf, len);
	return r;
}

void su3_signer_free(struct su3_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->pk);
	free(s);
}

const char *su3_signer_id(const struct su3_signer *s)
{
	return s->id;
}

int su3_verify(const struct su3 *s, const struct su3_signer *signer)
{
	const EVP_MD *md = sig_md(s->sig_type);
	uint8_t dig[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	EVP_PKEY_CTX *ctx;
	int ok;

	if (!md)
		return ERR_UNSUPPORTED;
	if (strcmp(s->signer, signer->id) != 0)
		return ERR_ARG;
	if ((size_t)EVP_PKEY_get_size(signer->pk) != s->sig_len)
		return ERR_UNSUPPORTED;
	if (EVP_Digest(s->signed_data, s->signed_len, dig, &dlen, md,
		       NULL) != 1)
		return ERR_CRYPTO;
	if ((ctx = EVP_PKEY_CTX_new(signer->pk, NULL)) == NULL)
		return ERR_INTERNAL;
	ok = EVP_PKEY_verify_init(ctx) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	     EVP_PKEY_verify(ctx, s->sig, s->sig_len, dig, dlen) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : ERR_BAD_SIG;
}

/* RSA key size -> su3 signature type. */
static uint16_t rsa_sig_type(const EVP_PKEY *pk)
{
	switch (EVP_PKEY_get_bits(pk)) {
	case 2048:
		return CERT_SIG_RSA_SHA256_2048;
	case 3072:
		return CERT_SIG_RSA_SHA384_3072;
	case 4096:
		return CERT_SIG_RSA_SHA512_4096;
	default:
		return 0;
	}
}

static int sign_raw(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *data,
		    size_t len, uint8_t *sig, size_t sig_len)
{
	uint8_t dig[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	size_t slen = sig_len;
	EVP_PKEY_CTX *ctx;
	int ok;

	if (EVP_Digest(data, len, dig, &dlen, md, NULL) != 1 ||
	    (ctx = EVP_PKEY_CTX_new(pk, NULL)) == NULL)
		return ERR_CRYPTO;
	ok = EVP_PKEY_sign_init(ctx) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	     EVP_PKEY_sign(ctx, sig, &slen, dig, dlen) == 1 && slen == sig_len;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : ERR_CRYPTO;
}

int su3_encode(const char *version, const char *signer_id,
	       uint8_t file_type, uint8_t content_type, const uint8_t *content,
	       size_t content_len, const uint8_t *key_pem, size_t key_pem_len,
	       struct bbuf *out)
{
	size_t vlen = strlen(version), idlen = strlen(signer_id), start;
	size_t pad = vlen < SU3_MIN_VERSION_BYTES ? SU3_MIN_VERSION_BYTES : vlen;
	uint16_t st;
	size_t sig_len;
	uint8_t *h;
	EVP_PKEY *pk;
	BIO *bio;
	int r;

	if (vlen > SU3_MAX_ID_BYTES || idlen > SU3_MAX_ID_BYTES)
		return ERR_ARG;
	if (content_len > SU3_MAX_CONTENT_BYTES)
		return ERR_TOO_BIG;
	if ((bio = BIO_new_mem_buf(key_pem, (int)key_pem_len)) == NULL)
		return ERR_INTERNAL;
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA ||
	    (st = rsa_sig_type(pk)) == 0) {
		EVP_PKEY_free(pk);
		return ERR_ARG;
	}
	sig_len = cert_sig_len(st);
	start = out->len;
	h = bbuf_extend(out, SU3_HEADER_BYTES);
	memset(h, 0, SU3_HEADER_BYTES);
	memcpy(h, SU3_MAGIC, SU3_MAGIC_BYTES);
	be16_put(h + 8, st);
	be16_put(h + 10, (uint16_t)sig_len);
	h[13] = (uint8_t)pad;
	h[15] = (uint8_t)idlen;
	be64_put(h + 16, content_len);
	h[25] = file_type;
	h[27] = content_type;
	bbuf_put(out, version, vlen);
	memset(bbuf_extend(out, pad - vlen), 0, pad - vlen);
	bbuf_put(out, signer_id, idlen);
	bbuf_put(out, content, content_len);
	(void)bbuf_extend(out, sig_len);
	/* bbuf_extend may move the buffer: sign from out->data. */
	r = sign_raw(pk, sig_md(st), out->data + start,
		     out->len - sig_len - start, out->data + out->len - sig_len,
		     sig_len);
	EVP_PKEY_free(pk);
	if (r != 0)
		out->len = start;
	return r;
}
