/*
 * chain/eip712: the EIP's "Ether Mail" domain separator and digest, and
 * every type string of CHAIN.md §3 checked byte for byte against the
 * typehash strings in the contracts' Solidity source.  (cast checks the
 * full struct hashes in tests/integration/test_chain_xcheck.sh.)
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/eip712.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_mail(struct tctx *t)
{
	json_t *root = tvec_load(t, "chain.json"), *m;
	struct eip712_domain d = { 0 };
	uint8_t sep[32], dig[32], *vc, *want_sep, *mail, *want_dig;
	size_t n;

	if (!root)
		return;
	m = json_object_get(root, "eip712_mail");
	d.name = json_string_value(json_object_get(m, "domain_name"));
	d.chain_id = (uint64_t)json_integer_value(json_object_get(m, "chain_id"));
	vc = tvec_field(t, m, "verifying_contract", &n);
	memcpy(d.verifying, vc, 20);
	want_sep = tvec_field(t, m, "domain_separator", &n);
	mail = tvec_field(t, m, "mail_hash", &n);
	want_dig = tvec_field(t, m, "digest", &n);
	eip712_domain_separator(&d, sep);
	T_MEMEQ(t, sep, want_sep, 32);
	eip712_digest(sep, mail, dig);
	T_MEMEQ(t, dig, want_dig, 32);
	free(vc);
	free(want_sep);
	free(mail);
	free(want_dig);
	json_decref(root);
}

/* Read a source file (caller frees). */
static char *slurp(struct tctx *t, const char *rel)
{
	char *path = t_srcpath(rel), *buf = NULL;
	FILE *f = fopen(path, "rb");
	long n;

	if (!f) {
		t_fail(t, __FILE__, __LINE__, "cannot open %s", path);
		free(path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xzalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		t_fail(t, __FILE__, __LINE__, "short read %s", path);
	fclose(f);
	free(path);
	return buf;
}

/* The contract holds keccak256("<type>") with exactly our string. */
static void check_type(struct tctx *t, const char *src, const char *type)
{
	char *quoted = xzalloc(strlen(type) + 3);

	quoted[0] = '"';
	memcpy(quoted + 1, type, strlen(type));
	quoted[strlen(type) + 1] = '"';
	T_CHECK_(t, src && strstr(src, quoted) != NULL,
		 "type string not in the contract: %s", type);
	free(quoted);
}

static void test_types_match_contracts(struct tctx *t)
{
	char *hub = slurp(t, "chain/contracts/src/PaymentHub.sol");
	char *lic = slurp(t, "chain/contracts/src/LicenseRegistry.sol");
	char *kr = slurp(t, "chain/contracts/src/KeyRelease.sol");

	check_type(t, hub, EIP712_TYPE_TICKET);
	check_type(t, hub, EIP712_TYPE_VOUCHER);
	check_type(t, hub, EIP712_TYPE_WITHDRAW);
	check_type(t, hub, EIP712_TYPE_FUNDPOT);
	check_type(t, lic, EIP712_TYPE_PURCHASE);
	check_type(t, kr, EIP712_TYPE_KEYREQUEST);
	T_CHECK_(t, hub && strstr(hub, "EIP712(\"" EIP712_NAME_HUB "\", \"1\")"),
		 "PaymentHub domain name");
	T_CHECK_(t, lic && strstr(lic, "EIP712(\"" EIP712_NAME_LICENSE "\", \"1\")"),
		 "LicenseRegistry domain name");
	T_CHECK_(t, kr && strstr(kr, "EIP712(\"" EIP712_NAME_KEYRELEASE "\", \"1\")"),
		 "KeyRelease domain name");
	free(hub);
	free(lic);
	free(kr);
}

static void test_fields_matter(struct tctx *t)
{
	/* Every member of a Voucher changes the hash. */
	struct eip712_voucher v = { 0 }, w;
	uint8_t h0[32], h1[32];

	v.expiry = 100;
	v.cumulative = u256_from_u64(5);
	eip712_hash_voucher(&v, h0);
	w = v;
	w.recipient[19] = 1;
	eip712_hash_voucher(&w, h1);
	T_FALSE(t, memcmp(h0, h1, 32) == 0);
	w = v;
	w.lane[0] = 1;
	eip712_hash_voucher(&w, h1);
	T_FALSE(t, memcmp(h0, h1, 32) == 0);
	w = v;
	w.cumulative = u256_from_u64(6);
	eip712_hash_voucher(&w, h1);
	T_FALSE(t, memcmp(h0, h1, 32) == 0);
	w = v;
	w.expiry = 101;
	eip712_hash_voucher(&w, h1);
	T_FALSE(t, memcmp(h0, h1, 32) == 0);
	eip712_hash_voucher(&v, h1);
	T_MEMEQ(t, h0, h1, 32);
}

const struct test_case eip712_tests[] = {
	{ "mail", test_mail, 0 },
	{ "types_match_contracts", test_types_match_contracts, 0 },
	{ "fields_matter", test_fields_matter, 0 },
	{ NULL, NULL, 0 }
};
