/*
 * The SAM v3 bridge (see sam.h; SAM V3 spec).  One struct sam_conn per
 * client socket: it reads command lines until it becomes a stream (after
 * STREAM CONNECT or ACCEPT), then copies bytes between the socket and the
 * stream with back-pressure both ways.  A session lives with the control
 * socket that created it ("SAM sessions live and die with the socket they
 * are associated with").
 */
#include "config.h"
#include "apps/sam/sam.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "apps/client/dest.h"
#include "apps/client/pump.h"
#include "apps/sam/sam_cmd.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "router/certificate.h"
#include "router/datagram.h"
#include "router/evloop.h"

#define SAM_ID_MAX_BYTES 64
#define SAM_DEST_B64_MAX B64_ENC_LEN(KAC_MAX_BYTES)
#define SAM_UDP_MAX_BYTES 65536

enum sam_style { SAM_STREAM, SAM_DATAGRAM, SAM_RAW, SAM_PRIMARY };

enum sam_conn_state {
	SC_HELLO,		/* before HELLO VERSION */
	SC_READY,		/* reading commands */
	SC_DGRAM_BODY,		/* reading the SIZE bytes of DATAGRAM SEND */
	SC_CONNECTING,		/* STREAM CONNECT sent its SYN */
	SC_ACCEPTING,		/* STREAM ACCEPT waits for a stream */
	SC_FWD_CONNECTING,	/* FORWARD: dialling the client's server */
	SC_STREAM		/* copying bytes */
};

struct sam_session;

struct sam_conn {
	struct sam_server *srv;
	struct sam_conn *next;
	struct bufferevent *bev;
	enum sam_conn_state state;
	unsigned version;
	bool silent, closing, flush_close;
	bool eof_out, out_shut, in_eof;	/* half-closes, each way */
	struct sam_session *owned;	/* the session this socket created */
	struct sam_session *sess;	/* CONNECT/ACCEPT/FORWARD: borrowed */
	struct stream *stream;
	/* DATAGRAM SEND / RAW SEND waiting for its body */
	struct keys_and_cert dg_to;
	size_t dg_need;
	uint16_t dg_from_port, dg_to_port;
	bool dg_raw;
};

struct sam_session {
	struct sam_server *srv;
	struct sam_session *next;
	char id[SAM_ID_MAX_BYTES + 1];
	enum sam_style style;
	struct client_dest *dest;
	struct stream_signer signer;
	struct stream_mgr *mgr;
	struct sam_conn *ctl;
	uint16_t from_port, to_port;
	struct sam_conn *acceptors[SAM_ACCEPT_QUEUE_MAX];
	size_t nacceptors;
	struct stream *waiting[SAM_ACCEPT_QUEUE_MAX];
	size_t nwaiting;
	/* STREAM FORWARD */
	struct sam_conn *fwd_ctl;
	struct sockaddr_in fwd_addr;
	bool fwd_silent;
	/* Datagrams received go to this UDP address when dg_fwd is set. */
	bool dg_fwd, dg_header;
	struct sockaddr_in dg_addr;
	uint8_t raw_proto;		/* PROTOCOL for RAW sends */
	struct client_stream_sink sink;	/* streaming packets, as dest */
	/* 3.3 subsessions: dest and mgr are the primary's (borrowed). */
	struct sam_session *primary;
	uint16_t listen_port;		/* 0: any */
	unsigned listen_proto;		/* RAW; 0: any but 6 */
};

struct sam_server {
	struct evloop *el;
	struct client_net net;
	struct sam_server_cfg cfg;
	struct evconnlistener *lis;
	uint16_t port;
	struct keys_and_cert scratch_dest;	/* lookups that only test */
	evutil_socket_t udp_fd;
	struct event *udp_ev;
	uint16_t udp_port;
	struct sam_conn *conns;
	unsigned nconns;
	struct sam_session *sessions;
	unsigned nsessions;
};

static void conn_close(struct sam_conn *c);
static void conn_read_cb(struct bufferevent *bev, void *arg);
static void stream_pump_out(struct sam_conn *c);
static void stream_pump_in(struct sam_conn *c);

void sam_server_cfg_default(struct sam_server_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->host = "127.0.0.1";
	c->port = SAM_DEFAULT_PORT;
	c->max_conns = SAM_MAX_CONNS_DEFAULT;
	c->max_sessions = SAM_MAX_SESSIONS_DEFAULT;
	c->udp = true;
	c->udp_port = SAM_DEFAULT_UDP_PORT;
	stream_config_default(&c->stream);
}

/* ---- replies ------------------------------------------------------------ */

/* Write "VERB SUB[ RESULT=result][ MESSAGE=msg]\n". */
static void reply(struct sam_conn *c, const char *head, const char *result,
		  const char *msg)
{
	struct bbuf b = BBUF_INIT;

	bbuf_put(&b, head, strlen(head));
	if (result)
		sam_put_pair(&b, "RESULT", result);
	if (msg)
		sam_put_pair(&b, "MESSAGE", msg);
	bbuf_u8(&b, '\n');
	bufferevent_write(c->bev, b.data, b.len);
	bbuf_free(&b);
}

static void reply_buf(struct sam_conn *c, struct bbuf *b)
{
	bbuf_u8(b, '\n');
	bufferevent_write(c->bev, b->data, b->len);
}

/* Base64 of a Destination or key blob into out (SAM_DEST_B64_MAX+). */
static void b64(char *out, size_t outlen, const uint8_t *p, size_t n)
{
	if (b64_encode(out, outlen, p, n) != 0)
		out[0] = '\0';
}

/* Decode a base64 Destination (untrusted). */
static int dest_parse(const char *s, struct keys_and_cert *out)
{
	uint8_t raw[KAC_MAX_BYTES];
	struct breader r;
	size_t n;
	int e;

	if ((e = b64_decode(raw, sizeof(raw), &n, s, strlen(s))) != 0)
		return e;
	br_init(&r, raw, n);
	if ((e = keys_and_cert_decode(&r, out)) != 0)
		return e;
	return br_left(&r) == 0 ? 0 : ERR_FORMAT;
}

/* ---- connection lifetime ------------------------------------------------ */

static void conn_free(void *arg)
{
	struct sam_conn *c = arg;

	if (c->bev)
		bufferevent_free(c->bev);
	free(c);
}

static void session_forget_conn(struct sam_session *s, struct sam_conn *c)
{
	for (size_t i = 0; i < s->nacceptors; i++)
		if (s->acceptors[i] == c) {
			memmove(&s->acceptors[i], &s->acceptors[i + 1],
				(s->nacceptors - i - 1) * sizeof(c));
			s->nacceptors--;
			break;
		}
	if (s->fwd_ctl == c)
		s->fwd_ctl = NULL;
}

