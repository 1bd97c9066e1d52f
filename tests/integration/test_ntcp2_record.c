/*
 * test_ntcp2_record: one NTCP2 session with a live i2pd, recorded as a
 * golden transcript (PROTOCOLS.md 0.5: "log every key, nonce and plaintext
 * on our side ... so both directions can be re-derived").
 *
 *   test_ntcp2_record BOB_ROUTER_INFO SRC_IP NETID OUT.json
 *
 * Throwaway keys are made for the run; we are Alice, we dial Bob's NTCP2
 * address from SRC_IP, complete the handshake, send one frame (DateTime +
 * a DatabaseStore of our RouterInfo with a reply token) and record the
 * frames i2pd sends for up to 3 seconds (its DeliveryStatus must be among
 * them).  The JSON holds our secrets (static and ephemeral keys), Bob's
 * public values, every wire byte and every plaintext; the unit test
 * tests/unit/router/test_ntcp2_handshake.c replays it.  Exit 0 when i2pd
 * acknowledged our store, 1 otherwise.
 */
#include "config.h"
#include "router/conf.h"
#include "router/gzip.h"
#include "router/i2np.h"
#include "router/ntcp2_frame.h"
#include "router/ntcp2_handshake.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/init.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static FILE *out;

static void jhex(const char *key, const void *p, size_t n, bool last)
{
	char *h = xmalloc(2 * n + 1);

	(void)hex_encode(h, 2 * n + 1, p, n);
	fprintf(out, "  \"%s\": \"%s\"%s\n", key, h, last ? "" : ",");
	free(h);
}

static int die(const char *what, int r)
{
	fprintf(stderr, "test_ntcp2_record: %s: %s\n", what,
		r ? err_str(r) : "failed");
	return 1;
}

