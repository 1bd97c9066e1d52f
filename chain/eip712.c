/*
 * EIP-712 hashStruct and digests (eips.ethereum.org/EIPS/eip-712):
 *   "hashStruct(s : 𝕊) = keccak256(typeHash ‖ encodeData(s))"
 *   "encode(domainSeparator : 𝔹²⁵⁶, message : 𝕊) =
 *    "\x19\x01" ‖ domainSeparator ‖ hashStruct(message)"
 * Each member is one 32-byte word; `bytes` and `string` are encoded as
 * keccak256 of their contents.
 */
#include "config.h"
#include "chain/eip712.h"
#include "crypto/base/bytes.h"
#include "crypto/keccak.h"

#include <pthread.h>
#include <string.h>

/* The typehashes, computed once. */
enum { TH_DOMAIN, TH_TICKET, TH_VOUCHER, TH_WITHDRAW, TH_FUNDPOT, TH_PURCHASE,
       TH_KEYREQUEST, TH_LISTING, TH_CANCEL_LISTING, TH_REDEEM_FEE,
       TH_COUNT };
static const char *const th_types[TH_COUNT] = {
	"EIP712Domain(string name,string version,uint256 chainId,"
	"address verifyingContract)",
	EIP712_TYPE_TICKET, EIP712_TYPE_VOUCHER, EIP712_TYPE_WITHDRAW,
	EIP712_TYPE_FUNDPOT, EIP712_TYPE_PURCHASE, EIP712_TYPE_KEYREQUEST,
	EIP712_TYPE_LISTING, EIP712_TYPE_CANCEL_LISTING, EIP712_TYPE_REDEEM_FEE,
};
static uint8_t th_hash[TH_COUNT][32];
static pthread_once_t th_once = PTHREAD_ONCE_INIT;

static void th_init(void)
{
	for (int i = 0; i < TH_COUNT; i++)
		eip712_typehash(th_hash[i], th_types[i]);
}

void eip712_typehash(uint8_t out[32], const char *type)
{
	keccak256(out, type, strlen(type));
}

/*
 * encodeData into a stack buffer: every member is one 32-byte word, so
 * hashStruct is keccak256 over (1 + members) words.  Signing and checking
 * paper is hot (a voucher per chunk), so no heap and no re-hashing of the
 * type string.
 */
struct words {
	uint8_t w[8][32];
	size_t n;
};

static void w_start(struct words *s, int type)
{
	pthread_once(&th_once, th_init);
	memcpy(s->w[0], th_hash[type], 32);
	s->n = 1;
}

static void w_word(struct words *s, const uint8_t v[32])
{
	memcpy(s->w[s->n++], v, 32);
}

static void w_u256(struct words *s, const struct u256 *v)
{
	u256_to_be(v, s->w[s->n++]);
}

static void w_u64(struct words *s, uint64_t v)
{
	memset(s->w[s->n], 0, 24);
	be64_put(s->w[s->n++] + 24, v);
}

static void w_addr(struct words *s, const uint8_t a[20])
{
	memset(s->w[s->n], 0, 12);
	memcpy(s->w[s->n++] + 12, a, 20);
}

static void w_hash(const struct words *s, uint8_t out[32])
{
	keccak256(out, s->w, s->n * 32);
}

void eip712_domain_separator(const struct eip712_domain *d, uint8_t out[32])
{
	struct words s;
	uint8_t h[32];

	w_start(&s, TH_DOMAIN);
	keccak256(h, d->name, strlen(d->name));
	w_word(&s, h);
	keccak256(h, "1", 1);
	w_word(&s, h);
	w_u64(&s, d->chain_id);
	w_addr(&s, d->verifying);
	w_hash(&s, out);
}

void eip712_digest(const uint8_t separator[32], const uint8_t struct_hash[32],
		   uint8_t out[32])
{
	uint8_t buf[66];

	buf[0] = 0x19;
	buf[1] = 0x01;
	memcpy(buf + 2, separator, 32);
	memcpy(buf + 34, struct_hash, 32);
	keccak256(out, buf, sizeof(buf));
}