static void session_free(struct sam_session *s)
{
	struct sam_server *srv = s->srv;

	/* A primary's subsessions go first; they borrow its manager. */
	for (struct sam_session *x = srv->sessions; x;)
		if (x->primary == s) {
			session_free(x);
			x = srv->sessions;
		} else {
			x = x->next;
		}
	/* Every socket still using the session goes with it.  Streams of a
	 * subsession stay with the primary's manager: release them. */
	for (struct sam_conn *c = srv->conns; c; c = c->next)
		if (c->sess == s) {
			if (!s->primary)
				c->stream = NULL;  /* freed with the manager */
			c->sess = NULL;
			conn_close(c);
		}
	if (s->primary) {
		while (s->nwaiting > 0) {
			struct stream *w = s->waiting[--s->nwaiting];

			stream_reset(w);
			stream_release(w);
		}
	}
	for (struct sam_session **pp = &srv->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	srv->nsessions--;
	if (!s->primary) {
		srv->net.detach(srv->net.ctx, s->dest);
		stream_mgr_free(s->mgr);
		client_dest_free(s->dest);
	}
	free(s);
}

/* Close c after the current loop pass (never inside its own callback). */
static void conn_close(struct sam_conn *c)
{
	struct sam_server *srv = c->srv;

	if (c->closing)
		return;
	c->closing = true;
	if (c->bev) {
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	}
	if (c->stream) {
		stream_release(c->stream);
		c->stream = NULL;
	}
	if (c->sess)
		session_forget_conn(c->sess, c);
	if (c->owned) {
		struct sam_session *s = c->owned;

		c->owned = NULL;
		session_free(s);
	}
	for (struct sam_conn **pp = &srv->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	srv->nconns--;
	evloop_mark_close(srv->el, conn_free, c);
}

/* Close once the output is written. */
static void conn_flush_close(struct sam_conn *c)
{
	if (c->closing)
		return;
	c->flush_close = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_close(c);
}

static struct sam_conn *conn_new(struct sam_server *srv,
				 struct bufferevent *bev);

/* ---- streams ------------------------------------------------------------ */

static void conn_stream_event(void *ctx, struct stream *s, unsigned ev)
{
	struct sam_conn *c = ctx;

	(void)s;
	if (c->closing)
		return;
	if (c->state == SC_CONNECTING) {
		if (ev & STREAM_EV_CONNECTED) {
			if (!c->silent)
				reply(c, "STREAM STATUS", "OK", NULL);
			c->state = SC_STREAM;
			bufferevent_enable(c->bev, EV_READ);
		} else if (ev & (STREAM_EV_RESET | STREAM_EV_FAILED)) {
			if (!c->silent)
				reply(c, "STREAM STATUS", "CANT_REACH_PEER",
				      (ev & STREAM_EV_RESET) ?
					      "connection refused" :
					      "no answer");
			conn_flush_close(c);
			return;
		}
	}
	if (c->state != SC_STREAM)
		return;
	if (ev & STREAM_EV_WRITABLE)
		stream_pump_in(c);
	stream_pump_out(c);
	if (ev & (STREAM_EV_RESET | STREAM_EV_FAILED | STREAM_EV_CLOSED))
		conn_flush_close(c);
}

/* The peer closed its side: once the socket has the last byte, shut our
 * writing side; the client may still send.  Both sides shut: close. */
static void conn_shut_out(struct sam_conn *c)
{
	if (c->out_shut || !c->eof_out || c->closing ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		return;
	c->out_shut = true;
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	if (c->in_eof)
		conn_close(c);
}

/* Stream -> socket, up to the output high-water mark; at EOF, shut the
 * socket's writing side after the last byte. */
static void stream_pump_out(struct sam_conn *c)
{
	if (!c->stream || c->closing)
		return;
	if (client_pump_out(c->stream, bufferevent_get_output(c->bev))) {
		c->eof_out = true;
		conn_shut_out(c);
	}
}

/* Socket -> stream while the stream takes it. */
static void stream_pump_in(struct sam_conn *c)
{
	bool full;

	if (!c->stream || c->closing || c->flush_close)
		return;
	(void)client_pump_in(c->stream, bufferevent_get_input(c->bev), SIZE_MAX,
			     &full);
	if (full) {
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	if (c->in_eof)		/* all of it is in the stream: CLOSE next */
		stream_close(c->stream);
	else
		bufferevent_enable(c->bev, EV_READ);
}

/* "$destination FROM_PORT=nnn TO_PORT=nnn\n" for an accepted stream. */
static void write_peer_line(struct sam_conn *c, struct stream *s)
{
	char d[SAM_DEST_B64_MAX];
	struct stream_info info;
	struct bbuf b = BBUF_INIT;
	char num[8];

	b64(d, sizeof(d), stream_peer(s)->raw, stream_peer(s)->len);
	bbuf_put(&b, d, strlen(d));
	if (c->version >= 32) {
		stream_get_info(s, &info);
		snprintf(num, sizeof(num), "%u", info.dst_port);
		sam_put_pair(&b, "FROM_PORT", num);
		snprintf(num, sizeof(num), "%u", info.src_port);
		sam_put_pair(&b, "TO_PORT", num);
	}
	reply_buf(c, &b);
	bbuf_free(&b);
}

/* Join an incoming stream and a socket. */
static void conn_take_stream(struct sam_conn *c, struct stream *s)
{
	c->stream = s;
	c->state = SC_STREAM;
	stream_set_handler(s, conn_stream_event, c);
	if (!c->silent)
		write_peer_line(c, s);
	bufferevent_enable(c->bev, EV_READ);
	stream_pump_out(c);
}

static void fwd_event_cb(struct bufferevent *bev, short what, void *arg);

static void forward_stream(struct sam_session *ss, struct stream *s)
{
	struct sam_server *srv = ss->srv;
	struct bufferevent *bev;
	struct sam_conn *c;

	bev = bufferevent_socket_new(evloop_base(srv->el), -1,
				     BEV_OPT_CLOSE_ON_FREE);
	c = conn_new(srv, bev);
	c->state = SC_FWD_CONNECTING;
	c->sess = ss;
	c->silent = ss->fwd_silent;
	c->version = ss->fwd_ctl ? ss->fwd_ctl->version : 30;
	c->stream = s;
	stream_set_handler(s, NULL, NULL);
	bufferevent_setcb(bev, conn_read_cb, NULL, fwd_event_cb, c);
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&ss->fwd_addr,
				       sizeof(ss->fwd_addr)) != 0)
		conn_close(c);
}

static void session_accept(void *ctx, struct stream *s)
{
	struct sam_session *ss = ctx;

	if (ss->nacceptors > 0) {
		struct sam_conn *c = ss->acceptors[0];

		session_forget_conn(ss, c);
		conn_take_stream(c, s);
	} else if (ss->fwd_ctl) {
		forward_stream(ss, s);
	} else if (ss->nwaiting < SAM_ACCEPT_QUEUE_MAX) {
		stream_set_handler(s, NULL, NULL);
		ss->waiting[ss->nwaiting++] = s;
	} else {
		stream_reset(s);
		stream_release(s);
	}
}

/* ---- datagrams ---------------------------------------------------------- */

/* Append " FROM_PORT=a TO_PORT=b" (and " PROTOCOL=p" if proto). */
static void put_ports(struct bbuf *b, uint16_t from, uint16_t to,
		      unsigned proto)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", from);
	sam_put_pair(b, "FROM_PORT", num);
	snprintf(num, sizeof(num), "%u", to);
	sam_put_pair(b, "TO_PORT", num);
	if (proto) {
		snprintf(num, sizeof(num), "%u", proto);
		sam_put_pair(b, "PROTOCOL", num);
	}
}

/* A received datagram to the session's UDP address: repliable ones
 * "prefixed with the destination", raw ones as they are (HEADER=true:
 * after a line with the ports and protocol). */
static void dgram_forward(struct sam_session *ss, uint8_t proto,
			  uint16_t src_port, uint16_t dst_port,
			  const uint8_t *data, size_t len)
{
	struct bbuf b = BBUF_INIT;
	const uint8_t *payload = data;
	size_t plen = len;

	if (ss->style == SAM_DATAGRAM && proto == DATAGRAM_PROTO_REPLIABLE) {
		struct keys_and_cert *from = xmalloc(sizeof(*from));
		char *d;

		if (datagram_repliable_decode(data, len, from, &payload,
					      &plen) != 0) {
			free(from);
			return;
		}
		d = xmalloc(SAM_DEST_B64_MAX);
		b64(d, SAM_DEST_B64_MAX, from->raw, from->len);
		bbuf_put(&b, d, strlen(d));
		if (ss->ctl->version >= 32)
			put_ports(&b, src_port, dst_port, 0);
		bbuf_u8(&b, '\n');
		free(d);
		free(from);
	} else if (ss->style == SAM_RAW && proto != DATAGRAM_PROTO_REPLIABLE) {
		if (ss->dg_header) {
			put_ports(&b, src_port, dst_port, proto);
			memmove(b.data, b.data + 1, --b.len);	/* no lead space */
			bbuf_u8(&b, '\n');
		}
	} else {
		return;
	}
	bbuf_put(&b, payload, plen);
	if (ss->srv->udp_fd >= 0)
		(void)sendto(ss->srv->udp_fd, b.data, b.len, 0,
			     (struct sockaddr *)&ss->dg_addr,
			     sizeof(ss->dg_addr));
	bbuf_free(&b);
}

static void session_datagram(void *ctx, uint8_t proto, uint16_t src_port,
			     uint16_t dst_port, const uint8_t *data,
			     size_t len)
{
	struct sam_session *ss = ctx;
	struct keys_and_cert *from = NULL;
	const uint8_t *payload = data;
	struct bbuf b = BBUF_INIT;
	char num[16];
	size_t plen = len;

	if (!ss->ctl)
		return;
	if (ss->dg_fwd) {
		dgram_forward(ss, proto, src_port, dst_port, data, len);
		return;
	}
	if (ss->style == SAM_DATAGRAM && proto == DATAGRAM_PROTO_REPLIABLE) {
		char *d = xmalloc(SAM_DEST_B64_MAX);

		from = xmalloc(sizeof(*from));
		if (datagram_repliable_decode(data, len, from, &payload,
					      &plen) != 0) {
			free(from);
			free(d);
			return;
		}
		bbuf_put(&b, "DATAGRAM RECEIVED", 17);
		b64(d, SAM_DEST_B64_MAX, from->raw, from->len);
		sam_put_pair(&b, "DESTINATION", d);
		free(d);
		free(from);
	} else if (ss->style == SAM_RAW && proto != DATAGRAM_PROTO_REPLIABLE) {
		bbuf_put(&b, "RAW RECEIVED", 12);
	} else {
		return;
	}
	snprintf(num, sizeof(num), "%zu", plen);
	sam_put_pair(&b, "SIZE", num);
	if (ss->ctl->version >= 32)
		put_ports(&b, src_port, dst_port,
			  ss->style == SAM_RAW ? proto : 0);
	bbuf_u8(&b, '\n');
	bbuf_put(&b, payload, plen);
	bufferevent_write(ss->ctl->bev, b.data, b.len);
	bbuf_free(&b);
}

static void dgram_send_body(struct sam_conn *c, const uint8_t *body)
{
	struct sam_session *ss = c->owned;
	struct bbuf b = BBUF_INIT;

	if (c->dg_raw) {
		c->srv->net.send(c->srv->net.ctx, ss->dest, &c->dg_to,
				 ss->raw_proto,
			      c->dg_from_port, c->dg_to_port, body,
			      c->dg_need);
	} else if (client_dest_datagram_encode(ss->dest, body, c->dg_need,
					       &b) == 0) {
		c->srv->net.send(c->srv->net.ctx, ss->dest, &c->dg_to,
			      DATAGRAM_PROTO_REPLIABLE, c->dg_from_port,
			      c->dg_to_port, b.data, b.len);
	}
	bbuf_free(&b);
}

/* ---- commands ----------------------------------------------------------- */

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	uint64_t v;

	if (!s || dec_decode(&v, max, s, strlen(s)) != 0)
		return false;
	*out = (unsigned long)v;
	return true;
}

