/* Helpers of the apps/market tests: destinations with stream managers on
 * one localnet, and an anvil with the contracts, started by the test. */
#ifndef TESTS_UNIT_MARKET_TMARKET_H
#define TESTS_UNIT_MARKET_TMARKET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "apps/client/localnet.h"
#include "apps/client/net.h"
#include "apps/client/stream.h"
#include "chain/calls.h"
#include "tests/unit/tharness.h"

#define TM_NODES_MAX 8
#define TM_TIMEOUT_MS 180000		/* generous: ASan on a busy box */

struct tm_node {
	struct client_dest *d;
	struct stream_signer sg;
	struct client_stream_sink cs;
	struct stream_mgr *mgr;
};

struct tm_net {
	struct tctx *t;
	struct evloop *el;
	struct localnet *ln;
	struct client_net cn;
	struct tm_node n[TM_NODES_MAX];
	unsigned count;
};

void tm_init(struct tm_net *tm, struct tctx *t);
struct tm_node *tm_node(struct tm_net *tm);
const struct keys_and_cert *tm_pub(const struct tm_node *nd);
void tm_free(struct tm_net *tm);
/* Run the loop until cond(arg) holds (true) or TM_TIMEOUT_MS pass. */
bool tm_run(struct tm_net *tm, bool (*cond)(void *arg), void *arg);

struct tm_anvil {
	pid_t pid;
	char *dir;
	char url[64];
	struct chain_deploy dep;
};
/* Start anvil on 127.0.0.1 (a port the kernel picks) and, when deploy,
 * the contracts; fails the test loudly (false) when it cannot. */
bool tm_anvil_start(struct tctx *t, struct tm_anvil *a, bool deploy);
void tm_anvil_stop(struct tm_anvil *a);
/* anvil's funded account i (0..9). */
void tm_anvil_key(unsigned i, struct secp_sk *sk);

#endif /* TESTS_UNIT_MARKET_TMARKET_H */
