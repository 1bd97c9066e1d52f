/*
 * apps/sam: a SAM bridge on a loopback port (in a child process, on its
 * own event loop, over the in-process localnet), driven by plain blocking
 * SAM clients: sessions, a stream moved both ways between two sessions
 * byte for byte, half-close, FORWARD, NAMING LOOKUP, DEST GENERATE,
 * datagrams, PING, and the error replies to malformed commands.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apps/client/localnet.h"
#include "apps/sam/sam.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "router/evloop.h"
#include "router/keys_and_cert.h"
#include "tests/unit/tharness.h"

#define IO_TIMEOUT_S 60

struct tsam {
	pid_t pid;
	uint16_t port, udp_port;
};

/* Run a SAM server in a child process; its port comes back on a pipe. */
static bool tsam_start(struct tsam *ts)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds) != 0)
		return false;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		struct evloop *el = evloop_new();
		struct localnet *net = localnet_new(el);
		struct client_net cn = localnet_client_net(net);
		struct sam_server_cfg cfg;
		struct sam_server *srv;
		uint16_t ports[2];

		close(fds[0]);
		sam_server_cfg_default(&cfg);
		cfg.port = 0;
		cfg.udp_port = 0;
		if (sam_server_new(el, &cn, &cfg, &srv) != 0)
			_exit(1);
		ports[0] = sam_server_port(srv);
		ports[1] = sam_server_udp_port(srv);
		if (write(fds[1], ports, sizeof(ports)) != sizeof(ports))
			_exit(1);
		close(fds[1]);
		evloop_run(el);
		_exit(0);
	}
	close(fds[1]);
	ts->pid = pid;
	{
		uint16_t ports[2];

		if (read(fds[0], ports, sizeof(ports)) != sizeof(ports)) {
			close(fds[0]);
			return false;
		}
		ts->port = ports[0];
		ts->udp_port = ports[1];
	}
	close(fds[0]);
	return true;
}

static void tsam_stop(struct tsam *ts)
{
	int st;

	kill(ts->pid, SIGTERM);
	waitpid(ts->pid, &st, 0);
}

