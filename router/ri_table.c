/*
 * INTERIM RouterInfo table and DatabaseStore/DatabaseLookup answers
 * (router/ri_table.h), after geti2p.net/spec/i2np "DatabaseStore",
 * "DatabaseLookup", "DatabaseSearchReply" and "DeliveryStatus".  Just
 * enough for a fresh session with i2pd; the netDb issue replaces it.
 */
#include "config.h"
#include "router/ri_table.h"
#include "crypto/base/fsutil.h"
#include "router/gzip.h"
#include "router/router_info.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PENDING_ACKS 64

struct entry {
	uint8_t hash[32];
	struct router_info *ri;
};

struct ri_table {
	uint8_t self[32];
	uint8_t netid;
	char *dir;
	struct worker_pool *wp;
	struct ri_table_sender sender;
	uint8_t *self_ri;
	size_t self_len;
	struct entry *e;
	size_t n, cap;
	uint32_t acks[MAX_PENDING_ACKS];
	size_t nacks;
	struct ri_table_stats st;
};

struct ri_table *ri_table_new(const uint8_t self[32], uint8_t netid,
			      const char *dir, struct worker_pool *wp)
{
	struct ri_table *rt = xzalloc(sizeof(*rt));

	memcpy(rt->self, self, 32);
	rt->netid = netid;
	rt->dir = dir ? xstrdup(dir) : NULL;
	rt->wp = wp;
	return rt;
}

void ri_table_free(struct ri_table *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->n; i++)
		router_info_free(rt->e[i].ri);
	free(rt->e);
	free(rt->dir);
	free(rt->self_ri);
	free(rt);
}

void ri_table_set_sender(struct ri_table *rt, struct ri_table_sender s)
{
	rt->sender = s;
}

void ri_table_set_self(struct ri_table *rt, const uint8_t *ri, size_t len)
{
	free(rt->self_ri);
	rt->self_ri = xmemdup(ri, len);
	rt->self_len = len;
}

static struct entry *find(const struct ri_table *rt, const uint8_t *hash)
{
	for (size_t i = 0; i < rt->n; i++)
		if (memcmp(rt->e[i].hash, hash, 32) == 0)
			return &rt->e[i];
	return NULL;
}

const struct router_info *ri_table_get(const struct ri_table *rt,
				       const uint8_t hash[32])
{
	const struct entry *e = find(rt, hash);

	return e ? e->ri : NULL;
}

size_t ri_table_count(const struct ri_table *rt)
{
	return rt->n;
}

/* ---- files ---- */

struct write_job {
	char *subdir, *path;
	uint8_t *data;
	size_t len;
	int r;
};

static void write_run(void *arg)
{
	struct write_job *j = arg;

	if ((j->r = fsutil_dir_ensure_private(j->subdir)) == 0)
		j->r = fsutil_write_atomic(j->path, j->data, j->len, 0600, true);
}

static void write_done(void *arg)
{
	struct write_job *j = arg;

	if (j->r != 0)
		log_warn(LD_NETDB, "cannot write %s: %s", j->path, err_str(j->r));
	free(j->subdir);
	free(j->path);
	free(j->data);
	free(j);
}

static void persist(struct ri_table *rt, const struct router_info *ri)
{
	char name[ROUTER_INFO_FILE_NAME_BYTES], sub[3] = "r?";
	struct write_job *j;
	const uint8_t *b;
	size_t len;

	if (!rt->dir || !(b = router_info_bytes(ri, &len)) ||
	    router_info_file_name(router_info_hash(ri), name, sizeof(name)) != 0)
		return;
	j = xzalloc(sizeof(*j));
	sub[1] = name[11];	/* "routerInfo-" then the first hash char */
	j->subdir = fsutil_path_join(rt->dir, sub);
	j->path = fsutil_path_join(j->subdir, name);
	j->data = xmemdup(b, len);
	j->len = len;
	if (rt->wp) {
		worker_submit(rt->wp, (struct work){ write_run, write_done, j });
	} else {
		write_run(j);
		write_done(j);
	}
}

/* ---- adding ---- */

