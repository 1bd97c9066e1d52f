/* router/router_self: the RouterInfo we publish. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/conf.h"
#include "router/fsutil.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/keystore.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void check_ntcp2(struct tctx *t, const struct router_info *ri,
			const struct router_keys *k, const char *host,
			uint16_t port)
{
	const struct router_address *a =
		router_info_find_address(ri, ROUTER_ADDRESS_STYLE_NTCP2);
	struct router_address_ntcp2 n;
	struct x25519_pk s;

	T_TRUE(t, a != NULL);
	if (!a)
		return;
	T_OK(t, router_address_ntcp2_parse(a, &n));
	T_TRUE(t, n.published);
	T_STREQ(t, n.host, host);
	T_EQ(t, n.port, port);
	T_TRUE(t, n.has_iv);
	T_MEMEQ(t, n.iv, router_keys_ntcp2_iv(k), ROUTER_KEYS_IV_BYTES);
	keystore_x25519_pk(router_keys_keystore(k), KEYSTORE_X_NTCP2, &s);
	T_MEMEQ(t, n.s.b, s.b, sizeof(s.b));
}

static void test_build_verifies(struct tctx *t)
{
	struct router_keys *k = router_keys_new_random();
	struct conf *cfg = conf_new_default("/unused");
	struct router_info *ri = NULL, *back = NULL;
	struct keys_and_cert id;
	const uint8_t *bytes;
	size_t len = 0;

	cfg->netid = 77;
	cfg->port = 12345;
	T_OK(t, conf_set(cfg, "host", "127.0.0.5", NULL, 0));
	T_OK(t, router_self_build(cfg, k, &ri));
	if (!ri)
		goto out;
	bytes = router_info_bytes(ri, &len);
	T_TRUE(t, bytes != NULL);
	/* What a peer does with the bytes: decode, verify, check netId. */
	T_OK(t, router_info_decode(bytes, len, &back));
	if (!back)
		goto out;
	T_OK(t, router_info_verify(back));
	T_OK(t, router_info_check_netid(back, 77));
	T_ERR(t, router_info_check_netid(back, 2), ERR_NETWORK);
	T_STREQ(t, router_info_option(back, "caps"), ROUTER_SELF_CAPS);
	T_STREQ(t, router_info_option(back, "router.version"),
		ROUTER_INFO_VERSION);
	router_keys_identity(k, &id);
	T_MEMEQ(t, router_info_hash(back), id.hash, sizeof(id.hash));
	T_EQ(t, router_info_address_count(back), 1);
	check_ntcp2(t, back, k, "127.0.0.5", 12345);
out:
	router_info_free(ri);
	router_info_free(back);
	conf_free(cfg);
	router_keys_free(k);
}

static void test_port_derived(struct tctx *t)
{
	struct conf *cfg = conf_new_default("/unused");
	uint8_t h1[SHA256_BYTES] = { 0 }, h2[SHA256_BYTES];
	uint16_t p;

	memset(h2, 0xff, sizeof(h2));
	T_EQ(t, router_self_port(cfg, h1), ROUTER_SELF_PORT_MIN);
	p = router_self_port(cfg, h2);
	T_TRUE(t, p >= ROUTER_SELF_PORT_MIN && p <= ROUTER_SELF_PORT_MAX);
	T_EQ(t, router_self_port(cfg, h2), p);		/* stable */
	cfg->port = 4444;
	T_EQ(t, router_self_port(cfg, h2), 4444);	/* configured wins */
	conf_free(cfg);
}

static void test_publish_file(struct tctx *t)
{
	char *dir = t_tmpdir(t), *path;
	struct router_keys *k = router_keys_new_random();
	struct conf *cfg;
	struct router_info *ri = NULL;
	struct stat st;

	if (!dir) {
		router_keys_free(k);
		return;
	}
	cfg = conf_new_default(dir);
	path = fsutil_path_join(dir, ROUTER_SELF_FILE_NAME);
	T_OK(t, router_self_publish(cfg, k));
	T_EQ(t, stat(path, &st), 0);
	T_EQ(t, st.st_mode & 022, 0);		/* nobody else may write it */
	T_OK(t, router_info_file_read(path, &ri));
	if (ri) {
		T_OK(t, router_info_verify(ri));
		T_OK(t, router_info_check_netid(ri, CONF_DEFAULT_NETID));
	}
	router_info_free(ri);
	free(path);
	conf_free(cfg);
	router_keys_free(k);
	t_rmtree(dir);
	free(dir);
}

const struct test_case router_router_self_tests[] = {
	{ "build_verifies", test_build_verifies, 0 },
	{ "port_derived", test_port_derived, 0 },
	{ "publish_file", test_publish_file, 0 },
	{ NULL, NULL, 0 }
};
