/*
 * Local destinations over the router's tunnels (see tunnelnet.h).
 */
#include "config.h"
#include "apps/client/tunnelnet.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/blinding.h"
#include "crypto/ed25519.h"
#include "crypto/rand.h"
#include "netdb/netdb.h"
#include "netdb/routing.h"
#include "netdb/store.h"
#include "router/certificate.h"
#include "router/datagram.h"
#include "router/dest_keys.h"
#include "router/els2.h"
#include "router/evloop.h"
#include "router/i2np.h"
#include "router/ratchet.h"
#include "router/router_info.h"

/* A remote destination a local one sends to. */
struct tn_peer {
	uint8_t hash[32];
	uint32_t ls_version;	/* our LeaseSet version it was sent */
	struct x25519_pk pk;	/* its LeaseSet's key, when sent to */
	uint64_t quiet_since;	/* monotonic: sent to, nothing back since */
	uint64_t refreshed;	/* monotonic: last TUNNELNET_QUIET_MS lookup */
	uint64_t last_sent;	/* monotonic: our last payload to it */
	/* monotonic: its session owes it a protocol-layer response and
	 * nothing went to it since (0: none owed) */
	uint64_t owed_since;
	/* The path its messages take while it serves: one of our outbound
	 * tunnels (tunnel_pool_send_on) and one of its leases, so they
	 * arrive in the order sent. */
	uint64_t out_path;
	bool has_lease;
	struct lease lease;
};

struct tn_dest {
	struct tn_dest *next;
	struct tunnelnet *tn;
	const struct client_dest *d;
	struct client_rx rx;
	struct tunnel_pool *pool;
	struct ratchet_ctx *rc;
	struct bbuf ls;			/* our signed LeaseSet2 */
	/* encrypted (client_ls_opts): what is published instead, under
	 * els_key (today's blinded key) */
	struct bbuf els;
	uint8_t els_key[32];
	uint64_t ls_day;		/* UTC day (unix days) ls was built */
	uint32_t ls_version;		/* bumped at each new LeaseSet */
	struct lease leases[LEASESET_MAX_LEASES];
	size_t n_leases;
	/* Its last LeaseSet store: the floodfills it went to, under which
	 * key, and when to verify it (0: not now; netdb_verify_store()). */
	uint8_t stored[TUNNELNET_PUBLISH_PEERS][32], stored_key[32];
	size_t n_stored;
	uint64_t verify_at;
	bool verifying;
	uint64_t publish_at;		/* monotonic */
	bool unpublished;		/* its LeaseSet reached no floodfill yet */
	/* After a publish that went nowhere: the wait before the next try
	 * (0: none failed), and the floodfills known then. */
	uint64_t retry_ms;
	size_t retry_ff;
	uint64_t attached;		/* monotonic */
	struct tn_peer peers[TUNNELNET_PEERS_MAX];
	size_t n_peers;
};

/* A payload waiting for its LeaseSet. */
struct tn_queued {
	struct tn_queued *next;
	const struct client_dest *from;
	struct keys_and_cert to;
	uint8_t proto;
	uint16_t src_port, dst_port;
	uint64_t deadline;		/* monotonic */
	size_t len;
	uint8_t data[];
};

/* A remote destination known by its encrypted LeaseSet: the inner
 * LeaseSet2 we opened, and what opens the next one. */
struct tn_els {
	struct leaseset *inner;		/* NULL: a free slot */
	uint8_t dest[32];		/* the inner Destination's hash */
	uint64_t outer_published_ms;
	struct els2_blinding bl;	/* secret (alpha) */
	uint8_t auth_key[32];		/* secret */
	bool has_key;
};

struct tunnelnet {
	struct tunnelnet_cfg cfg;
	struct evloop_timer *timer;
	struct tn_dest *dests;
	struct tn_queued *queue;
	size_t n_queued;
	/* The lookups whose callback is ours (cancelled at free): the key,
	 * and the published time of the usable LeaseSet known when it
	 * started (0: none), so that only a newer one ends it. */
	struct tn_lookup {
		uint8_t key[32];
		uint64_t had_ms;
	} lookups[TUNNELNET_QUEUE_MAX];
	size_t n_lookups;
	/* Destinations whose lookup failed lately (a ring): looked up
	 * again after TUNNELNET_RELOOKUP_MS while payloads wait for them
	 * (relook), refused after a payload waited in vain (negative). */
	struct tn_miss {
		uint8_t hash[32];
		uint64_t until;		/* monotonic */
	} negative[TUNNELNET_NEGATIVE_MAX], relook[TUNNELNET_NEGATIVE_MAX];
	size_t next_negative, next_relook;
	struct tn_els els[TUNNELNET_ELS_MAX];
	size_t next_els;
	struct tunnelnet_stats st;
	uint64_t ack_in;	/* ms from the last poll to the next owed ack */
};

static struct tn_dest *find_dest(const struct tunnelnet *tn,
				 const uint8_t hash[32])
{
	for (struct tn_dest *x = tn->dests; x; x = x->next)
		if (memcmp(client_dest_pub(x->d)->hash, hash, 32) == 0)
			return x;
	return NULL;
}

static struct tn_dest *find_by_client(const struct tunnelnet *tn,
				      const struct client_dest *d)
{
	for (struct tn_dest *x = tn->dests; x; x = x->next)
		if (x->d == d)
			return x;
	return NULL;
}

/* ---- LeaseSet ---- */

int tunnelnet_leaseset_build(const struct dest_keys *k,
			     const struct x25519_pk *enc,
			     const struct lease *leases, size_t n,
			     uint64_t now_ms, struct bbuf *out)
{
	struct leaseset_enc_key ek = { CERT_ENC_X25519, 32, enc->b };
	struct leaseset2_params p = { 0 };
	struct ed25519_seed seed;
	uint64_t last = 0;
	int e;

	if (k->offline || k->signer_type != CERT_SIG_EDDSA_SHA512_ED25519)
		return ERR_UNSUPPORTED;
	if (n == 0 || n > LEASESET_MAX_LEASES)
		return ERR_ARG;
	for (size_t i = 0; i < n; i++)
		if (leases[i].end_ms > last)
			last = leases[i].end_ms;
	p.type = LEASESET_LS2;
	p.dest = &k->dest;
	p.published_s = (uint32_t)(now_ms / 1000);
	if (last <= now_ms)
		return ERR_ARG;
	last = (last - now_ms + 999) / 1000;
	if (last > LEASESET_MAX_FUTURE_MS / 1000)
		last = LEASESET_MAX_FUTURE_MS / 1000;
	p.expires_s = (uint16_t)last;
	p.keys = &ek;
	p.n_keys = 1;
	p.leases = leases;
	p.n_leases = n;
	memcpy(seed.b, k->sig_sk, sizeof(seed.b));
	e = leaseset2_encode(&p, leaseset_sign_ed25519, &seed, out);
	memwipe(&seed, sizeof(seed));
	return e;
}

/* The leases of x's inbound tunnels now; true when they changed. */
static bool collect_leases(struct tn_dest *x, uint64_t now_ms, uint64_t mono)
{
	struct lease l[LEASESET_MAX_LEASES];
	size_t n = 0;
	bool changed;

	memset(l, 0, sizeof(l));
	while (n < LEASESET_MAX_LEASES) {
		uint64_t exp;

		if (tunnel_pool_lease(x->pool, n, l[n].gateway, &l[n].tunnel_id,
				      &exp) != 0)
			break;
		l[n].end_ms = exp > mono ? now_ms + (exp - mono) : now_ms;
		/* Lease2 carries seconds. */
		l[n].end_ms -= l[n].end_ms % 1000;
		n++;
	}
	changed = n != x->n_leases;
	for (size_t i = 0; !changed && i < n; i++)
		changed = memcmp(l[i].gateway, x->leases[i].gateway, 32) != 0 ||
			  l[i].tunnel_id != x->leases[i].tunnel_id;
	if (changed) {
		memcpy(x->leases, l, sizeof(l));
		x->n_leases = n;
	}
	return changed;
}

