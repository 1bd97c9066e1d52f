/*
 * Pay per chunk in the swarm: the chunkpay sessions of each (content,
 * peer) behind the swarm's payment hook (seedpay.h).  CHAIN.md §5.4:
 * "session with seeder's hidden service; seeder sends price,
 * meta-address; downloader derives S, random lane L; pays a Voucher per
 * verified chunk (or growing batch); seeder keeps the latest."
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/market/seedpay.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"

struct sp_peer {
	bool used;
	uint8_t hash[32], peer[32];
	struct chunkpay_payer *payer;	/* we pay it (buy role) */
	bool has_lane;			/* it pays us (sell role) */
	uint32_t lane;
	bool whole;			/* the content completed: pay each */
};

struct market_seedpay {
	struct chunkpay_payer_config pc;
	uint8_t sep[32];
	const struct secp_sk *pot_sk;
	struct chunkpay_payee *payee;
	market_seedpay_fetch_fn fetch;
	void *fetch_ctx;
	uint8_t (*sell)[32], (*buy)[32];
	size_t nsell, nbuy;
	bool sell_all, buy_all;
	struct sp_peer *peers;
	size_t npeers;
	struct market_seedpay_stats st;
};

struct market_seedpay *market_seedpay_new(
	const struct chunkpay_policy *pol,
	const struct chunkpay_payer_config *pc, const uint8_t sep[32],
	const struct secp_sk *view, const struct secp_pk *spend_pk,
	const struct secp_sk *pot_sk, market_seedpay_fetch_fn fetch,
	void *fetch_ctx)
{
	struct market_seedpay *m = xzalloc(sizeof(*m));

	m->pc = *pc;
	memcpy(m->sep, sep, 32);
	m->pot_sk = pot_sk;
	if (view && spend_pk)
		m->payee = chunkpay_payee_new(pol, sep, view, spend_pk);
	m->fetch = fetch;
	m->fetch_ctx = fetch_ctx;
	m->sell = xcalloc(MARKET_SEEDPAY_CONTENTS_MAX, 32);
	m->buy = xcalloc(MARKET_SEEDPAY_CONTENTS_MAX, 32);
	m->peers = xcalloc(MARKET_SEEDPAY_PEERS_MAX, sizeof(*m->peers));
	return m;
}

void market_seedpay_free(struct market_seedpay *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->npeers; i++)
		chunkpay_payer_free(m->peers[i].payer);
	chunkpay_payee_free(m->payee);
	free(m->sell);
	free(m->buy);
	free(m->peers);
	free(m);
}

static bool listed(uint8_t (*l)[32], size_t n, const uint8_t hash[32])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(l[i], hash, 32) == 0)
			return true;
	return false;
}

static bool selling(const struct market_seedpay *m, const uint8_t hash[32])
{
	return m->sell_all || listed(m->sell, m->nsell, hash);
}

static bool buying(const struct market_seedpay *m, const uint8_t hash[32])
{
	return m->buy_all || listed(m->buy, m->nbuy, hash);
}

static int list_add(uint8_t (*l)[32], size_t *n, const uint8_t hash[32])
{
	if (listed(l, *n, hash))
		return ERR_EXISTS;
	if (*n == MARKET_SEEDPAY_CONTENTS_MAX)
		return ERR_LIMIT;
	memcpy(l[(*n)++], hash, 32);
	return 0;
}

int market_seedpay_sell(struct market_seedpay *m, const uint8_t hash[32])
{
	if (!m->payee)
		return ERR_BAD_STATE;
	return list_add(m->sell, &m->nsell, hash);
}

int market_seedpay_buy(struct market_seedpay *m, const uint8_t hash[32])
{
	if (!m->pot_sk)
		return ERR_BAD_STATE;
	return list_add(m->buy, &m->nbuy, hash);
}

int market_seedpay_sell_all(struct market_seedpay *m)
{
	if (!m->payee)
		return ERR_BAD_STATE;
	m->sell_all = true;
	return 0;
}

int market_seedpay_buy_all(struct market_seedpay *m)
{
	if (!m->pot_sk)
		return ERR_BAD_STATE;
	m->buy_all = true;
	return 0;
}

static struct sp_peer *peer_find(const struct market_seedpay *m,
				 const uint8_t hash[32],
				 const uint8_t peer[32])
{
	for (size_t i = 0; i < m->npeers; i++) {
		struct sp_peer *p = &m->peers[i];

		if (p->used && memcmp(p->hash, hash, 32) == 0 &&
		    memcmp(p->peer, peer, 32) == 0)
			return p;
	}
	return NULL;
}

static void peer_release(struct market_seedpay *m, struct sp_peer *p)
{
	if (p->has_lane)
		chunkpay_session_close(m->payee, p->lane);
	chunkpay_payer_free(p->payer);
	memset(p, 0, sizeof(*p));
	while (m->npeers && !m->peers[m->npeers - 1].used)
		m->npeers--;
}

