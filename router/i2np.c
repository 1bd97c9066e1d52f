/*
 * I2NP message codecs (geti2p.net/spec/i2np, "Common structures" and
 * "Messages").  Every decoder reads through a breader, checks each count
 * against its maximum before use, and rejects trailing bytes where the spec
 * defines none.  The duplicate filter sits here because every transport and
 * the tunnel endpoints need it.
 */
#include "config.h"
#include "router/i2np.h"

#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/hash.h"
#include "crypto/rand.h"

#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

/*
 * A bounded cache of freed messages and of payload buffers of the common
 * size (up to a tunnel message and its headers), so that a busy transport
 * does not go through malloc's slow paths twice a message: the allocator's
 * own per-size caches hold a handful of blocks, and a window of hundreds of
 * messages acked at once overflows them.  Buffers stay ordinary malloc
 * blocks (a holder may free() or realloc() a payload, as before); a payload
 * is wiped over its length before it is cached, as before it was freed.
 * At most I2NP_POOL_MAX of each per thread (about 580 KiB: a bulk SSU2
 * sender frees and makes messages in runs of hundreds, its window);
 * i2np_pool_trim() gives them back.  Off under AddressSanitizer, which
 * must see each free.
 */
#define POOL_BUF_BYTES 1072	/* TunnelData (1028) and a garlic's headers */
#define POOL_BUF_MIN 256	/* smaller payloads come from malloc */

#if defined(__SANITIZE_ADDRESS__)
#define POOL_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_OFF 1
#endif
#endif
#ifndef POOL_OFF
#define POOL_OFF 0
#endif

static _Thread_local struct {
	void *buf[I2NP_POOL_MAX];
	struct i2np_msg *msg[I2NP_POOL_MAX];
	unsigned nbuf, nmsg;
} pool;

static uint8_t *payload_alloc(size_t len)
{
	if (len >= POOL_BUF_MIN && len <= POOL_BUF_BYTES) {
		if (pool.nbuf)
			return pool.buf[--pool.nbuf];
		return xmalloc(POOL_BUF_BYTES);
	}
	return xmalloc(len ? len : 1);
}

static void payload_free(uint8_t *p, size_t len)
{
	size_t cap;

	if (!p)
		return;
	memwipe(p, len);
	if (!POOL_OFF && pool.nbuf < I2NP_POOL_MAX) {
		cap = malloc_usable_size(p);
		if (cap >= POOL_BUF_BYTES && cap < 2 * POOL_BUF_BYTES) {
			pool.buf[pool.nbuf++] = p;
			return;
		}
	}
	free(p);
}

static struct i2np_msg *msg_struct(void)
{
	struct i2np_msg *m;

	if (pool.nmsg) {
		m = pool.msg[--pool.nmsg];
		memset(m, 0, sizeof(*m));
		return m;
	}
	return xzalloc(sizeof(*m));
}

void i2np_pool_trim(void)
{
	while (pool.nbuf)
		free(pool.buf[--pool.nbuf]);
	while (pool.nmsg)
		free(pool.msg[--pool.nmsg]);
}

const bool i2np_pool_enabled = !POOL_OFF;

size_t i2np_pool_held(void)
{
	return pool.nbuf;
}

struct i2np_msg *i2np_msg_make(uint8_t type, size_t len)
{
	struct i2np_msg *m = msg_struct();

	m->type = type;
	m->payload = payload_alloc(len);
	m->len = len;
	return m;
}

struct i2np_msg *i2np_msg_new(uint8_t type, const void *payload, size_t len,
			      uint64_t ttl_ms)
{
	struct i2np_msg *m = i2np_msg_make(type, len);

	if (len)
		memcpy(m->payload, payload, len);
	rand_bytes(&m->msg_id, sizeof(m->msg_id));
	m->expiration_ms = time_now_ms() + ttl_ms;
	return m;
}

struct i2np_msg *i2np_msg_new_take(uint8_t type, uint8_t *payload, size_t len,
				   uint64_t ttl_ms)
{
	struct i2np_msg *m = msg_struct();

	m->type = type;
	rand_bytes(&m->msg_id, sizeof(m->msg_id));
	m->expiration_ms = time_now_ms() + ttl_ms;
	m->payload = payload ? payload : xmalloc(1);
	m->len = len;
	return m;
}

