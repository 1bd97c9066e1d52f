/* router/router_info: build, sign, decode, verify, checks, files, and
 * RouterInfos written by Debian's i2pd 2.45.1 (tests/vectors/README.md). */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/router_info.h"
#include "router/mapping.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TEST_NETID 77

static void ks_identity(const struct keystore *ks, struct keys_and_cert *id)
{
	struct ed25519_pk pk;
	struct x25519_pk xpk;

	keystore_sign_pk(ks, &pk);
	keystore_x25519_pk(ks, KEYSTORE_X_IDENTITY, &xpk);
	keys_and_cert_build(id, &xpk, &pk, NULL);
}

/* A signed RouterInfo like ours: one published NTCP2 address. */
static struct router_info *make_ri(struct tctx *t, const struct keystore *ks)
{
	static const uint8_t iv[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
					13, 14, 15, 16 };
	struct router_address a = ROUTER_ADDRESS_INIT;
	struct keys_and_cert id;
	struct x25519_pk s;
	struct router_info *ri;

	ks_identity(ks, &id);
	ri = router_info_new(&id);
	router_info_set_published(ri, 1700000000123ULL);
	keystore_x25519_pk(ks, KEYSTORE_X_NTCP2, &s);
	T_OK(t, router_address_ntcp2_build(&a, 3, &s, "127.0.0.9", 23999, iv));
	T_OK(t, router_info_add_address(ri, &a));
	T_OK(t, router_info_set_basic_options(ri, TEST_NETID, "XR"));
	T_OK(t, router_info_sign(ri, ks));
	return ri;
}

/* Does any decode of buf verify? */
static bool decodes_and_verifies(const uint8_t *buf, size_t len)
{
	struct router_info *ri = NULL;
	bool ok = router_info_decode(buf, len, &ri) == 0 &&
		  router_info_verify(ri) == 0;

	router_info_free(ri);
	return ok;
}

static void test_sign_decode_verify(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct router_info *ri = make_ri(t, ks), *d = NULL;
	const struct router_address *a;
	struct router_address_ntcp2 n;
	const uint8_t *bytes, *bytes2;
	size_t len = 0, len2 = 0;

	T_TRUE(t, (bytes = router_info_bytes(ri, &len)) != NULL);
	if (!bytes)
		goto out;
	T_OK(t, router_info_verify(ri));
	T_OK(t, router_info_decode(bytes, len, &d));
	if (!d)
		goto out;
	T_OK(t, router_info_verify(d));
	T_TRUE(t, (bytes2 = router_info_bytes(d, &len2)) != NULL);
	T_EQ(t, len2, len);
	if (bytes2)
		T_MEMEQ(t, bytes2, bytes, len);
	T_MEMEQ(t, router_info_hash(d), router_info_hash(ri), SHA256_BYTES);
	T_MEMEQ(t, router_info_identity(d)->raw, bytes, ROUTER_IDENTITY_BYTES);
	T_TRUE(t, router_info_published(d) == 1700000000123ULL);
	T_EQ(t, router_info_address_count(d), 1);
	T_TRUE(t, router_info_address(d, 1) == NULL);
	T_TRUE(t, router_info_find_address(d, "SSU2") == NULL);
	T_TRUE(t, (a = router_info_find_address(d, "NTCP2")) != NULL);
	if (a) {
		T_OK(t, router_address_ntcp2_parse(a, &n));
		T_TRUE(t, n.published);
		T_EQ(t, n.port, 23999);
	}
	T_STREQ(t, router_info_option(d, "caps"), "XR");
	T_STREQ(t, router_info_option(d, "netId"), "77");
	T_STREQ(t, router_info_option(d, "router.version"), ROUTER_INFO_VERSION);
	T_TRUE(t, router_info_option(d, "family") == NULL);
	/* Canonical: options sorted as the signature needs. */
	T_TRUE(t, mapping_is_sorted(router_info_options(d)));
	/* Layout: identity ‖ published ‖ count ‖ ... ‖ peers 0 ‖ options ‖
	 * 64-byte signature. */
	T_TRUE(t, be64_get(bytes + 391) == 1700000000123ULL);
	T_EQ(t, bytes[399], 1);
out:
	router_info_free(ri);
	router_info_free(d);
	keystore_free(ks);
}