void market_seedpay_open(void *ctx, const uint8_t hash[32],
			 const uint8_t peer[32], struct bbuf *out)
{
	struct market_seedpay *m = ctx;
	bool sell = selling(m, hash);
	bool buy = buying(m, hash);
	struct sp_peer *p;
	size_t i;

	if (!sell && !buy)
		return;
	if ((p = peer_find(m, hash, peer)) != NULL)
		peer_release(m, p);	/* a new connection: new sessions */
	for (i = 0; i < MARKET_SEEDPAY_PEERS_MAX && m->peers[i].used; i++)
		;
	if (i == MARKET_SEEDPAY_PEERS_MAX) {
		log_info(LD_APP, "market: too many paying peers");
		return;
	}
	p = &m->peers[i];
	if (i >= m->npeers)
		m->npeers = i + 1;
	p->used = true;
	memcpy(p->hash, hash, 32);
	memcpy(p->peer, peer, 32);
	if (buy)
		p->payer = chunkpay_payer_new(&m->pc, m->pot_sk, m->sep);
	if (sell && chunkpay_session_open(m->payee, &p->lane) == 0) {
		uint8_t terms[CHUNKPAY_TERMS_BYTES];

		p->has_lane = true;
		chunkpay_payee_terms(m->payee, terms);
		bbuf_put(out, terms, sizeof(terms));
		m->st.terms_sent++;
		m->st.pay_bytes_sent += sizeof(terms);
	}
}

static int on_voucher(struct market_seedpay *m, struct sp_peer *p,
		      const uint8_t *body, size_t len)
{
	uint8_t signer[ETH_ADDR_BYTES];
	enum chunkpay_reason why;

	if (!p->has_lane)
		return ERR_PROTOCOL;	/* we sent no terms */
	why = chunkpay_session_voucher(m->payee, p->lane, body, len,
				       time_now_s(), signer);
	switch (why) {
	case CHUNKPAY_OK:
		m->st.vouchers_ok++;
		return 0;
	case CHUNKPAY_NEED_POT:
		m->st.pot_fetches++;
		if (m->fetch)
			m->fetch(m->fetch_ctx, signer);
		return 0;
	case CHUNKPAY_MALFORMED:
		m->st.vouchers_refused++;
		return ERR_PROTOCOL;
	case CHUNKPAY_BAD_SIG:
	case CHUNKPAY_EXPIRED:
	case CHUNKPAY_TTL_TOO_LONG:
	case CHUNKPAY_WRONG_LANE:
	case CHUNKPAY_STALE:
	case CHUNKPAY_NO_POT:
	case CHUNKPAY_UNLOCKING:
	case CHUNKPAY_EXPOSURE:
		break;
	}
	/* Not paid: the peer is held, then choked, by may_serve. */
	m->st.vouchers_refused++;
	log_info(LD_APP, "market: a voucher refused: %s",
		 chunkpay_reason_str(why));
	return 0;
}

int market_seedpay_recv(void *ctx, const uint8_t hash[32],
			const uint8_t peer[32], const uint8_t *body,
			size_t len, struct bbuf *out)
{
	struct market_seedpay *m = ctx;
	struct sp_peer *p = peer_find(m, hash, peer);
	int r;

	(void)out;
	if (!p)
		return 0;		/* neither sold nor bought: ignored */
	switch (chunkpay_msg_type(body, len)) {
	case CHUNKPAY_MSG_TERMS:
		if (!p->payer)
			return 0;	/* we do not pay for this content */
		if ((r = chunkpay_payer_terms(p->payer, body, len)) != 0) {
			m->st.terms_refused++;
			log_info(LD_APP, "market: a seeder's terms refused: "
				 "%s", err_str(r));
			return r;
		}
		m->st.terms_taken++;
		return 0;
	case CHUNKPAY_MSG_VOUCHER:
		return on_voucher(m, p, body, len);
	default:
		return ERR_PROTOCOL;
	}
}

static void voucher_out(struct market_seedpay *m,
			const uint8_t v[CHUNKPAY_VOUCHER_BYTES],
			struct bbuf *out)
{
	bbuf_put(out, v, CHUNKPAY_VOUCHER_BYTES);
	m->st.vouchers_sent++;
	m->st.pay_bytes_sent += CHUNKPAY_VOUCHER_BYTES;
}

void market_seedpay_received(void *ctx, const uint8_t hash[32],
			     const uint8_t peer[32], uint32_t idx,
			     struct bbuf *out)
{
	struct market_seedpay *m = ctx;
	struct sp_peer *p = peer_find(m, hash, peer);
	uint8_t v[CHUNKPAY_VOUCHER_BYTES];

	(void)idx;
	if (!p || !p->payer || !chunkpay_payer_has_terms(p->payer))
		return;
	m->st.chunks_paid_for++;
	if (chunkpay_payer_chunk(p->payer, time_now_s(), v) == 1 ||
	    (p->whole && chunkpay_payer_flush(p->payer, time_now_s(), v) == 1))
		voucher_out(m, v, out);
}