void i2np_msg_free(struct i2np_msg *m)
{
	if (!m)
		return;
	payload_free(m->payload, m->len);
	if (!POOL_OFF && pool.nmsg < I2NP_POOL_MAX) {
		pool.msg[pool.nmsg++] = m;
		return;
	}
	free(m);
}

struct i2np_msg *i2np_msg_dup(const struct i2np_msg *m)
{
	struct i2np_msg *c = xmemdup(m, sizeof(*m));

	c->payload = xmemdup(m->payload, m->len);
	return c;
}

void i2np_msg_encode(const struct i2np_msg *m, struct bbuf *out)
{
	uint8_t h[SHA256_BYTES];

	/* "chks :: 1 byte Integer: SHA256 hash of the payload truncated to
	 * the first byte" (i2np, Common structures, I2NP message header) */
	sha256(h, m->payload, m->len);
	bbuf_u8(out, m->type);
	bbuf_be32(out, m->msg_id);
	bbuf_be64(out, m->expiration_ms);
	bbuf_be16(out, (uint16_t)m->len);
	bbuf_u8(out, h[0]);
	bbuf_put(out, m->payload, m->len);
}

void i2np_msg_encode_short(const struct i2np_msg *m, struct bbuf *out)
{
	bbuf_u8(out, m->type);
	bbuf_be32(out, m->msg_id);
	/* short expiration: seconds, rounded to nearest */
	bbuf_be32(out, (uint32_t)((m->expiration_ms + 500) / 1000));
	bbuf_put(out, m->payload, m->len);
}

/* Whether a received message's checksum is verified.  Not for Garlic
 * and TunnelData, the messages that carry the bulk of the traffic: Java
 * reads them (FastI2NPMessageImpl, since 0.8.12) without checking it and
 * keeps the byte only to send it on, and i2pd checks it on none.  A
 * garlic's AEAD or a tunnel message's checksum covers each, and the one
 * byte cost a SHA-256 of every data packet at each end of each tunnel it
 * went through.  Data and TunnelGateway are checked, as Java checks them
 * (I2NPMessageImpl).  The sender still computes it (i2np_msg_encode()). */
static bool chks_verified(uint8_t type)
{
	return type != I2NP_GARLIC && type != I2NP_TUNNEL_DATA;
}

/* The standard header at r and its payload, checked: into hdr, whose
 * payload points into r's bytes. */
