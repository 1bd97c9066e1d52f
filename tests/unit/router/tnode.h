/*
 * Test helper: a minimal router in the test process (keys, RouterInfo,
 * transport manager, NTCP2 listening on 127.0.0.1), so tests can run two
 * or more of them on one event loop, or point a raw socket at one.
 */
#ifndef TESTS_UNIT_ROUTER_TNODE_H
#define TESTS_UNIT_ROUTER_TNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/i2np.h"
#include "router/ntcp2.h"
#include "router/transport.h"
#include "tests/unit/tharness.h"

struct evloop;
struct router_info;
struct router_keys;

#define TNODE_NETID 77
#define TNODE_MAX_PEERS 8

struct tnode {
	struct evloop *el;
	struct router_keys *keys;
	struct router_info *ri;
	const uint8_t *hash;		/* borrowed from ri */
	struct transport_mgr *tm;
	struct ntcp2 *n;
	struct ntcp2_config cfg;
	uint16_t port;
	/* RouterInfos the lookup hook knows (borrowed) */
	const struct router_info *peers[TNODE_MAX_PEERS];
	size_t npeers;
	/* what arrived */
	uint64_t recv_count;
	uint64_t recv_bad;		/* out of order or corrupt */
	uint32_t next_seq;		/* expected sequence number */
	uint64_t ri_stored;
	unsigned peer_ups, peer_downs;
	void (*on_recv)(struct tnode *tn, const uint8_t *peer,
			struct i2np_msg *m);	/* optional, takes m */
	void (*on_low)(struct tnode *tn, const uint8_t *peer);
	void *arg;
};

/*
 * Start a node on el: fresh keys, NTCP2 listening on 127.0.0.1 (any port),
 * a signed RouterInfo with that address.  tweak (optional) edits the NTCP2
 * config before the transport is made.  Fails t and returns false on error.
 */
bool tnode_start(struct tctx *t, struct tnode *tn, struct evloop *el,
		 void (*tweak)(struct ntcp2_config *cfg));
/* The same on host (an IPv4 or IPv6 loopback literal). */
bool tnode_start_on(struct tctx *t, struct tnode *tn, struct evloop *el,
		    void (*tweak)(struct ntcp2_config *cfg), const char *host);
void tnode_stop(struct tnode *tn);
/* Let tn dial peer (its RouterInfo becomes known to tn's lookup hook). */
void tnode_know(struct tnode *tn, const struct tnode *peer);
/* A Data message whose body is a 4-byte sequence number then len - 4
 * bytes derived from it (len >= 4). */
struct i2np_msg *tnode_msg(uint32_t seq, size_t len);
/* Check such a message against the node's next expected number. */
void tnode_check_msg(struct tnode *tn, const struct i2np_msg *m);
/* Run el until stop() is true (checked every 10 ms) or timeout_ms passes;
 * false on timeout. */
bool tnode_run_until(struct evloop *el, bool (*stop)(void *arg), void *arg,
		     uint64_t timeout_ms);

#endif /* TESTS_UNIT_ROUTER_TNODE_H */