void eip712_hash_ticket(const struct eip712_ticket *t, uint8_t out[32])
{
	struct words s;

	w_start(&s, TH_TICKET);
	w_addr(&s, t->recipient);
	w_u256(&s, &t->face_value);
	w_u256(&s, &t->win_prob);
	w_u256(&s, &t->sender_nonce);
	w_word(&s, t->recipient_rand_hash);
	w_u64(&s, t->expiry);
	w_hash(&s, out);
}

void eip712_hash_voucher(const struct eip712_voucher *v, uint8_t out[32])
{
	struct words s;

	w_start(&s, TH_VOUCHER);
	w_addr(&s, v->recipient);
	w_word(&s, v->lane);
	w_u256(&s, &v->cumulative);
	w_u64(&s, v->expiry);
	w_hash(&s, out);
}

void eip712_hash_withdraw(const struct eip712_withdraw *w, uint8_t out[32])
{
	struct words s;

	w_start(&s, TH_WITHDRAW);
	w_addr(&s, w->from);
	w_addr(&s, w->to);
	w_u256(&s, &w->amount);
	w_u256(&s, &w->fee);
	w_u256(&s, &w->nonce);
	w_u64(&s, w->deadline);
	w_hash(&s, out);
}

void eip712_hash_fundpot(const struct eip712_fundpot *f, uint8_t out[32])
{
	struct words s;

	w_start(&s, TH_FUNDPOT);
	w_addr(&s, f->from);
	w_addr(&s, f->signer);
	w_u256(&s, &f->amount);
	w_u256(&s, &f->nonce);
	w_u64(&s, f->deadline);
	w_hash(&s, out);
}

void eip712_hash_purchase(const struct eip712_purchase *p, uint8_t out[32])
{
	struct words s;

	w_start(&s, TH_PURCHASE);
	w_u256(&s, &p->content_index);
	w_addr(&s, p->holder);
	w_u256(&s, &p->max_price);
	w_u256(&s, &p->relayer_fee);
	w_u256(&s, &p->nonce);
	w_u64(&s, p->deadline);
	w_hash(&s, out);
}

void eip712_hash_listing(const struct eip712_listing *l, uint8_t out[32])
{
	struct words s;

	w_start(&s, TH_LISTING);
	w_u256(&s, &l->token_id);
	w_u256(&s, &l->price);
	w_u256(&s, &l->relayer_fee);
	w_u256(&s, &l->nonce);
	w_u64(&s, l->deadline);
	w_hash(&s, out);
}

void eip712_hash_cancel_listing(const struct eip712_cancel_listing *c,
				uint8_t out[32])
{
	struct words s;

	w_start(&s, TH_CANCEL_LISTING);
	w_u256(&s, &c->token_id);
	w_u256(&s, &c->relayer_fee);
	w_u256(&s, &c->nonce);
	w_u64(&s, c->deadline);
	w_hash(&s, out);
}

void eip712_hash_redeem_fee(const struct eip712_redeem_fee *f,
			    uint8_t out[32])
{
	struct words s;

	w_start(&s, TH_REDEEM_FEE);
	w_addr(&s, f->payee);
	w_word(&s, f->batch);
	w_u256(&s, &f->fee);
	w_u256(&s, &f->nonce);
	w_u64(&s, f->deadline);
	w_hash(&s, out);
}

void eip712_redeem_batch_hash(const uint8_t sep[32],
			      const struct eip712_voucher *v, size_t n,
			      uint8_t out[32])
{
	struct keccak256_ctx c;
	uint8_t h[32], d[32];

	keccak256_init(&c);
	for (size_t i = 0; i < n; i++) {
		eip712_hash_voucher(&v[i], h);
		eip712_digest(sep, h, d);
		keccak256_update(&c, d, 32);
	}
	keccak256_final(&c, out);
}

void eip712_hash_key_request(const struct eip712_key_request *k,
			     uint8_t out[32])
{
	struct words s;
	uint8_t h[32];

	w_start(&s, TH_KEYREQUEST);
	w_u256(&s, &k->token_id);
	keccak256(h, k->eph_pub, sizeof(k->eph_pub));	/* bytes → keccak */
	w_word(&s, h);
	w_u64(&s, k->deadline);
	w_hash(&s, out);
}
