/*
 * transit_flood: build many one-hop inbound tunnels through a running
 * bitsd from one throwaway router, over one NTCP2 session, and count the
 * answers.  The router under test is the gateway; its answer comes back to
 * us as the tunnel's next hop.  Used by test_transit_limits.sh (a
 * thousand transit tunnels within the memory budget; the build-request
 * limits of [limits]).
 *
 *   transit_flood ROUTER_INFO NETID COUNT [BATCH]
 *
 * Sends COUNT ShortTunnelBuild requests in batches of BATCH (default 50),
 * waiting after each batch for its answers (10 s at most, then the rest
 * count as unanswered).  Prints
 *   "sent N accepted A rejected R unanswered U"
 * and exits 0 when the session held (whatever the answers were).
 */
#include "config.h"
#include "tests/unit/router/test_ntcp2_client.h"
#include "router/i2np.h"
#include "router/keys_and_cert.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "tunnels/tunnel_build.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/init.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BATCH 200

struct pending {
	struct tunnel_build *b;
	uint32_t reply_id;
};

/* One frame, sealed or read: its length, its blocks and their tag. */
static uint8_t frame_out[NTCP2_FRAME_MAX_PLAIN_BYTES + 18];

/* Send msg as one I2NP block in its own frame. */
static bool send_msg(int fd, struct ntcp2_dir *tx, const struct i2np_msg *m)
{
	struct bbuf p = BBUF_INIT;
	bool ok;

	if (ntcp2_block_put_i2np(&p, m) != 0 ||
	    p.len > NTCP2_FRAME_MAX_PLAIN_BYTES) {
		bbuf_free(&p);
		return false;
	}
	ok = ntcp2_frame_seal(tx, frame_out, p.data, p.len) == 0 &&
	     ntc_send(fd, frame_out, p.len + 18);
	bbuf_free(&p);
	return ok;
}

/* Read one frame (waiting up to wait_ms for it to start) and hand its I2NP
 * messages to fn.  1: a frame, 0: nothing came, -1: the session ended. */
static int read_frame(int fd, struct ntcp2_dir *rx, int wait_ms,
		      void (*fn)(void *arg, struct i2np_msg *m), void *arg)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t lb[2];
	size_t len, plen;
	struct breader r;
	struct ntcp2_block b;

	if (poll(&pfd, 1, wait_ms) <= 0)
		return 0;
	if (!ntc_read(fd, lb, 2) || ntcp2_frame_len_decode(rx, lb, &len) != 0 ||
	    len > sizeof(frame_out) || !ntc_read(fd, frame_out, len) ||
	    ntcp2_frame_open(rx, frame_out, len, &plen) != 0)
		return -1;
	br_init(&r, frame_out, plen);
	while (br_left(&r) > 0 && ntcp2_block_decode(&r, &b) == 0) {
		struct i2np_msg *m = NULL;

		if (b.type == NTCP2_BLOCK_TERMINATION)
			return -1;
		if (b.type == NTCP2_BLOCK_I2NP &&
		    i2np_msg_decode_short(b.data, b.len, &m) == 0)
			fn(arg, m);
		else if (b.type == NTCP2_BLOCK_I2NP)
			i2np_msg_free(m);
	}
	return 1;
}

struct batch {
	struct pending p[MAX_BATCH];
	size_t n, answered;
	unsigned accepted, rejected;
};

static void on_msg(void *arg, struct i2np_msg *m)
{
	struct batch *bt = arg;

	if (m->type == I2NP_SHORT_TUNNEL_BUILD && m->len >= 1) {
		for (size_t i = 0; i < bt->n; i++) {
			uint8_t codes[TUNNEL_BUILD_MAX_RECORDS];
			uint8_t *recs;

			if (!bt->p[i].b || bt->p[i].reply_id != m->msg_id)
				continue;
			recs = xmemdup(m->payload + 1, m->len - 1);
			if (tunnel_build_reply_process(bt->p[i].b, recs,
						       m->payload[0],
						       codes) == 0 &&
			    codes[0] == 0)
				bt->accepted++;
			else
				bt->rejected++;
			free(recs);
			tunnel_build_free(bt->p[i].b);
			bt->p[i].b = NULL;
			bt->answered++;
			break;
		}
	}
	i2np_msg_free(m);
}