static int dial(uint16_t port)
{
	struct sockaddr_in sin;
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		abort();
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static void put(int fd, const char *s)
{
	size_t n = strlen(s);

	if (write(fd, s, n) != (ssize_t)n)
		abort();
}

/* One reply line (without "\n") into a static buffer; "" on EOF. */
static char *get_line(int fd)
{
	static char buf[8192];
	size_t n = 0;

	while (n + 1 < sizeof(buf)) {
		char ch;

		if (read(fd, &ch, 1) != 1)
			break;
		if (ch == '\n')
			break;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return buf;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The value of KEY= in a reply line (malloc'd), or NULL. */
static char *field(const char *line, const char *key)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), " %s=", key);
	if (!(p = strstr(line, pat)))
		return NULL;
	p += strlen(pat);
	n = strcspn(p, " ");
	return strndup(p, n);
}

static int hello(struct tctx *t, uint16_t port)
{
	int fd = dial(port);

	put(fd, "HELLO VERSION MIN=3.0 MAX=3.3\n");
	T_STREQ(t, get_line(fd), "HELLO REPLY RESULT=OK VERSION=3.3");
	return fd;
}

/* A control socket with a session; *pub gets its Destination (base64). */
static int session_opts(struct tctx *t, uint16_t port, const char *id,
			const char *style, const char *opts, char **pub);

static int session(struct tctx *t, uint16_t port, const char *id,
		   const char *style, char **pub)
{
	return session_opts(t, port, id, style, "", pub);
}

static int session_opts(struct tctx *t, uint16_t port, const char *id,
			const char *style, const char *opts, char **pub)
{
	int fd = hello(t, port);
	char line[256], *l, *priv;
	uint8_t raw[2048];
	size_t n;
	struct breader r;
	struct keys_and_cert k;
	char enc[B64_ENC_LEN(KAC_MAX_BYTES)];

	snprintf(line, sizeof(line), "SESSION CREATE STYLE=%s ID=%s "
		 "DESTINATION=TRANSIENT SIGNATURE_TYPE=7 "
		 "i2cp.leaseSetEncType=4,0%s\n", style, id, opts);
	put(fd, line);
	l = get_line(fd);
	T_TRUE(t, starts(l, "SESSION STATUS RESULT=OK DESTINATION="));
	priv = field(l, "DESTINATION");
	*pub = NULL;
	if (!priv || b64_decode(raw, sizeof(raw), &n, priv, strlen(priv)))
		return fd;
	/* The blob: Destination (391) || X25519 key (32) || seed (32). */
	T_EQ(t, n, 391 + 32 + 32);
	br_init(&r, raw, n);
	if (keys_and_cert_decode(&r, &k) == 0 &&
	    b64_encode(enc, sizeof(enc), k.raw, k.len) == 0)
		*pub = strdup(enc);
	free(priv);
	return fd;
}

static uint8_t pat(int dir, size_t i)
{
	return (uint8_t)((i * 31 + (i >> 9) + (size_t)dir * 101) & 0xff);
}

/* Move n bytes x->y and n bytes y->x at once (poll), checking both. */
static void exchange(struct tctx *t, int x, int y, size_t n)
{
	size_t sent[2] = { 0, 0 }, got[2] = { 0, 0 };
	int fds[2] = { x, y };
	bool bad = false;
	uint8_t buf[32768];

	while ((got[0] < n || got[1] < n) && !bad) {
		struct pollfd p[2];

		for (int i = 0; i < 2; i++) {
			p[i].fd = fds[i];
			p[i].events = POLLIN | (sent[i] < n ? POLLOUT : 0);
		}
		if (poll(p, 2, IO_TIMEOUT_S * 1000) <= 0) {
			t_fail(t, __FILE__, __LINE__, "exchange stalled");
			return;
		}
		for (int i = 0; i < 2; i++) {
			if ((p[i].revents & POLLOUT) && sent[i] < n) {
				size_t k = n - sent[i] < sizeof(buf) ?
						   n - sent[i] : sizeof(buf);
				ssize_t w;

				for (size_t j = 0; j < k; j++)
					buf[j] = pat(i, sent[i] + j);
				w = send(fds[i], buf, k, MSG_DONTWAIT);
				if (w > 0)
					sent[i] += (size_t)w;
			}
			if (p[i].revents & (POLLIN | POLLHUP)) {
				ssize_t r = recv(fds[i], buf, sizeof(buf),
						 MSG_DONTWAIT);

				if (r == 0) {
					t_fail(t, __FILE__, __LINE__,
					       "early EOF on %d", i);
					return;
				}
				/* what i receives, 1 - i sent */
				for (ssize_t j = 0; j < r; j++)
					if (buf[j] != pat(1 - i, got[i] + j))
						bad = true;
				if (r > 0)
					got[i] += (size_t)r;
			}
		}
	}
	T_FALSE(t, bad);
	T_EQ(t, got[0], n);
	T_EQ(t, got[1], n);
}

static void test_stream_both_ways(struct tctx *t)
{
	struct tsam ts;
	char *pa = NULL, *pb = NULL, line[2048], *l, *me;
	int ca, cb, acc, con;
	char c;

	T_TRUE(t, tsam_start(&ts));
	ca = session(t, ts.port, "alice", "STREAM", &pa);
	cb = session(t, ts.port, "bob", "STREAM", &pb);
	T_TRUE(t, pa && pb);
	if (!pa || !pb)
		goto out;
	put(cb, "NAMING LOOKUP NAME=ME\n");
	l = get_line(cb);
	me = field(l, "VALUE");
	T_TRUE(t, starts(l, "NAMING REPLY RESULT=OK NAME=ME VALUE="));
	T_STREQ(t, me, pb);
	free(me);

	acc = hello(t, ts.port);
	put(acc, "STREAM ACCEPT ID=alice SILENT=false\n");
	T_STREQ(t, get_line(acc), "STREAM STATUS RESULT=OK");
	con = hello(t, ts.port);
	snprintf(line, sizeof(line), "STREAM CONNECT ID=bob DESTINATION=%s "
		 "SILENT=false FROM_PORT=7 TO_PORT=9\n", pa);
	put(con, line);
	T_STREQ(t, get_line(con), "STREAM STATUS RESULT=OK");
	/* The acceptor learns who called, and the ports (3.2). */
	l = get_line(acc);
	T_TRUE(t, starts(l, pb));
	T_TRUE(t, strstr(l, " FROM_PORT=7 TO_PORT=9") != NULL);

	exchange(t, con, acc, 3 * 1024 * 1024);

	/* Half-close: the acceptor reads EOF, can still answer, and then
	 * the connector reads EOF too. */
	shutdown(con, SHUT_WR);
	T_EQ(t, read(acc, &c, 1), 0);
	put(acc, "bye");
	T_EQ(t, read(con, line, 3), 3);
	T_TRUE(t, memcmp(line, "bye", 3) == 0);
	close(acc);
	T_EQ(t, read(con, &c, 1), 0);
	close(con);
	close(ca);
	close(cb);
out:
	free(pa);
	free(pb);
	tsam_stop(&ts);
}

static void test_forward(struct tctx *t)
{
	struct tsam ts;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char *pa = NULL, *pb = NULL, line[2048];
	int ca, cb, fwd, lis, srv, con;

	T_TRUE(t, tsam_start(&ts));
	ca = session(t, ts.port, "fa", "STREAM", &pa);
	cb = session(t, ts.port, "fb", "STREAM", &pb);
	lis = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_OK(t, bind(lis, (struct sockaddr *)&sin, sizeof(sin)));
	T_OK(t, listen(lis, 4));
	getsockname(lis, (struct sockaddr *)&sin, &sl);
	fwd = hello(t, ts.port);
	snprintf(line, sizeof(line), "STREAM FORWARD ID=fa PORT=%u "
		 "HOST=127.0.0.1\n", ntohs(sin.sin_port));
	put(fwd, line);
	T_STREQ(t, get_line(fwd), "STREAM STATUS RESULT=OK");
	/* A second listener on the session is refused. */
	{
		int acc = hello(t, ts.port);

		put(acc, "STREAM ACCEPT ID=fa\n");
		T_TRUE(t, starts(get_line(acc),
				 "STREAM STATUS RESULT=I2P_ERROR"));
		close(acc);
	}
	con = hello(t, ts.port);
	snprintf(line, sizeof(line), "STREAM CONNECT ID=fb DESTINATION=%s\n",
		 pa ? pa : "x");
	put(con, line);
	T_STREQ(t, get_line(con), "STREAM STATUS RESULT=OK");
	srv = accept(lis, NULL, NULL);
	T_TRUE(t, srv >= 0);
	if (srv >= 0) {
		struct timeval tv = { IO_TIMEOUT_S, 0 };

		setsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		T_TRUE(t, pb && starts(get_line(srv), pb));
		exchange(t, con, srv, 200000);
		close(srv);
	}
	close(con);
	close(fwd);
	close(lis);
	close(ca);
	close(cb);
	free(pa);
	free(pb);
	tsam_stop(&ts);
}

static void test_datagrams(struct tctx *t)
{
	struct tsam ts;
	char *pa = NULL, *pb = NULL, line[2048], *l, *from, *size;
	char body[6];
	int ca, cb;

	T_TRUE(t, tsam_start(&ts));
	ca = session(t, ts.port, "da", "DATAGRAM", &pa);
	cb = session(t, ts.port, "db", "DATAGRAM", &pb);
	snprintf(line, sizeof(line), "DATAGRAM SEND DESTINATION=%s SIZE=5 "
		 "FROM_PORT=1 TO_PORT=2\nhello", pb ? pb : "x");
	put(ca, line);
	l = get_line(cb);
	T_TRUE(t, starts(l, "DATAGRAM RECEIVED DESTINATION="));
	from = field(l, "DESTINATION");
	size = field(l, "SIZE");
	T_STREQ(t, from, pa);
	T_STREQ(t, size, "5");
	T_TRUE(t, strstr(l, " FROM_PORT=1 TO_PORT=2") != NULL);
	T_EQ(t, read(cb, body, 5), 5);
	T_TRUE(t, memcmp(body, "hello", 5) == 0);
	free(from);
	free(size);
	/* RAW SEND needs a RAW session. */
	put(ca, "RAW SEND DESTINATION=x SIZE=1\n");
	T_TRUE(t, starts(get_line(ca), "RAW STATUS RESULT=I2P_ERROR"));
	close(ca);
	close(cb);
	free(pa);
	free(pb);
	tsam_stop(&ts);
}

/* Utility commands and the answers to bad ones. */
static void test_commands_and_errors(struct tctx *t)
{
	struct tsam ts;
	char *pa = NULL, *l, *b32, line[2048];
	int fd, ca;

	T_TRUE(t, tsam_start(&ts));
	/* Before HELLO: an error, then the socket closes. */
	fd = dial(ts.port);
	put(fd, "SESSION CREATE STYLE=STREAM ID=x DESTINATION=TRANSIENT\n");
	T_TRUE(t, starts(get_line(fd), "HELLO REPLY RESULT=I2P_ERROR"));
	T_STREQ(t, get_line(fd), "");
	close(fd);
	fd = dial(ts.port);
	put(fd, "HELLO VERSION MIN=3.4\n");
	T_STREQ(t, get_line(fd), "HELLO REPLY RESULT=NOVERSION");
	close(fd);
	fd = dial(ts.port);
	put(fd, "hello version MIN=3.0 MAX=3.1\r\n");	/* telnet style */
	T_STREQ(t, get_line(fd), "HELLO REPLY RESULT=OK VERSION=3.1");
	put(fd, "PING keep me\n");
	T_STREQ(t, get_line(fd), "PONG keep me");
	put(fd, "FROB NICATE\n");
	T_TRUE(t, starts(get_line(fd), "FROB STATUS RESULT=I2P_ERROR"));
	put(fd, "SESSION CREATE STYLE=STREAM ID=bad DESTINATION=AAAA\n");
	T_STREQ(t, get_line(fd), "SESSION STATUS RESULT=INVALID_KEY");
	put(fd, "SESSION CREATE STYLE=BOGUS ID=z DESTINATION=TRANSIENT\n");
	T_TRUE(t, starts(get_line(fd), "SESSION STATUS RESULT=I2P_ERROR"));
	put(fd, "SESSION CREATE STYLE=STREAM ID=z DESTINATION=TRANSIENT "
		"SIGNATURE_TYPE=DSA_SHA1\n");
	T_TRUE(t, starts(get_line(fd), "SESSION STATUS RESULT=I2P_ERROR"));
	put(fd, "SESSION CREATE STYLE=STREAM ID=z DESTINATION=TRANSIENT "
		"inbound.length=8\n");
	T_TRUE(t, starts(get_line(fd), "SESSION STATUS RESULT=I2P_ERROR"));
	put(fd, "SESSION CREATE STYLE=STREAM ID=z DESTINATION=TRANSIENT "
		"outbound.quantity=0\n");
	T_TRUE(t, starts(get_line(fd), "SESSION STATUS RESULT=I2P_ERROR"));
	put(fd, "STREAM CONNECT ID=nosuch DESTINATION=AAAA\n");
	T_STREQ(t, get_line(fd), "STREAM STATUS RESULT=INVALID_ID");
	put(fd, "NAMING LOOKUP NAME=nowhere.i2p\n");
	T_STREQ(t, get_line(fd),
		"NAMING REPLY RESULT=KEY_NOT_FOUND NAME=nowhere.i2p");
	put(fd, "DEST GENERATE SIGNATURE_TYPE=7\n");
	l = get_line(fd);
	T_TRUE(t, starts(l, "DEST REPLY PUB="));
	T_TRUE(t, strstr(l, " PRIV=") != NULL);
	put(fd, "SESSION ADD STYLE=STREAM ID=sub\n");
	T_TRUE(t, starts(get_line(fd), "SESSION STATUS RESULT=I2P_ERROR"));

	/* A session, then the same ID again, and a b32 lookup of it. */
	ca = session(t, ts.port, "named", "STREAM", &pa);
	put(fd, "SESSION CREATE STYLE=STREAM ID=named DESTINATION=TRANSIENT\n");
	T_STREQ(t, get_line(fd), "SESSION STATUS RESULT=DUPLICATED_ID");
	if (pa) {
		uint8_t raw[1024];
		size_t n;
		struct breader r;
		struct keys_and_cert k;
		char enc[B32_ENC_LEN(32)];

		b64_decode(raw, sizeof(raw), &n, pa, strlen(pa));
		br_init(&r, raw, n);
		T_OK(t, keys_and_cert_decode(&r, &k));
		b32_encode(enc, sizeof(enc), k.hash, 32);
		snprintf(line, sizeof(line), "NAMING LOOKUP NAME=%s.b32.i2p\n",
			 enc);
		put(fd, line);
		l = get_line(fd);
		b32 = field(l, "VALUE");
		T_TRUE(t, starts(l, "NAMING REPLY RESULT=OK"));
		T_STREQ(t, b32, pa);
		free(b32);
	}
	/* A connect to a destination nobody serves. */
	put(fd, "DEST GENERATE\n");
	l = get_line(fd);
	{
		char *pub = field(l, "PUB");
		int con = hello(t, ts.port);

		snprintf(line, sizeof(line),
			 "STREAM CONNECT ID=named DESTINATION=%s\n",
			 pub ? pub : "");
		put(con, line);
		T_TRUE(t, starts(get_line(con),
				 "STREAM STATUS RESULT=CANT_REACH_PEER"));
		close(con);
		free(pub);
	}
	/* Closing the control socket ends the session: the ID is free. */
	close(ca);
	for (int i = 0; i < 3000; i++) {	/* up to 30 s */
		put(fd, "SESSION CREATE STYLE=STREAM ID=named "
			"DESTINATION=TRANSIENT\n");
		l = get_line(fd);
		if (!starts(l, "SESSION STATUS RESULT=DUPLICATED_ID"))
			break;
		usleep(10000);
	}
	T_TRUE(t, starts(l, "SESSION STATUS RESULT=OK"));
	put(fd, "QUIT\n");
	T_STREQ(t, get_line(fd), "");
	close(fd);
	free(pa);
	tsam_stop(&ts);
}

/* A UDP socket on 127.0.0.1 with a receive timeout; *port gets its port. */
static int udp_socket(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		abort();
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void udp_to(int fd, uint16_t port, const char *msg, size_t len)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sendto(fd, msg, len, 0, (struct sockaddr *)&sin, sizeof(sin)) !=
	    (ssize_t)len)
		abort();
}

