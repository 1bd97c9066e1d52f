/*
 * libFuzzer target: what reaches our own tunnels' manager from the
 * network (tunnel_mgr_handle()): TunnelData, TunnelGateway to a zero-hop
 * reply tunnel, build messages and build replies, while an inbound and an
 * outbound build of ours are pending.  The random stream is reset for
 * every input, so the pending builds' ids, zero-hop id and reply message
 * ids are the same each time and the fuzzer can find them.
 * Input: byte 0 picks the I2NP type (of those the manager looks at),
 * bytes 1-4 the message id, the rest is the payload.
 */
#include "config.h"
#include "crypto/base/alloc.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "netdb/store.h"
#include "router/i2np.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "tunnels/profile.h"
#include "tunnels/tunnel_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS 1700000000000ULL
#define NETID 77

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t types[] = {
	I2NP_TUNNEL_DATA, I2NP_TUNNEL_GATEWAY, I2NP_SHORT_TUNNEL_BUILD,
	I2NP_VARIABLE_TUNNEL_BUILD, I2NP_OUTBOUND_TUNNEL_BUILD_REPLY,
	I2NP_VARIABLE_TUNNEL_BUILD_REPLY, I2NP_GARLIC, I2NP_DELIVERY_STATUS,
};

static int drop_send(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	(void)ctx;
	(void)peer;
	i2np_msg_free(m);
	return 0;
}

static void drop_deliver(void *ctx, struct i2np_msg *m)
{
	(void)ctx;
	i2np_msg_free(m);
}

/* Three routers the manager can pick as hops. */
static struct netdb_store *store(void)
{
	static struct netdb_store *s;
	struct netdb_store_cfg sc = { .netid = NETID };

	if (s)
		return s;
	time_set_override(NOW_MS);
	memset(sc.self, 0xc1, 32);
	s = netdb_store_new(&sc);
	for (unsigned i = 0; i < 3; i++) {
		struct keys_and_cert id;
		struct x25519_pk enc;
		struct ed25519_pk sig;
		struct router_address a = ROUTER_ADDRESS_INIT;
		struct router_info *ri;
		uint8_t iv[16] = { 0 };
		char host[32];

		memset(enc.b, 0x20 + i, 32);
		memset(sig.b, 0x30 + i, 32);
		keys_and_cert_build(&id, &enc, &sig, NULL);
		ri = router_info_new(&id);
		router_info_set_basic_options(ri, NETID, "XR");
		snprintf(host, sizeof(host), "10.%u.0.1", i + 1);
		if (router_address_ntcp2_build(&a, 3, &enc, host, 1234, iv) != 0 ||
		    router_info_add_address(ri, &a) != 0 ||
		    netdb_store_add_ri_verified(s, ri, NOW_MS, 0, NULL) != 0)
			abort();
		router_address_clear(&a);
	}
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer_profiles *pp;
	struct tunnel_mgr *m;
	struct tunnel_mgr_cfg mc;
	struct tunnel_mgr_hooks mh = { .send = drop_send,
				       .deliver = drop_deliver };
	struct i2np_msg *msg;

	if (size < 5 || size - 5 > I2NP_MAX_PAYLOAD_BYTES)
		return 0;
	rand_set_deterministic(7);
	memset(&mc, 0, sizeof(mc));
	memset(mc.self, 0xc1, 32);
	mc.store = store();
	pp = peer_profiles_new();
	mc.profiles = pp;
	tunnel_pool_cfg_default(&mc.exploratory);
	mc.exploratory.in_length = mc.exploratory.out_length = 3;
	mc.exploratory.in_quantity = mc.exploratory.out_quantity = 1;
	if (tunnel_mgr_new(&mc, &mh, &m) != 0)
		abort();
	tunnel_mgr_tick(m, NOW_MS, 1000);	/* one build each way */
	msg = i2np_msg_new(types[data[0] % sizeof(types)], data + 5, size - 5,
			   60000);
	msg->msg_id = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
		      (uint32_t)data[3] << 8 | data[4];
	if (!tunnel_mgr_handle(m, NULL, msg, NOW_MS, 1001))
		i2np_msg_free(msg);
	tunnel_mgr_tick(m, NOW_MS, 1002);
	tunnel_mgr_free(m);
	peer_profiles_free(pp);
	rand_set_deterministic(0);
	return 0;
}
