/*
 * libFuzzer target: datagrams at an SSU2 transport (router/ssu2.c), past
 * the header protection and the AEADs, through ssu2_input().  The
 * transport (Bob) listens on 127.0.0.1; this target plays Alice from a
 * UDP socket of its own on 127.0.0.1, reading what Bob answers.  The
 * first byte picks what the rest is:
 *   0: a datagram as it is (header masks, ids, sizes);
 *   1: the blocks of a TokenRequest, encrypted with Bob's intro key;
 *   2: the blocks after a DateTime in a SessionRequest carrying the token
 *      of the Retry Bob sent to a TokenRequest of ours;
 *   3: a whole handshake (TokenRequest, Retry, SessionRequest,
 *      SessionCreated, SessionConfirmed with our signed RouterInfo), then
 *      the bytes as up to four Data packets' blocks in the session
 *      (I2NP fragments, ACKs, relay and peer test blocks, termination).
 * Properties: no crash, no leak, no sanitizer report; every answer Bob
 * sends is a whole SSU2 packet (40..1472 bytes); the first handshake
 * with a valid RouterInfo brings the router up.  Bob is made anew every
 * 256 inputs, so sessions and handshakes do not pile up, and the loop
 * runs once, not waiting, after each input (the sessions the transport
 * kills are freed there).  Only loopback is used.
 */
#include "config.h"
#include "crypto/base/bytes.h"
#include "crypto/base/time.h"
#include "crypto/init.h"
#include "crypto/keystore.h"
#include "crypto/noise.h"
#include "crypto/rand.h"
#include "router/evloop.h"
#include "router/i2np.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/ssu2.h"
#include "router/ssu2_block.h"
#include "router/ssu2_handshake.h"
#include "router/ssu2_internal.h"
#include "router/transport.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NETID 2

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	struct evloop *el;
	/* Bob: the transport under test */
	struct router_keys *bk;
	struct transport_mgr *tm;
	struct ssu2 *bob;
	uint8_t bob_ik[32];
	struct x25519_pk bob_s;
	unsigned runs;
	/* Alice: this target */
	struct router_keys *ak;
	struct noise_static ast;
	uint8_t alice_ik[32];
	int fd;
	struct sockaddr_in6 from;	/* her socket, as Bob sees it */
	uint8_t *ri;			/* her RouterInfo, signed */
	size_t ri_len;
	uint64_t ups;
	bool met;			/* a session with this Bob came up */
};

static void on_recv(void *ctx, const uint8_t *peer, struct i2np_msg *m)
{
	(void)ctx;
	(void)peer;
	i2np_msg_free(m);
}

static const struct router_info *on_lookup(void *ctx, const uint8_t *peer)
{
	(void)ctx;
	(void)peer;
	return NULL;
}

static void on_store_ri(void *ctx, const uint8_t *ri, size_t len, bool fl)
{
	(void)ctx;
	(void)ri;
	(void)len;
	(void)fl;
}

static void on_up(void *ctx, const uint8_t *peer, bool inbound)
{
	(void)peer;
	(void)inbound;
	((struct fz *)ctx)->ups++;
}

static void on_down(void *ctx, const uint8_t *peer)
{
	(void)ctx;
	(void)peer;
}

/* Alice's RouterInfo: an SSU2 address on her socket with her key. */
static void alice_ri(struct fz *f, uint16_t port)
{
	struct router_address a = ROUTER_ADDRESS_INIT;
	struct keys_and_cert id;
	struct x25519_pk spk;
	struct router_info *ri;
	const uint8_t *b;

	router_keys_identity(f->ak, &id);
	ri = router_info_new(&id);
	keystore_x25519_pk(router_keys_keystore(f->ak), KEYSTORE_X_SSU2, &spk);
	if (router_address_ssu2_build(&a, 3, &spk, f->alice_ik, "127.0.0.1",
				      port, "4", NULL, 0) != 0 ||
	    router_info_add_address(ri, &a) != 0 ||
	    router_info_set_basic_options(ri, NETID, "LR") != 0 ||
	    router_info_sign(ri, router_keys_keystore(f->ak)) != 0)
		abort();
	b = router_info_bytes(ri, &f->ri_len);
	free(f->ri);
	f->ri = malloc(f->ri_len);
	memcpy(f->ri, b, f->ri_len);
	router_info_free(ri);
}