static void test_sign_wrong_key(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct keystore *other = keystore_new_random();
	struct keys_and_cert id;
	struct router_info *ri;
	size_t len;

	ks_identity(ks, &id);
	ri = router_info_new(&id);
	T_ERR(t, router_info_sign(ri, other), ERR_ARG);
	T_TRUE(t, router_info_bytes(ri, &len) == NULL);
	T_ERR(t, router_info_verify(ri), ERR_BAD_STATE);
	T_OK(t, router_info_sign(ri, ks));
	T_OK(t, router_info_verify(ri));
	router_info_free(ri);
	keystore_free(ks);
	keystore_free(other);
}

static void test_truncations_and_trailing(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct router_info *ri = make_ri(t, ks), *d = NULL;
	const uint8_t *bytes;
	uint8_t *longer;
	size_t len = 0;

	if ((bytes = router_info_bytes(ri, &len)) == NULL)
		goto out;
	for (size_t n = 0; n < len; n++) {
		T_NE(t, router_info_decode(bytes, n, &d), 0);
		T_TRUE(t, d == NULL);
	}
	longer = xmalloc(len + 1);
	memcpy(longer, bytes, len);
	longer[len] = 0;
	T_ERR(t, router_info_decode(longer, len + 1, &d), ERR_FORMAT);
	free(longer);
out:
	router_info_free(ri);
	keystore_free(ks);
}

static void test_every_bit_flip_fails(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct router_info *ri = make_ri(t, ks);
	const uint8_t *bytes;
	uint8_t *copy;
	size_t len = 0, bad = 0;

	if ((bytes = router_info_bytes(ri, &len)) == NULL)
		goto out;
	copy = xmemdup(bytes, len);
	T_TRUE(t, decodes_and_verifies(copy, len));
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			copy[i] ^= (uint8_t)(1u << bit);
			if (decodes_and_verifies(copy, len))
				bad++;
			copy[i] ^= (uint8_t)(1u << bit);
		}
	}
	T_EQ(t, bad, 0);
	free(copy);
out:
	router_info_free(ri);
	keystore_free(ks);
}

static void test_size_limits(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct router_info *ri = make_ri(t, ks), *d = NULL;
	char key[16], value[256];
	uint8_t *big;
	size_t len;

	/* Grow the options past 3071 bytes: signing refuses. */
	memset(value, 'v', 255);
	value[255] = '\0';
	for (int i = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "x.pad%d", i);
		T_OK(t, router_info_set_option(ri, key, value));
	}
	T_ERR(t, router_info_sign(ri, ks), ERR_TOO_BIG);
	T_TRUE(t, router_info_bytes(ri, &len) == NULL);
	/* Decode refuses 3072 bytes before looking at them. */
	big = xzalloc(ROUTER_INFO_MAX_BYTES + 1);
	T_ERR(t, router_info_decode(big, ROUTER_INFO_MAX_BYTES + 1, &d),
	      ERR_TOO_BIG);
	free(big);
	router_info_free(ri);
	keystore_free(ks);
}

