/* A raw NTCP2 client for tests (tests/unit/router/test_ntcp2_client.h). */
#include "config.h"
#include "tests/unit/router/test_ntcp2_client.h"
#include "router/conf.h"
#include "router/router_address.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "crypto/keystore.h"
#include "router/router_info.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ntc_target_from_ri(struct ntc_target *t, const struct router_info *ri,
		       uint8_t netid)
{
	struct router_address_ntcp2 a;
	int r;

	if ((r = router_address_ntcp2_parse(router_info_find_address(ri,
					"NTCP2"), &a)) != 0)
		return r;
	if (!a.published)
		return ERR_FORMAT;
	memset(t, 0, sizeof(*t));
	t->family = a.family;
	snprintf(t->host, sizeof(t->host), "%s", a.host);
	t->port = a.port;
	memcpy(t->rh, router_info_hash(ri), 32);
	t->s = a.s;
	memcpy(t->iv, a.iv, 16);
	t->netid = netid;
	return 0;
}

int ntc_connect(const struct ntc_target *t)
{
	struct sockaddr_storage ss;
	struct timeval tv = { 15, 0 };
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (t->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->port);
		(void)inet_pton(AF_INET6, t->host, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(t->port);
		(void)inet_pton(AF_INET, t->host, &s4->sin_addr);
		len = sizeof(*s4);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool ntc_send(int fd, const void *p, size_t n)
{
	return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n;
}

bool ntc_read(int fd, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, (uint8_t *)p + got, n - got, 0);

		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

int64_t ntc_wait_close(int fd, size_t *extra)
{
	uint64_t t0 = time_mono_ms();
	uint8_t buf[512];

	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r > 0) {
			if (extra)
				*extra += (size_t)r;
			continue;
		}
		if (r == 0 || errno == ECONNRESET)
			return (int64_t)(time_mono_ms() - t0);
		return -1;
	}
}

void ntc_request(const struct ntc_target *t, const struct noise_static *st,
		 struct ntcp2_hs *hs, uint8_t netid, uint32_t ts, size_t m3p2,
		 struct bbuf *out)
{
	ntcp2_hs_init_alice(hs, st, t->rh, &t->s, t->iv, netid);
	(void)ntcp2_hs_write_request(hs, ts, (const uint8_t *)"padpad", 6,
				     (uint16_t)m3p2, out);
}

int ntc_handshake(const struct ntc_target *t, const struct noise_static *st,
		  const uint8_t *ri, size_t ri_len, struct ntcp2_keys *k)
{
	struct ntcp2_hs hs;
	struct ntcp2_hs_options o;
	struct bbuf m1 = BBUF_INIT, m3 = BBUF_INIT, p = BBUF_INIT;
	uint8_t m2[64 + NTCP2_HS_RECV_PADDING_MAX_BYTES];
	int fd = ntc_connect(t);

	if (fd < 0)
		return -1;
	(void)ntcp2_block_put_routerinfo(&p, 0, ri, ri_len);
	ntc_request(t, st, &hs, t->netid, (uint32_t)time_now_s(), p.len + 16,
		    &m1);
	if (!ntc_send(fd, m1.data, m1.len) || !ntc_read(fd, m2, 64) ||
	    ntcp2_hs_read_created(&hs, m2, (uint32_t)time_now_s(), NULL, 0,
				  &o) != 0 ||
	    !ntc_read(fd, m2 + 64, o.pad_len) ||
	    ntcp2_hs_read_padding(&hs, m2 + 64, o.pad_len) != 0 ||
	    ntcp2_hs_write_confirmed(&hs, p.data, p.len, &m3) != 0 ||
	    ntcp2_hs_split(&hs, k) != 0 || !ntc_send(fd, m3.data, m3.len)) {
		close(fd);
		fd = -1;
	}
	ntcp2_hs_wipe(&hs);
	bbuf_free(&m1);
	bbuf_free(&m3);
	bbuf_free(&p);
	return fd;
}