static void bob_new(struct fz *f)
{
	struct transport_hooks h = {
		.recv = on_recv, .lookup = on_lookup, .store_ri = on_store_ri,
		.peer_up = on_up, .peer_down = on_down, .ctx = f,
	};
	struct ssu2_config c;
	struct keys_and_cert id;

	if (f->bob) {
		ssu2_free(f->bob);
		(void)event_base_loop(evloop_base(f->el), EVLOOP_NONBLOCK);
		transport_mgr_free(f->tm);
		router_keys_free(f->bk);
	}
	f->bk = router_keys_new_random();
	rand_bytes(f->bob_ik, 32);
	router_keys_identity(f->bk, &id);
	f->tm = transport_mgr_new(f->el, id.hash, NULL);
	transport_mgr_set_hooks(f->tm, &h);
	ssu2_config_default(&c);
	c.netid = NETID;
	noise_static_from_keystore(&c.st, router_keys_keystore(f->bk),
				   KEYSTORE_X_SSU2);
	keystore_x25519_pk(router_keys_keystore(f->bk), KEYSTORE_X_SSU2,
			   &f->bob_s);
	memcpy(c.rh, id.hash, 32);
	memcpy(c.ik, f->bob_ik, 32);
	c.allow_loopback = true;
	c.ks = router_keys_keystore(f->bk);
	/* one source address sends everything: no per-IP caps or bans */
	c.max_pending = 1024;
	c.max_pending_per_ip = 1024;
	c.token_requests_per_s = 1000000000;
	c.ban_ms = 0;
	f->bob = ssu2_new(f->el, f->tm, &c);
	f->met = false;
	if (ssu2_listen(f->bob, "127.0.0.1", 0) != 0)
		abort();
	/* a fresh RouterInfo now and then: Bob refuses old ones */
	alice_ri(f, ntohs(f->from.sin6_port));
}

static struct fz *fz_get(void)
{
	static struct fz f;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	if (f.el) {
		if (++f.runs % 256 == 0)
			bob_new(&f);
		return &f;
	}
	crypto_init();
	rand_set_deterministic(2);
	f.el = evloop_new();
	f.ak = router_keys_new_random();
	rand_bytes(f.alice_ik, 32);
	noise_static_from_keystore(&f.ast, router_keys_keystore(f.ak),
				   KEYSTORE_X_SSU2);
	f.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (f.fd < 0 || bind(f.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(f.fd, (struct sockaddr *)&sa, &sl) != 0)
		abort();
	/* as the transport keeps a source: IPv4-mapped */
	f.from.sin6_family = AF_INET6;
	f.from.sin6_port = sa.sin_port;
	f.from.sin6_addr.s6_addr[10] = 0xff;
	f.from.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&f.from.sin6_addr.s6_addr[12], &sa.sin_addr, 4);
	bob_new(&f);
	return &f;
}

/* What Bob sent since the last call: the newest datagram into buf
 * (earlier ones checked and dropped); its length, or 0. */
static size_t bob_said(struct fz *f, uint8_t *buf, size_t max)
{
	size_t last = 0;
	ssize_t n;

	while ((n = recv(f->fd, buf, max, 0)) >= 0) {
		if ((size_t)n < SSU2_MIN_PACKET_BYTES ||
		    (size_t)n > SSU2_MAX_PACKET_BYTES)
			abort();
		last = (size_t)n;
	}
	return last;
}

static void to_bob(struct fz *f, const uint8_t *p, size_t len)
{
	uint8_t buf[SSU2_MAX_PACKET_BYTES];

	if (len > sizeof(buf))
		len = sizeof(buf);
	memcpy(buf, p, len);
	ssu2_input(f->bob, buf, len, &f->from);
}

/* An out-of-session message keyed by Bob's intro key. */
static void send_oos(struct fz *f, uint8_t type, uint64_t dst, uint64_t src,
		     const uint8_t *pl, size_t plen)
{
	struct ssu2_long_hdr h = {
		.dst_id = dst, .src_id = src, .type = type,
		.ver = SSU2_VERSION, .netid = NETID, .pkt_num = 1,
	};
	uint8_t pkt[SSU2_MAX_PACKET_BYTES];
	size_t len;

	if (ssu2_oos_encrypt(&h, f->bob_ik, pl, plen, pkt, sizeof(pkt),
			     &len) == 0)
		to_bob(f, pkt, len);
}

/* TokenRequest, then the token of Bob's Retry (0: none came). */
static uint64_t get_token(struct fz *f, uint64_t dst, uint64_t src)
{
	struct bbuf pl = BBUF_INIT;
	uint8_t p[SSU2_MAX_PACKET_BYTES];
	struct ssu2_long_hdr h;
	size_t len;

	ssu2_blk_put_datetime(&pl, (uint32_t)time_now_s());
	ssu2_blk_put_padding(&pl, 8);
	send_oos(f, SSU2_TOKEN_REQUEST, dst, src, pl.data, pl.len);
	bbuf_free(&pl);
	if ((len = bob_said(f, p, sizeof(p))) < 16 + 16 + 24)
		return 0;
	ssu2_hp_part1(p, len, f->bob_ik);
	ssu2_hp_part2(p, len, f->bob_ik);
	if (p[12] != SSU2_RETRY)
		return 0;
	ssu2_hp_long(p, len, f->bob_ik, 16);
	ssu2_long_hdr_decode(p, &h);
	return h.src_id == dst && h.dst_id == src ? h.token : 0;
}