static void test_address_limit(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct router_info *ri = make_ri(t, ks), *d = NULL;
	struct router_address a = ROUTER_ADDRESS_INIT;
	struct x25519_pk s;
	const uint8_t *bytes;
	uint8_t *copy;
	size_t len = 0;

	/* The address count byte of a signed RI set to 17: refused before
	 * the addresses are read. */
	if ((bytes = router_info_bytes(ri, &len)) != NULL) {
		copy = xmemdup(bytes, len);
		copy[ROUTER_IDENTITY_BYTES + 8] = ROUTER_INFO_MAX_ADDRESSES + 1;
		T_ERR(t, router_info_decode(copy, len, &d), ERR_TOO_BIG);
		copy[ROUTER_IDENTITY_BYTES + 8] = 200;
		T_ERR(t, router_info_decode(copy, len, &d), ERR_TOO_BIG);
		free(copy);
	}
	keystore_x25519_pk(ks, KEYSTORE_X_NTCP2, &s);
	for (size_t i = 1; i < ROUTER_INFO_MAX_ADDRESSES; i++) {
		T_OK(t, router_address_ntcp2_build(&a, 3, &s, NULL, 0, NULL));
		T_OK(t, router_info_add_address(ri, &a));
	}
	T_EQ(t, router_info_address_count(ri), ROUTER_INFO_MAX_ADDRESSES);
	T_OK(t, router_address_ntcp2_build(&a, 3, &s, NULL, 0, NULL));
	T_ERR(t, router_info_add_address(ri, &a), ERR_LIMIT);
	T_EQ(t, a.options.n, 0);		/* taken even on failure */
	T_OK(t, router_info_sign(ri, ks));
	if ((bytes = router_info_bytes(ri, &len)) != NULL) {
		T_OK(t, router_info_decode(bytes, len, &d));
		if (d)
			T_EQ(t, router_info_address_count(d), 16);
	}
	router_info_free(d);
	router_info_free(ri);
	keystore_free(ks);
}

/* Options entries: at most MAPPING_DECODE_MAX_ENTRIES in one Mapping,
 * ROUTER_INFO_MAX_ENTRIES in the RouterInfo's and its addresses'
 * together (a signed RouterInfo past either is refused on decode). */
static void test_entry_limits(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct router_info *ri = make_ri(t, ks), *d = NULL;
	struct router_address a = ROUTER_ADDRESS_INIT;
	const uint8_t *bytes;
	size_t len = 0;
	char k[16];

	for (int i = 0; router_info_options(ri)->n < MAPPING_DECODE_MAX_ENTRIES;
	     i++) {
		snprintf(k, sizeof(k), "x%d", i);
		T_OK(t, router_info_set_option(ri, k, "1"));
	}
	T_OK(t, router_info_sign(ri, ks));
	T_TRUE(t, (bytes = router_info_bytes(ri, &len)) != NULL);
	T_OK(t, router_info_decode(bytes, len, &d));
	router_info_free(d);
	d = NULL;
	T_OK(t, router_info_set_option(ri, "y", "1"));	/* 65 */
	T_OK(t, router_info_sign(ri, ks));
	T_TRUE(t, (bytes = router_info_bytes(ri, &len)) != NULL);
	T_ERR(t, router_info_decode(bytes, len, &d), ERR_TOO_BIG);
	T_TRUE(t, d == NULL);
	router_info_free(ri);
	/* under 64 here and 64 in an address: more than 128 in all */
	ri = make_ri(t, ks);
	for (int i = 0; i < 60; i++) {
		snprintf(k, sizeof(k), "x%d", i);
		T_OK(t, router_info_set_option(ri, k, "1"));
	}
	for (int i = 0; i < MAPPING_DECODE_MAX_ENTRIES; i++) {
		snprintf(k, sizeof(k), "a%d", i);
		T_OK(t, mapping_set(&a.options, k, "1"));
	}
	router_address_set_style(&a, "X", 1);
	T_OK(t, router_info_add_address(ri, &a));
	T_OK(t, router_info_sign(ri, ks));
	T_TRUE(t, (bytes = router_info_bytes(ri, &len)) != NULL);
	T_ERR(t, router_info_decode(bytes, len, &d), ERR_TOO_BIG);
	T_TRUE(t, d == NULL);
	router_info_free(ri);
	keystore_free(ks);
}