int tunnelnet_els_build(const struct dest_keys *k,
			const struct client_ls_opts *o, const uint8_t *inner,
			size_t inner_len, struct bbuf *out,
			uint8_t store_key[32])
{
	struct leaseset *ls = NULL;
	struct els2_blinding bl;
	struct ed25519_seed seed;
	struct els2_params p;
	uint8_t a[32], bsk[32];
	uint64_t pub, exp;
	int e;

	if (k->offline || k->signer_type != CERT_SIG_EDDSA_SHA512_ED25519)
		return ERR_UNSUPPORTED;
	if ((e = leaseset_decode(LEASESET_LS2, inner, inner_len, &ls)) != 0)
		return e;
	pub = leaseset_published_ms(ls);
	exp = leaseset_expires_ms(ls);
	leaseset_free(ls);
	if ((e = els2_blinding_derive(k->dest.sig_key, CERT_SIG_EDDSA_SHA512_ED25519,
				      pub / 1000, o->secret, o->secret_len,
				      &bl)) != 0)
		return e;
	memcpy(seed.b, k->sig_sk, sizeof(seed.b));
	blind_ed25519_scalar(a, &seed);
	blind_privkey(bsk, a, bl.alpha);
	p = (struct els2_params){
		.bl = &bl, .blinded_sk = bsk,
		.published_s = (uint32_t)(pub / 1000),
		.expires_s = (uint16_t)((exp - pub) / 1000),
		.inner_type = LEASESET_LS2, .inner = inner,
		.inner_len = inner_len, .auth = o->auth,
		.clients = o->clients, .n_clients = o->n_clients,
	};
	e = els2_encode(&p, out);
	if (e == 0)
		memcpy(store_key, bl.store_key, 32);
	memwipe(&seed, sizeof(seed));
	memwipe(a, sizeof(a));
	memwipe(bsk, sizeof(bsk));
	memwipe(&bl, sizeof(bl));
	return e;
}

struct i2np_msg *tunnelnet_store_msg_new(const uint8_t key[32], uint8_t type,
					 const uint8_t *data, size_t len,
					 uint32_t token, uint32_t reply_tid,
					 const uint8_t reply_gw[32],
					 const struct x25519_pk *ff_pk)
{
	struct i2np_msg *m = netdb_store_msg_new(key, type, data, len, token,
						 reply_tid, reply_gw);

	return ff_pk ? garlic_wrap_for_router(m, ff_pk) : m;
}

static bool ff_in_good_standing(void *db, const struct netdb_ri_entry *e)
{
	return !netdb_ff_is_bad(db, e->hash);
}

/* Store x's LeaseSet (or the encrypted one instead) to the floodfills
 * closest to it, through its own tunnels, asking for a DeliveryStatus
 * back through them; in garlic to each floodfill's router key when it
 * has an X25519 one, so that our outbound endpoint cannot read or
 * change the store (i2np spec, DatabaseStore: "LS2 ... should be
 * garlic encrypted" through tunnels).  Returns the number of stores
 * sent (0: no reply path, no floodfill known, or no outbound tunnel). */
static size_t publish(struct tunnelnet *tn, struct tn_dest *x,
		      uint64_t now_ms, uint64_t mono)
{
	const uint8_t *hash = client_dest_pub(x->d)->hash;
	struct netdb_store *s = netdb_get_store(tn->cfg.db);
	const struct bbuf *pub = &x->ls;
	uint8_t store_type = I2NP_STORE_LS2;
	struct netdb_closest c;
	uint8_t rk[32], gw[32];
	uint32_t tid;
	enum netdb_add_result res;
	size_t sent = 0;

	if (client_dest_ls_opts(x->d)->encrypted) {
		/* blinded for the day ls was published (a new inner
		 * LeaseSet and key after midnight UTC: refresh_dest()) */
		bbuf_reset(&x->els);
		if (tunnelnet_els_build(client_dest_keys(x->d),
					client_dest_ls_opts(x->d), x->ls.data,
					x->ls.len, &x->els,
					x->els_key) != 0) {
			log_warn(LD_CLIENT, "cannot build the encrypted "
				 "LeaseSet");
			return 0;
		}
		hash = x->els_key;
		pub = &x->els;
		store_type = I2NP_STORE_ENC_LS2;
	}
	/* Our own netDb has it first (lookups from this router, and a
	 * floodfill serves it). */
	(void)netdb_add_ls(tn->cfg.db, (enum leaseset_type)store_type,
			   pub->data, pub->len, hash, NULL, &res);
	if (tunnel_pool_reply_path(x->pool, gw, &tid, mono) != 0)
		return 0;
	netdb_routing_key(hash, now_ms, rk);
	netdb_closest_init(&c, rk, TUNNELNET_PUBLISH_PEERS);
	/* Not to floodfills the netDb left out for what they did (stores
	 * dropped, junk answers: netdb/ffprof.h), unless no other is left. */
	netdb_store_closest(s, true, ff_in_good_standing, tn->cfg.db, &c);
	if (!c.n)
		netdb_store_closest(s, true, NULL, NULL, &c);
	if (x->verifying)	/* a new store: the last one's check is moot */
		(void)netdb_lookup_cancel(tn->cfg.db, x->stored_key);
	x->verifying = false;
	x->n_stored = 0;
	memcpy(x->stored_key, hash, 32);
	for (size_t i = 0; i < c.n; i++) {
		uint32_t token = 1 + rand_uniform(UINT32_MAX - 1);
		const struct router_info *ri = netdb_get_ri(tn->cfg.db,
							    c.e[i].hash);
		struct x25519_pk pk;
		bool wrap = ri && keys_and_cert_x25519_pk(
					  router_info_identity(ri), &pk) == 0;
		struct i2np_msg *m = tunnelnet_store_msg_new(
			hash, store_type, pub->data, pub->len, token, tid, gw,
			wrap ? &pk : NULL);

		if (m && tunnel_pool_send(x->pool, c.e[i].hash, 0, m, mono) ==
				 0) {
			tn->st.published++;
			tn->st.published_garlic += wrap;
			if (x->n_stored < TUNNELNET_PUBLISH_PEERS)
				memcpy(x->stored[x->n_stored++], c.e[i].hash,
				       32);
			x->verify_at = mono + NETDB_VERIFY_DELAY_MS;
			sent++;
		}
	}
	log_debug(LD_CLIENT, "LeaseSet (%zu leases) stored to %zu of %zu "
		  "floodfills (%" PRIu64 " of %" PRIu64 " stores so far in "
		  "garlic)", x->n_leases, sent, c.n, tn->st.published_garlic,
		  tn->st.published);
	return sent;
}

static bool dest_ready(const struct tn_dest *x);

/* The verification of a LeaseSet store ended: lost (every floodfill
 * asked said "not found"), its destination stores it again at once. */
static void verify_done(void *ctx, const uint8_t key[32], int result)
{
	struct tunnelnet *tn = ctx;
	char h[72];

	for (struct tn_dest *x = tn->dests; x; x = x->next) {
		if (!x->verifying || memcmp(x->stored_key, key, 32) != 0)
			continue;
		x->verifying = false;
		if (result == ERR_NOT_FOUND) {
			tn->st.ls_lost++;
			x->publish_at = time_mono_ms();
		} else if (result == 0) {
			tn->st.ls_verified++;
		}
		log_info(LD_CLIENT, "LeaseSet %s: %s", log_safe_hash(h,
			 sizeof(h), key), result == 0 ? "verified elsewhere" :
			 result == ERR_NOT_FOUND ? "not found elsewhere: "
			 "storing it again" : err_str(result));
	}
}

/* Java I2P's FloodfillVerifyStoreJob for our LeaseSets: NETDB_VERIFY_DELAY_MS
 * after a store, ask floodfills it did not go to (netdb/netdb.h). */
static void verify_dest(struct tunnelnet *tn, struct tn_dest *x,
			uint64_t mono)
{
	if (!x->verify_at || mono < x->verify_at || !x->n_stored)
		return;
	x->verify_at = 0;
	x->verifying = netdb_verify_store(tn->cfg.db, x->stored_key,
					  NETDB_LOOKUP_LS,
					  (const uint8_t (*)[32])x->stored,
					  x->n_stored, verify_done, tn) == 0;
}