/* SessionRequest with the token and payload (a DateTime first). */
static bool send_request(struct fz *f, struct ssu2_hs *hs, uint64_t dst,
			 uint64_t src, uint64_t token, const uint8_t *more,
			 size_t more_len)
{
	struct ssu2_long_hdr h = {
		.dst_id = dst, .src_id = src, .netid = NETID, .token = token,
		.pkt_num = 7,
	};
	struct bbuf pl = BBUF_INIT;
	uint8_t pkt[SSU2_MAX_PACKET_BYTES];
	size_t len;
	bool ok;

	ssu2_blk_put_datetime(&pl, (uint32_t)time_now_s());
	bbuf_put(&pl, more, more_len);
	if (pl.len < SSU2_MIN_PAYLOAD_BYTES)
		ssu2_blk_put_padding(&pl, 8);
	ssu2_hs_init_alice(hs, &f->ast, &f->bob_s, f->bob_ik);
	ok = ssu2_hs_write_request(hs, &h, pl.data, pl.len, pkt, sizeof(pkt),
				   &len) == 0;
	if (ok)
		to_bob(f, pkt, len);
	bbuf_free(&pl);
	return ok;
}

/* The rest of the handshake; the session's keys, or false. */
static bool finish(struct fz *f, struct ssu2_hs *hs, uint64_t dst,
		   struct ssu2_keys *k)
{
	uint8_t p[SSU2_MAX_PACKET_BYTES], plain[SSU2_MAX_PACKET_BYTES];
	uint8_t out[SSU2_CONFIRMED_MAX_FRAGS * SSU2_MAX_PACKET_BYTES];
	size_t lens[SSU2_CONFIRMED_MAX_FRAGS], len, plen, off = 0;
	struct bbuf pl = BBUF_INIT;
	unsigned nf;
	uint64_t ups = f->ups;
	bool ok;

	if ((len = bob_said(f, p, sizeof(p))) < 64 + 24)
		return false;
	ssu2_hp_part1(p, len, f->bob_ik);
	ssu2_hp_part2(p, len, hs->hk_created);
	if (p[12] != SSU2_SESSION_CREATED)
		return false;
	ssu2_hp_long(p, len, hs->hk_created, 48);
	if (ssu2_hs_read_created(hs, p, len, plain, sizeof(plain), &plen))
		return false;
	ssu2_blk_put_ri(&pl, 0, f->ri, f->ri_len);
	ok = ssu2_hs_write_confirmed(hs, dst, pl.data, pl.len, 1400, out,
				     sizeof(out), lens, &nf) == 0 &&
	     ssu2_hs_split(hs, k) == 0;
	bbuf_free(&pl);
	for (unsigned i = 0; ok && i < nf; i++) {
		to_bob(f, out + off, lens[i]);
		off += lens[i];
	}
	(void)bob_said(f, p, sizeof(p));	/* its ACK */
	/* a valid RouterInfo brings the first session up (later ones find
	 * the router up already) */
	if (ok && !f->met && f->ups == ups)
		abort();
	f->met |= ok;
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *f = fz_get();
	uint8_t scratch[SSU2_MAX_PACKET_BYTES];
	uint64_t dst = rand_u64() | 1, src = rand_u64() | 2, token;
	struct ssu2_hs hs;
	struct ssu2_keys k;

	if (size < 1)
		return 0;
	(void)bob_said(f, scratch, sizeof(scratch));
	switch (data[0] % 4) {
	case 0:
		if (size - 1 >= SSU2_MIN_PACKET_BYTES)
			to_bob(f, data + 1, size - 1);
		break;
	case 1:
		if (size - 1 >= SSU2_MIN_PAYLOAD_BYTES)
			send_oos(f, SSU2_TOKEN_REQUEST, dst, src, data + 1,
				 size - 1 < 1400 ? size - 1 : 1400);
		break;
	case 2:
		if ((token = get_token(f, dst, src)) != 0) {
			(void)send_request(f, &hs, dst, src, token, data + 1,
					   size - 1 < 1300 ? size - 1 : 1300);
			ssu2_hs_wipe(&hs);
		}
		break;
	default: {
		struct ssu2_aead a;
		const uint8_t *p = data + 1;
		size_t left = size - 1;

		if (!(token = get_token(f, dst, src)))
			break;
		if (!send_request(f, &hs, dst, src, token, NULL, 0) ||
		    !finish(f, &hs, dst, &k)) {
			ssu2_hs_wipe(&hs);
			break;
		}
		ssu2_hs_wipe(&hs);
		ssu2_aead_init(&a, k.send.k_data);
		/* up to four Data packets of at most 1200 bytes of blocks */
		for (uint32_t pn = 1; pn <= 4 && left >= 8; pn++) {
			size_t n = left < 1200 ? left : 1200, len;

			if (ssu2_data_seal(&a, k.send.k_hdr2, f->bob_ik, dst,
					   pn, 0, p, n, scratch,
					   sizeof(scratch), &len) == 0)
				to_bob(f, scratch, len);
			p += n;
			left -= n;
			(void)bob_said(f, scratch, sizeof(scratch));
		}
		ssu2_aead_free(&a);
		sodium_memzero(&k, sizeof(k));
		break;
	}
	}
	(void)bob_said(f, scratch, sizeof(scratch));
	/* what the transport posted (sessions it killed are freed there) */
	(void)event_base_loop(evloop_base(f->el), EVLOOP_NONBLOCK);
	return 0;
}