int ntc_read_termination(int fd, struct ntcp2_dir *rx)
{
	static uint8_t buf[65536];
	uint8_t lb[2];
	size_t len, plen;

	while (ntc_read(fd, lb, 2)) {
		struct breader r;
		struct ntcp2_block b;
		uint64_t frames;
		uint8_t reason;

		if (ntcp2_frame_len_decode(rx, lb, &len) != 0 ||
		    !ntc_read(fd, buf, len) ||
		    ntcp2_frame_open(rx, buf, len, &plen) != 0)
			return -1;
		br_init(&r, buf, plen);
		while (br_left(&r) > 0 && ntcp2_block_decode(&r, &b) == 0)
			if (ntcp2_block_termination(&b, &frames, &reason) == 0)
				return reason;
	}
	return -1;
}

int ntc_identity(uint8_t netid, struct router_keys **keys,
		 struct router_info **ri, struct noise_static *st)
{
	struct conf *cfg = conf_new_default("/nonexistent");
	int r;

	*keys = router_keys_new_random();
	cfg->netid = netid;
	cfg->port = 9;
	r = router_self_build(cfg, *keys, ri);
	conf_free(cfg);
	if (r == 0)
		noise_static_from_keystore(st, router_keys_keystore(*keys),
					   KEYSTORE_X_NTCP2);
	return r;
}

int ntc_expected_reason(enum ntc_frame_attack a)
{
	switch (a) {
	case NTC_OVERSIZE_I2NP:
	case NTC_OVERSIZE_RI:
		return NTCP2_TERM_PAYLOAD;
	case NTC_BAD_AEAD:
		return NTCP2_TERM_AEAD;
	case NTC_SHORT_LENGTH:
		return NTCP2_TERM_FRAMING;
	}
	return -1;
}

/* A frame holding one block of type with a size field of size (the body
 * is zeros); returns the plaintext length. */
static size_t one_block(uint8_t *plain, uint8_t type, size_t size)
{
	memset(plain, 0, size + 3);
	plain[0] = type;
	be16_put(plain + 1, (uint16_t)size);
	return size + 3;
}

int ntc_frame_attack(const struct ntc_target *t, const struct noise_static *st,
		     const uint8_t *ri, size_t ri_len, enum ntc_frame_attack a)
{
	static uint8_t plain[65536], out[65536 + 18];
	struct ntcp2_keys k;
	struct ntcp2_dir tx, rx;
	size_t n = 0;
	int fd = ntc_handshake(t, st, ri, ri_len, &k), got;

	if (fd < 0)
		return -1;
	ntcp2_dir_init(&tx, &k.send);
	ntcp2_dir_init(&rx, &k.recv);
	switch (a) {
	case NTC_OVERSIZE_I2NP:
		n = one_block(plain, NTCP2_BLOCK_I2NP, NTCP2_I2NP_BLOCK_MAX_BYTES + 1);
		break;
	case NTC_OVERSIZE_RI:
		n = one_block(plain, NTCP2_BLOCK_ROUTERINFO,
			      NTCP2_RI_BLOCK_MAX_BYTES + 1);
		break;
	case NTC_BAD_AEAD:
		n = one_block(plain, NTCP2_BLOCK_PADDING, 97);
		break;
	case NTC_SHORT_LENGTH:
		break;
	}
	if (a == NTC_SHORT_LENGTH) {
		be16_put(out, 5 ^ ntcp2_dir_next_mask(&tx));
		(void)ntc_send(fd, out, 2);
	} else {
		(void)ntcp2_frame_seal(&tx, out, plain, n);
		if (a == NTC_BAD_AEAD)
			out[40] ^= 1;
		(void)ntc_send(fd, out, n + 18);
	}
	got = ntc_read_termination(fd, &rx);
	(void)ntc_wait_close(fd, NULL);
	close(fd);
	ntcp2_dir_wipe(&tx);
	ntcp2_dir_wipe(&rx);
	return got;
}