static void refresh_dest(struct tunnelnet *tn, struct tn_dest *x,
			 uint64_t now_ms, uint64_t mono)
{
	const struct dest_keys *k = client_dest_keys(x->d);
	size_t ff = netdb_store_ff_count(netdb_get_store(tn->cfg.db));
	struct bbuf b = BBUF_INIT;
	bool changed = collect_leases(x, now_ms, mono);

	if (changed && x->n_leases == 0)
		return;
	/* An encrypted LeaseSet at midnight UTC: a new one at once, its
	 * inner LeaseSet published today, as the new day's blinding must
	 * be (tunnelnet_els_build(); i2pd checks the blinded key against
	 * the published date). */
	if (!changed && x->ls.len && x->n_leases &&
	    client_dest_ls_opts(x->d)->encrypted &&
	    now_ms / TUNNELNET_DAY_MS != x->ls_day)
		changed = true;
	if (changed) {
		if (tunnelnet_leaseset_build(k, ratchet_ctx_pubkey(x->rc),
					     x->leases, x->n_leases, now_ms,
					     &b) != 0) {
			bbuf_free(&b);
			return;
		}
		bbuf_free(&x->ls);
		x->ls = b;
		x->ls_day = now_ms / TUNNELNET_DAY_MS;
		x->ls_version++;
		x->publish_at = mono;
		x->unpublished = true;
	}
	/* Not before it has a way out: its inbound tunnels are often up
	 * first (an outbound build's reply comes back through a tunnel),
	 * and a LeaseSet that went nowhere waited for the next change of
	 * leases or TUNNELNET_REPUBLISH_MS. */
	if (x->retry_ms && ff > x->retry_ff) {	/* a floodfill came */
		x->retry_ms = 0;
		x->publish_at = mono;
	}
	if (x->ls.len && mono >= x->publish_at && dest_ready(x)) {
		if (publish(tn, x, now_ms, mono) > 0) {
			x->unpublished = false;
			x->retry_ms = 0;
			x->publish_at = mono + TUNNELNET_REPUBLISH_MS;
		} else {
			/* (no floodfill known: a router alone, a test net
			 * still starting) */
			tn->st.publish_none++;
			x->retry_ms = x->retry_ms ? 2 * x->retry_ms :
						    TUNNELNET_PUBLISH_RETRY_MS;
			if (x->retry_ms > TUNNELNET_PUBLISH_RETRY_MAX_MS)
				x->retry_ms = TUNNELNET_PUBLISH_RETRY_MAX_MS;
			x->retry_ff = ff;
			x->publish_at = mono + x->retry_ms;
		}
	}
}

/* ---- sending ---- */

static struct tn_peer *peer_get(struct tn_dest *x, const uint8_t hash[32])
{
	struct tn_peer *p;

	for (size_t i = 0; i < x->n_peers; i++)
		if (memcmp(x->peers[i].hash, hash, 32) == 0)
			return &x->peers[i];
	if (x->n_peers < TUNNELNET_PEERS_MAX)
		p = &x->peers[x->n_peers++];
	else
		p = &x->peers[rand_uniform(TUNNELNET_PEERS_MAX)];
	memset(p, 0, sizeof(*p));
	memcpy(p->hash, hash, 32);
	return p;
}

/* The X25519 key of a LeaseSet, and the lease to send to: peer's, while
 * the LeaseSet still lists it and it has TUNNELNET_LEASE_MARGIN_MS left,
 * else one drawn at random among those that have (and kept). */
static int route_of(const struct leaseset *ls, uint64_t now_ms,
		    struct tn_peer *peer, struct x25519_pk *pk,
		    struct lease *out)
{
	size_t n = leaseset_lease_count(ls), ok = 0;
	bool have_key = false;

	for (size_t i = 0; i < leaseset_enc_key_count(ls); i++) {
		const struct leaseset_enc_key *k = leaseset_enc_key(ls, i);

		if (k->type == CERT_ENC_X25519 && k->len == 32) {
			memcpy(pk->b, k->key, 32);
			have_key = true;
			break;
		}
	}
	if (!have_key)
		return ERR_UNSUPPORTED;
	for (size_t i = 0; i < n; i++) {
		const struct lease *l = leaseset_lease(ls, i);

		if (l->end_ms <= now_ms + TUNNELNET_LEASE_MARGIN_MS)
			continue;
		if (peer->has_lease && l->tunnel_id == peer->lease.tunnel_id &&
		    memcmp(l->gateway, peer->lease.gateway, 32) == 0) {
			*out = *l;
			return 0;
		}
		ok++;
	}
	if (!ok)
		return ERR_NOT_FOUND;
	ok = rand_uniform((uint32_t)ok);
	for (size_t i = 0; i < n; i++) {
		const struct lease *l = leaseset_lease(ls, i);

		if (l->end_ms > now_ms + TUNNELNET_LEASE_MARGIN_MS &&
		    ok-- == 0) {
			*out = peer->lease = *l;
			peer->has_lease = true;
			return 0;
		}
	}
	return ERR_INTERNAL;
}

/* ls lists a lease route_of() would send to. */
static bool ls_has_lease(const struct leaseset *ls, uint64_t now_ms)
{
	for (size_t i = 0; i < leaseset_lease_count(ls); i++)
		if (leaseset_lease(ls, i)->end_ms >
		    now_ms + TUNNELNET_LEASE_MARGIN_MS)
			return true;
	return false;
}

static int lookup_start(struct tunnelnet *tn, const uint8_t key[32]);

/* Sending without a word back: the leases we send to may be gone (a hop
 * of the remote's died) and our new ones may not have reached it.  Ask
 * the floodfills for its LeaseSet again, bundle ours once more, and take
 * another way there: ours or its lease may be dead. */
static void peer_refresh(struct tunnelnet *tn, struct tn_peer *peer,
			 uint64_t mono)
{
	peer->refreshed = mono;
	peer->ls_version = 0;
	peer->has_lease = false;
	peer->out_path = 0;
	tn->st.refreshes++;
	(void)lookup_start(tn, peer->hash);
}

/* Silent TUNNELNET_RENEW_MS or longer (quiet ms): send to peer on a new
 * ratchet session from the next message on (ratchet_ctx_renew(): false
 * when there was no established one to retire). */
static bool peer_renew(struct tn_dest *x, const struct tn_peer *peer,
		       uint64_t quiet)
{
	char hs[72];

	if (quiet < TUNNELNET_RENEW_MS || !ratchet_ctx_renew(x->rc, &peer->pk))
		return false;
	log_debug(LD_CLIENT, "no word back from %s for %" PRIu64 " ms: a new "
		  "ratchet session", log_safe_hash(hs, sizeof(hs), peer->hash),
		  quiet);
	return true;
}

/* Garlic from x to the destination hash whose LeaseSet is ls: the client
 * payload data under h in a Data clove, or (h NULL) only what the
 * ratchet owes the remote (ACKs, Next Key, an NSR) beside padding. */
