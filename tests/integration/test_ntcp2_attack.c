/*
 * test_ntcp2_attack: bad input for a running bitsd (used by
 * test_ntcp2_bad.sh).
 *
 *   test_ntcp2_attack ROUTER_INFO NETID SCENARIO [COUNT]
 *
 * ROUTER_INFO is the target's router.info (its address and NTCP2 keys).
 * Scenarios: garbage, truncated, replay, netid, skew, oversize_i2np,
 * oversize_ri, aead, shortlen (one connection each, checking that the
 * connection ends as the spec says), many (COUNT bad connections in a
 * row, not waiting), held (COUNT connections held open without a byte:
 * one more must be closed at once, the COUNT stay open: a target whose
 * pending-handshake limit per address is COUNT) and silent (one
 * connection without a byte: prints how long the target took to close
 * it, its handshake timeout).  Prints one line and exits 0 when the
 * target behaved.
 */
#include "config.h"
#include "tests/unit/router/test_ntcp2_client.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/init.h"
#include "crypto/rand.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ntc_target tgt;
static struct noise_static me;
static const uint8_t *my_ri;
static size_t my_ri_len;

static int verdict(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
	return ok ? 0 : 1;
}

/* Send bytes, expect the server to close without answering. */
static bool closed_silently(const void *p, size_t n)
{
	size_t extra = 0;
	int fd = ntc_connect(&tgt);
	bool ok;

	if (fd < 0)
		return false;
	ok = ntc_send(fd, p, n) && ntc_wait_close(fd, &extra) >= 0 && extra == 0;
	close(fd);
	return ok;
}

static void request(uint8_t netid, uint32_t ts, struct ntcp2_hs *hs,
		    struct bbuf *m1)
{
	ntc_request(&tgt, &me, hs, netid, ts, 100, m1);
}