static int decode_head(struct breader *r, struct i2np_msg *hdr)
{
	uint8_t chks, h[SHA256_BYTES];
	uint16_t size;
	const uint8_t *p;

	hdr->type = br_u8(r);
	hdr->msg_id = br_be32(r);
	hdr->expiration_ms = br_be64(r);
	size = br_be16(r);
	chks = br_u8(r);
	if (r->failed)
		return ERR_TRUNCATED;
	if (size > I2NP_MAX_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	if (!(p = br_take(r, size)))
		return ERR_TRUNCATED;
	if (chks_verified(hdr->type)) {
		sha256(h, p, size);
		if (h[0] != chks)
			return ERR_FORMAT;
	}
	hdr->payload = (uint8_t *)p;
	hdr->len = size;
	return 0;
}

int i2np_msg_decode(struct breader *r, struct i2np_msg **out)
{
	struct i2np_msg hdr;
	struct i2np_msg *m;
	int e;

	if ((e = decode_head(r, &hdr)) != 0)
		return e;
	m = i2np_msg_make(hdr.type, hdr.len);
	m->msg_id = hdr.msg_id;
	m->expiration_ms = hdr.expiration_ms;
	memcpy(m->payload, hdr.payload, hdr.len);
	*out = m;
	return 0;
}

int i2np_msg_peek(const uint8_t *buf, size_t len, struct i2np_msg *hdr)
{
	struct breader r;
	int e;

	br_init(&r, buf, len);
	if ((e = decode_head(&r, hdr)) != 0)
		return e;
	return br_left(&r) ? ERR_FORMAT : 0;
}

int i2np_msg_decode_short(const uint8_t *buf, size_t len, struct i2np_msg **out)
{
	struct breader r;
	struct i2np_msg *m;
	uint8_t type;
	uint32_t id, exp_s;

	br_init(&r, buf, len);
	type = br_u8(&r);
	id = br_be32(&r);
	exp_s = br_be32(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (br_left(&r) > I2NP_MAX_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	m = i2np_msg_make(type, br_left(&r));
	m->msg_id = id;
	m->expiration_ms = (uint64_t)exp_s * 1000;
	memcpy(m->payload, br_take(&r, m->len), m->len);
	*out = m;
	return 0;
}

bool i2np_msg_is_expired(const struct i2np_msg *m, uint64_t now_ms)
{
	return m->expiration_ms + I2NP_EXPIRY_PAST_MS < now_ms ||
	       m->expiration_ms > now_ms + I2NP_EXPIRY_FUTURE_MS;
}

static int finish(struct breader *r)
{
	if (r->failed)
		return ERR_TRUNCATED;
	return br_left(r) ? ERR_FORMAT : 0;
}

int i2np_db_store_decode(const struct i2np_msg *m, struct i2np_db_store *out)
{
	struct i2np_db_store s = { 0 };
	struct breader r;
	int rc;

	if (m->type != I2NP_DATABASE_STORE)
		return ERR_ARG;
	br_init(&r, m->payload, m->len);
	br_copy(&r, s.key, 32);
	s.store_type = br_u8(&r);
	s.reply_token = br_be32(&r);
	if (s.reply_token) {
		s.reply_tunnel_id = br_be32(&r);
		br_copy(&r, s.reply_gateway, 32);
	}
	if (r.failed)
		return ERR_TRUNCATED;
	/* "bit 0: 0 RouterInfo, 1 LeaseSet or variants; bits 3-1: the
	 * remainder of the type"; bits 7-4 are ignored. */
	s.store_type &= 0x0f;
	switch (s.store_type) {
	case I2NP_STORE_RI:
		/* "a 2-byte Integer specifying the number of bytes that
		 * follow, followed by a gzip-compressed RouterInfo" */
		s.data_len = br_be16(&r);
		s.data = br_take(&r, s.data_len);
		break;
	case I2NP_STORE_LS:
	case I2NP_STORE_LS2:
	case I2NP_STORE_ENC_LS2:
	case I2NP_STORE_META_LS:
		s.data_len = br_left(&r);
		s.data = br_take(&r, s.data_len);
		break;
	default:
		return ERR_UNSUPPORTED;
	}
	if ((rc = finish(&r)) != 0)
		return rc;
	if (!s.data_len)
		return ERR_FORMAT;
	*out = s;
	return 0;
}

void i2np_db_store_encode(const struct i2np_db_store *s, struct bbuf *out)
{
	bbuf_put(out, s->key, 32);
	bbuf_u8(out, s->store_type);
	bbuf_be32(out, s->reply_token);
	if (s->reply_token) {
		bbuf_be32(out, s->reply_tunnel_id);
		bbuf_put(out, s->reply_gateway, 32);
	}
	if (s->store_type == I2NP_STORE_RI)
		bbuf_be16(out, (uint16_t)s->data_len);
	bbuf_put(out, s->data, s->data_len);
}

int i2np_db_lookup_decode(const struct i2np_msg *m, struct i2np_db_lookup *out)
{
	struct i2np_db_lookup l = { 0 };
	struct breader r;

	if (m->type != I2NP_DATABASE_LOOKUP)
		return ERR_ARG;
	br_init(&r, m->payload, m->len);
	br_copy(&r, l.key, 32);
	br_copy(&r, l.from, 32);
	l.flags = br_u8(&r);
	if (l.flags & I2NP_LOOKUP_FLAG_TUNNEL)
		l.reply_tunnel_id = br_be32(&r);
	l.n_excluded = br_be16(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	/* "size :: valid range: 0-512" */
	if (l.n_excluded > I2NP_LOOKUP_MAX_EXCLUDED)
		return ERR_TOO_BIG;
	l.excluded = br_take(&r, (size_t)l.n_excluded * 32);
	if (l.flags & (I2NP_LOOKUP_FLAG_ENCRYPT | I2NP_LOOKUP_FLAG_ECIES)) {
		l.has_reply_key = true;
		br_copy(&r, l.reply_key, 32);
		l.n_tags = br_u8(&r);
		if (r.failed)
			return ERR_TRUNCATED;
		/* "tags :: valid range: 1-32" */
		if (l.n_tags < 1 || l.n_tags > 32)
			return ERR_FORMAT;
		/* ECIES replies use 8-byte tags, ElGamal/AES 32-byte ones */
		l.tag_len = (l.flags & I2NP_LOOKUP_FLAG_ECIES) ? 8 : 32;
		l.tags = br_take(&r, (size_t)l.n_tags * l.tag_len);
	}
	if (r.failed)
		return ERR_TRUNCATED;
	/* Senders may append padding; the spec defines nothing after this,
	 * and Java and i2pd ignore it, so we do too. */
	*out = l;
	return 0;
}

void i2np_db_lookup_encode(const struct i2np_db_lookup *l, struct bbuf *out)
{
	bbuf_put(out, l->key, 32);
	bbuf_put(out, l->from, 32);
	bbuf_u8(out, l->flags);
	if (l->flags & I2NP_LOOKUP_FLAG_TUNNEL)
		bbuf_be32(out, l->reply_tunnel_id);
	bbuf_be16(out, l->n_excluded);
	bbuf_put(out, l->excluded, (size_t)l->n_excluded * 32);
	if (l->flags & (I2NP_LOOKUP_FLAG_ENCRYPT | I2NP_LOOKUP_FLAG_ECIES)) {
		bbuf_put(out, l->reply_key, 32);
		bbuf_u8(out, l->n_tags);
		bbuf_put(out, l->tags, (size_t)l->n_tags * l->tag_len);
	}
}

int i2np_search_reply_decode(const struct i2np_msg *m,
			     struct i2np_search_reply *out)
{
	struct i2np_search_reply s = { 0 };
	struct breader r;
	int rc;

	if (m->type != I2NP_DATABASE_SEARCH_REPLY)
		return ERR_ARG;
	br_init(&r, m->payload, m->len);
	br_copy(&r, s.key, 32);
	s.n_peers = br_u8(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (s.n_peers > I2NP_SEARCH_REPLY_MAX_PEERS)
		return ERR_TOO_BIG;
	s.peers = br_take(&r, (size_t)s.n_peers * 32);
	br_copy(&r, s.from, 32);
	if ((rc = finish(&r)) != 0)
		return rc;
	*out = s;
	return 0;
}

void i2np_search_reply_encode(const struct i2np_search_reply *s,
			      struct bbuf *out)
{
	bbuf_put(out, s->key, 32);
	bbuf_u8(out, s->n_peers);
	bbuf_put(out, s->peers, (size_t)s->n_peers * 32);
	bbuf_put(out, s->from, 32);
}

int i2np_delivery_status_decode(const struct i2np_msg *m,
				struct i2np_delivery_status *out)
{
	struct breader r;
	struct i2np_delivery_status d;
	int rc;

	if (m->type != I2NP_DELIVERY_STATUS)
		return ERR_ARG;
	br_init(&r, m->payload, m->len);
	d.msg_id = br_be32(&r);
	d.timestamp_ms = br_be64(&r);
	if ((rc = finish(&r)) != 0)
		return rc;
	*out = d;
	return 0;
}

void i2np_delivery_status_encode(const struct i2np_delivery_status *d,
				 struct bbuf *out)
{
	bbuf_be32(out, d->msg_id);
	bbuf_be64(out, d->timestamp_ms);
}

int i2np_blob_decode(const struct i2np_msg *m, const uint8_t **data,
		     size_t *len)
{
	struct breader r;
	uint32_t n;
	const uint8_t *p;
	int rc;

	if (m->type != I2NP_GARLIC && m->type != I2NP_DATA)
		return ERR_ARG;
	br_init(&r, m->payload, m->len);
	n = br_be32(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (n > I2NP_MAX_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	p = br_take(&r, n);
	if ((rc = finish(&r)) != 0)
		return rc;
	*data = p;
	*len = n;
	return 0;
}

void i2np_blob_encode(const uint8_t *data, size_t len, struct bbuf *out)
{
	bbuf_be32(out, (uint32_t)len);
	bbuf_put(out, data, len);
}

int i2np_tunnel_data_decode(const struct i2np_msg *m,
			    struct i2np_tunnel_data *out)
{
	struct breader r;
	struct i2np_tunnel_data t;
	int rc;

	if (m->type != I2NP_TUNNEL_DATA)
		return ERR_ARG;
	br_init(&r, m->payload, m->len);
	t.tunnel_id = br_be32(&r);
	t.data = br_take(&r, I2NP_TUNNEL_DATA_BYTES);
	if ((rc = finish(&r)) != 0)
		return rc;
	if (t.tunnel_id == 0)
		return ERR_FORMAT;
	*out = t;
	return 0;
}

int i2np_tunnel_gateway_decode(const struct i2np_msg *m,
			       struct i2np_tunnel_gateway *out)
{
	struct breader r;
	struct i2np_tunnel_gateway g;
	int rc;

	if (m->type != I2NP_TUNNEL_GATEWAY)
		return ERR_ARG;
	br_init(&r, m->payload, m->len);
	g.tunnel_id = br_be32(&r);
	g.len = br_be16(&r);
	g.data = br_take(&r, g.len);
	if ((rc = finish(&r)) != 0)
		return rc;
	if (g.tunnel_id == 0 || g.len < I2NP_HEADER_BYTES)
		return ERR_FORMAT;
	*out = g;
	return 0;
}

void i2np_tunnel_gateway_encode(uint32_t tunnel_id, const struct i2np_msg *inner,
				struct bbuf *out)
{
	size_t at;

	bbuf_be32(out, tunnel_id);
	at = out->len;
	bbuf_be16(out, 0);
	i2np_msg_encode(inner, out);
	be16_put(out->data + at, (uint16_t)(out->len - at - 2));
}

int i2np_build_decode(const struct i2np_msg *m, struct i2np_build *out)
{
	struct breader r;
	struct i2np_build b;
	int rc;

	switch (m->type) {
	case I2NP_VARIABLE_TUNNEL_BUILD:
	case I2NP_VARIABLE_TUNNEL_BUILD_REPLY:
		b.record_len = I2NP_LONG_RECORD_BYTES;
		break;
	case I2NP_SHORT_TUNNEL_BUILD:
	case I2NP_OUTBOUND_TUNNEL_BUILD_REPLY:
		b.record_len = I2NP_SHORT_RECORD_BYTES;
		break;
	default:
		return ERR_ARG;
	}
	br_init(&r, m->payload, m->len);
	b.n_records = br_u8(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (b.n_records < 1 || b.n_records > I2NP_MAX_BUILD_RECORDS)
		return ERR_RANGE;
	b.records = br_take(&r, b.n_records * b.record_len);
	if ((rc = finish(&r)) != 0)
		return rc;
	*out = b;
	return 0;
}

const char *i2np_type_name(uint8_t type)
{
	switch (type) {
	case I2NP_DATABASE_STORE: return "DatabaseStore";
	case I2NP_DATABASE_LOOKUP: return "DatabaseLookup";
	case I2NP_DATABASE_SEARCH_REPLY: return "DatabaseSearchReply";
	case I2NP_DELIVERY_STATUS: return "DeliveryStatus";
	case I2NP_GARLIC: return "Garlic";
	case I2NP_TUNNEL_DATA: return "TunnelData";
	case I2NP_TUNNEL_GATEWAY: return "TunnelGateway";
	case I2NP_DATA: return "Data";
	case I2NP_TUNNEL_BUILD: return "TunnelBuild";
	case I2NP_TUNNEL_BUILD_REPLY: return "TunnelBuildReply";
	case I2NP_VARIABLE_TUNNEL_BUILD: return "VariableTunnelBuild";
	case I2NP_VARIABLE_TUNNEL_BUILD_REPLY: return "VariableTunnelBuildReply";
	case I2NP_SHORT_TUNNEL_BUILD: return "ShortTunnelBuild";
	case I2NP_OUTBOUND_TUNNEL_BUILD_REPLY: return "OutboundTunnelBuildReply";
	default: return "unknown";
	}
}

/* ---- duplicate filter ---- */

/* Buckets of one cache line: 16 fingerprints of 32 bits, the newest
 * first.  A key goes in its bucket's first place and the others move up;
 * the oldest leaves when the bucket is full.  A check reads one line
 * (two generations of a table of 64-bit keys cost two misses a message,
 * about a tenth of an SSU2 receiver's CPU at bulk rates). */
#define DEDUP_WAYS 16

struct i2np_dedup {
	uint32_t *slots;	/* nbuckets x DEDUP_WAYS; 0 = empty (NULL
				 * until the first key: see dedup_bucket) */
	size_t mask;		/* nbuckets - 1 */
	uint64_t salt;
};

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finaliser; the random salt keeps peers from aiming
	 * at one bucket. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* The table, zeroed, on a huge page where the kernel gives one (a
 * random line a message: one TLB entry covers them all). */
#define HUGE_PAGE_BYTES ((size_t)2 << 20)
static void *dedup_table(size_t bytes)
{
	void *p = NULL;
	size_t span = (bytes + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1);

	if (bytes < HUGE_PAGE_BYTES / 4)
		return xcalloc(1, bytes);
	if (posix_memalign(&p, HUGE_PAGE_BYTES, span) != 0)
		abort();	/* like OOM */
#ifdef MADV_HUGEPAGE
	(void)madvise(p, span, MADV_HUGEPAGE);
#endif
	memset(p, 0, bytes);	/* without a huge page the rest stays unused */
	return p;
}

struct i2np_dedup *i2np_dedup_new(size_t keys)
{
	struct i2np_dedup *d = xzalloc(sizeof(*d));
	size_t nb = 1;

	/* twice the places: a bucket overflows before keys more came only
	 * rarely (about 1 % of keys at a mean of 8 a bucket) */
	while (nb * DEDUP_WAYS < 2 * (keys ? keys : 1))
		nb *= 2;
	d->mask = nb - 1;
	rand_bytes(&d->salt, sizeof(d->salt));
	return d;
}

void i2np_dedup_free(struct i2np_dedup *d)
{
	if (!d)
		return;
	free(d->slots);
	free(d);
}

/* The bucket of a key, and its fingerprint (never 0).  The table comes
 * with the first key, in the process that uses it: one made before a
 * fork() would be copied page by page on the first writes after it. */
static uint32_t *dedup_bucket(struct i2np_dedup *d, uint32_t msg_id,
			      uint64_t expiration_ms, uint32_t *fp)
{
	uint64_t k = mix64(((uint64_t)msg_id << 32 |
			    (expiration_ms & 0xffffffffu)) ^ d->salt);

	if (!d->slots)
		d->slots = dedup_table((d->mask + 1) * DEDUP_WAYS *
				       sizeof(uint32_t));

	k ^= mix64(expiration_ms ^ (d->salt >> 1));
	*fp = (uint32_t)k ? (uint32_t)k : 1;
	return d->slots + ((size_t)(k >> 32) & d->mask) * DEDUP_WAYS;
}

void i2np_dedup_prefetch(struct i2np_dedup *d, uint32_t msg_id,
			 uint64_t expiration_ms)
{
	uint32_t fp;

	__builtin_prefetch(dedup_bucket(d, msg_id, expiration_ms, &fp));
}

bool i2np_dedup_check(struct i2np_dedup *d, uint32_t msg_id,
		      uint64_t expiration_ms)
{
	uint32_t fp, *b = dedup_bucket(d, msg_id, expiration_ms, &fp);
	bool seen = false;

	for (size_t i = 0; i < DEDUP_WAYS; i++)
		seen |= b[i] == fp;
	if (seen)
		return true;
	memmove(b + 1, b, (DEDUP_WAYS - 1) * sizeof(*b));
	b[0] = fp;
	return false;
}