/* inbound.length / outbound.length (0-7) and inbound.quantity /
 * outbound.quantity (1-16) onto dest; false on a bad value. */
static bool tunnel_options(const struct sam_cmd *cmd, struct client_dest *dest)
{
	static const struct {
		const char *key;
		unsigned long min, max;
		size_t off;
	} keys[] = {
		{ "inbound.length", 0, 7,
		  offsetof(struct client_tunnel_opts, in_length) },
		{ "outbound.length", 0, 7,
		  offsetof(struct client_tunnel_opts, out_length) },
		{ "inbound.quantity", 1, 16,
		  offsetof(struct client_tunnel_opts, in_quantity) },
		{ "outbound.quantity", 1, 16,
		  offsetof(struct client_tunnel_opts, out_quantity) },
	};
	struct client_tunnel_opts o = { -1, -1, -1, -1 };
	unsigned long v;

	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const char *s = sam_cmd_get(cmd, keys[i].key);

		if (!s)
			continue;
		if (!parse_uint(s, keys[i].max, &v) || v < keys[i].min)
			return false;
		*(int *)((char *)&o + keys[i].off) = (int)v;
	}
	client_dest_set_tunnel_opts(dest, &o);
	return true;
}

/* FROM_PORT / TO_PORT (default def); false on a bad value. */
static bool get_port(const struct sam_cmd *cmd, const char *key, uint16_t def,
		     uint16_t *out)
{
	const char *v = sam_cmd_get(cmd, key);
	unsigned long n;

	if (!v || !*v) {
		*out = def;
		return true;
	}
	if (!parse_uint(v, 65535, &n))
		return false;
	*out = (uint16_t)n;
	return true;
}

static bool get_bool(const struct sam_cmd *cmd, const char *key, bool def)
{
	const char *v = sam_cmd_get(cmd, key);

	if (!v || !*v)
		return def;
	return strcmp(v, "true") == 0;
}

/* SIGNATURE_TYPE: Ed25519 (7) only, by number or name. */
static bool sig_type_ok(const struct sam_cmd *cmd)
{
	const char *v = sam_cmd_get(cmd, "SIGNATURE_TYPE");

	/* The spec's default is DSA_SHA1, which we cannot sign with: no
	 * SIGNATURE_TYPE gets Ed25519 (PROTOCOLS.md 2.16). */
	return !v || !*v || strcmp(v, "7") == 0 ||
	       strcasecmp(v, "EdDSA_SHA512_Ed25519") == 0;
}

