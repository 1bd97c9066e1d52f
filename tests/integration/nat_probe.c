/*
 * Drive router/nat.h for tests/integration/test_ssu2_nat.sh: map a UDP
 * port on the NAT in front of this namespace, echo every datagram that
 * reaches the port (so the test can prove the mapping from outside),
 * print one line per status change, and SECONDS after the first mapping
 * (or SECONDS + 60 without one: UPnP discovery may take long on a busy
 * machine) free the mapper (which removes the mapping) and print
 * "removed".
 *
 *   nat_probe PORT SECONDS [natpmp|upnp|both] [LIFETIME_S] [IGD_URL]
 */
#include "config.h"
#include "router/evloop.h"
#include "router/nat.h"
#include "router/worker.h"
#include "crypto/base/log.h"
#include "crypto/init.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct probe {
	struct evloop_timer *stop;
	uint64_t ms;		/* SECONDS */
	bool mapped;
};

static void on_status(void *arg, const struct nat_status *st)
{
	struct probe *p = arg;
	char ip[INET_ADDRSTRLEN] = "0.0.0.0";

	if (st->mapped && !p->mapped) {
		p->mapped = true;
		evloop_timer_arm(p->stop, p->ms);
	}
	inet_ntop(AF_INET, &st->ext_ip, ip, sizeof(ip));
	printf("%s method=%s ext=%s:%u lifetime=%u mappings=%llu "
	       "failures=%llu\n", st->mapped ? "mapped" : "unmapped",
	       nat_method_name(st->method), ip, (unsigned)st->ext_port,
	       (unsigned)st->lifetime_s, (unsigned long long)st->mappings,
	       (unsigned long long)st->failures);
	fflush(stdout);
}

static void echo_cb(evutil_socket_t fd, short what, void *arg)
{
	uint8_t buf[2048];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&from, &fl);

	(void)what;
	(void)arg;
	if (n > 0)
		(void)sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from,
			     fl);
}

static void stop_cb(void *arg)
{
	evloop_break(arg);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct nat_config cfg;
	struct evloop *el;
	struct worker_pool *wp;
	struct probe p = { 0 };
	struct event *ev;
	struct nat *n;
	int fd;

	if (argc < 3)
		return 2;
	crypto_init();
	log_set_level(LOG_INFO);
	nat_config_default(&cfg);
	if (argc > 3 && strcmp(argv[3], "natpmp") == 0)
		cfg.upnp = false;
	if (argc > 3 && strcmp(argv[3], "upnp") == 0)
		cfg.natpmp = false;
	if (argc > 4)
		cfg.lifetime_s = (uint32_t)strtoul(argv[4], NULL, 10);
	if (argc > 5)
		snprintf(cfg.igd_url, sizeof(cfg.igd_url), "%s", argv[5]);
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("nat_probe: bind");
		return 1;
	}
	el = evloop_new();
	wp = worker_pool_new(el, 1);
	ev = event_new(evloop_base(el), fd, EV_READ | EV_PERSIST, echo_cb, NULL);
	event_add(ev, NULL);
	p.ms = (uint64_t)atoi(argv[2]) * 1000;
	p.stop = evloop_timer_new(el, stop_cb, el);
	evloop_timer_arm(p.stop, p.ms + 60000);
	n = nat_new(el, wp, &cfg, NAT_PROTO_UDP, (uint16_t)atoi(argv[1]),
		    on_status, &p);
	(void)evloop_run(el);
	nat_free(n);
	worker_pool_free(wp);	/* runs the UPnP removal job */
	printf("removed\n");
	fflush(stdout);
	evloop_timer_free(p.stop);
	event_free(ev);
	close(fd);
	evloop_free(el);
	return 0;
}