static void test_checks(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct router_info *ri = make_ri(t, ks);
	const uint64_t pub = 1700000000123ULL;
	uint32_t v = 0;

	T_OK(t, router_info_check_netid(ri, TEST_NETID));
	T_ERR(t, router_info_check_netid(ri, 2), ERR_NETWORK);
	T_OK(t, router_info_set_option(ri, "netId", "77x"));
	T_ERR(t, router_info_check_netid(ri, TEST_NETID), ERR_NETWORK);
	T_OK(t, router_info_set_option(ri, "netId", "077"));
	T_OK(t, router_info_check_netid(ri, TEST_NETID));
	T_OK(t, router_info_set_option(ri, "netId", "1077"));
	T_ERR(t, router_info_check_netid(ri, TEST_NETID), ERR_NETWORK);
	T_ERR(t, router_info_set_basic_options(ri, 0, "XR"), ERR_ARG);
	T_ERR(t, router_info_set_basic_options(ri, 256, "XR"), ERR_ARG);
	T_ERR(t, router_info_set_basic_options(ri, 77, ""), ERR_ARG);

	/* "more than 2 minutes in the future" */
	T_OK(t, router_info_check_published(ri, pub));
	T_OK(t, router_info_check_published(ri, pub + 3600000));
	T_OK(t, router_info_check_published(ri, pub - 120000));
	T_ERR(t, router_info_check_published(ri, pub - 120001), ERR_EXPIRED);
	T_ERR(t, router_info_check_published(ri, 0), ERR_EXPIRED);

	T_OK(t, router_info_version_parse("0.9.58", &v));
	T_EQ(t, v, ROUTER_VERSION(0, 9, 58));
	T_TRUE(t, ROUTER_VERSION(0, 9, 6) < ROUTER_VERSION(0, 9, 58));
	T_ERR(t, router_info_version_parse("0.9", &v), ERR_FORMAT);
	T_ERR(t, router_info_version_parse("0.9.58.1", &v), ERR_FORMAT);
	T_ERR(t, router_info_version_parse("0.9.", &v), ERR_FORMAT);
	T_ERR(t, router_info_version_parse("0.9.256", &v), ERR_FORMAT);
	T_ERR(t, router_info_version_parse("0.9.5a", &v), ERR_FORMAT);
	T_ERR(t, router_info_version_parse("", &v), ERR_FORMAT);
	T_EQ(t, v, ROUTER_VERSION(0, 9, 58));
	router_info_free(ri);
	keystore_free(ks);
}

static void test_change_drops_signature(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct router_info *ri = make_ri(t, ks), *d = NULL;
	const uint8_t *bytes;
	size_t len = 0;

	if ((bytes = router_info_bytes(ri, &len)) == NULL)
		goto out;
	T_OK(t, router_info_decode(bytes, len, &d));
	if (!d)
		goto out;
	/* A received RI changed locally is never re-sent as if signed. */
	T_OK(t, router_info_set_option(d, "caps", "XfR"));
	T_TRUE(t, router_info_bytes(d, &len) == NULL);
	T_ERR(t, router_info_verify(d), ERR_BAD_STATE);
	/* Our own: re-signing with the new published time works. */
	router_info_set_published(ri, 1700000999000ULL);
	T_ERR(t, router_info_verify(ri), ERR_BAD_STATE);
	T_OK(t, router_info_sign(ri, ks));
	T_OK(t, router_info_verify(ri));
	T_TRUE(t, router_info_published(ri) == 1700000999000ULL);
out:
	router_info_free(d);
	router_info_free(ri);
	keystore_free(ks);
}

