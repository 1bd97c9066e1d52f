/*
 * bits-su3: make and check su3 reseed bundles for test networks
 * (updates spec, "SU3 Reseed File Specification"; PROTOCOLS.md 2.18).
 *
 *   bits-su3 keygen --cn ID --key KEY.pem --cert CERT.crt [--bits 4096]
 *       a fresh RSA key (e = 65537) and a self-signed X.509 certificate
 *       whose subject and issuer CN are ID (i2pd keys reseed certificates
 *       by issuer CN; the su3 signer ID must equal it)
 *   bits-su3 make --key KEY.pem --signer ID --out FILE.su3 [--version V]
 *       [--netid N] RI-FILE|DIR...
 *       a zip of the RouterInfos (each decoded and verified, stored as
 *       routerInfo-<hash>.dat at top level; a directory gives its
 *       routerInfo-*.dat files, i2pd's r?/ layout too) in an su3 of
 *       content type 3 (reseed), file type 0 (zip), signed RSA-SHA512-4096
 *       for a 4096-bit key; V defaults to the time in seconds
 *   bits-su3 verify --cert CERT.crt FILE.su3 [--netid N]
 *       check the signature and every RouterInfo; print what it holds
 *
 * A test tool: it never touches the network.
 */
#include "config.h"
#include "netdb/reseed.h"
#include "crypto/base/fsutil.h"
#include "router/router_info.h"
#include "router/su3.h"
#include "router/zip.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/init.h"
#include "crypto/rand.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SU3_TOOL_DAYS 3650
#define SU3_TOOL_MAX_FILES 4096

struct opts {
	const char *cn, *key, *cert, *out, *signer, *version;
	unsigned bits, netid;
	const char *args[SU3_TOOL_MAX_FILES];
	size_t nargs;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: bits-su3 keygen --cn ID --key KEY.pem --cert CERT.crt "
		"[--bits 4096]\n"
		"       bits-su3 make --key KEY.pem --signer ID --out FILE.su3 "
		"[--version V] [--netid N] RI-FILE|DIR...\n"
		"       bits-su3 verify --cert CERT.crt FILE.su3 [--netid N]\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	o->bits = 4096;
	o->netid = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;
		if (strcmp(a, "--cn") == 0)
			dst = &o->cn;
		else if (strcmp(a, "--key") == 0)
			dst = &o->key;
		else if (strcmp(a, "--cert") == 0)
			dst = &o->cert;
		else if (strcmp(a, "--out") == 0)
			dst = &o->out;
		else if (strcmp(a, "--signer") == 0)
			dst = &o->signer;
		else if (strcmp(a, "--version") == 0)
			dst = &o->version;
		if (dst || strcmp(a, "--bits") == 0 ||
		    strcmp(a, "--netid") == 0) {
			if (++i >= argc)
				return -1;
			if (dst)
				*dst = argv[i];
			else if (strcmp(a, "--bits") == 0)
				o->bits = (unsigned)strtoul(argv[i], NULL, 10);
			else
				o->netid = (unsigned)strtoul(argv[i], NULL, 10);
			continue;
		}
		if (a[0] == '-' || o->nargs == SU3_TOOL_MAX_FILES)
			return -1;
		o->args[o->nargs++] = a;
	}
	return 0;
}

static int write_pem(const char *path, bool secret, EVP_PKEY *pk, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int r;

	if (pk)
		PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	else
		PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	r = fsutil_write_atomic(path, p, (size_t)n, secret ? 0600 : 0644, true);
	BIO_free(b);
	return r;
}

static int keygen(const struct opts *o)
{
	EVP_PKEY *pk;
	X509 *x;
	X509_NAME *nm;
	uint8_t serial[8];
	BIGNUM *bn;
	int r = 1;

	if (!o->cn || !o->key || !o->cert) {
		usage();
		return 2;
	}
	if (!(pk = EVP_RSA_gen(o->bits))) {
		fprintf(stderr, "bits-su3: cannot make an RSA-%u key\n", o->bits);
		return 1;
	}
	x = X509_new();
	X509_set_version(x, 2);
	rand_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * SU3_TOOL_DAYS);
	X509_set_pubkey(x, pk);
	nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
				   (const unsigned char *)o->cn, -1, -1, 0);
	X509_set_issuer_name(x, nm);		/* self-signed */
	if (X509_sign(x, pk, EVP_sha512()) <= 0 ||
	    write_pem(o->key, true, pk, NULL) != 0 ||
	    write_pem(o->cert, false, NULL, x) != 0)
		fprintf(stderr, "bits-su3: cannot write %s / %s\n", o->key,
			o->cert);
	else
		r = 0;
	X509_free(x);
	EVP_PKEY_free(pk);
	return r;
}