bool market_seedpay_may_serve(void *ctx, const uint8_t hash[32],
			      const uint8_t peer[32])
{
	struct market_seedpay *m = ctx;
	struct sp_peer *p;

	if (!selling(m, hash))
		return true;
	p = peer_find(m, hash, peer);
	return p && p->has_lane &&
	       chunkpay_session_may_serve(m->payee, p->lane);
}

void market_seedpay_served(void *ctx, const uint8_t hash[32],
			   const uint8_t peer[32], uint32_t idx)
{
	struct market_seedpay *m = ctx;
	struct sp_peer *p = peer_find(m, hash, peer);

	(void)idx;
	if (p && p->has_lane) {
		chunkpay_session_served(m->payee, p->lane);
		m->st.chunks_served++;
	}
}

void market_seedpay_close(void *ctx, const uint8_t hash[32],
			  const uint8_t peer[32])
{
	struct market_seedpay *m = ctx;
	struct sp_peer *p = peer_find(m, hash, peer);

	if (p)
		peer_release(m, p);
}

void market_seedpay_complete(void *ctx, const uint8_t hash[32],
			     const uint8_t peer[32], struct bbuf *out)
{
	struct market_seedpay *m = ctx;
	struct sp_peer *p = peer_find(m, hash, peer);
	uint8_t v[CHUNKPAY_VOUCHER_BYTES];

	if (!p || !p->payer || !chunkpay_payer_has_terms(p->payer))
		return;
	p->whole = true;
	if (chunkpay_payer_flush(p->payer, time_now_s(), v) == 1)
		voucher_out(m, v, out);
}

void market_seedpay_pot_set(struct market_seedpay *m,
			    const uint8_t signer[ETH_ADDR_BYTES],
			    const struct hub_pot *pot, uint64_t now_s)
{
	if (m->payee)
		m->st.vouchers_ok += chunkpay_payee_pot_set(m->payee, signer,
							    pot, now_s);
}

struct chunkpay_payee *market_seedpay_payee(struct market_seedpay *m)
{
	return m->payee;
}

void market_seedpay_stats(const struct market_seedpay *m,
			  struct market_seedpay_stats *out)
{
	*out = m->st;
}

bool market_seedpay_paid(const struct market_seedpay *m,
			 const uint8_t hash[32], const uint8_t peer[32],
			 struct u256 *paid, uint8_t recipient[ETH_ADDR_BYTES])
{
	const struct sp_peer *p = peer_find(m, hash, peer);

	if (!p || !p->payer || !chunkpay_payer_has_terms(p->payer))
		return false;
	*paid = chunkpay_payer_paid(p->payer);
	chunkpay_payer_recipient(p->payer, recipient);
	return true;
}

void market_vouchers_encode(const struct chunkpay_payee *p, struct bbuf *out)
{
	struct chunkpay_saved *s = NULL;
	size_t n = chunkpay_payee_saved(p, &s);

	chunkpay_saved_encode(s, n, out);
	free(s);
}

int market_vouchers_write(const char *path, const struct bbuf *b)
{
	return fsutil_write_atomic(path, b->data, b->len, 0600, true);
}

int market_vouchers_load(struct chunkpay_payee *p, const char *path,
			 uint64_t now_s, size_t *restored, size_t *skipped)
{
	struct chunkpay_saved *s = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, n = 0;
	int r;

	*restored = *skipped = 0;
	r = fsutil_read_file(path, MARKET_VOUCHERS_MAX_BYTES, &buf, &len);
	if (r == ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return r;
	r = chunkpay_saved_decode(buf, len, &s, &n);
	xfree_wipe(buf, len);
	for (size_t i = 0; r == 0 && i < n; i++) {
		int e = chunkpay_payee_restore(p, &s[i], now_s);

		if (e == 0) {
			++*restored;
		} else {
			++*skipped;
			log_info(LD_APP, "seedpay: a kept voucher left out: %s",
				 err_str(e));
		}
	}
	free(s);
	return r;
}

/* ------------------------------------------------ redemption's terms */

bool market_seedpay_fee_fits(const struct u256 *fee,
			     const struct u256 *balance,
			     const struct u256 *owed, size_t n,
			     unsigned protocol_bps, struct u256 *holds)
{
	struct u256 h = *balance, cut, net;

	for (size_t i = 0; i < n; i++) {
		/* paid - paid * bps / 10000, floored as the hub does */
		if (u256_mul_u64(&cut, &owed[i], protocol_bps) != 0 ||
		    u256_div_u64(&cut, NULL, &cut, 10000) != 0 ||
		    u256_sub(&net, &owed[i], &cut) != 0 ||
		    u256_add(&h, &h, &net) != 0) {
			*holds = h;
			return true;	/* past 2^256: more than any fee */
		}
	}
	*holds = h;
	return u256_cmp(&h, fee) >= 0;
}

uint64_t market_seedpay_retry_ms(unsigned fails, uint64_t base_ms,
				 uint64_t max_ms)
{
	uint64_t d = base_ms;

	for (unsigned i = 1; i < fails && d < max_ms; i++)
		d = d > max_ms / 2 ? max_ms : 2 * d;
	return d < max_ms ? d : max_ms;
}