static int send_garlic(struct tunnelnet *tn, struct tn_dest *x,
		       const struct leaseset *ls, const uint8_t hash[32],
		       const struct client_payload_hdr *h, const uint8_t *data,
		       size_t len)
{
	uint64_t now = time_now_ms(), mono = time_mono_ms();
	struct bbuf cp = BBUF_INIT, blob = BBUF_INIT, blocks = BBUF_INIT;
	struct bbuf g = BBUF_INIT;
	struct x25519_pk pk;
	struct lease l;
	struct i2np_msg *dm = NULL, *sm = NULL, *gm;
	struct tn_peer *peer;
	bool bundled = false;
	int e;

	peer = peer_get(x, hash);
	if ((e = route_of(ls, now, peer, &pk, &l)) != 0)
		goto out;
	peer->pk = pk;
	/* Silence while we sent nothing says nothing of the remote: a
	 * payload after TUNNELNET_RENEW_MS without any starts the count
	 * afresh.  (The first payload after an idle minute renewed the
	 * session; i2pd kept its own, never answered the new one, and
	 * every message after it went as an NS, its DH ratchet stalled.) */
	if (h && peer->quiet_since &&
	    mono - peer->last_sent >= TUNNELNET_RENEW_MS)
		peer->quiet_since = 0;
	if (h)
		peer->last_sent = mono;
	if (h && !peer->quiet_since) {
		peer->quiet_since = mono;
	} else if (h && mono - peer->quiet_since >= TUNNELNET_QUIET_MS &&
		   mono - peer->refreshed >= TUNNELNET_QUIET_MS) {
		peer_refresh(tn, peer, mono);
		(void)peer_renew(x, peer, mono - peer->quiet_since);
	}
	/* Our LeaseSet, while the session is new or after it changed, so
	 * the remote can answer; ahead of the payload, as i2pd orders them:
	 * i2pd acts on the cloves in order and answers a SYN at once, and
	 * with no LeaseSet of ours yet it drops its SYN ACK and asks the
	 * floodfills (the answer then waits for its first resend, 9 s). */
	if (x->ls.len && (peer->ls_version != x->ls_version ||
			  ratchet_ctx_tx_tagset_id(x->rc, &pk) < 0)) {
		sm = netdb_store_msg_new(client_dest_pub(x->d)->hash,
					 I2NP_STORE_LS2, x->ls.data, x->ls.len,
					 0, 0, NULL);
		bundled = garlic_block_clove(&blocks, sm, GARLIC_DELIVERY_LOCAL,
					     NULL, 0) == 0;
	}
	if (h) {
		if ((e = client_payload_encode(data, len, h, &cp)) != 0)
			goto out;
		i2np_blob_encode(cp.data, cp.len, &blob);
		if (blob.len > I2NP_MAX_PAYLOAD_BYTES) {
			e = ERR_TOO_BIG;
			goto out;
		}
		dm = i2np_msg_new(I2NP_DATA, blob.data, blob.len,
				  TUNNEL_MSG_TTL_MS);
		if ((e = garlic_block_clove(&blocks, dm,
					      GARLIC_DELIVERY_DESTINATION, hash,
					      0)) != 0)
			goto out;
	}
	if (blocks.len + 3 + TUNNELNET_PAD_MAX <= TUNNELNET_PAD_UNTIL) {
		uint8_t r;

		rand_bytes(&r, 1);
		garlic_block_padding(&blocks, r % (TUNNELNET_PAD_MAX + 1));
	}
	bbuf_be32(&g, 0);
	if (log_enabled(LOG_DEBUG) && ratchet_ctx_tx_tagset_id(x->rc, &pk) < 0) {
		char rh[72], gw[72];
		log_debug(LD_CLIENT, "garlic to %s without a tag set (NS or "
			  "NSR)%s%s, to lease %s/%u", log_safe_hash(rh,
			  sizeof(rh), hash), h ? " with data" : "",
			  bundled ? " and our LeaseSet" : "",
			  log_safe_hash(gw, sizeof(gw), l.gateway),
			  l.tunnel_id);
	}
	if ((e = ratchet_encrypt(x->rc, &pk, blocks.data, blocks.len, 0, now,
				 &g)) != 0)
		goto out;
	if (g.len > I2NP_MAX_PAYLOAD_BYTES) {
		e = ERR_TOO_BIG;
		goto out;
	}
	be32_put(g.data, (uint32_t)(g.len - 4));
	gm = i2np_msg_new(I2NP_GARLIC, g.data, g.len, TUNNEL_MSG_TTL_MS);
	if ((e = tunnel_pool_send_on(x->pool, &peer->out_path, l.gateway,
				     l.tunnel_id, gm, mono)) == 0) {
		tn->st.sent++;
		tn->st.acks_sent += !h;
		/* what the ratchet owed went with it */
		peer->owed_since = 0;
		if (bundled)
			peer->ls_version = x->ls_version;
	}
out:
	if (e != 0)
		tn->st.no_route++;
	i2np_msg_free(dm);
	i2np_msg_free(sm);
	bbuf_free(&cp);
	bbuf_free(&blob);
	bbuf_free(&blocks);
	bbuf_free(&g);
	return e;
}

static int send_now(struct tunnelnet *tn, struct tn_dest *x,
		    const struct leaseset *ls, const struct keys_and_cert *to,
		    uint8_t proto, uint16_t src_port, uint16_t dst_port,
		    const uint8_t *data, size_t len)
{
	struct client_payload_hdr h = { src_port, dst_port, proto };

	return send_garlic(tn, x, ls, to->hash, &h, data, len);
}

static void queue_free(struct tn_queued *q)
{
	xfree_wipe(q, sizeof(*q) + q->len);
}

/* x can send and be answered: an outbound tunnel, and a LeaseSet. */
static bool dest_ready(const struct tn_dest *x)
{
	struct tunnel_pool_stats st;

	if (!x->ls.len)
		return false;
	tunnel_pool_stats(x->pool, &st);
	return st.out_ready > 0;
}

/* ---- encrypted LeaseSets ---- */

static struct tn_els *els_by_dest(struct tunnelnet *tn, const uint8_t h[32])
{
	for (size_t i = 0; i < TUNNELNET_ELS_MAX; i++)
		if (tn->els[i].inner && memcmp(tn->els[i].dest, h, 32) == 0)
			return &tn->els[i];
	return NULL;
}

static struct tn_els *els_by_key(struct tunnelnet *tn, const uint8_t k[32])
{
	for (size_t i = 0; i < TUNNELNET_ELS_MAX; i++)
		if (tn->els[i].inner &&
		    memcmp(tn->els[i].bl.store_key, k, 32) == 0)
			return &tn->els[i];
	return NULL;
}

static void els_clear(struct tn_els *e)
{
	leaseset_free(e->inner);
	memwipe(e, sizeof(*e));
}

/*
 * Open the EncryptedLeaseSet the netDb holds under bl->store_key with
 * auth_key (tried as a DH key, then as a PSK) unless the one opened last
 * is as new; *out is its slot.  ERR_NOT_FOUND when the netDb has none,
 * els2_decrypt()'s errors, ERR_UNSUPPORTED for an inner MetaLeaseSet.
 */
static int els_open(struct tunnelnet *tn, const struct els2_blinding *bl,
		    const uint8_t *auth_key, struct tn_els **out)
{
	const struct netdb_ls_entry *ent =
		netdb_store_find_ls(netdb_get_store(tn->cfg.db), bl->store_key);
	struct tn_els *e = els_by_key(tn, bl->store_key);
	struct leaseset *inner = NULL;
	struct els2_cred cred = { ELS2_AUTH_DH, { 0 } };
	int r;

	if (!ent || leaseset_type(ent->ls) != LEASESET_ENC_LS2)
		return ERR_NOT_FOUND;
	if (e && e->outer_published_ms == leaseset_published_ms(ent->ls) &&
	    memcmp(e->bl.blinded_pk, bl->blinded_pk, 32) == 0) {
		*out = e;
		return 0;
	}
	if (auth_key)
		memcpy(cred.key, auth_key, 32);
	r = els2_decrypt(ent->ls, bl, auth_key ? &cred : NULL, &inner);
	if (r == ERR_AUTH && auth_key) {
		cred.auth = ELS2_AUTH_PSK;
		r = els2_decrypt(ent->ls, bl, &cred, &inner);
	}
	memwipe(&cred, sizeof(cred));
	if (r == 0 && leaseset_type(inner) != LEASESET_LS2)
		r = ERR_UNSUPPORTED;
	if (r != 0) {
		leaseset_free(inner);
		return r;
	}
	if (!e) {
		/* a free slot, else the oldest one */
		for (size_t i = 0; !e && i < TUNNELNET_ELS_MAX; i++)
			if (!tn->els[i].inner)
				e = &tn->els[i];
		if (!e)
			e = &tn->els[tn->next_els++ % TUNNELNET_ELS_MAX];
	}
	els_clear(e);
	e->inner = inner;
	memcpy(e->dest, leaseset_destination(inner)->hash, 32);
	e->outer_published_ms = leaseset_published_ms(ent->ls);
	e->bl = *bl;
	if (auth_key) {
		memcpy(e->auth_key, auth_key, 32);
		e->has_key = true;
	}
	tn->st.els_opened++;
	*out = e;
	return 0;
}