static int add(struct ri_table *rt, const uint8_t *buf, size_t len,
	       const uint8_t *expect_hash, bool save)
{
	struct router_info *ri = NULL;
	struct entry *e;
	int r;

	if ((r = router_info_decode(buf, len, &ri)) != 0 ||
	    (r = router_info_verify(ri)) != 0 ||
	    (r = router_info_check_netid(ri, rt->netid)) != 0 ||
	    (r = router_info_check_published(ri, time_now_ms())) != 0)
		goto out;
	if (expect_hash && memcmp(router_info_hash(ri), expect_hash, 32) != 0) {
		r = ERR_FORMAT;		/* stored under another key */
		goto out;
	}
	if (memcmp(router_info_hash(ri), rt->self, 32) == 0) {
		r = ERR_ARG;
		goto out;
	}
	if ((e = find(rt, router_info_hash(ri)))) {
		if (router_info_published(ri) <= router_info_published(e->ri)) {
			r = ERR_EXISTS;
			goto out;
		}
		router_info_free(e->ri);
	} else {
		if (rt->n >= RI_TABLE_MAX_ENTRIES) {
			r = ERR_LIMIT;
			goto out;
		}
		if (rt->n == rt->cap) {
			rt->cap = rt->cap ? rt->cap * 2 : 16;
			rt->e = xrealloc(rt->e, rt->cap * sizeof(*rt->e));
		}
		e = &rt->e[rt->n++];
		memcpy(e->hash, router_info_hash(ri), 32);
	}
	e->ri = ri;
	if (save) {
		char h[72];

		log_debug(LD_NETDB, "kept RouterInfo %s",
			  log_safe_hash(h, sizeof(h), e->hash));
		persist(rt, ri);
	}
	ri = NULL;
out:
	router_info_free(ri);
	return r;
}

int ri_table_add(struct ri_table *rt, const uint8_t *buf, size_t len)
{
	return add(rt, buf, len, NULL, true);
}

size_t ri_table_load(struct ri_table *rt)
{
	DIR *top, *d;
	struct dirent *de, *fe;
	size_t kept = 0;

	if (!rt->dir || !(top = opendir(rt->dir)))
		return 0;
	while ((de = readdir(top))) {
		char *sub;

		if (de->d_name[0] != 'r' || strlen(de->d_name) != 2)
			continue;
		sub = fsutil_path_join(rt->dir, de->d_name);
		if ((d = opendir(sub))) {
			while ((fe = readdir(d))) {
				char *path;
				uint8_t *buf;
				size_t len;

				if (strncmp(fe->d_name, "routerInfo-", 11) != 0)
					continue;
				path = fsutil_path_join(sub, fe->d_name);
				if (fsutil_read_file(path, ROUTER_INFO_MAX_BYTES,
						     &buf, &len) == 0) {
					if (add(rt, buf, len, NULL, false) == 0)
						kept++;
					xfree_wipe(buf, len);
				}
				free(path);
			}
			closedir(d);
		}
		free(sub);
	}
	closedir(top);
	return kept;
}

/* ---- sending ---- */

static void send_msg(struct ri_table *rt, const uint8_t *to, uint32_t tunnel,
		     struct i2np_msg *m)
{
	if (!rt->sender.send) {
		i2np_msg_free(m);
		return;
	}
	if (tunnel != 0) {
		/* A reply through a tunnel: to its gateway, wrapped. */
		struct bbuf b = BBUF_INIT;
		uint8_t *p;
		size_t len;

		i2np_tunnel_gateway_encode(tunnel, m, &b);
		i2np_msg_free(m);
		p = bbuf_steal(&b, &len);
		m = i2np_msg_new_take(I2NP_TUNNEL_GATEWAY, p, len,
				      RI_TABLE_REPLY_TTL_MS);
	}
	(void)rt->sender.send(rt->sender.ctx, to, m);
}

