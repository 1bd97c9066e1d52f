/* tests/unit/router: every router/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case router_i2np_tests[];
extern const struct test_case router_mapping_tests[];
extern const struct test_case router_kac_tests[];
extern const struct test_case router_address_tests[];
extern const struct test_case router_ri_tests[];
extern const struct test_case router_ntcp2_handshake_tests[];
extern const struct test_case router_ntcp2_frame_tests[];
extern const struct test_case router_ntcp2_tests[];
extern const struct test_case router_ntcp2_ritable_tests[];
extern const struct test_case router_ntcp2_transport_tests[];
extern const struct test_case router_conf_tests[];
extern const struct test_case router_evloop_tests[];
extern const struct test_case router_fsutil_tests[];
extern const struct test_case router_logsink_tests[];
extern const struct test_case router_router_keys_tests[];
extern const struct test_case router_router_self_tests[];
extern const struct test_case router_ri_pay_tests[];
extern const struct test_case router_ratelim_tests[];
extern const struct test_case router_membudget_tests[];
extern const struct test_case router_worker_tests[];
extern const struct test_case router_gzip_tests[];
extern const struct test_case router_leaseset_tests[];
extern const struct test_case router_su3_tests[];
extern const struct test_case router_zip_tests[];
extern const struct test_case router_garlic_tests[];
extern const struct test_case router_ratchet_tests[];
extern const struct test_case router_datagram_tests[];
extern const struct test_case router_els2_tests[];
extern const struct test_case router_dest_keys_tests[];
extern const struct test_case router_ssu2_handshake_tests[];
extern const struct test_case router_ssu2_block_tests[];
extern const struct test_case router_ssu2_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "i2np", router_i2np_tests },
		{ "mapping", router_mapping_tests },
		{ "kac", router_kac_tests },
		{ "address", router_address_tests },
		{ "ri", router_ri_tests },
		{ "ntcp2_handshake", router_ntcp2_handshake_tests },
		{ "ntcp2_frame", router_ntcp2_frame_tests },
		{ "ntcp2", router_ntcp2_tests },
		{ "ntcp2_ritable", router_ntcp2_ritable_tests },
		{ "ntcp2_transport", router_ntcp2_transport_tests },
		{ "conf", router_conf_tests },
		{ "evloop", router_evloop_tests },
		{ "fsutil", router_fsutil_tests },
		{ "logsink", router_logsink_tests },
		{ "router_keys", router_router_keys_tests },
		{ "router_self", router_router_self_tests },
		{ "ri_pay", router_ri_pay_tests },
		{ "ratelim", router_ratelim_tests },
		{ "membudget", router_membudget_tests },
		{ "worker", router_worker_tests },
		{ "gzip", router_gzip_tests },
		{ "leaseset", router_leaseset_tests },
		{ "su3", router_su3_tests },
		{ "zip", router_zip_tests },
		{ "garlic", router_garlic_tests },
		{ "ratchet", router_ratchet_tests },
		{ "datagram", router_datagram_tests },
		{ "els2", router_els2_tests },
		{ "dest_keys", router_dest_keys_tests },
		{ "ssu2_handshake", router_ssu2_handshake_tests },
		{ "ssu2_block", router_ssu2_block_tests },
		{ "ssu2", router_ssu2_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