/* A DSA-SHA1 router (NULL certificate): hashable, not verifiable. */
static void test_unsupported_sig_type(struct tctx *t)
{
	uint8_t buf[387 + 8 + 1 + 1 + 2 + 40];
	struct router_info *d = NULL;
	uint8_t h[SHA256_BYTES];

	memset(buf, 0, sizeof(buf));
	for (size_t i = 0; i < 384; i++)
		buf[i] = (uint8_t)(i + 3);
	/* NULL cert, published, no addresses, no peers, empty options, and a
	 * 40-byte DSA signature. */
	be64_put(buf + 387, 1700000000000ULL);
	T_OK(t, router_info_decode(buf, sizeof(buf), &d));
	if (!d)
		return;
	T_EQ(t, router_info_identity(d)->sig_type, CERT_SIG_DSA_SHA1);
	sha256(h, buf, 387);
	T_MEMEQ(t, router_info_hash(d), h, sizeof(h));
	T_ERR(t, router_info_verify(d), ERR_UNSUPPORTED);
	router_info_free(d);
	/* One byte short of the 40-byte signature. */
	T_ERR(t, router_info_decode(buf, sizeof(buf) - 1, &d), ERR_TRUNCATED);
}

/* "peer_size ... unused": a signed RI with one peer hash still verifies. */
static void test_peer_hashes_skipped(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct router_info *d = NULL;
	struct keys_and_cert id;
	struct ed25519_sig sig;
	struct bbuf b = BBUF_INIT;

	ks_identity(ks, &id);
	bbuf_put(&b, id.raw, id.len);
	bbuf_be64(&b, 1700000000000ULL);
	bbuf_u8(&b, 0);				/* no addresses */
	bbuf_u8(&b, 1);				/* one peer hash */
	memset(bbuf_extend(&b, 32), 0xab, 32);
	bbuf_put(&b, "\x00\x0b\x05netId=\x02" "77;", 13);
	keystore_sign(ks, &sig, b.data, b.len);
	bbuf_put(&b, sig.b, sizeof(sig.b));
	T_OK(t, router_info_decode(b.data, b.len, &d));
	if (d) {
		T_OK(t, router_info_verify(d));
		T_OK(t, router_info_check_netid(d, 77));
	}
	router_info_free(d);
	bbuf_free(&b);
	keystore_free(ks);
}

static void test_files(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct router_info *ri = make_ri(t, ks), *d = NULL;
	char name[ROUTER_INFO_FILE_NAME_BYTES], path[4096];
	char *dir = t_tmpdir(t);
	const uint8_t *bytes, *got;
	size_t len = 0, glen = 0;
	struct stat st;

	if (!dir || (bytes = router_info_bytes(ri, &len)) == NULL)
		goto out;
	T_OK(t, router_info_file_name(router_info_hash(ri), name, sizeof(name)));
	T_EQ(t, strlen(name), ROUTER_INFO_FILE_NAME_BYTES - 1);
	T_ERR(t, router_info_file_name(router_info_hash(ri), name,
				       sizeof(name) - 1), ERR_TOO_BIG);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	T_OK(t, router_info_file_write(ri, path));
	T_OK(t, stat(path, &st));
	T_EQ(t, st.st_size, len);		/* raw bytes, no header */
	T_OK(t, router_info_file_read(path, &d));
	if (d && (got = router_info_bytes(d, &glen)) != NULL) {
		T_EQ(t, glen, len);
		T_MEMEQ(t, got, bytes, len);
		T_OK(t, router_info_verify(d));
	}
	router_info_free(d);
	d = NULL;
	snprintf(path, sizeof(path), "%s/missing.dat", dir);
	T_ERR(t, router_info_file_read(path, &d), ERR_NOT_FOUND);
	router_info_set_published(ri, 1);
	T_ERR(t, router_info_file_write(ri, path), ERR_BAD_STATE);
out:
	if (dir)
		t_rmtree(dir);
	free(dir);
	router_info_free(ri);
	keystore_free(ks);
}

/* RouterInfos written by Debian's i2pd 2.45.1 on a loopback test network
 * (netid 77), see tests/vectors/README.md. */