/* The key to look hash's LeaseSet up by: its blinded key's for a
 * destination we know by an encrypted LeaseSet. */
static const uint8_t *lookup_key(struct tunnelnet *tn, const uint8_t h[32])
{
	struct tn_els *e = els_by_dest(tn, h);

	return e ? e->bl.store_key : h;
}

/* The LeaseSet to send to hash by, while one of its leases is usable
 * (NULL otherwise: a LeaseSet whose leases all ended, or end within
 * TUNNELNET_LEASE_MARGIN_MS, is as good as none and is looked up). */
static const struct leaseset *remote_ls(struct tunnelnet *tn,
					const uint8_t hash[32])
{
	const struct netdb_ls_entry *ent =
		netdb_store_find_ls(netdb_get_store(tn->cfg.db), hash);
	struct tn_els *e;
	struct els2_blinding bl;
	uint8_t key[32];
	bool has_key;

	if (ent && leaseset_type(ent->ls) == LEASESET_LS2)
		return ls_has_lease(ent->ls, time_now_ms()) ? ent->ls : NULL;
	if (!(e = els_by_dest(tn, hash)))
		return NULL;
	/* a newer one in the netDb (looked up again): open it (with
	 * copies: opening rewrites the slot) */
	bl = e->bl;
	memcpy(key, e->auth_key, 32);
	has_key = e->has_key;
	(void)els_open(tn, &bl, has_key ? key : NULL, &e);
	memwipe(&bl, sizeof(bl));
	memwipe(key, sizeof(key));
	return ls_has_lease(e->inner, time_now_ms()) ? e->inner : NULL;
}

static bool lookup_pending(const struct tunnelnet *tn, const uint8_t key[32])
{
	for (size_t i = 0; i < tn->n_lookups; i++)
		if (memcmp(tn->lookups[i].key, key, 32) == 0)
			return true;
	return false;
}

static void lookup_forget(struct tunnelnet *tn, const uint8_t key[32])
{
	for (size_t i = 0; i < tn->n_lookups; i++)
		if (memcmp(tn->lookups[i].key, key, 32) == 0) {
			tn->lookups[i] = tn->lookups[--tn->n_lookups];
			return;
		}
}

static void lookup_done(void *ctx, const uint8_t key[32], int result);

static bool miss_has(const struct tn_miss *ring, const uint8_t key[32])
{
	uint64_t mono = time_mono_ms();

	for (size_t i = 0; i < TUNNELNET_NEGATIVE_MAX; i++)
		if (ring[i].until > mono && memcmp(ring[i].hash, key, 32) == 0)
			return true;
	return false;
}

static void miss_add(struct tn_miss *ring, size_t *next,
		     const uint8_t key[32], uint64_t ms)
{
	size_t i = (*next)++ % TUNNELNET_NEGATIVE_MAX;

	memcpy(ring[i].hash, key, 32);
	ring[i].until = time_mono_ms() + ms;
}

/* Look key's LeaseSet up unless that is under way or failed just now. */
static int lookup_start(struct tunnelnet *tn, const uint8_t key[32])
{
	const struct leaseset *had = remote_ls(tn, key);
	int e;

	key = lookup_key(tn, key);
	if (lookup_pending(tn, key) || miss_has(tn->relook, key))
		return 0;
	if (tn->n_lookups >= TUNNELNET_QUEUE_MAX)
		return ERR_LIMIT;
	e = netdb_lookup_start(tn->cfg.db, key, NETDB_LOOKUP_LS, lookup_done,
			       tn);
	if (e != 0)
		return e;
	memcpy(tn->lookups[tn->n_lookups].key, key, 32);
	tn->lookups[tn->n_lookups++].had_ms =
		had ? leaseset_published_ms(had) : 0;
	tn->st.lookups++;
	return 0;
}

static int enqueue(struct tunnelnet *tn, const struct client_dest *from,
		   const struct keys_and_cert *to, uint8_t proto,
		   uint16_t src_port, uint16_t dst_port, const uint8_t *data,
		   size_t len, bool need_lookup)
{
	struct tn_queued *q, **pp = &tn->queue;

	if (tn->n_queued >= TUNNELNET_QUEUE_MAX) {
		tn->st.queue_dropped++;
		return ERR_LIMIT;
	}
	if (need_lookup) {
		int e = lookup_start(tn, to->hash);

		if (e != 0)
			return e;
	}
	q = xmalloc(sizeof(*q) + len);
	q->next = NULL;
	q->from = from;
	q->to = *to;
	q->proto = proto;
	q->src_port = src_port;
	q->dst_port = dst_port;
	q->deadline = time_mono_ms() + TUNNELNET_QUEUE_MS;
	q->len = len;
	if (len)
		memcpy(q->data, data, len);
	/* At the tail: payloads leave in the order they came. */
	if (!*pp)	/* the first: the queue is looked at often now */
		evloop_timer_arm(tn->timer, TUNNELNET_FAST_TICK_MS);
	while (*pp)
		pp = &(*pp)->next;
	*pp = q;
	tn->n_queued++;
	tn->st.queued++;
	return 0;
}

/* Whether mgr is still a local destination's (a stream's handler may
 * have detached one while another manager's streams resent). */
static bool mgr_attached(const struct tunnelnet *tn,
			 const struct stream_mgr *mgr)
{
	for (const struct tn_dest *x = tn->dests; x; x = x->next)
		if (x->rx.mgr == mgr)
			return true;
	return false;
}

/* A refresh found the LeaseSet of hash newer than the one we had: the
 * streams that sent to it and heard nothing back resend now
 * (stream_mgr_route_renewed) rather than after their backed-off RTO. */
static void route_renewed(struct tunnelnet *tn, const uint8_t hash[32])
{
	struct stream_mgr *mgrs[TUNNELNET_RENEWED_MAX];
	size_t n = 0;

	/* (the managers first: their handlers may detach destinations) */
	for (struct tn_dest *x = tn->dests; x && n < TUNNELNET_RENEWED_MAX;
	     x = x->next)
		for (size_t i = 0; i < x->n_peers; i++)
			if (x->rx.mgr && x->peers[i].quiet_since &&
			    memcmp(x->peers[i].hash, hash, 32) == 0) {
				mgrs[n++] = x->rx.mgr;
				break;
			}
	tn->st.routes_renewed += n;
	for (size_t i = 0; i < n; i++)
		if (mgr_attached(tn, mgrs[i]))
			stream_mgr_route_renewed(mgrs[i], hash);
}

/*
 * Send what can go now (its sender ready, the remote's LeaseSet known)
 * and drop what waited too long; a LeaseSet still missing then puts its
 * destination on the negative list.  A lookup that failed is made again
 * after TUNNELNET_RELOOKUP_MS while payloads wait for it: a SAM client
 * connects as soon as the peer's SESSION CREATE was answered, before
 * that session has tunnels and a published LeaseSet.  Lookups whose
 * LeaseSet arrived another way (bundled in a garlic clove, or stored
 * to us) are ended: a usable one newer than what was known when the
 * lookup started (a refresh goes on while the old LeaseSet is known,
 * and a stale one never ends a lookup).
 */
