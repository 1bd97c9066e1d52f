/* tests/unit/proxy: every apps/proxy/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case proxy_socks_tests[];
extern const struct test_case proxy_http_tests[];
extern const struct test_case proxy_addrbook_tests[];
extern const struct test_case proxy_net_tests[];
extern const struct test_case proxy_tunconf_tests[];
extern const struct test_case proxy_siteauth_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "socks", proxy_socks_tests },
		{ "http", proxy_http_tests },
		{ "addrbook", proxy_addrbook_tests },
		{ "net", proxy_net_tests },
		{ "tunconf", proxy_tunconf_tests },
		{ "siteauth", proxy_siteauth_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