static struct i2np_msg *store_msg(const uint8_t key[32], const uint8_t *ri,
				  size_t len, uint32_t token,
				  const uint8_t gateway[32])
{
	struct i2np_db_store s;
	struct bbuf gz = BBUF_INIT, body = BBUF_INIT;
	struct i2np_msg *m = NULL;
	uint8_t *p;
	size_t plen;

	if (gzip_compress(ri, len, &gz) != 0)
		goto out;
	memset(&s, 0, sizeof(s));
	memcpy(s.key, key, 32);
	s.store_type = I2NP_STORE_RI;
	s.reply_token = token;
	if (token)
		memcpy(s.reply_gateway, gateway, 32);
	s.data = gz.data;
	s.data_len = gz.len;
	i2np_db_store_encode(&s, &body);
	p = bbuf_steal(&body, &plen);
	m = i2np_msg_new_take(I2NP_DATABASE_STORE, p, plen, RI_TABLE_REPLY_TTL_MS);
out:
	bbuf_free(&gz);
	return m;
}

/* ---- handling ---- */

static void handle_store(struct ri_table *rt, const uint8_t *from,
			 const struct i2np_msg *m)
{
	struct i2np_db_store s;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	rt->st.stores_in++;
	if ((r = i2np_db_store_decode(m, &s)) != 0)
		goto bad;
	if (s.store_type != I2NP_STORE_RI) {
		/* LeaseSets: not a floodfill; ignore without an ack. */
		log_debug(LD_NETDB, "ignoring a LeaseSet store");
		return;
	}
	buf = xmalloc(ROUTER_INFO_MAX_BYTES);
	if ((r = gzip_decompress(s.data, s.data_len, buf, ROUTER_INFO_MAX_BYTES,
				 &len)) != 0)
		goto bad;
	r = add(rt, buf, len, s.key, true);
	if (r != 0 && r != ERR_EXISTS && r != ERR_ARG)
		goto bad;
	if (s.reply_token) {
		struct i2np_delivery_status ds = { s.reply_token, time_now_ms() };
		struct bbuf b = BBUF_INIT;
		uint8_t *p;
		size_t plen;

		i2np_delivery_status_encode(&ds, &b);
		p = bbuf_steal(&b, &plen);
		send_msg(rt, s.reply_gateway, s.reply_tunnel_id,
			 i2np_msg_new_take(I2NP_DELIVERY_STATUS, p, plen,
					   RI_TABLE_REPLY_TTL_MS));
		rt->st.acks_sent++;
	}
	free(buf);
	return;
bad:
	(void)from;
	rt->st.rejected++;
	log_info_rl(60, LD_NETDB, "refused a RouterInfo store: %s", err_str(r));
	free(buf);
}

/* Up to RI_TABLE_SEARCH_REPLY_PEERS known routers closest to key. */
static size_t closest(const struct ri_table *rt, const struct i2np_db_lookup *l,
		      uint8_t out[][32])
{
	size_t n = 0;
	uint8_t dist[RI_TABLE_SEARCH_REPLY_PEERS][32];

	for (size_t i = 0; i < rt->n; i++) {
		const uint8_t *h = rt->e[i].hash;
		uint8_t d[32];
		bool excluded = memcmp(h, l->key, 32) == 0;
		size_t at;

		for (size_t k = 0; k < l->n_excluded && !excluded; k++)
			excluded = memcmp(h, l->excluded + 32 * k, 32) == 0;
		if (excluded)
			continue;
		for (size_t k = 0; k < 32; k++)
			d[k] = h[k] ^ l->key[k];
		for (at = n; at > 0 && memcmp(d, dist[at - 1], 32) < 0; at--)
			;
		if (at >= RI_TABLE_SEARCH_REPLY_PEERS)
			continue;
		if (n < RI_TABLE_SEARCH_REPLY_PEERS)
			n++;
		memmove(dist[at + 1], dist[at], (n - 1 - at) * 32);
		memmove(out[at + 1], out[at], (n - 1 - at) * 32);
		memcpy(dist[at], d, 32);
		memcpy(out[at], h, 32);
	}
	return n;
}