static void queue_run(struct tunnelnet *tn)
{
	struct tn_queued **pp = &tn->queue;
	uint64_t mono = time_mono_ms();
	uint8_t renewed[TUNNELNET_RENEWED_MAX][32];
	size_t n_renewed = 0;

	for (size_t i = 0; i < tn->n_lookups;) {
		const struct tn_lookup *k = &tn->lookups[i];
		const struct leaseset *ls = remote_ls(tn, k->key);

		if (ls && leaseset_published_ms(ls) > k->had_ms) {
			/* a refresh (one was known) found a newer one */
			if (k->had_ms && n_renewed < TUNNELNET_RENEWED_MAX)
				memcpy(renewed[n_renewed++], k->key, 32);
			(void)netdb_lookup_cancel(tn->cfg.db, k->key);
			tn->lookups[i] = tn->lookups[--tn->n_lookups];
		} else {
			i++;
		}
	}
	for (size_t i = 0; i < n_renewed; i++)
		route_renewed(tn, renewed[i]);
	while (*pp) {
		struct tn_queued *q = *pp;
		struct tn_dest *x = find_by_client(tn, q->from);
		const struct leaseset *ls = remote_ls(tn, q->to.hash);

		if (x && ls && dest_ready(x)) {
			*pp = q->next;
			tn->n_queued--;
			if (log_enabled(LOG_DEBUG)) {
				char h[72];
				log_debug(LD_CLIENT, "payload to %s sent after "
					  "%llu ms in the queue",
					  log_safe_hash(h, sizeof(h),
							q->to.hash),
					  (unsigned long long)(mono -
					  (q->deadline - TUNNELNET_QUEUE_MS)));
			}
			(void)send_now(tn, x, ls, &q->to, q->proto,
				       q->src_port, q->dst_port, q->data,
				       q->len);
		} else if (!x || q->deadline <= mono) {
			*pp = q->next;
			tn->n_queued--;
			tn->st.queue_dropped++;
			if (x && !ls && !miss_has(tn->negative, q->to.hash))
				miss_add(tn->negative, &tn->next_negative,
					 q->to.hash, TUNNELNET_NEGATIVE_MS);
		} else {
			if (!ls)
				(void)lookup_start(tn, q->to.hash);
			pp = &q->next;
			continue;
		}
		queue_free(q);
	}
}

/* When to look key up again after a failure (TUNNELNET_RELOOKUP_MS). */
static uint64_t relookup_ms(struct tunnelnet *tn, const uint8_t key[32])
{
	uint64_t mono = time_mono_ms(), waited = 0, ms;

	for (const struct tn_queued *q = tn->queue; q; q = q->next) {
		uint64_t since = q->deadline - TUNNELNET_QUEUE_MS;

		if (mono > since && mono - since > waited &&
		    memcmp(lookup_key(tn, q->to.hash), key, 32) == 0)
			waited = mono - since;
	}
	ms = waited / 2;
	if (ms < TUNNELNET_RELOOKUP_MIN_MS)
		ms = TUNNELNET_RELOOKUP_MIN_MS;
	return ms < TUNNELNET_RELOOKUP_MS ? ms : TUNNELNET_RELOOKUP_MS;
}

static void lookup_done(void *ctx, const uint8_t key[32], int result)
{
	struct tunnelnet *tn = ctx;
	const struct leaseset *ls;
	uint64_t had = 0;

	for (size_t i = 0; i < tn->n_lookups; i++)
		if (memcmp(tn->lookups[i].key, key, 32) == 0)
			had = tn->lookups[i].had_ms;
	lookup_forget(tn, key);
	if (result == 0 && had && (ls = remote_ls(tn, key)) &&
	    leaseset_published_ms(ls) > had)
		route_renewed(tn, key);
	/* Found, but still no lease to use (a floodfill had the same
	 * stale LeaseSet): as failed, so it is not asked again at once. */
	if (result != 0 || (!els_by_key(tn, key) && !remote_ls(tn, key)))
		miss_add(tn->relook, &tn->next_relook, key,
			 relookup_ms(tn, key));
	queue_run(tn);
}

static void queue_drop_from(struct tunnelnet *tn, const struct client_dest *d)
{
	struct tn_queued **pp = &tn->queue;

	while (*pp) {
		struct tn_queued *q = *pp;

		if (q->from != d) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		tn->n_queued--;
		queue_free(q);
	}
}

/* ---- receiving ---- */

size_t tunnelnet_dispatch(const struct client_rx *rx, struct netdb *db,
			  const uint8_t self[32], uint64_t now_ms,
			  const struct garlic_payload *g, uint64_t *bad)
{
	size_t n = 0;
	uint8_t *buf = NULL;

	for (size_t i = 0; i < g->n_cloves; i++) {
		const struct garlic_clove *c = &g->cloves[i];
		struct i2np_msg m = { c->type, c->msg_id,
				      (uint64_t)c->expiration_s * 1000,
				      (uint8_t *)c->body, c->len };

		if (c->delivery != GARLIC_DELIVERY_LOCAL &&
		    (c->delivery != GARLIC_DELIVERY_DESTINATION ||
		     memcmp(c->to_hash, self, 32) != 0)) {
			(*bad)++;	/* not ours; we forward none */
			continue;
		}
		if (m.expiration_ms + TUNNELNET_CLOVE_GRACE_MS < now_ms) {
			(*bad)++;
			continue;
		}
		if (c->type == I2NP_DATA) {
			struct client_payload_hdr h;
			const uint8_t *p;
			size_t plen, outlen;

			if (i2np_blob_decode(&m, &p, &plen) != 0) {
				(*bad)++;
				continue;
			}
			if (!buf)
				buf = xmalloc(CLIENT_PAYLOAD_MAX_BYTES);
			if (client_payload_decode(p, plen, &h, buf,
						  CLIENT_PAYLOAD_MAX_BYTES,
						  &outlen) != 0) {
				(*bad)++;
				continue;
			}
			if (h.proto == DATAGRAM_PROTO_STREAMING) {
				if (rx->mgr)
					stream_mgr_receive(rx->mgr, buf, outlen,
							   h.src_port,
							   h.dst_port);
			} else if (rx->datagram) {
				rx->datagram(rx->ctx, h.proto, h.src_port,
					     h.dst_port, buf, outlen);
			}
			n++;
		} else if (c->type == I2NP_DATABASE_STORE && db) {
			struct i2np_db_store s;
			enum netdb_add_result res;

			if (i2np_db_store_decode(&m, &s) != 0 ||
			    s.store_type == I2NP_STORE_RI) {
				(*bad)++;
				continue;
			}
			(void)netdb_add_ls(db, (enum leaseset_type)s.store_type,
					   s.data, s.data_len, s.key, NULL,
					   &res);
		}
		/* DeliveryStatus and the rest: nothing to do. */
	}
	if (buf)
		xfree_wipe(buf, CLIENT_PAYLOAD_MAX_BYTES);
	return n;
}

/* The remote whose static key is pk, when x has sent to it or g bundles
 * its LeaseSet (stored by now) with that key (the binding checked, as
 * the ecies spec asks before answering). */
static struct tn_peer *peer_by_key(struct tunnelnet *tn, struct tn_dest *x,
				   const struct x25519_pk *pk,
				   const struct garlic_payload *g)
{
	for (size_t i = 0; i < x->n_peers; i++)
		if (memcmp(x->peers[i].pk.b, pk->b, 32) == 0)
			return &x->peers[i];
	for (size_t i = 0; i < g->n_cloves; i++) {
		const struct garlic_clove *c = &g->cloves[i];
		struct i2np_msg m = { c->type, c->msg_id, 0, (uint8_t *)c->body,
				      c->len };
		const struct leaseset *ls;
		struct i2np_db_store st;

		if (c->type != I2NP_DATABASE_STORE ||
		    i2np_db_store_decode(&m, &st) != 0 ||
		    !(ls = remote_ls(tn, st.key)))
			continue;
		for (size_t k = 0; k < leaseset_enc_key_count(ls); k++) {
			const struct leaseset_enc_key *ek =
				leaseset_enc_key(ls, k);

			if (ek->type == CERT_ENC_X25519 && ek->len == 32 &&
			    memcmp(ek->key, pk->b, 32) == 0) {
				struct tn_peer *p = peer_get(x, st.key);

				p->pk = *pk;
				return p;
			}
		}
	}
	return NULL;
}

/* Send what x's ratchet sessions owe (see TUNNELNET_ACK_MS); *next gets
 * the time to look again when sooner. */