static struct sam_session *session_find(struct sam_server *srv, const char *id)
{
	for (struct sam_session *s = srv->sessions; s; s = s->next)
		if (id && strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

/* i2p.streaming.* options of SESSION CREATE. */
static void stream_options(const struct sam_cmd *cmd, struct stream_config *sc)
{
	static const struct {
		const char *key;
		size_t off;
	} uints[] = {
		{ "i2p.streaming.maxConcurrentStreams",
		  offsetof(struct stream_config, max_streams) },
		{ "i2p.streaming.maxConnsPerMinute",
		  offsetof(struct stream_config, max_conns_per_minute) },
		{ "i2p.streaming.maxConnsPerHour",
		  offsetof(struct stream_config, max_conns_per_hour) },
		{ "i2p.streaming.maxConnsPerDay",
		  offsetof(struct stream_config, max_conns_per_day) },
		{ "i2p.streaming.maxTotalConnsPerMinute",
		  offsetof(struct stream_config, max_total_per_minute) },
		{ "i2p.streaming.maxTotalConnsPerHour",
		  offsetof(struct stream_config, max_total_per_hour) },
		{ "i2p.streaming.maxTotalConnsPerDay",
		  offsetof(struct stream_config, max_total_per_day) },
		{ "i2p.streaming.initialWindowSize",
		  offsetof(struct stream_config, initial_window) },
		{ "i2p.streaming.maxWindowSize",
		  offsetof(struct stream_config, max_window) },
		{ "i2p.streaming.maxResends",
		  offsetof(struct stream_config, max_resends) },
	};
	unsigned long v;

	for (size_t i = 0; i < ARRAY_LEN(uints); i++)
		if (parse_uint(sam_cmd_get(cmd, uints[i].key), 1000000, &v))
			*(unsigned *)((char *)sc + uints[i].off) = (unsigned)v;
	if (parse_uint(sam_cmd_get(cmd, "i2p.streaming.maxMessageSize"),
		       STREAM_MTU_ECIES, &v) && v >= STREAM_MTU_MIN)
		sc->mtu = (uint16_t)v;
	if (parse_uint(sam_cmd_get(cmd, "i2p.streaming.inactivityTimeout"),
		       86400000, &v))
		sc->inactivity_ms = (uint32_t)v;
	if (parse_uint(sam_cmd_get(cmd, "i2p.streaming.inactivityAction"), 2,
		       &v))
		sc->inactivity_action = (enum stream_inactivity_action)v;
	sc->answer_pings = get_bool(cmd, "i2p.streaming.answerPings", true);
}

/* PORT, HOST, PROTOCOL and HEADER of a DATAGRAM or RAW session. */
static bool dgram_options(struct sam_conn *c, const struct sam_cmd *cmd,
			  struct sam_session *ss)
{
	const char *host = sam_cmd_get(cmd, "HOST");
	unsigned long port, proto = DATAGRAM_PROTO_RAW;
	socklen_t sl = sizeof(ss->dg_addr);

	if (sam_cmd_get(cmd, "PROTOCOL") &&
	    (!parse_uint(sam_cmd_get(cmd, "PROTOCOL"), 255, &proto) ||
	     proto == DATAGRAM_PROTO_STREAMING))
		return false;
	ss->raw_proto = (uint8_t)proto;
	ss->dg_header = get_bool(cmd, "HEADER", false);
	if (!sam_cmd_get(cmd, "PORT"))
		return host == NULL;
	if (!parse_uint(sam_cmd_get(cmd, "PORT"), 65535, &port) || port == 0)
		return false;
	memset(&ss->dg_addr, 0, sizeof(ss->dg_addr));
	if (host && *host) {
		if (inet_pton(AF_INET, host, &ss->dg_addr.sin_addr) != 1)
			return false;
	} else if (getpeername(bufferevent_getfd(c->bev),
			       (struct sockaddr *)&ss->dg_addr, &sl) != 0 ||
		   ss->dg_addr.sin_family != AF_INET) {
		return false;
	}
	ss->dg_addr.sin_family = AF_INET;
	ss->dg_addr.sin_port = htons((uint16_t)port);
	ss->dg_fwd = true;
	return true;
}

/* The destination of SESSION CREATE; NULL with the reply written. */
static struct client_dest *session_dest(struct sam_conn *c, const char *d)
{
	struct client_dest *dest = NULL;
	uint8_t *raw;
	size_t n;

	if (!d || !*d) {
		reply(c, "SESSION STATUS", "I2P_ERROR", "no DESTINATION");
		return NULL;
	}
	if (strcmp(d, "TRANSIENT") == 0)
		return client_dest_new_random();
	raw = xmalloc(strlen(d));
	if (b64_decode(raw, strlen(d), &n, d, strlen(d)) != 0 ||
	    client_dest_decode(raw, n, &dest) != 0) {
		reply(c, "SESSION STATUS", "INVALID_KEY", NULL);
		dest = NULL;
	}
	xfree_wipe(raw, strlen(d));
	return dest;
}

static void reply_session_ok(struct sam_conn *c,
			     const struct client_dest *dest);
static void primary_accept(void *ctx, struct stream *s);
static void primary_datagram(void *ctx, uint8_t proto, uint16_t src_port,
			     uint16_t dst_port, const uint8_t *data,
			     size_t len);

/* STYLE (PRIMARY too when primary_ok), ID and the session limit of
 * SESSION CREATE / ADD; false with the reply written. */
static bool session_checks(struct sam_conn *c, const char *style,
			   const char *id, bool primary_ok,
			   enum sam_style *st)
{
	if (style && strcmp(style, "STREAM") == 0) {
		*st = SAM_STREAM;
	} else if (style && strcmp(style, "DATAGRAM") == 0) {
		*st = SAM_DATAGRAM;
	} else if (style && strcmp(style, "RAW") == 0) {
		*st = SAM_RAW;
	} else if (primary_ok && style && (strcmp(style, "PRIMARY") == 0 ||
					   strcmp(style, "MASTER") == 0)) {
		*st = SAM_PRIMARY;	/* MASTER: i2pd's and 3.3's name */
	} else {
		reply(c, "SESSION STATUS", "I2P_ERROR", primary_ok ?
		      "STYLE must be STREAM, DATAGRAM, RAW or PRIMARY" :
		      "STYLE must be STREAM, DATAGRAM or RAW");
		return false;
	}
	if (!id || !*id || strlen(id) > SAM_ID_MAX_BYTES) {
		reply(c, "SESSION STATUS", "I2P_ERROR", "bad ID");
		return false;
	}
	if (session_find(c->srv, id)) {
		reply(c, "SESSION STATUS", "DUPLICATED_ID", NULL);
		return false;
	}
	if (c->srv->nsessions >= c->srv->cfg.max_sessions) {
		reply(c, "SESSION STATUS", "I2P_ERROR", "too many sessions");
		return false;
	}
	return true;
}

static void cmd_session_create(struct sam_conn *c, const struct sam_cmd *cmd)
{
	struct sam_server *srv = c->srv;
	const char *style = sam_cmd_get(cmd, "STYLE");
	const char *id = sam_cmd_get(cmd, "ID");
	struct stream_config sc = srv->cfg.stream;
	struct client_rx rx;
	struct sam_session *ss;
	struct client_dest *dest;
	enum sam_style st;

	if (c->owned)
		return reply(c, "SESSION STATUS", "I2P_ERROR",
			     "this socket has a session already");
	if (!session_checks(c, style, id, true, &st))
		return;
	if (!sig_type_ok(cmd))
		return reply(c, "SESSION STATUS", "I2P_ERROR",
			     "unsupported SIGNATURE_TYPE (use 7)");
	if ((sam_cmd_get(cmd, "PORT") || sam_cmd_get(cmd, "HOST")) &&
	    (st == SAM_STREAM || st == SAM_PRIMARY))
		return reply(c, "SESSION STATUS", "I2P_ERROR",
			     "PORT and HOST are for DATAGRAM and RAW");
	if (!(dest = session_dest(c, sam_cmd_get(cmd, "DESTINATION"))))
		return;
	if (srv->net.lookup(srv->net.ctx, client_dest_pub(dest)->hash,
			    &srv->scratch_dest) == 0) {
		client_dest_free(dest);
		return reply(c, "SESSION STATUS", "DUPLICATED_DEST", NULL);
	}
	ss = xzalloc(sizeof(*ss));
	ss->srv = srv;
	memcpy(ss->id, id, strlen(id));
	ss->style = st;
	ss->dest = dest;
	ss->ctl = c;
	if (!get_port(cmd, "FROM_PORT", 0, &ss->from_port) ||
	    !get_port(cmd, "TO_PORT", 0, &ss->to_port)) {
		client_dest_free(dest);
		free(ss);
		return reply(c, "SESSION STATUS", "I2P_ERROR", "bad port");
	}
	if (!dgram_options(c, cmd, ss)) {
		client_dest_free(dest);
		free(ss);
		return reply(c, "SESSION STATUS", "I2P_ERROR",
			     "bad PORT, HOST or PROTOCOL");
	}
	if (!tunnel_options(cmd, dest)) {
		client_dest_free(dest);
		free(ss);
		return reply(c, "SESSION STATUS", "I2P_ERROR",
			     "bad inbound/outbound length or quantity");
	}
	client_dest_signer(dest, &ss->signer);
	stream_options(cmd, &sc);
	memset(&rx, 0, sizeof(rx));
	ss->sink.net = srv->net;
	ss->sink.from = dest;
	if (st == SAM_STREAM || st == SAM_PRIMARY) {
		ss->mgr = stream_mgr_new(&sc, &ss->signer,
					 client_stream_sink(&ss->sink),
					 srv->el);
		stream_mgr_set_acceptor(ss->mgr, st == SAM_PRIMARY ?
					primary_accept : session_accept, ss);
		rx.mgr = ss->mgr;
	}
	if (st != SAM_STREAM) {
		rx.datagram = st == SAM_PRIMARY ? primary_datagram :
						  session_datagram;
		rx.ctx = ss;
	}
	srv->net.attach(srv->net.ctx, dest, &rx);
	ss->next = srv->sessions;
	srv->sessions = ss;
	srv->nsessions++;
	c->owned = ss;
	reply_session_ok(c, dest);
}

/* "SESSION STATUS RESULT=OK DESTINATION=$privkey" */
static void reply_session_ok(struct sam_conn *c, const struct client_dest *dest)
{
	struct bbuf priv = BBUF_INIT;
	char *b;

	client_dest_encode_private(dest, &priv);
	b = xmalloc(B64_ENC_LEN(priv.len));
	b64(b, B64_ENC_LEN(priv.len), priv.data, priv.len);
	bbuf_free(&priv);
	bbuf_put(&priv, "SESSION STATUS RESULT=OK", 24);
	sam_put_pair(&priv, "DESTINATION", b);
	reply_buf(c, &priv);
	xfree_wipe(b, strlen(b));
	bbuf_free(&priv);
}

/* ---- 3.3 PRIMARY sessions ---------------------------------------------- */

/* An incoming stream on a primary: to the STREAM subsession listening on
 * its port, else to one listening on any port ("LISTEN_PORT ... 0 means
 * any value"). */
static void primary_accept(void *ctx, struct stream *s)
{
	struct sam_session *pr = ctx, *any = NULL;
	struct stream_info info;

	stream_get_info(s, &info);
	for (struct sam_session *x = pr->srv->sessions; x; x = x->next) {
		if (x->primary != pr || x->style != SAM_STREAM)
			continue;
		if (x->listen_port == info.src_port)
			return session_accept(x, s);
		if (x->listen_port == 0 && !any)
			any = x;
	}
	if (any)
		return session_accept(any, s);
	stream_reset(s);
	stream_release(s);
}

/* Datagrams on a primary: repliable ones to DATAGRAM subsessions, others
 * to RAW ones, by listen port and protocol; nothing matches: dropped. */
static void primary_datagram(void *ctx, uint8_t proto, uint16_t src_port,
			     uint16_t dst_port, const uint8_t *data,
			     size_t len)
{
	struct sam_session *pr = ctx, *any = NULL;
	enum sam_style want = proto == DATAGRAM_PROTO_REPLIABLE ?
				      SAM_DATAGRAM : SAM_RAW;

	for (struct sam_session *x = pr->srv->sessions; x; x = x->next) {
		if (x->primary != pr || x->style != want ||
		    (want == SAM_RAW && x->listen_proto &&
		     x->listen_proto != proto))
			continue;
		if (x->listen_port == dst_port)
			return session_datagram(x, proto, src_port, dst_port,
						data, len);
		if (x->listen_port == 0 && !any)
			any = x;
	}
	if (any)
		session_datagram(any, proto, src_port, dst_port, data, len);
}

/* SESSION ADD STYLE= ID= [FROM_PORT TO_PORT LISTEN_PORT LISTEN_PROTOCOL
 * PROTOCOL PORT HOST HEADER], on the primary's control socket. */
static void cmd_session_add(struct sam_conn *c, const struct sam_cmd *cmd)
{
	struct sam_session *pr = c->owned, *ss;
	const char *style = sam_cmd_get(cmd, "STYLE");
	const char *id = sam_cmd_get(cmd, "ID");
	unsigned long lp = 0;
	enum sam_style st;

	if (!pr || pr->style != SAM_PRIMARY)
		return reply(c, "SESSION STATUS", "I2P_ERROR",
			     "no PRIMARY session on this socket");
	if (!session_checks(c, style, id, false, &st))
		return;
	if (sam_cmd_get(cmd, "DESTINATION"))
		return reply(c, "SESSION STATUS", "I2P_ERROR",
			     "a subsession uses the primary's DESTINATION");
	ss = xzalloc(sizeof(*ss));
	ss->srv = c->srv;
	memcpy(ss->id, id, strlen(id));
	ss->style = st;
	ss->primary = pr;
	ss->dest = pr->dest;
	ss->mgr = st == SAM_STREAM ? pr->mgr : NULL;
	ss->ctl = c;
	if (!get_port(cmd, "FROM_PORT", 0, &ss->from_port) ||
	    !get_port(cmd, "TO_PORT", 0, &ss->to_port) ||
	    !dgram_options(c, cmd, ss) ||
	    (st == SAM_STREAM && (sam_cmd_get(cmd, "PORT") ||
				  sam_cmd_get(cmd, "HOST")))) {
		free(ss);
		return reply(c, "SESSION STATUS", "I2P_ERROR",
			     "bad port, PORT, HOST or PROTOCOL");
	}
	/* "If the LISTEN_PORT is not specified, the FROM_PORT value will be
	 * used."  "A RAW subsession may not set a LISTEN_PROTOCOL of 6." */
	ss->listen_port = ss->from_port;
	if (sam_cmd_get(cmd, "LISTEN_PORT")) {
		if (!parse_uint(sam_cmd_get(cmd, "LISTEN_PORT"), 65535, &lp) ||
		    (st == SAM_STREAM && lp != 0 && lp != ss->from_port)) {
			free(ss);
			return reply(c, "SESSION STATUS", "I2P_ERROR",
				     "bad LISTEN_PORT");
		}
		ss->listen_port = (uint16_t)lp;
	}
	ss->listen_proto = st == SAM_RAW ? ss->raw_proto : 0;
	if (sam_cmd_get(cmd, "LISTEN_PROTOCOL") &&
	    (!parse_uint(sam_cmd_get(cmd, "LISTEN_PROTOCOL"), 255, &lp) ||
	     lp == DATAGRAM_PROTO_STREAMING)) {
		free(ss);
		return reply(c, "SESSION STATUS", "I2P_ERROR",
			     "bad LISTEN_PROTOCOL");
	} else if (sam_cmd_get(cmd, "LISTEN_PROTOCOL")) {
		ss->listen_proto = (unsigned)lp;
	}
	for (struct sam_session *x = c->srv->sessions; x; x = x->next)
		if (x->primary == pr && x->style == st &&
		    x->listen_port == ss->listen_port &&
		    x->listen_proto == ss->listen_proto) {
			free(ss);
			return reply(c, "SESSION STATUS", "DUPLICATED_ID",
				     "a subsession listens there already");
		}
	ss->next = c->srv->sessions;
	c->srv->sessions = ss;
	c->srv->nsessions++;
	reply_session_ok(c, pr->dest);
}

static void cmd_session_remove(struct sam_conn *c, const struct sam_cmd *cmd)
{
	struct sam_session *ss = session_find(c->srv, sam_cmd_get(cmd, "ID"));

	if (!ss || !ss->primary || ss->primary != c->owned)
		return reply(c, "SESSION STATUS", "I2P_ERROR",
			     "no such subsession on this socket");
	session_free(ss);
	reply(c, "SESSION STATUS", "OK", NULL);
}

/* The STREAM session named by ID; NULL with the reply written. */
static struct sam_session *stream_session(struct sam_conn *c,
					  const struct sam_cmd *cmd)
{
	struct sam_session *ss = session_find(c->srv, sam_cmd_get(cmd, "ID"));

	if (!ss || ss->style != SAM_STREAM) {
		reply(c, "STREAM STATUS", "INVALID_ID", NULL);
		return NULL;
	}
	return ss;
}

/* A Destination given as base64, or as NAME.b32.i2p if the network knows
 * it now. */
static bool resolve(struct sam_server *srv, const char *name,
		    struct keys_and_cert *out)
{
	size_t n = name ? strlen(name) : 0;
	uint8_t hash[32];
	size_t hl;

	if (n == 52 + 8 && strcmp(name + 52, ".b32.i2p") == 0) {
		if (b32_decode(hash, sizeof(hash), &hl, name, 52) != 0 ||
		    hl != 32)
			return false;
		return srv->net.lookup(srv->net.ctx, hash, out) == 0;
	}
	return n > 0 && dest_parse(name, out) == 0;
}

static void cmd_stream_connect(struct sam_conn *c, const struct sam_cmd *cmd)
{
	struct sam_session *ss = stream_session(c, cmd);
	struct keys_and_cert *to;
	uint16_t fp, tp;
	int e;

	if (!ss)
		return;
	c->silent = get_bool(cmd, "SILENT", false);
	if (!get_port(cmd, "FROM_PORT", ss->from_port, &fp) ||
	    !get_port(cmd, "TO_PORT", ss->to_port, &tp))
		return reply(c, "STREAM STATUS", "I2P_ERROR", "bad port");
	to = xmalloc(sizeof(*to));
	if (!resolve(c->srv, sam_cmd_get(cmd, "DESTINATION"), to)) {
		const char *d = sam_cmd_get(cmd, "DESTINATION");

		free(to);
		/* A b32 name not known yet: its lookup has started. */
		if (d && strlen(d) == 60 && strcmp(d + 52, ".b32.i2p") == 0)
			return reply(c, "STREAM STATUS", "CANT_REACH_PEER",
				     "LeaseSet not found yet");
		return reply(c, "STREAM STATUS", "INVALID_KEY", NULL);
	}
	/* No LeaseSet check here: the network looks it up when the SYN goes
	 * out, and a peer it cannot reach at all fails the stream. */
	e = stream_connect(ss->mgr, to, fp, tp, conn_stream_event, c,
			   &c->stream);
	free(to);
	if (e != 0) {
		reply(c, "STREAM STATUS", "I2P_ERROR", err_str(e));
		return conn_flush_close(c);
	}
	c->sess = ss;
	c->state = SC_CONNECTING;
	bufferevent_disable(c->bev, EV_READ);
}

static void cmd_stream_accept(struct sam_conn *c, const struct sam_cmd *cmd)
{
	struct sam_session *ss = stream_session(c, cmd);

	if (!ss)
		return;
	if (ss->fwd_ctl)
		return reply(c, "STREAM STATUS", "I2P_ERROR",
			     "the session forwards its streams");
	/* "Prior to 3.2, concurrent accepts would fail with
	 * ALREADY_ACCEPTING." */
	if (ss->nacceptors > 0 && c->version < 32)
		return reply(c, "STREAM STATUS", "ALREADY_ACCEPTING", NULL);
	if (ss->nacceptors == SAM_ACCEPT_QUEUE_MAX)
		return reply(c, "STREAM STATUS", "I2P_ERROR",
			     "too many pending accepts");
	c->silent = get_bool(cmd, "SILENT", false);
	c->sess = ss;
	if (!c->silent)
		reply(c, "STREAM STATUS", "OK", NULL);
	if (ss->nwaiting > 0) {
		struct stream *s = ss->waiting[0];

		memmove(&ss->waiting[0], &ss->waiting[1],
			--ss->nwaiting * sizeof(s));
		conn_take_stream(c, s);
		return;
	}
	c->state = SC_ACCEPTING;
	ss->acceptors[ss->nacceptors++] = c;
	bufferevent_disable(c->bev, EV_READ);
}

static void cmd_stream_forward(struct sam_conn *c, const struct sam_cmd *cmd)
{
	struct sam_session *ss = stream_session(c, cmd);
	const char *host = sam_cmd_get(cmd, "HOST");
	unsigned long port;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	if (!ss)
		return;
	if (ss->nacceptors > 0 || ss->fwd_ctl)
		return reply(c, "STREAM STATUS", "I2P_ERROR",
			     "the session accepts or forwards already");
	if (!parse_uint(sam_cmd_get(cmd, "PORT"), 65535, &port) || port == 0)
		return reply(c, "STREAM STATUS", "I2P_ERROR", "bad PORT");
	memset(&sin, 0, sizeof(sin));
	if (host && *host) {
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			return reply(c, "STREAM STATUS", "I2P_ERROR",
				     "HOST must be an IPv4 address");
	} else if (getpeername(bufferevent_getfd(c->bev),
			       (struct sockaddr *)&sin, &sl) != 0 ||
		   sin.sin_family != AF_INET) {
		return reply(c, "STREAM STATUS", "I2P_ERROR", "no HOST");
	}
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	ss->fwd_addr = sin;
	ss->fwd_silent = get_bool(cmd, "SILENT", false);
	ss->fwd_ctl = c;
	c->sess = ss;
	reply(c, "STREAM STATUS", "OK", NULL);
	while (ss->nwaiting > 0)
		forward_stream(ss, ss->waiting[--ss->nwaiting]);
}

static void cmd_naming_lookup(struct sam_conn *c, const struct sam_cmd *cmd)
{
	const char *name = sam_cmd_get(cmd, "NAME");
	struct keys_and_cert *k = xmalloc(sizeof(*k));
	char *d = xmalloc(SAM_DEST_B64_MAX);
	struct bbuf b = BBUF_INIT;
	bool ok;

	if (name && strcmp(name, "ME") == 0) {
		ok = c->owned != NULL;
		if (ok)
			*k = *client_dest_pub(c->owned->dest);
	} else {
		ok = resolve(c->srv, name, k);
	}
	bbuf_put(&b, "NAMING REPLY", 12);
	if (!name) {
		sam_put_pair(&b, "RESULT", "INVALID_KEY");
		sam_put_pair(&b, "MESSAGE", "no NAME");
	} else if (!ok) {
		sam_put_pair(&b, "RESULT", "KEY_NOT_FOUND");
		sam_put_pair(&b, "NAME", name);
	} else {
		b64(d, SAM_DEST_B64_MAX, k->raw, k->len);
		sam_put_pair(&b, "RESULT", "OK");
		sam_put_pair(&b, "NAME", name);
		sam_put_pair(&b, "VALUE", d);
	}
	reply_buf(c, &b);
	bbuf_free(&b);
	free(k);
	free(d);
}

static void cmd_dest_generate(struct sam_conn *c, const struct sam_cmd *cmd)
{
	struct client_dest *d;
	struct bbuf priv = BBUF_INIT, b = BBUF_INIT;
	char *pub, *pk;

	if (!sig_type_ok(cmd))
		return reply(c, "DEST REPLY", "I2P_ERROR",
			     "unsupported SIGNATURE_TYPE (use 7)");
	d = client_dest_new_random();
	client_dest_encode_private(d, &priv);
	pub = xmalloc(SAM_DEST_B64_MAX);
	pk = xmalloc(B64_ENC_LEN(priv.len));
	b64(pub, SAM_DEST_B64_MAX, client_dest_pub(d)->raw,
	    client_dest_pub(d)->len);
	b64(pk, B64_ENC_LEN(priv.len), priv.data, priv.len);
	bbuf_put(&b, "DEST REPLY", 10);
	sam_put_pair(&b, "PUB", pub);
	sam_put_pair(&b, "PRIV", pk);
	reply_buf(c, &b);
	xfree_wipe(pk, B64_ENC_LEN(priv.len));
	free(pub);
	bbuf_free(&b);
	bbuf_free(&priv);
	client_dest_free(d);
}

/* DATAGRAM SEND / RAW SEND DESTINATION=... SIZE=n, then n bytes. */
static void cmd_datagram_send(struct sam_conn *c, const struct sam_cmd *cmd,
			      bool raw)
{
	const char *head = raw ? "RAW STATUS" : "DATAGRAM STATUS";
	struct sam_session *ss = c->owned;
	unsigned long size;

	if (!ss || ss->style != (raw ? SAM_RAW : SAM_DATAGRAM))
		return reply(c, head, "I2P_ERROR",
			     raw ? "no RAW session on this socket" :
				   "no DATAGRAM session on this socket");
	if (!parse_uint(sam_cmd_get(cmd, "SIZE"), DATAGRAM_MAX_PAYLOAD_BYTES,
			&size) || size == 0) {
		reply(c, head, "I2P_ERROR", "bad SIZE");
		return conn_flush_close(c);	/* the body cannot be skipped */
	}
	if (!resolve(c->srv, sam_cmd_get(cmd, "DESTINATION"), &c->dg_to) ||
	    !get_port(cmd, "FROM_PORT", ss->from_port, &c->dg_from_port) ||
	    !get_port(cmd, "TO_PORT", ss->to_port, &c->dg_to_port)) {
		reply(c, head, "INVALID_KEY", NULL);
		return conn_flush_close(c);
	}
	c->dg_need = size;
	c->dg_raw = raw;
	c->state = SC_DGRAM_BODY;
}

static void cmd_hello(struct sam_conn *c, const struct sam_cmd *cmd)
{
	unsigned v;
	char ver[24];
	int e;

	if (!cmd->sub || strcmp(cmd->sub, "VERSION") != 0) {
		reply(c, "HELLO REPLY", "I2P_ERROR", "expected HELLO VERSION");
		return conn_flush_close(c);
	}
	e = sam_version_negotiate(sam_cmd_get(cmd, "MIN"),
				  sam_cmd_get(cmd, "MAX"), &v);
	if (e == ERR_NOT_FOUND) {
		reply(c, "HELLO REPLY", "NOVERSION", NULL);
		return conn_flush_close(c);
	}
	if (e != 0) {
		reply(c, "HELLO REPLY", "I2P_ERROR", "bad MIN or MAX");
		return conn_flush_close(c);
	}
	c->version = v;
	c->state = SC_READY;
	snprintf(ver, sizeof(ver), "%u.%u", v / 10, v % 10);
	{
		struct bbuf b = BBUF_INIT;

		bbuf_put(&b, "HELLO REPLY RESULT=OK", 21);
		sam_put_pair(&b, "VERSION", ver);
		reply_buf(c, &b);
		bbuf_free(&b);
	}
}

static void handle_line(struct sam_conn *c, const char *line, size_t len)
{
	struct sam_cmd cmd;
	const char *v, *s;

	if (sam_cmd_parse(line, len, &cmd) != 0) {
		if (c->state == SC_HELLO) {
			reply(c, "HELLO REPLY", "I2P_ERROR", "bad line");
			conn_flush_close(c);
		} else if (len > 0) {
			reply(c, "SESSION STATUS", "I2P_ERROR", "bad line");
		}
		return;
	}
	v = cmd.verb;
	s = cmd.sub ? cmd.sub : "";
	if (c->state == SC_HELLO) {
		if (strcmp(v, "HELLO") == 0) {
			cmd_hello(c, &cmd);
		} else {
			reply(c, "HELLO REPLY", "I2P_ERROR",
			      "HELLO VERSION first");
			conn_flush_close(c);
		}
	} else if (strcmp(v, "PING") == 0) {
		struct bbuf b = BBUF_INIT;

		bbuf_put(&b, "PONG", 4);
		if (*cmd.text) {
			bbuf_u8(&b, ' ');
			bbuf_put(&b, cmd.text, strlen(cmd.text));
		}
		reply_buf(c, &b);
		bbuf_free(&b);
	} else if (strcmp(v, "PONG") == 0) {
		/* an answer to a PING we never send: ignore */
	} else if (!strcmp(v, "QUIT") || !strcmp(v, "STOP") ||
		   !strcmp(v, "EXIT")) {
		conn_flush_close(c);
	} else if (!strcmp(v, "HELLO")) {
		reply(c, "HELLO REPLY", "I2P_ERROR", "HELLO already done");
	} else if (!strcmp(v, "SESSION") && !strcmp(s, "CREATE")) {
		cmd_session_create(c, &cmd);
	} else if (!strcmp(v, "SESSION") && !strcmp(s, "ADD")) {
		cmd_session_add(c, &cmd);
	} else if (!strcmp(v, "SESSION") && !strcmp(s, "REMOVE")) {
		cmd_session_remove(c, &cmd);
	} else if (!strcmp(v, "SESSION")) {
		reply(c, "SESSION STATUS", "I2P_ERROR", "unknown SESSION command");
	} else if (!strcmp(v, "STREAM") && !strcmp(s, "CONNECT")) {
		cmd_stream_connect(c, &cmd);
	} else if (!strcmp(v, "STREAM") && !strcmp(s, "ACCEPT")) {
		cmd_stream_accept(c, &cmd);
	} else if (!strcmp(v, "STREAM") && !strcmp(s, "FORWARD")) {
		cmd_stream_forward(c, &cmd);
	} else if (!strcmp(v, "NAMING") && !strcmp(s, "LOOKUP")) {
		cmd_naming_lookup(c, &cmd);
	} else if (!strcmp(v, "DEST") && !strcmp(s, "GENERATE")) {
		cmd_dest_generate(c, &cmd);
	} else if (!strcmp(v, "DATAGRAM") && !strcmp(s, "SEND")) {
		cmd_datagram_send(c, &cmd, false);
	} else if (!strcmp(v, "RAW") && !strcmp(s, "SEND")) {
		cmd_datagram_send(c, &cmd, true);
	} else {
		struct bbuf b = BBUF_INIT;

		bbuf_put(&b, v, strlen(v));
		bbuf_put(&b, " STATUS", 7);
		sam_put_pair(&b, "RESULT", "I2P_ERROR");
		sam_put_pair(&b, "MESSAGE", "unknown command");
		reply_buf(c, &b);
		bbuf_free(&b);
	}
	sam_cmd_free(&cmd);
}

/* ---- socket callbacks --------------------------------------------------- */

static bool reading_commands(const struct sam_conn *c)
{
	return c->state == SC_HELLO || c->state == SC_READY ||
	       c->state == SC_DGRAM_BODY;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct sam_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!c->closing && !c->flush_close && reading_commands(c)) {
		char *line;
		size_t n;

		if (c->state == SC_DGRAM_BODY) {
			if (evbuffer_get_length(in) < c->dg_need)
				return;
			dgram_send_body(c, evbuffer_pullup(in,
							   (ssize_t)c->dg_need));
			evbuffer_drain(in, c->dg_need);
			c->state = SC_READY;
			continue;
		}
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
		if (!line) {
			if (evbuffer_get_length(in) > SAM_LINE_MAX_BYTES) {
				reply(c, c->state == SC_HELLO ? "HELLO REPLY" :
					 "SESSION STATUS", "I2P_ERROR",
				      "line too long");
				conn_flush_close(c);
			}
			return;
		}
		handle_line(c, line, n);
		xfree_wipe(line, n);
	}
	if (!c->closing && c->state == SC_STREAM)
		stream_pump_in(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct sam_conn *c = arg;

	if (c->flush_close &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		conn_close(c);
		return;
	}
	if (c->state == SC_STREAM) {
		stream_pump_out(c);
		conn_shut_out(c);
	}
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sam_conn *c = arg;

	(void)bev;
	if ((what & BEV_EVENT_EOF) && c->state == SC_STREAM && c->stream &&
	    !(what & BEV_EVENT_ERROR)) {
		/* Half-close: the rest goes out, then a CLOSE; the socket
		 * stays open for what the peer still sends. */
		c->in_eof = true;
		stream_pump_in(c);
		if (c->out_shut)
			conn_close(c);
		return;
	}
	conn_close(c);
}

static void fwd_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sam_conn *c = arg;

	if ((what & BEV_EVENT_CONNECTED) && c->state == SC_FWD_CONNECTING) {
		bufferevent_setcb(bev, conn_read_cb, conn_write_cb,
				  conn_event_cb, c);
		conn_take_stream(c, c->stream);
		return;
	}
	if (c->state == SC_FWD_CONNECTING && c->stream)
		stream_reset(c->stream);
	conn_close(c);
}

/* One datagram to the UDP port: "3.x $nickname $destination [options]\n"
 * and the payload (SAM V3 "Sending Repliable or Raw Datagrams"). */
static int udp_datagram(struct sam_server *srv, const uint8_t *buf, size_t n)
{
	const uint8_t *nl = memchr(buf, '\n', n < SAM_LINE_MAX_BYTES ?
						      n : SAM_LINE_MAX_BYTES);
	char *line, *ver, *nick, *dest, *rest, *save = NULL;
	struct sam_cmd cmd;
	struct sam_session *ss;
	struct keys_and_cert *to = NULL;
	uint16_t fp, tp;
	unsigned long proto;
	size_t plen;
	struct bbuf b = BBUF_INIT;
	int e = ERR_FORMAT;

	if (!nl || memchr(buf, '\0', (size_t)(nl - buf)))
		return ERR_FORMAT;
	plen = n - (size_t)(nl - buf) - 1;
	line = xmalloc((size_t)(nl - buf) + 5);
	memcpy(line, "X Y ", 4);
	memcpy(line + 4, buf, (size_t)(nl - buf));
	line[4 + (nl - buf)] = '\0';
	ver = strtok_r(line + 4, " \t\r", &save);
	nick = strtok_r(NULL, " \t\r", &save);
	dest = strtok_r(NULL, " \t\r", &save);
	rest = strtok_r(NULL, "", &save);
	if (!ver || ver[0] != '3' || (ver[1] && ver[1] != '.') || !dest ||
	    !(ss = session_find(srv, nick)) || ss->style == SAM_STREAM ||
	    plen == 0 || plen > DATAGRAM_MAX_PAYLOAD_BYTES)
		goto out;
	to = xmalloc(sizeof(*to));
	if (!resolve(srv, dest, to))
		goto out;
	/* The options, parsed as the pairs of a command line (this
	 * overwrites the words above). */
	if (!rest)
		rest = "";
	memmove(line + 4, rest, strlen(rest) + 1);
	if (sam_cmd_parse(line, strlen(line), &cmd) != 0)
		goto out;
	proto = ss->raw_proto;
	if (get_port(&cmd, "FROM_PORT", ss->from_port, &fp) &&
	    get_port(&cmd, "TO_PORT", ss->to_port, &tp) &&
	    (!sam_cmd_get(&cmd, "PROTOCOL") ||
	     (parse_uint(sam_cmd_get(&cmd, "PROTOCOL"), 255, &proto) &&
	      proto != DATAGRAM_PROTO_STREAMING))) {
		if (ss->style == SAM_RAW)
			e = srv->net.send(srv->net.ctx, ss->dest, to,
					  (uint8_t)proto, fp, tp,
					  nl + 1, plen);
		else if ((e = client_dest_datagram_encode(ss->dest, nl + 1,
							  plen, &b)) == 0)
			e = srv->net.send(srv->net.ctx, ss->dest, to,
					  DATAGRAM_PROTO_REPLIABLE, fp, tp,
					  b.data, b.len);
	}
	sam_cmd_free(&cmd);
out:
	bbuf_free(&b);
	free(to);
	xfree_wipe(line, (size_t)(nl - buf) + 5);
	return e;
}

static void udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sam_server *srv = arg;
	uint8_t *buf = xmalloc(SAM_UDP_MAX_BYTES);