static void handle_lookup(struct ri_table *rt, const struct i2np_msg *m)
{
	struct i2np_db_lookup l;
	const struct entry *e;
	const uint8_t *ri = NULL;
	size_t len = 0;
	uint8_t type, peers[RI_TABLE_SEARCH_REPLY_PEERS][32];
	uint32_t tunnel;
	struct i2np_msg *reply;
	int r;

	rt->st.lookups_in++;
	if ((r = i2np_db_lookup_decode(m, &l)) != 0) {
		rt->st.rejected++;
		log_info_rl(60, LD_NETDB, "bad DatabaseLookup: %s", err_str(r));
		return;
	}
	if (l.has_reply_key) {
		/* Interim table (until the netDb takes the hooks over,
		 * which answers these in garlic): plain replies only. */
		log_debug(LD_NETDB, "lookup asks for an encrypted reply: dropped");
		return;
	}
	tunnel = (l.flags & I2NP_LOOKUP_FLAG_TUNNEL) ? l.reply_tunnel_id : 0;
	type = l.flags & I2NP_LOOKUP_TYPE_MASK;
	if (type == I2NP_LOOKUP_TYPE_NORMAL || type == I2NP_LOOKUP_TYPE_RI) {
		if (memcmp(l.key, rt->self, 32) == 0) {
			ri = rt->self_ri;
			len = rt->self_len;
		} else if ((e = find(rt, l.key))) {
			ri = router_info_bytes(e->ri, &len);
		}
	}
	if (ri) {
		reply = store_msg(l.key, ri, len, 0, NULL);
	} else {
		struct i2np_search_reply sr;
		struct bbuf b = BBUF_INIT;
		uint8_t *p;
		size_t plen;

		memset(&sr, 0, sizeof(sr));
		memcpy(sr.key, l.key, 32);
		sr.n_peers = (uint8_t)closest(rt, &l, peers);
		sr.peers = &peers[0][0];
		memcpy(sr.from, rt->self, 32);
		i2np_search_reply_encode(&sr, &b);
		p = bbuf_steal(&b, &plen);
		reply = i2np_msg_new_take(I2NP_DATABASE_SEARCH_REPLY, p, plen,
					  RI_TABLE_REPLY_TTL_MS);
	}
	if (reply) {
		send_msg(rt, l.from, tunnel, reply);
		rt->st.replies_sent++;
	}
}

static void handle_status(struct ri_table *rt, const struct i2np_msg *m)
{
	struct i2np_delivery_status ds;

	if (i2np_delivery_status_decode(m, &ds) != 0)
		return;
	for (size_t i = 0; i < rt->nacks; i++) {
		if (rt->acks[i] == ds.msg_id) {
			rt->acks[i] = rt->acks[--rt->nacks];
			rt->st.acks_received++;
			log_debug(LD_NETDB, "a floodfill acknowledged our "
				  "RouterInfo");
			return;
		}
	}
}

void ri_table_handle(struct ri_table *rt, const uint8_t from[32],
		     struct i2np_msg *m)
{
	switch (m->type) {
	case I2NP_DATABASE_STORE:
		handle_store(rt, from, m);
		break;
	case I2NP_DATABASE_LOOKUP:
		handle_lookup(rt, m);
		break;
	case I2NP_DELIVERY_STATUS:
		handle_status(rt, m);
		break;
	default:
		log_debug(LD_NETDB, "no handler for I2NP %s: dropped",
			  i2np_type_name(m->type));
		break;
	}
	i2np_msg_free(m);
}

static bool is_floodfill(const struct router_info *ri)
{
	const char *caps = router_info_option(ri, "caps");

	return caps && strchr(caps, 'f');
}

size_t ri_table_announce(struct ri_table *rt, size_t max)
{
	size_t sent = 0;

	if (!rt->self_ri || !rt->sender.send)
		return 0;
	/* floodfills first (pass 0), then the rest */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < rt->n && sent < max; i++) {
			bool ff = is_floodfill(rt->e[i].ri);
			uint32_t token = 0;
			struct i2np_msg *m;

			if (ff != (pass == 0))
				continue;
			if (ff) {
				while (token == 0)
					token = (uint32_t)rand_u64();
				if (rt->nacks < MAX_PENDING_ACKS)
					rt->acks[rt->nacks++] = token;
			}
			m = store_msg(rt->self, rt->self_ri, rt->self_len, token,
				      rt->self);
			if (m && rt->sender.send(rt->sender.ctx, rt->e[i].hash,
						 m) == 0)
				sent++;
		}
	}
	return sent;
}

void ri_table_stats(const struct ri_table *rt, struct ri_table_stats *out)
{
	*out = rt->st;
}