static void acks_run(struct tunnelnet *tn, struct tn_dest *x, uint64_t mono,
		     uint64_t *next)
{
	for (size_t i = 0; i < x->n_peers; i++) {
		struct tn_peer *p = &x->peers[i];
		const struct leaseset *ls = NULL;

		if (!p->owed_since)
			continue;
		if (!ratchet_ctx_ack_pending(x->rc, &p->pk)) {
			p->owed_since = 0;
			continue;
		}
		if (mono - p->owed_since < TUNNELNET_ACK_MS) {
			uint64_t in = TUNNELNET_ACK_MS - (mono - p->owed_since);

			if (in < *next)
				*next = in;
			continue;
		}
		if (!dest_ready(x) || !(ls = remote_ls(tn, p->hash)) ||
		    send_garlic(tn, x, ls, p->hash, NULL, NULL, 0) != 0) {
			/* no way there now: again in a while */
			p->owed_since = mono;
			if (!ls)
				(void)lookup_start(tn, p->hash);
		}
	}
}

/* The destination whose tag the garlic carries takes it; only a message
 * under no tag is tried as an NS to each.  Trying each destination in
 * turn cost every ES to one late in the list an NS trial (an Elligator2
 * decode and a DH) on each one before it: half the CPU of a router that
 * received a stream beside a server tunnel. */
bool tunnelnet_garlic_in(struct tunnelnet *tn, struct i2np_msg *m)
{
	uint64_t now = time_now_ms();
	struct bbuf plain = BBUF_INIT;
	struct tn_dest *tagged = NULL;

	if (m->type != I2NP_GARLIC || m->len < 4 ||
	    be32_get(m->payload) != m->len - 4)
		return false;
	for (struct tn_dest *x = tn->dests; x && !tagged; x = x->next)
		if (ratchet_ctx_has_tag(x->rc, m->payload + 4, m->len - 4))
			tagged = x;
	for (struct tn_dest *x = tn->dests; x; x = x->next) {
		struct ratchet_payload pl;
		struct ratchet_rx_info info;
		uint64_t bad = 0;
		int e;

		if (tagged && x != tagged)
			continue;
		bbuf_reset(&plain);
		e = ratchet_decrypt(x->rc, m->payload + 4, m->len - 4, now,
				    &plain, &pl, &info);
		if (e == ERR_NOT_FOUND)
			continue;
		if (e != 0) {
			/* One of x's tags or a valid NS to x, that failed
			 * (replay, AEAD, blocks): x's, dropped. */
			tn->st.bad_payload++;
			bbuf_free(&plain);
			i2np_msg_free(m);
			return true;
		}
		tn->st.garlic_in++;
		if (info.kind != RATCHET_KIND_ES && log_enabled(LOG_DEBUG)) {
			char h[72];
			log_debug(LD_CLIENT, "%s for %s", info.kind ==
				  RATCHET_KIND_NS ? "a new session (NS)" :
				  "a new session's reply (NSR)",
				  log_safe_hash(h, sizeof(h),
						client_dest_pub(x->d)->hash));
		}
		/* A word from a remote we send to: it is not quiet. */
		for (size_t i = 0; info.bound && i < x->n_peers; i++)
			if (memcmp(x->peers[i].pk.b, info.remote.b, 32) == 0)
				x->peers[i].quiet_since = 0;
		tn->st.data_in += tunnelnet_dispatch(&x->rx, tn->cfg.db,
						     client_dest_pub(x->d)->hash,
						     now, &pl.g, &bad);
		tn->st.bad_payload += bad;
		/* after the cloves: a LeaseSet among them routes the answer */
		if (info.bound && ratchet_ctx_ack_pending(x->rc, &info.remote)) {
			struct tn_peer *p = peer_by_key(tn, x, &info.remote,
							&pl.g);

			if (p && !p->owed_since)
				p->owed_since = time_mono_ms() | 1;
		}
		bbuf_free(&plain);
		i2np_msg_free(m);
		if (tn->queue)
			queue_run(tn);
		return true;
	}
	bbuf_free(&plain);
	return false;
}

/* ---- the table ---- */

/* A stream manager and the remote its waiting streams resend to now. */
struct tn_resend {
	struct stream_mgr *mgr;
	uint8_t hash[32];
};

/*
 * A stream of x waits on its RTO for a remote that said nothing since
 * it sent: look the remote's LeaseSet up between the resends too, not
 * only when one goes, the wait doubling as the silence grows (at least
 * TUNNELNET_QUIET_MS, half the silence so far); a newer one found makes
 * the streams resend at once (route_renewed).  And once the silence
 * reaches TUNNELNET_RENEW_MS, start the ratchet session anew then, not
 * at the stream's next backed-off resend, and have the waiting streams
 * resend now (as an NS; added to rs, at most TUNNELNET_RENEWED_MAX): a
 * remote that restarted reads nothing of the old session.  A SYN to a
 * restarted seeder, resent at 9 and 27 s, went under a session it could
 * read only at 27 s; now at 20 s.
 */
static void quiet_refresh(struct tunnelnet *tn, struct tn_dest *x,
			  uint64_t mono, struct tn_resend *rs, size_t *n_rs)
{
	for (size_t i = 0; x->rx.mgr && i < x->n_peers; i++) {
		struct tn_peer *p = &x->peers[i];
		uint64_t quiet = mono - p->quiet_since, wait;
		bool due;

		if (!p->quiet_since || quiet < TUNNELNET_QUIET_MS)
			continue;
		wait = quiet / 2 > TUNNELNET_QUIET_MS ? quiet / 2 :
							 TUNNELNET_QUIET_MS;
		due = mono - p->refreshed >= wait;
		if (!due && (quiet < TUNNELNET_RENEW_MS ||
			     *n_rs >= TUNNELNET_RENEWED_MAX))
			continue;
		if (!stream_mgr_awaiting(x->rx.mgr, p->hash))
			continue;
		if (due) {
			tn->st.quiet_refreshes++;
			peer_refresh(tn, p, mono);
		}
		if (*n_rs < TUNNELNET_RENEWED_MAX && peer_renew(x, p, quiet)) {
			tn->st.quiet_renewals++;
			rs[*n_rs].mgr = x->rx.mgr;
			memcpy(rs[(*n_rs)++].hash, p->hash, 32);
		}
	}
}

void tunnelnet_poll(struct tunnelnet *tn)
{
	uint64_t now = time_now_ms(), mono = time_mono_ms();
	struct tn_resend rs[TUNNELNET_RENEWED_MAX];
	size_t n_rs = 0;

	tn->ack_in = UINT64_MAX;
	for (struct tn_dest *x = tn->dests; x; x = x->next) {
		refresh_dest(tn, x, now, mono);
		quiet_refresh(tn, x, mono, rs, &n_rs);
		verify_dest(tn, x, mono);
		ratchet_ctx_expire(x->rc, now);
	}
	/* (after the walk: the streams' handlers may detach destinations) */
	for (size_t i = 0; i < n_rs; i++)
		if (mgr_attached(tn, rs[i].mgr))
			stream_mgr_route_renewed(rs[i].mgr, rs[i].hash);
	queue_run(tn);
	/* after the queue: what waited there carries the acks */
	for (struct tn_dest *x = tn->dests; x; x = x->next)
		acks_run(tn, x, mono, &tn->ack_in);
}

/* The next tick's delay (TUNNELNET_FAST_TICK_MS). */
static uint64_t tick_ms(const struct tunnelnet *tn)
{
	uint64_t mono = time_mono_ms();

	if (tn->queue)
		return TUNNELNET_FAST_TICK_MS;
	for (const struct tn_dest *x = tn->dests; x; x = x->next)
		if ((!x->ls.len || x->unpublished) &&
		    mono - x->attached < TUNNELNET_FAST_FOR_MS)
			return TUNNELNET_FAST_TICK_MS;
	/* an ack due sooner than the next tick */
	if (tn->ack_in < TUNNELNET_TICK_MS)
		return tn->ack_in > TUNNELNET_FAST_TICK_MS ?
		       tn->ack_in : TUNNELNET_FAST_TICK_MS;
	return TUNNELNET_TICK_MS;
}

static void tick(void *arg)
{
	struct tunnelnet *tn = arg;

	tunnelnet_poll(tn);
	evloop_timer_arm(tn->timer, tick_ms(tn));
}