static bool read_exact(int fd, void *p, size_t n, int timeout_ms)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&pf, 1, timeout_ms) <= 0)
			return false;
		r = recv(fd, (uint8_t *)p + got, n - got, 0);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static int dial(const struct router_address_ntcp2 *a, const char *src)
{
	struct sockaddr_in sa, me;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	memset(&me, 0, sizeof(me));
	sa.sin_family = me.sin_family = AF_INET;
	sa.sin_port = htons(a->port);
	if (fd < 0 || inet_pton(AF_INET, a->host, &sa.sin_addr) != 1 ||
	    inet_pton(AF_INET, src, &me.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* DateTime + DatabaseStore(our RI, reply token) as one frame's blocks. */
static void first_frame(struct bbuf *p, const uint8_t *self, const uint8_t *ri,
			size_t ri_len, uint32_t token, uint32_t ts)
{
	struct i2np_db_store s;
	struct bbuf gz = BBUF_INIT, body = BBUF_INIT;
	struct i2np_msg m;

	(void)gzip_compress(ri, ri_len, &gz);
	memset(&s, 0, sizeof(s));
	memcpy(s.key, self, 32);
	s.store_type = I2NP_STORE_RI;
	s.reply_token = token;
	memcpy(s.reply_gateway, self, 32);
	s.data = gz.data;
	s.data_len = gz.len;
	i2np_db_store_encode(&s, &body);
	m = (struct i2np_msg){ I2NP_DATABASE_STORE, token ^ 0x5a5a5a5a,
			       (uint64_t)(ts + 30) * 1000, body.data, body.len };
	ntcp2_block_put_datetime(p, ts);
	(void)ntcp2_block_put_i2np(p, &m);
	ntcp2_block_put_padding(p, 7);
	bbuf_free(&gz);
	bbuf_free(&body);
}

/* Does this plaintext hold a DeliveryStatus for token? */
static bool acked(const uint8_t *p, size_t len, uint32_t token)
{
	struct breader r;
	struct ntcp2_block b;

	br_init(&r, p, len);
	while (br_left(&r) > 0 && ntcp2_block_decode(&r, &b) == 0) {
		struct i2np_msg *m;
		struct i2np_delivery_status ds;
		bool ok;

		if (b.type != NTCP2_BLOCK_I2NP ||
		    i2np_msg_decode_short(b.data, b.len, &m) != 0)
			continue;
		ok = m->type == I2NP_DELIVERY_STATUS &&
		     i2np_delivery_status_decode(m, &ds) == 0 &&
		     ds.msg_id == token;
		i2np_msg_free(m);
		if (ok)
			return true;
	}
	return false;
}

/* Write the transcript; everything the replay needs, as hex. */
struct record {
	struct bbuf keys;		/* our router.keys (secrets inside) */
	const uint8_t *ri;		/* our RouterInfo */
	size_t ri_len;
	struct x25519_sk e;
	const uint8_t *bob_rh;
	struct router_address_ntcp2 bob;
	unsigned netid;
	uint32_t ts;
	uint8_t pad1[40];
	struct bbuf m1, m2, m3p2, m3, out_plain, out_frame, in_frames;
	size_t n_in;
	uint32_t token;
};

static void write_json(const struct record *rc)
{
	fprintf(out, "{\n  \"comment\": \"NTCP2 session bitsd (Alice) -> i2pd "
		"(Bob), recorded by tests/integration/test_ntcp2_record\",\n");
	jhex("alice_router_keys", rc->keys.data, rc->keys.len, false);
	jhex("alice_ri", rc->ri, rc->ri_len, false);
	jhex("alice_ephemeral_sk", rc->e.b, 32, false);
	jhex("bob_rh", rc->bob_rh, 32, false);
	jhex("bob_static", rc->bob.s.b, 32, false);
	jhex("bob_iv", rc->bob.iv, 16, false);
	fprintf(out, "  \"netid\": %u,\n  \"ts_a\": %u,\n  \"token\": %u,\n",
		rc->netid, rc->ts, rc->token);
	jhex("pad1", rc->pad1, sizeof(rc->pad1), false);
	jhex("msg1", rc->m1.data, rc->m1.len, false);
	jhex("msg2", rc->m2.data, rc->m2.len, false);
	jhex("m3p2_plain", rc->m3p2.data, rc->m3p2.len, false);
	jhex("msg3", rc->m3.data, rc->m3.len, false);
	jhex("out_plain", rc->out_plain.data, rc->out_plain.len, false);
	jhex("out_frame", rc->out_frame.data, rc->out_frame.len, false);
	fprintf(out, "  \"in_frame_count\": %zu,\n", rc->n_in);
	jhex("in_frames", rc->in_frames.data, rc->in_frames.len, true);
	fprintf(out, "}\n");
}

/* Alice's side of the handshake on fd; fills rc, returns the keys. */
static int handshake(int fd, struct record *rc, const struct noise_static *st,
		     struct ntcp2_keys *k)
{
	struct ntcp2_hs hs;
	struct ntcp2_hs_options o;
	uint8_t *m2;
	int r = ERR_PROTOCOL;

	ntcp2_hs_init_alice(&hs, st, rc->bob_rh, &rc->bob.s, rc->bob.iv,
			    (uint8_t)rc->netid);
	ntcp2_hs_set_ephemeral(&hs, &rc->e);
	(void)ntcp2_block_put_routerinfo(&rc->m3p2, 0, rc->ri, rc->ri_len);
	ntcp2_block_put_padding(&rc->m3p2, 5);
	if ((r = ntcp2_hs_write_request(&hs, rc->ts, rc->pad1, sizeof(rc->pad1),
					(uint16_t)(rc->m3p2.len + 16),
					&rc->m1)) != 0 ||
	    send(fd, rc->m1.data, rc->m1.len, 0) != (ssize_t)rc->m1.len)
		goto out;
	m2 = bbuf_extend(&rc->m2, 64);
	if (!read_exact(fd, m2, 64, 5000) ||
	    (r = ntcp2_hs_read_created(&hs, m2, (uint32_t)time_now_s(), NULL,
				       0, &o)) != 0)
		goto out;
	m2 = bbuf_extend(&rc->m2, o.pad_len);
	if (!read_exact(fd, m2, o.pad_len, 5000) ||
	    (r = ntcp2_hs_read_padding(&hs, m2, o.pad_len)) != 0 ||
	    (r = ntcp2_hs_write_confirmed(&hs, rc->m3p2.data, rc->m3p2.len,
					  &rc->m3)) != 0 ||
	    (r = ntcp2_hs_split(&hs, k)) != 0)
		goto out;
	r = send(fd, rc->m3.data, rc->m3.len, 0) == (ssize_t)rc->m3.len ?
	    0 : ERR_IO;
out:
	ntcp2_hs_wipe(&hs);
	return r;
}

int main(int argc, char **argv)
{
	static struct record rc;
	static uint8_t frame[65536 + 2];
	struct router_info *bob = NULL, *ri = NULL;
	struct router_keys *keys;
	struct conf *cfg;
	struct ntcp2_keys k;
	struct ntcp2_dir tx, rx;
	struct noise_static st;
	uint64_t until;
	size_t len, plen;
	bool ok = false;
	int fd, r;

	if (argc != 5)
		return die("usage: BOB_RI SRC_IP NETID OUT.json", 0);
	crypto_init();
	if ((r = router_info_file_read(argv[1], &bob)) != 0)
		return die("reading Bob's RouterInfo", r);
	rc.bob_rh = router_info_hash(bob);
	if ((r = router_address_ntcp2_parse(router_info_find_address(bob,
				"NTCP2"), &rc.bob)) != 0 || !rc.bob.published)
		return die("Bob's NTCP2 address", r);
	keys = router_keys_new_random();
	router_keys_encode(keys, &rc.keys);
	cfg = conf_new_default("/nonexistent");
	free(cfg->host);
	cfg->host = xstrdup(argv[2]);
	rc.netid = (unsigned)atoi(argv[3]);
	cfg->netid = (uint8_t)rc.netid;
	cfg->port = 9;
	if ((r = router_self_build(cfg, keys, &ri)) != 0)
		return die("building our RouterInfo", r);
	rc.ri = router_info_bytes(ri, &rc.ri_len);
	noise_static_from_keystore(&st, router_keys_keystore(keys),
				   KEYSTORE_X_NTCP2);
	rand_bytes(rc.e.b, 32);
	rand_bytes(rc.pad1, sizeof(rc.pad1));
	rc.ts = (uint32_t)time_now_s();
	if ((fd = dial(&rc.bob, argv[2])) < 0)
		return die("connecting to Bob", ERR_IO);
	if ((r = handshake(fd, &rc, &st, &k)) != 0)
		return die("handshake", r);
	ntcp2_dir_init(&tx, &k.send);
	ntcp2_dir_init(&rx, &k.recv);
	while (rc.token == 0)
		rc.token = (uint32_t)rand_u64();
	first_frame(&rc.out_plain, router_info_hash(ri), rc.ri, rc.ri_len,
		    rc.token, rc.ts);
	(void)ntcp2_frame_seal(&tx, bbuf_extend(&rc.out_frame,
						rc.out_plain.len + 18),
			       rc.out_plain.data, rc.out_plain.len);
	if (send(fd, rc.out_frame.data, rc.out_frame.len, 0) !=
	    (ssize_t)rc.out_frame.len)
		return die("sending a frame", ERR_IO);
	/* i2pd's frames: 2-byte length, frame; record them raw */
	until = time_mono_ms() + 3000;
	while (!ok && time_mono_ms() < until && rc.n_in < 64) {
		if (!read_exact(fd, frame, 2, 3000) ||
		    ntcp2_frame_len_decode(&rx, frame, &len) != 0 ||
		    !read_exact(fd, frame + 2, len, 3000))
			break;
		bbuf_put(&rc.in_frames, frame, len + 2);
		rc.n_in++;
		if ((r = ntcp2_frame_open(&rx, frame + 2, len, &plen)) != 0)
			return die("i2pd's frame does not decrypt", r);
		if ((r = ntcp2_frame_check(frame + 2, plen, NTCP2_FRAME_DATA,
					   NULL)) != 0)
			return die("i2pd's frame does not parse", r);
		ok = acked(frame + 2, plen, rc.token);
	}
	close(fd);
	ntcp2_dir_wipe(&tx);
	ntcp2_dir_wipe(&rx);
	if (!(out = fopen(argv[4], "w")))
		return die("writing the transcript", ERR_IO);
	write_json(&rc);
	fclose(out);
	printf("test_ntcp2_record: handshake ok, %zu frame(s) from i2pd, "
	       "DeliveryStatus %s\n", rc.n_in, ok ? "received" : "MISSING");
	router_info_free(bob);
	router_info_free(ri);
	router_keys_free(keys);
	conf_free(cfg);
	return ok ? 0 : 1;
}