static const struct {
	const char *file;
	const char *host;
	uint16_t port;
	const char *caps;
	bool ssu2;
} i2pd_ris[] = {
	{ "i2pd-routerinfo-ntcp2.dat", "127.0.0.125", 24651, "Xf", false },
	{ "i2pd-routerinfo-ntcp2-ssu2.dat", "127.0.0.121", 24602, "X", true },
	{ "i2pd-routerinfo-floodfill.dat", "127.0.0.120", 24601, "Xf", true },
	{ "i2pd-routerinfo-netdb.dat", "127.0.0.122", 24603, "X", true },
};

static struct router_info *read_vector(struct tctx *t, const char *file,
				       uint8_t **raw, size_t *rawlen)
{
	char rel[256];
	char *path;
	struct router_info *ri = NULL;
	FILE *f;
	long n;

	snprintf(rel, sizeof(rel), "tests/vectors/%s", file);
	path = t_srcpath(rel);
	T_OK(t, router_info_file_read(path, &ri));
	*raw = NULL;
	if ((f = fopen(path, "rb")) != NULL) {
		if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
		    fseek(f, 0, SEEK_SET) == 0) {
			*raw = xmalloc((size_t)n);
			*rawlen = fread(*raw, 1, (size_t)n, f);
		}
		fclose(f);
	}
	T_TRUE(t, *raw != NULL);
	free(path);
	return ri;
}

static void check_i2pd_ri(struct tctx *t, size_t i, struct router_info *ri,
			  const uint8_t *raw, size_t rawlen)
{
	static const uint8_t cert[] = { 5, 0, 4, 0, 7, 0, 4 };
	const struct keys_and_cert *id = router_info_identity(ri);
	const struct router_address *a;
	struct router_address_ntcp2 n;
	const uint8_t *bytes;
	const char *ver;
	uint8_t h[SHA256_BYTES];
	uint32_t v = 0;
	size_t len = 0;

	/* The file is exactly the RouterInfo: nothing before or after. */
	T_TRUE(t, (bytes = router_info_bytes(ri, &len)) != NULL);
	T_EQ(t, len, rawlen);
	if (bytes && len == rawlen)
		T_MEMEQ(t, bytes, raw, len);
	T_OK(t, router_info_verify(ri));
	T_EQ(t, id->len, ROUTER_IDENTITY_BYTES);
	T_MEMEQ(t, id->raw + 384, cert, sizeof(cert));
	T_EQ(t, id->sig_type, CERT_SIG_EDDSA_SHA512_ED25519);
	T_EQ(t, id->enc_type, CERT_ENC_X25519);
	/* i2pd 2.45.1 already pads as proposal 161 says. */
	T_MEMEQ(t, id->raw + 32, id->raw + 320, 32);
	sha256(h, raw, ROUTER_IDENTITY_BYTES);
	T_MEMEQ(t, router_info_hash(ri), h, sizeof(h));
	T_OK(t, router_info_check_netid(ri, 77));
	T_ERR(t, router_info_check_netid(ri, 2), ERR_NETWORK);
	ver = router_info_option(ri, "router.version");
	T_OK(t, router_info_version_parse(ver ? ver : "", &v));
	T_EQ(t, v, ROUTER_VERSION(0, 9, 57));
	T_STREQ(t, router_info_option(ri, "caps"), i2pd_ris[i].caps);
	/* i2pd writes every Mapping sorted, as the spec requires. */
	T_TRUE(t, mapping_is_sorted(router_info_options(ri)));
	for (size_t k = 0; k < router_info_address_count(ri); k++)
		T_TRUE(t, mapping_is_sorted(&router_info_address(ri, k)->options));
	T_TRUE(t, (a = router_info_find_address(ri, "NTCP2")) != NULL);
	if (a) {
		T_OK(t, router_address_ntcp2_parse(a, &n));
		T_TRUE(t, n.published);
		T_STREQ(t, n.host, i2pd_ris[i].host);
		T_EQ(t, n.port, i2pd_ris[i].port);
	}
	T_EQ(t, router_info_find_address(ri, "SSU2") != NULL, i2pd_ris[i].ssu2);
	/* Published a few seconds before the file was taken, so it passes
	 * the future check against itself. */
	T_OK(t, router_info_check_published(ri, router_info_published(ri)));
}

