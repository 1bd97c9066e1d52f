/* tests/unit/client: every apps/client/ and apps/sam/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case client_dest_tests[];
extern const struct test_case client_stream_packet_tests[];
extern const struct test_case client_stream_tests[];
extern const struct test_case client_sam_cmd_tests[];
extern const struct test_case client_sam_tests[];
extern const struct test_case client_tunnelnet_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "dest", client_dest_tests },
		{ "stream_packet", client_stream_packet_tests },
		{ "stream", client_stream_tests },
		{ "sam_cmd", client_sam_cmd_tests },
		{ "sam", client_sam_tests },
		{ "tunnelnet", client_tunnelnet_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