static int net_attach(void *ctx, const struct client_dest *d,
		      const struct client_rx *rx)
{
	struct tunnelnet *tn = ctx;
	const struct dest_keys *k = client_dest_keys(d);
	const struct client_tunnel_opts *o = client_dest_tunnel_opts(d);
	struct tunnel_pool_cfg pc = tn->cfg.pool;
	struct x25519_sk sk;
	struct x25519_pk pk;
	struct tn_dest *x;
	int e;

	if (find_dest(tn, client_dest_pub(d)->hash))
		return ERR_EXISTS;
	/* The destination's own tunnel lengths and quantities, if any
	 * (out of range: ERR_RANGE from the pool) */
	if (o->in_length >= 0)
		pc.in_length = (unsigned)o->in_length;
	if (o->out_length >= 0)
		pc.out_length = (unsigned)o->out_length;
	if (o->in_quantity >= 0)
		pc.in_quantity = (unsigned)o->in_quantity;
	if (o->out_quantity >= 0)
		pc.out_quantity = (unsigned)o->out_quantity;
	x = xzalloc(sizeof(*x));
	if ((e = tunnel_mgr_add_pool(tn->cfg.tunnels, &pc, &x->pool)) != 0) {
		free(x);
		return e;
	}
	/* The Destination's own X25519 key when it has one, else a key of
	 * this session (as i2pd does for ElGamal Destinations). */
	if (dest_keys_enc_key_in_dest(k) && k->enc_sk_len == 32 &&
	    k->dest.enc_type == CERT_ENC_X25519)
		memcpy(sk.b, k->enc_sk, 32);
	else
		x25519_keygen(&sk, &pk);
	x->rc = ratchet_ctx_new(&sk);
	memwipe(&sk, sizeof(sk));
	if (tn->cfg.ratchet.ratchet_after || tn->cfg.ratchet.lookahead ||
	    tn->cfg.ratchet.max_sessions) {
		struct ratchet_params rp = tn->cfg.ratchet;

		if (!rp.lookahead)
			rp.lookahead = RATCHET_LOOKAHEAD;
		ratchet_ctx_set_params(x->rc, &rp);
	}
	x->tn = tn;
	x->d = d;
	x->rx = *rx;
	x->attached = time_mono_ms();
	x->next = tn->dests;
	tn->dests = x;
	/* Its first tunnels are built now, not at the pools' next tick,
	 * and it is looked at again soon (tick_ms()). */
	tunnel_mgr_tick(tn->cfg.tunnels, time_now_ms(), x->attached);
	evloop_timer_arm(tn->timer, TUNNELNET_FAST_TICK_MS);
	return 0;
}

static void net_detach(void *ctx, const struct client_dest *d)
{
	struct tunnelnet *tn = ctx;

	queue_drop_from(tn, d);
	for (struct tn_dest **pp = &tn->dests; *pp; pp = &(*pp)->next)
		if ((*pp)->d == d) {
			struct tn_dest *x = *pp;

			*pp = x->next;
			if (x->verifying)
				(void)netdb_lookup_cancel(tn->cfg.db,
							  x->stored_key);
			tunnel_pool_remove(x->pool);
			ratchet_ctx_free(x->rc);
			bbuf_free(&x->ls);
			bbuf_free(&x->els);
			free(x);
			return;
		}
}

static int net_send(void *ctx, const struct client_dest *from,
		    const struct keys_and_cert *to, uint8_t proto,
		    uint16_t src_port, uint16_t dst_port, const uint8_t *data,
		    size_t len)
{
	struct tunnelnet *tn = ctx;
	struct tn_dest *x = find_by_client(tn, from);
	const struct leaseset *ls;

	if (!x)
		return ERR_BAD_STATE;
	if (len > CLIENT_PAYLOAD_MAX_BYTES)
		return ERR_TOO_BIG;
	ls = remote_ls(tn, to->hash);
	if (!ls && miss_has(tn->negative, to->hash))
		return ERR_NETWORK;
	/* Unknown LeaseSet: look it up; no tunnels yet: wait for them.
	 * Either way the payload waits (behind earlier ones: order). */
	if (!ls || !dest_ready(x) || tn->queue) {
		if (log_enabled(LOG_DEBUG) && (!ls || !dest_ready(x))) {
			char h[72];
			log_debug(LD_CLIENT, "payload to %s queued: %s",
				  log_safe_hash(h, sizeof(h), to->hash),
				  !ls ? "its LeaseSet is looked up" :
				  "our tunnels or LeaseSet are not ready");
		}
		return enqueue(tn, from, to, proto, src_port, dst_port, data,
			       len, !ls);
	}
	return send_now(tn, x, ls, to, proto, src_port, dst_port, data,
			len);
}

static int net_lookup(void *ctx, const uint8_t hash[32],
		      struct keys_and_cert *out)
{
	struct tunnelnet *tn = ctx;
	struct tn_dest *x = find_dest(tn, hash);
	const struct netdb_ls_entry *ent;
	struct tn_els *e;

	if (x) {
		*out = *client_dest_pub(x->d);
		return 0;
	}
	ent = netdb_store_find_ls(netdb_get_store(tn->cfg.db), hash);
	if (ent && leaseset_type(ent->ls) != LEASESET_ENC_LS2) {
		*out = *leaseset_destination(ent->ls);
		return 0;
	}
	if ((e = els_by_dest(tn, hash))) {
		*out = *leaseset_destination(e->inner);
		return 0;
	}
	if (netdb_lookup_start(tn->cfg.db, hash, NETDB_LOOKUP_LS, NULL,
			       NULL) == 0)
		tn->st.lookups++;
	return ERR_NOT_FOUND;
}

static int net_lookup_blinded(void *ctx, const struct els2_blinding *bl,
			      const uint8_t *auth_key,
			      struct keys_and_cert *out)
{
	struct tunnelnet *tn = ctx;
	struct tn_els *e;
	int r = els_open(tn, bl, auth_key, &e);

	if (r == 0)
		*out = *leaseset_destination(e->inner);
	else if (r == ERR_NOT_FOUND)
		(void)lookup_start(tn, bl->store_key);
	return r;
}

struct client_net tunnelnet_client_net(struct tunnelnet *tn)
{
	return (struct client_net){ .attach = net_attach,
				    .detach = net_detach,
				    .send = net_send,
				    .lookup = net_lookup,
				    .ctx = tn,
				    .lookup_blinded = net_lookup_blinded };
}

int tunnelnet_new(const struct tunnelnet_cfg *cfg, struct tunnelnet **out)
{
	struct tunnelnet *tn;
	int e;

	if (!cfg->tunnels || !cfg->db)
		return ERR_ARG;
	if ((e = tunnel_pool_cfg_check(&cfg->pool)) != 0)
		return e;
	tn = xzalloc(sizeof(*tn));
	tn->cfg = *cfg;
	tn->ack_in = UINT64_MAX;
	tn->timer = evloop_timer_new(cfg->el, tick, tn);
	evloop_timer_arm(tn->timer, TUNNELNET_TICK_MS);
	*out = tn;
	return 0;
}

void tunnelnet_free(struct tunnelnet *tn)
{
	if (!tn)
		return;
	while (tn->dests)
		net_detach(tn, tn->dests->d);
	while (tn->queue) {
		struct tn_queued *q = tn->queue;

		tn->queue = q->next;
		queue_free(q);
	}
	/* Lookups still pending would call back into freed memory. */
	for (size_t i = 0; i < tn->n_lookups; i++)
		(void)netdb_lookup_cancel(tn->cfg.db, tn->lookups[i].key);
	evloop_timer_free(tn->timer);
	for (size_t i = 0; i < TUNNELNET_ELS_MAX; i++)
		els_clear(&tn->els[i]);
	free(tn);
}

void tunnelnet_stats(const struct tunnelnet *tn, struct tunnelnet_stats *out)
{
	*out = tn->st;
}

const struct ratchet_stats *tunnelnet_ratchet_stats(const struct tunnelnet *tn,
						    const struct client_dest *d)
{
	const struct tn_dest *x = find_by_client(tn, d);

	return x ? ratchet_ctx_stats(x->rc) : NULL;
}