static void test_i2pd_vectors(struct tctx *t)
{
	for (size_t i = 0; i < sizeof(i2pd_ris) / sizeof(i2pd_ris[0]); i++) {
		uint8_t *raw = NULL;
		size_t rawlen = 0;
		struct router_info *ri = read_vector(t, i2pd_ris[i].file, &raw,
						     &rawlen);
		if (ri && raw)
			check_i2pd_ri(t, i, ri, raw, rawlen);
		router_info_free(ri);
		free(raw);
	}
}

/* One flipped byte anywhere in an i2pd RouterInfo fails verification. */
static void test_i2pd_tampered(struct tctx *t)
{
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	struct router_info *ri = read_vector(t, "i2pd-routerinfo-ntcp2.dat",
					     &raw, &rawlen);
	/* X25519 key, padding, published, first address's cost, the last
	 * character of router.version (the last option), the signature. */
	size_t spots[] = { 0, 100, 391, 400, 0, 0 };

	if (!ri || !raw || rawlen < 500)
		goto out;
	spots[4] = rawlen - 66;
	spots[5] = rawlen - 1;
	T_EQ(t, raw[rawlen - 66], '7');		/* "router.version=0.9.57;" */
	T_EQ(t, raw[rawlen - 65], ';');
	T_TRUE(t, decodes_and_verifies(raw, rawlen));
	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
		struct router_info *d = NULL;
		raw[spots[i]] ^= 0x01;
		T_OK(t, router_info_decode(raw, rawlen, &d));
		if (d)
			T_ERR(t, router_info_verify(d), ERR_BAD_SIG);
		router_info_free(d);
		raw[spots[i]] ^= 0x01;
	}
	/* The ';' ending the signed options: the Mapping itself breaks. */
	raw[rawlen - 65] ^= 0x01;
	T_FALSE(t, decodes_and_verifies(raw, rawlen));
out:
	router_info_free(ri);
	free(raw);
}

/* i2pd names netDb files after the Base64 router hash. */
static void test_i2pd_netdb_name(struct tctx *t)
{
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	struct router_info *ri = read_vector(t, "i2pd-routerinfo-netdb.dat",
					     &raw, &rawlen);
	char name[ROUTER_INFO_FILE_NAME_BYTES];

	if (ri) {
		T_OK(t, router_info_file_name(router_info_hash(ri), name,
					      sizeof(name)));
		T_STREQ(t, name,
			"routerInfo-VGA6ne16gmrusHJg6QQ2KEbXeDyQXsaCPTK1o~HF6mA=.dat");
	}
	router_info_free(ri);
	free(raw);
}

const struct test_case router_ri_tests[] = {
	{ "sign_decode_verify", test_sign_decode_verify, 0 },
	{ "sign_wrong_key", test_sign_wrong_key, 0 },
	{ "truncations_and_trailing", test_truncations_and_trailing, 0 },
	{ "every_bit_flip_fails", test_every_bit_flip_fails, 0 },
	{ "size_limits", test_size_limits, 0 },
	{ "address_limit", test_address_limit, 0 },
	{ "entry_limits", test_entry_limits, 0 },
	{ "checks", test_checks, 0 },
	{ "change_drops_signature", test_change_drops_signature, 0 },
	{ "unsupported_sig_type", test_unsupported_sig_type, 0 },
	{ "peer_hashes_skipped", test_peer_hashes_skipped, 0 },
	{ "files", test_files, 0 },
	{ "i2pd_vectors", test_i2pd_vectors, 0 },
	{ "i2pd_tampered", test_i2pd_tampered, 0 },
	{ "i2pd_netdb_name", test_i2pd_netdb_name, 0 },
	{ NULL, NULL, 0 }
};
