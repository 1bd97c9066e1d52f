/* tests/unit/content: every apps/content/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case content_card_tests[];
extern const struct test_case content_manifest_tests[];
extern const struct test_case content_merkle_tests[];
extern const struct test_case content_publish_tests[];
extern const struct test_case content_record_tests[];
extern const struct test_case content_store_tests[];
extern const struct test_case content_text_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "text", content_text_tests },
		{ "merkle", content_merkle_tests },
		{ "manifest", content_manifest_tests },
		{ "card", content_card_tests },
		{ "record", content_record_tests },
		{ "publish", content_publish_tests },
		{ "store", content_store_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
