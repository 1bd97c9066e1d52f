/* tests/unit/feed: every apps/feed/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case feed_msg_tests[];
extern const struct test_case feed_store_tests[];
extern const struct test_case feed_search_tests[];
extern const struct test_case feed_gossip_tests[];
extern const struct test_case feed_service_tests[];
extern const struct test_case feed_did_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "msg", feed_msg_tests },
		{ "store", feed_store_tests },
		{ "store", feed_search_tests },
		{ "gossip", feed_gossip_tests },
		{ "service", feed_service_tests },
		{ "did", feed_did_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