/* Datagrams sent to the UDP port, and received ones forwarded to the
 * sessions' PORT (repliable with the sender first; raw with HEADER=true
 * after a line of ports and protocol). */
static void test_udp_port(struct tctx *t)
{
	struct tsam ts;
	uint16_t pa_port, pb_port, pr_port, pu_port;
	int ua, ub, ur, u, ca, cb, cr, cx;
	char *pa = NULL, *pb = NULL, *pr = NULL, *px = NULL, opts[64];
	char msg[2048], got[4096];
	ssize_t n;

	T_TRUE(t, tsam_start(&ts));
	T_TRUE(t, ts.udp_port != 0);
	ua = udp_socket(&pa_port);
	ub = udp_socket(&pb_port);
	ur = udp_socket(&pr_port);
	u = udp_socket(&pu_port);
	snprintf(opts, sizeof(opts), " PORT=%u HOST=127.0.0.1", pa_port);
	ca = session_opts(t, ts.port, "ua", "DATAGRAM", opts, &pa);
	snprintf(opts, sizeof(opts), " PORT=%u", pb_port);
	cb = session_opts(t, ts.port, "ub", "DATAGRAM", opts, &pb);
	snprintf(opts, sizeof(opts), " PORT=%u HEADER=true", pr_port);
	cr = session_opts(t, ts.port, "ur", "RAW", opts, &pr);
	cx = session_opts(t, ts.port, "ux", "RAW", "", &px);
	if (!pa || !pb || !pr || !px)
		goto out;

	n = snprintf(msg, sizeof(msg), "3.0 ua %s FROM_PORT=3 TO_PORT=4\n"
		     "hello udp", pb);
	udp_to(u, ts.udp_port, msg, (size_t)n);
	n = recv(ub, got, sizeof(got) - 1, 0);
	T_TRUE(t, n > 0);
	if (n > 0) {
		got[n] = '\0';
		snprintf(msg, sizeof(msg), "%s FROM_PORT=3 TO_PORT=4\nhello udp",
			 pa);
		T_STREQ(t, got, msg);
	}
	n = snprintf(msg, sizeof(msg), "3.2 ux %s PROTOCOL=19\nraw!", pr);
	udp_to(u, ts.udp_port, msg, (size_t)n);
	n = recv(ur, got, sizeof(got) - 1, 0);
	T_TRUE(t, n > 0);
	if (n > 0) {
		got[n] = '\0';
		T_STREQ(t, got, "FROM_PORT=0 TO_PORT=0 PROTOCOL=19\nraw!");
	}
	/* Junk and an unknown nickname are dropped; the port still works. */
	udp_to(u, ts.udp_port, "garbage", 7);
	n = snprintf(msg, sizeof(msg), "3.0 nobody %s\nx", pb);
	udp_to(u, ts.udp_port, msg, (size_t)n);
	n = snprintf(msg, sizeof(msg), "3.1 ua %s\nagain", pb);
	udp_to(u, ts.udp_port, msg, (size_t)n);
	n = recv(ub, got, sizeof(got) - 1, 0);
	T_TRUE(t, n > 5 && memcmp(got + n - 6, "\nagain", 6) == 0);
	close(ca);
	close(cb);
	close(cr);
	close(cx);
out:
	close(ua);
	close(ub);
	close(ur);
	close(u);
	free(pa);
	free(pb);
	free(pr);
	free(px);
	tsam_stop(&ts);
}

