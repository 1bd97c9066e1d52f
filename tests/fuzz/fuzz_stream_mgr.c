/*
 * libFuzzer target: the streaming state machine (apps/client/stream.h)
 * under hostile packets.  Each input is a stream of chunks (u16 length,
 * u8 control, packet bytes).  A fresh manager first accepts a properly
 * signed SYN from a known peer; then every chunk is delivered (with the
 * stream's ID written in when control bit 0 is set, so unsigned data,
 * ACKs, NACKs and options reach the open stream), the virtual clock moves
 * by control * 37 ms, and due timers run.  The app reads everything and
 * writes a little.  Nothing may crash, leak or trip a sanitizer.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/client/dest.h"
#include "apps/client/stream.h"
#include "crypto/base/time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct client_dest *peer, *self;
static struct stream_signer peer_signer, self_signer;
static uint32_t last_recv_id;

static int sink(void *ctx, const struct keys_and_cert *to, uint16_t sp,
		uint16_t dp, const uint8_t *pkt, size_t len)
{
	struct stream_packet p;

	(void)ctx;
	(void)to;
	(void)sp;
	(void)dp;
	if (stream_packet_decode(pkt, len, &p) == 0 &&
	    (p.flags & STREAM_F_SYN))
		last_recv_id = p.recv_id;
	return 0;
}

static void on_event(void *ctx, struct stream *s, unsigned ev)
{
	uint8_t buf[4096];

	(void)ctx;
	while (stream_read(s, buf, sizeof(buf)) > 0)
		;
	if (ev & STREAM_EV_EOF)
		stream_close(s);
	else
		stream_write(s, "reply", 5);
}

static void on_accept(void *ctx, struct stream *s)
{
	struct stream **out = ctx;

	*out = s;
	stream_set_handler(s, on_event, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_config cfg;
	struct stream_mgr *mgr;
	struct stream *s = NULL;
	struct stream_packet syn;
	struct bbuf b = BBUF_INIT;
	uint64_t now = 1000000;
	size_t off = 0;

	if (!peer) {
		peer = client_dest_new_random();
		self = client_dest_new_random();
		client_dest_signer(peer, &peer_signer);
		client_dest_signer(self, &self_signer);
	}
	time_set_mono_override(now);
	stream_config_default(&cfg);
	cfg.max_window = 16;
	mgr = stream_mgr_new(&cfg, &self_signer,
			     (struct stream_sink){ sink, NULL }, NULL);
	stream_mgr_set_acceptor(mgr, on_accept, &s);
	memset(&syn, 0, sizeof(syn));
	syn.recv_id = 0x01020304;
	syn.flags = STREAM_F_SYN | STREAM_F_SIG | STREAM_F_FROM |
		    STREAM_F_MAX_SIZE | STREAM_F_NO_ACK;
	syn.max_size = 1730;
	if (stream_packet_encode(&syn, &peer_signer, &b) != 0 ||
	    stream_mgr_receive(mgr, b.data, b.len, 1, 2) != 0 || !s)
		abort();
	bbuf_free(&b);
	while (off + 3 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		uint8_t ctl = data[off + 2];
		uint8_t *pkt;

		off += 3;
		if (len > size - off)
			len = size - off;
		pkt = malloc(len ? len : 1);
		memcpy(pkt, data + off, len);
		off += len;
		if ((ctl & 1) && len >= 8) {
			be32_put(pkt, last_recv_id);	/* to our stream */
			be32_put(pkt + 4, 0x01020304);
		}
		stream_mgr_receive(mgr, pkt, len, 1, 2);
		free(pkt);
		now += (uint64_t)(ctl >> 1) * 37;
		time_set_mono_override(now);
		if (stream_mgr_next_deadline(mgr) <= now)
			stream_mgr_run_timers(mgr);
	}
	stream_mgr_free(mgr);
	time_set_mono_override(0);
	return 0;
}
