/*
 * transit_flood: build many one-hop inbound tunnels through a running
 * bitsd from one throwaway router, over one NTCP2 session, and count the
 * answers.  The router under test is the gateway; its answer comes back to
 * us as the tunnel's next hop.  Used by test_transit_limits.sh (a
 * thousand transit tunnels within the memory budget; the build-request
 * limits of [limits]).
 *
 *   transit_flood ROUTER_INFO NETID COUNT [BATCH [DATA_SECONDS]]
 *
 * Sends COUNT ShortTunnelBuild requests in batches of BATCH (default 50),
 * waiting after each batch for its answers (10 s at most, then the rest
 * count as unanswered).  Prints
 *   "sent N accepted A rejected R unanswered U"
 * and exits 0 when the session held (whatever the answers were).
 *
 * With DATA_SECONDS, a tunnel-data flood instead (tools/attacknet): COUNT
 * one-hop outbound tunnels with the router under test as their endpoint
 * and us as the previous hop (their replies come back to us in
 * TunnelGateway messages, counted as answered, not opened), then as much
 * TunnelData of random bytes to them, in turn, as one NTCP2 session
 * carries for DATA_SECONDS.  Prints
 *   "data: tunnels N answered A sent M in S s (R/s)"
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
#include "crypto/rand.h"

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

/* The replies of our outbound builds: TunnelGateway to reply_id. */
struct gw_count {
	uint32_t reply_id;
	unsigned answered;
};

static void on_gw(void *arg, struct i2np_msg *m)
{
	struct gw_count *g = arg;
	struct i2np_tunnel_gateway tg;

	if (m->type == I2NP_TUNNEL_GATEWAY &&
	    i2np_tunnel_gateway_decode(m, &tg) == 0 &&
	    tg.tunnel_id == g->reply_id)
		g->answered++;
	i2np_msg_free(m);
}

/* Read whatever has come (without waiting); false when the session ended. */
static bool drain(int fd, struct ntcp2_dir *rx, struct gw_count *g)
{
	int got;

	while ((got = read_frame(fd, rx, 0, on_gw, g)) > 0)
		;
	return got == 0;
}

/* The tunnel-data flood: count tunnels through the target, then TunnelData
 * to them for secs seconds.  0 when the session held. */
static int data_flood(int fd, struct ntcp2_dir *tx, struct ntcp2_dir *rx,
		      const struct tunnel_build_hop *hop, const uint8_t self[32],
		      size_t count, double secs)
{
	uint32_t *ids = xcalloc(count ? count : 1, sizeof(*ids));
	struct gw_count g = { 0 };
	uint8_t td[4 + 1024];
	uint64_t sent = 0, t0, until;
	size_t n = 0;
	int rc = 0;

	rand_bytes(&g.reply_id, sizeof(g.reply_id));
	for (; n < count && rc == 0; n++) {
		struct tunnel_build_cfg c = {
			.kind = TUNNEL_BUILD_SHORT, .inbound = false,
			.n_hops = 1, .now_ms = time_now_ms(),
			.reply_tunnel_id = g.reply_id,
		};
		struct bbuf msg = BBUF_INIT;
		struct tunnel_build *b;
		struct i2np_msg *m;

		c.hops[0] = *hop;
		memcpy(c.self, self, 32);
		memcpy(c.reply_gateway, self, 32);
		if (tunnel_build_create(&c, &b, &msg) != 0) {
			rc = 1;
			break;
		}
		ids[n] = tunnel_build_hop_id(b, 0);
		m = i2np_msg_new(I2NP_SHORT_TUNNEL_BUILD, msg.data, msg.len,
				 60000);
		m->msg_id = tunnel_build_first_msg_id(b);
		if (!send_msg(fd, tx, m) || !drain(fd, rx, &g))
			rc = 1;
		i2np_msg_free(m);
		bbuf_free(&msg);
		tunnel_build_free(b);
	}
	/* The answers, for up to 10 s. */
	until = time_mono_ms() + 10000;
	while (rc == 0 && g.answered < n && time_mono_ms() < until)
		if (read_frame(fd, rx, 200, on_gw, &g) < 0)
			rc = 1;
	t0 = time_mono_ms();
	until = t0 + (uint64_t)(secs * 1000);
	while (rc == 0 && n && time_mono_ms() < until) {
		struct bbuf p = BBUF_INIT;

		/* A frame of tunnel messages, each to the next tunnel. */
		while (p.len + sizeof(td) + 64 < NTCP2_FRAME_MAX_PLAIN_BYTES) {
			struct i2np_msg *m;

			be32_put(td, ids[sent % n]);
			rand_bytes(td + 4, sizeof(td) - 4);
			m = i2np_msg_new(I2NP_TUNNEL_DATA, td, sizeof(td), 8000);
			if (ntcp2_block_put_i2np(&p, m) != 0)
				rc = 1;
			i2np_msg_free(m);
			sent++;
		}
		if (rc != 0 ||
		    ntcp2_frame_seal(tx, frame_out, p.data, p.len) != 0 ||
		    !ntc_send(fd, frame_out, p.len + 18) || !drain(fd, rx, &g))
			rc = 1;
		bbuf_free(&p);
	}
	secs = (double)(time_mono_ms() - t0) / 1000.0;
	printf("data: tunnels %zu answered %u sent %llu in %.1f s (%.0f/s)%s\n",
	       n, g.answered, (unsigned long long)sent, secs,
	       secs > 0 ? (double)sent / secs : 0.0,
	       rc ? " (session lost)" : "");
	free(ids);
	return rc;
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
		fprintf(stderr, "usage: %s ROUTER_INFO NETID COUNT "
			"[BATCH [DATA_SECONDS]]\n", argv[0]);
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
	if (argc > 5) {
		rc = data_flood(fd, &tx, &rx, &hop, id.hash, count,
				strtod(argv[5], NULL));
		sent = count = 0;
	}
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
	if (argc <= 5)
		printf("sent %zu accepted %u rejected %u unanswered %u%s\n",
		       sent, accepted, rejected, unanswered,
		       rc ? " (session lost)" : "");
	close(fd);
	ntcp2_dir_wipe(&tx);
	ntcp2_dir_wipe(&rx);
	router_info_free(ri);
	router_info_free(target);
	router_keys_free(keys);
	return rc;
}