/* 3.3 PRIMARY (i2pd: MASTER) sessions: subsessions share the primary's
 * destination; streams and datagrams are routed by style and port. */
static void test_primary(struct tctx *t)
{
	struct tsam ts;
	uint16_t dport, uport;
	int ctl, cb, cd, acc, con, ud, u;
	char *pp = NULL, *pb = NULL, *pd = NULL, line[2048], got[4096], *l;
	ssize_t n;

	T_TRUE(t, tsam_start(&ts));
	ud = udp_socket(&dport);
	u = udp_socket(&uport);
	ctl = session(t, ts.port, "prim", "MASTER", &pp);
	put(ctl, "SESSION ADD STYLE=STREAM ID=web FROM_PORT=80\n");
	l = get_line(ctl);
	T_TRUE(t, starts(l, "SESSION STATUS RESULT=OK DESTINATION="));
	put(ctl, "SESSION ADD STYLE=STREAM ID=web2 FROM_PORT=80\n");
	T_TRUE(t, starts(get_line(ctl), "SESSION STATUS RESULT=DUPLICATED_ID"));
	snprintf(line, sizeof(line), "SESSION ADD STYLE=DATAGRAM ID=dht "
		 "PORT=%u HOST=127.0.0.1 FROM_PORT=6881\n", dport);
	put(ctl, line);
	T_TRUE(t, starts(get_line(ctl), "SESSION STATUS RESULT=OK"));
	put(ctl, "SESSION ADD STYLE=RAW ID=r LISTEN_PROTOCOL=6\n");
	T_TRUE(t, starts(get_line(ctl), "SESSION STATUS RESULT=I2P_ERROR"));
	/* The primary's ID takes no streams. */
	acc = hello(t, ts.port);
	put(acc, "STREAM ACCEPT ID=prim\n");
	T_STREQ(t, get_line(acc), "STREAM STATUS RESULT=INVALID_ID");
	close(acc);

	cb = session(t, ts.port, "peer", "STREAM", &pb);
	cd = session(t, ts.port, "peerdg", "DATAGRAM", &pd);
	if (!pp || !pb || !pd)
		goto out;
	acc = hello(t, ts.port);
	put(acc, "STREAM ACCEPT ID=web\n");
	T_STREQ(t, get_line(acc), "STREAM STATUS RESULT=OK");
	con = hello(t, ts.port);
	snprintf(line, sizeof(line), "STREAM CONNECT ID=peer DESTINATION=%s "
		 "TO_PORT=80\n", pp);
	put(con, line);
	T_STREQ(t, get_line(con), "STREAM STATUS RESULT=OK");
	T_TRUE(t, starts(get_line(acc), pb));
	exchange(t, con, acc, 100000);
	close(con);
	close(acc);
	/* A stream to a port nobody listens on is refused. */
	con = hello(t, ts.port);
	snprintf(line, sizeof(line), "STREAM CONNECT ID=peer DESTINATION=%s "
		 "TO_PORT=81\n", pp);
	put(con, line);
	T_TRUE(t, starts(get_line(con), "STREAM STATUS RESULT=CANT_REACH_PEER"));
	close(con);
	/* A repliable datagram to port 6881 reaches the DATAGRAM
	 * subsession's UDP port. */
	n = snprintf(line, sizeof(line), "3.3 peerdg %s TO_PORT=6881\nping",
		     pp);
	udp_to(u, ts.udp_port, line, (size_t)n);
	n = recv(ud, got, sizeof(got) - 1, 0);
	T_TRUE(t, n > 0);
	if (n > 0) {
		got[n] = '\0';
		T_TRUE(t, starts(got, pd));
		T_TRUE(t, strstr(got, "TO_PORT=6881\nping") != NULL);
	}
	put(ctl, "SESSION REMOVE ID=web\n");
	T_STREQ(t, get_line(ctl), "SESSION STATUS RESULT=OK");
	put(ctl, "SESSION REMOVE ID=web\n");
	T_TRUE(t, starts(get_line(ctl), "SESSION STATUS RESULT=I2P_ERROR"));
	put(ctl, "SESSION ADD STYLE=STREAM ID=web FROM_PORT=80\n");
	T_TRUE(t, starts(get_line(ctl), "SESSION STATUS RESULT=OK"));
out:
	close(cb);
	close(cd);
	close(ctl);
	close(ud);
	close(u);
	free(pp);
	free(pb);
	free(pd);
	tsam_stop(&ts);
}

const struct test_case client_sam_tests[] = {
	{ "primary", test_primary, TT_FORK },
	{ "udp_port", test_udp_port, TT_FORK },
	{ "stream_both_ways", test_stream_both_ways, TT_FORK },
	{ "forward", test_forward, TT_FORK },
	{ "datagrams", test_datagrams, TT_FORK },
	{ "commands_and_errors", test_commands_and_errors, TT_FORK },
	{ NULL, NULL, 0 }
};