static int scenario(const char *name, unsigned count)
{
	struct ntcp2_hs hs;
	struct ntcp2_hs_options o;
	struct bbuf m1 = BBUF_INIT;
	uint8_t buf[256];
	int fd, rc = 2;

	memset(&hs, 0, sizeof(hs));
	if (strcmp(name, "garbage") == 0) {
		rand_bytes(buf, 64);
		rc = verdict(closed_silently(buf, 64),
			     "garbage: closed without a reply");
	} else if (strcmp(name, "truncated") == 0) {
		request(tgt.netid, (uint32_t)time_now_s(), &hs, &m1);
		fd = ntc_connect(&tgt);
		rc = verdict(fd >= 0 && ntc_send(fd, m1.data, 40) &&
			     shutdown(fd, SHUT_WR) == 0 &&
			     ntc_wait_close(fd, NULL) >= 0,
			     "truncated SessionRequest: closed");
		if (fd >= 0)
			close(fd);
	} else if (strcmp(name, "replay") == 0) {
		request(tgt.netid, (uint32_t)time_now_s(), &hs, &m1);
		fd = ntc_connect(&tgt);
		bool first = fd >= 0 && ntc_send(fd, m1.data, m1.len) &&
			     ntc_read(fd, buf, 64);
		if (fd >= 0)
			close(fd);
		rc = verdict(first && closed_silently(m1.data, m1.len),
			     "replayed SessionRequest: closed without a reply");
	} else if (strcmp(name, "netid") == 0) {
		request(5, (uint32_t)time_now_s(), &hs, &m1);
		rc = verdict(closed_silently(m1.data, m1.len),
			     "wrong netId: closed without a reply");
	} else if (strcmp(name, "skew") == 0) {
		uint32_t fake = (uint32_t)time_now_s() - 3600;

		request(tgt.netid, fake, &hs, &m1);
		fd = ntc_connect(&tgt);
		rc = verdict(fd >= 0 && ntc_send(fd, m1.data, m1.len) &&
			     ntc_read(fd, buf, 64) &&
			     ntcp2_hs_read_created(&hs, buf, fake, NULL, 0, &o) ==
				     ERR_EXPIRED &&
			     ntcp2_hs_skew_s(&hs) > 3500 &&
			     ntc_wait_close(fd, NULL) >= 0,
			     "skewed clock: SessionCreated with Bob's time, closed");
		if (fd >= 0)
			close(fd);
	} else if (strcmp(name, "held") == 0) {
		int held[16], extra;
		unsigned n = count < 16 ? count : 16, open_still = 0;
		int64_t ms;

		for (unsigned i = 0; i < n; i++)
			held[i] = ntc_connect(&tgt);
		usleep(300 * 1000);	/* the target accepts them */
		extra = ntc_connect(&tgt);
		ms = extra >= 0 ? ntc_wait_close(extra, NULL) : -1;
		for (unsigned i = 0; i < n; i++) {
			struct pollfd p = { .fd = held[i], .events = POLLIN };

			if (held[i] >= 0 && poll(&p, 1, 0) == 0)
				open_still++;
			if (held[i] >= 0)
				close(held[i]);
		}
		if (extra >= 0)
			close(extra);
		snprintf((char *)buf, sizeof(buf), "held: %u of %u held open, "
			 "one more closed after %lld ms", open_still, n,
			 (long long)ms);
		rc = verdict(open_still == n && ms >= 0 && ms < 1000,
			     (const char *)buf);
	} else if (strcmp(name, "silent") == 0) {
		int64_t ms = -1;

		if ((fd = ntc_connect(&tgt)) >= 0) {
			ms = ntc_wait_close(fd, NULL);
			close(fd);
		}
		printf("silent: closed after %lld ms\n", (long long)ms);
		rc = ms >= 0 ? 0 : 1;
	} else if (strcmp(name, "many") == 0) {
		unsigned done = 0;

		for (unsigned i = 0; i < count; i++) {
			if ((fd = ntc_connect(&tgt)) < 0)
				continue;
			rand_bytes(buf, sizeof(buf));
			(void)ntc_send(fd, buf, 30 + i % 200);
			close(fd);
			done++;
		}
		rc = verdict(done == count, "bad connections sent");
	} else {
		static const struct {
			const char *name;
			enum ntc_frame_attack a;
		} fa[] = {
			{ "oversize_i2np", NTC_OVERSIZE_I2NP },
			{ "oversize_ri", NTC_OVERSIZE_RI },
			{ "aead", NTC_BAD_AEAD },
			{ "shortlen", NTC_SHORT_LENGTH },
		};
		for (size_t i = 0; i < sizeof(fa) / sizeof(fa[0]); i++) {
			if (strcmp(name, fa[i].name) != 0)
				continue;
			int got = ntc_frame_attack(&tgt, &me, my_ri, my_ri_len,
						   fa[i].a);
			char what[96];

			snprintf(what, sizeof(what), "%s: Termination %d (want %d)",
				 name, got, ntc_expected_reason(fa[i].a));
			rc = verdict(got == ntc_expected_reason(fa[i].a), what);
		}
	}
	ntcp2_hs_wipe(&hs);
	bbuf_free(&m1);
	return rc;
}

int main(int argc, char **argv)
{
	struct router_info *target = NULL, *ri = NULL;
	struct router_keys *keys;
	int r;

	if (argc < 4) {
		fprintf(stderr, "usage: %s ROUTER_INFO NETID SCENARIO [COUNT]\n",
			argv[0]);
		return 2;
	}
	crypto_init();
	if ((r = router_info_file_read(argv[1], &target)) != 0 ||
	    (r = ntc_target_from_ri(&tgt, target, (uint8_t)atoi(argv[2]))) != 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], err_str(r));
		return 2;
	}
	/* A throwaway identity, for the scenarios that finish a handshake. */
	if (ntc_identity(tgt.netid, &keys, &ri, &me) != 0)
		return 2;
	my_ri = router_info_bytes(ri, &my_ri_len);
	r = scenario(argv[3], argc > 4 ? (unsigned)atoi(argv[4]) : 100);
	router_info_free(ri);
	router_info_free(target);
	router_keys_free(keys);
	return r;
}