int main(int argc, char **argv)
{
	struct router_info *target = NULL, *ri = NULL;
	struct router_keys *keys;
	struct noise_static me;
	struct ntc_target tgt;
	struct ntcp2_keys k;
	struct ntcp2_dir tx, rx;
	struct tunnel_build_hop hop;
	struct keys_and_cert id;
	const uint8_t *my_ri;
	size_t my_ri_len, sent = 0, count, batch;
	unsigned accepted = 0, rejected = 0, unanswered = 0;
	int fd, r, rc = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: %s ROUTER_INFO NETID COUNT [BATCH]\n",
			argv[0]);
		return 2;
	}
	crypto_init();
	count = (size_t)strtoul(argv[3], NULL, 10);
	batch = argc > 4 ? (size_t)strtoul(argv[4], NULL, 10) : 50;
	if (batch == 0 || batch > MAX_BATCH)
		batch = 50;
	if ((r = router_info_file_read(argv[1], &target)) != 0 ||
	    (r = ntc_target_from_ri(&tgt, target, (uint8_t)atoi(argv[2]))) != 0 ||
	    (r = keys_and_cert_x25519_pk(router_info_identity(target),
					 &hop.enc_pk)) != 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], err_str(r));
		return 2;
	}
	memcpy(hop.ident, router_info_identity(target)->hash, 32);
	hop.opts = NULL;
	if (ntc_identity(tgt.netid, &keys, &ri, &me) != 0)
		return 2;
	my_ri = router_info_bytes(ri, &my_ri_len);
	router_keys_identity(keys, &id);
	if ((fd = ntc_handshake(&tgt, &me, my_ri, my_ri_len, &k)) < 0) {
		fprintf(stderr, "%s: no NTCP2 session\n", argv[0]);
		return 1;
	}
	ntcp2_dir_init(&tx, &k.send);
	ntcp2_dir_init(&rx, &k.recv);
	while (sent < count && rc == 0) {
		struct batch bt = { .n = 0 };
		uint64_t until;

		for (; bt.n < batch && sent < count; sent++) {
			struct tunnel_build_cfg c = {
				.kind = TUNNEL_BUILD_SHORT, .inbound = true,
				.n_hops = 1, .now_ms = time_now_ms(),
			};
			struct bbuf msg = BBUF_INIT;
			struct i2np_msg *m;
			struct tunnel_build *b;

			c.hops[0] = hop;
			memcpy(c.self, id.hash, 32);
			if (tunnel_build_create(&c, &b, &msg) != 0) {
				rc = 1;
				break;
			}
			m = i2np_msg_new(I2NP_SHORT_TUNNEL_BUILD, msg.data,
					 msg.len, 60000);
			m->msg_id = tunnel_build_first_msg_id(b);
			bt.p[bt.n].b = b;
			bt.p[bt.n++].reply_id = tunnel_build_reply_msg_id(b);
			if (!send_msg(fd, &tx, m))
				rc = 1;
			i2np_msg_free(m);
			bbuf_free(&msg);
		}
		until = time_mono_ms() + 10000;
		while (rc == 0 && bt.answered < bt.n &&
		       time_mono_ms() < until) {
			int got = read_frame(fd, &rx, 200, on_msg, &bt);

			if (got < 0)
				rc = 1;
		}
		accepted += bt.accepted;
		rejected += bt.rejected;
		unanswered += (unsigned)(bt.n - bt.answered);
		for (size_t i = 0; i < bt.n; i++)
			tunnel_build_free(bt.p[i].b);
	}
	printf("sent %zu accepted %u rejected %u unanswered %u%s\n", sent,
	       accepted, rejected, unanswered, rc ? " (session lost)" : "");
	close(fd);
	ntcp2_dir_wipe(&tx);
	ntcp2_dir_wipe(&rx);
	router_info_free(ri);
	router_info_free(target);
	router_keys_free(keys);
	return rc;
}