	(void)what;
	for (int i = 0; i < 64; i++) {		/* bounded work per pass */
		ssize_t n = recv(fd, buf, SAM_UDP_MAX_BYTES, 0);
		int e;

		if (n <= 0)
			break;
		if ((e = udp_datagram(srv, buf, (size_t)n)) != 0)
			log_info_rl(60, LD_APP, "sam: UDP datagram dropped: %s",
				    err_str(e));
	}
	free(buf);
}

static int udp_open(struct sam_server *srv, const struct sockaddr_in *at)
{
	struct sockaddr_in sin = *at;
	socklen_t sl = sizeof(sin);

	sin.sin_port = htons(srv->cfg.udp_port);
	srv->udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (srv->udp_fd < 0 ||
	    bind(srv->udp_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    evutil_make_socket_nonblocking(srv->udp_fd) != 0) {
		log_warn(LD_APP, "sam: cannot use UDP port %u",
			 srv->cfg.udp_port);
		return ERR_IO;
	}
	getsockname(srv->udp_fd, (struct sockaddr *)&sin, &sl);
	srv->udp_port = ntohs(sin.sin_port);
	srv->udp_ev = event_new(evloop_base(srv->el), srv->udp_fd,
				EV_READ | EV_PERSIST, udp_read_cb, srv);
	event_add(srv->udp_ev, NULL);
	return 0;
}

static struct sam_conn *conn_new(struct sam_server *srv,
				 struct bufferevent *bev)
{
	struct sam_conn *c = xzalloc(sizeof(*c));

	c->srv = srv;
	c->bev = bev;
	c->state = SC_HELLO;
	c->next = srv->conns;
	srv->conns = c;
	srv->nconns++;
	bufferevent_setwatermark(bev, EV_WRITE, CLIENT_PUMP_OUT_HIGH_BYTES / 2, 0);
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	return c;
}

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct sam_server *srv = arg;
	struct bufferevent *bev;

	(void)lis;
	(void)sa;
	(void)salen;
	if (srv->nconns >= srv->cfg.max_conns) {
		log_info_rl(60, LD_APP, "sam: connection limit reached");
		evutil_closesocket(fd);
		return;
	}
	bev = bufferevent_socket_new(evloop_base(srv->el), fd,
				     BEV_OPT_CLOSE_ON_FREE);
	conn_new(srv, bev);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int sam_server_new(struct evloop *el, const struct client_net *net,
		   const struct sam_server_cfg *cfg, struct sam_server **out)
{
	struct sam_server *srv = xzalloc(sizeof(*srv));
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	srv->el = el;
	srv->net = *net;
	srv->cfg = *cfg;
	srv->udp_fd = -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(cfg->port);
	if (inet_pton(AF_INET, cfg->host, &sin.sin_addr) != 1) {
		free(srv);
		return ERR_ARG;
	}
	srv->lis = evconnlistener_new_bind(evloop_base(el), accept_cb, srv,
					   LEV_OPT_CLOSE_ON_FREE |
						   LEV_OPT_REUSEABLE,
					   64, (struct sockaddr *)&sin,
					   sizeof(sin));
	if (!srv->lis) {
		log_warn(LD_APP, "sam: cannot listen on %s:%u", cfg->host,
			 cfg->port);
		free(srv);
		return ERR_IO;
	}
	getsockname(evconnlistener_get_fd(srv->lis), (struct sockaddr *)&sin,
		    &sl);
	srv->port = ntohs(sin.sin_port);
	if (cfg->udp && udp_open(srv, &sin) != 0) {
		sam_server_free(srv);
		return ERR_IO;
	}
	*out = srv;
	return 0;
}

uint16_t sam_server_port(const struct sam_server *srv)
{
	return srv->port;
}

uint16_t sam_server_udp_port(const struct sam_server *srv)
{
	return srv->udp_port;
}

void sam_server_free(struct sam_server *srv)
{
	if (!srv)
		return;
	evconnlistener_free(srv->lis);
	while (srv->conns) {
		struct sam_conn *c = srv->conns;

		conn_close(c);
	}
	while (srv->sessions)
		session_free(srv->sessions);
	if (srv->udp_ev)
		event_free(srv->udp_ev);
	if (srv->udp_fd >= 0)
		evutil_closesocket(srv->udp_fd);
	free(srv);
}