/* Add the RouterInfo file at path, named by its hash. */
static int add_ri_file(struct zip_writer *w, const char *path, unsigned netid,
		       size_t *n)
{
	struct router_info *ri = NULL;
	char name[ROUTER_INFO_FILE_NAME_BYTES];
	const uint8_t *bytes;
	size_t len;
	int r;

	if ((r = router_info_file_read(path, &ri)) != 0 ||
	    (r = router_info_verify(ri)) != 0 ||
	    (netid && (r = router_info_check_netid(ri, netid)) != 0)) {
		fprintf(stderr, "bits-su3: %s: %s\n", path, err_str(r));
		router_info_free(ri);
		return r;
	}
	bytes = router_info_bytes(ri, &len);
	router_info_file_name(router_info_hash(ri), name, sizeof(name));
	r = zip_writer_add(w, name, bytes, len);
	router_info_free(ri);
	if (r == 0)
		(*n)++;
	return r;
}

static int add_dir(struct zip_writer *w, const char *dir, unsigned netid,
		   size_t *n, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return ERR_NOT_FOUND;
	while (r == 0 && (de = readdir(d)) != NULL) {
		char *p = fsutil_path_join(dir, de->d_name);
		if (depth == 0 && de->d_name[0] == 'r' && strlen(de->d_name) == 2)
			r = add_dir(w, p, netid, n, 1);
		else if (strncmp(de->d_name, "routerInfo-", 11) == 0)
			r = add_ri_file(w, p, netid, n);
		free(p);
	}
	closedir(d);
	return r;
}

static int make(const struct opts *o)
{
	struct zip_writer w;
	struct bbuf zip = BBUF_INIT, su3 = BBUF_INIT;
	uint8_t *key = NULL;
	size_t keylen = 0, n = 0;
	char ver[32];
	int r = 0;

	if (!o->key || !o->signer || !o->out || !o->nargs) {
		usage();
		return 2;
	}
	zip_writer_init(&w);
	for (size_t i = 0; i < o->nargs && r == 0; i++) {
		struct stat st;
		if (stat(o->args[i], &st) == 0 && S_ISDIR(st.st_mode))
			r = add_dir(&w, o->args[i], o->netid, &n, 0);
		else
			r = add_ri_file(&w, o->args[i], o->netid, &n);
	}
	if (r != 0 || n == 0) {
		fprintf(stderr, "bits-su3: no RouterInfos to bundle\n");
		zip_writer_clear(&w);
		return 1;
	}
	zip_writer_finish(&w, &zip);
	snprintf(ver, sizeof(ver), "%lld", (long long)time(NULL));
	if ((r = fsutil_read_file(o->key, 65536, &key, &keylen)) != 0 ||
	    (r = su3_encode(o->version ? o->version : ver, o->signer,
			    SU3_FILE_ZIP, SU3_CONTENT_RESEED, zip.data,
			    zip.len, key, keylen, &su3)) != 0 ||
	    (r = fsutil_write_atomic(o->out, su3.data, su3.len, 0644,
				     true)) != 0)
		fprintf(stderr, "bits-su3: %s\n", err_str(r));
	else
		printf("%s: %zu RouterInfos, %zu bytes\n", o->out, n, su3.len);
	xfree_wipe(key, keylen);
	bbuf_free(&zip);
	bbuf_free(&su3);
	return r ? 1 : 0;
}

static int verify(const struct opts *o)
{
	struct su3_signer *sg = NULL;
	struct reseed_result res = { 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	struct su3 s;
	int r;

	if (!o->cert || o->nargs != 1) {
		usage();
		return 2;
	}
	if ((r = su3_signer_from_file(o->cert, &sg)) != 0 ||
	    (r = fsutil_read_file(o->args[0], SU3_MAX_BYTES, &buf, &len)) != 0 ||
	    (r = su3_decode(buf, len, &s)) != 0 ||
	    (r = reseed_su3_parse(buf, len, &sg, 1,
				  (uint8_t)(o->netid ? o->netid : 2),
				  &res)) != 0) {
		fprintf(stderr, "bits-su3: %s: %s\n", o->args[0], err_str(r));
	} else {
		printf("ok signer=%s version=%s routerinfos=%zu refused=%zu\n",
		       s.signer, s.version, res.n, res.bad);
	}
	reseed_result_clear(&res);
	su3_signer_free(sg);
	free(buf);
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };

	crypto_init();
	if (argc < 2 || parse(argc, argv, &o) != 0) {
		usage();
		return 2;
	}
	if (strcmp(argv[1], "keygen") == 0)
		return keygen(&o);
	if (strcmp(argv[1], "make") == 0)
		return make(&o);
	if (strcmp(argv[1], "verify") == 0)
		return verify(&o);
	usage();
	return 2;
}
