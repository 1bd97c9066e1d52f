/*
 * bits-chain: the chain client's command line, for people and for tests
 * (CHAIN.md §5 flows from C).  Every command that touches the chain goes
 * through chain/'s client over apps/chainrpc/'s HTTP transport to a node
 * on 127.0.0.1; contract addresses come from the deploy JSON.
 *
 * Output is "name: value" lines so scripts can pick fields.  Exit status:
 * 0 ok, 1 failed (the reason is on stderr), 2 usage.
 */
#include "config.h"
#include "apps/chainrpc/http.h"
#include "apps/chainrpc/wallet_file.h"
#include "chain/abi.h"
#include "chain/calls.h"
#include "chain/eip712.h"
#include "chain/rpc.h"
#include "chain/secp.h"
#include "chain/stealth.h"
#include "chain/u256.h"
#include "chain/wallet.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/init.h"
#include "crypto/keccak.h"
#include "router/evloop.h"
#include "crypto/base/fsutil.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define CLI_MAX_PAPERS 256
#define CLI_PASSWORD_MAX_BYTES 1024
#define CLI_DID_VALUE_MAX_BYTES 1024
#define CLI_DEFAULT_RPC "http://127.0.0.1:8545"
#define CLI_DEFAULT_CHAIN_ID 31337u

static const char usage_text[] =
"usage: bits-chain [--rpc URL] [--deploy FILE] [--wallet FILE]\n"
"                  [--password-file FILE] [--chain-id N] [--timeout-ms N]\n"
"                  COMMAND ...\n"
"  wallet new [--force] [--kdf-min]   create a wallet (0600)\n"
"  wallet show                        address, public key, stealth meta-address\n"
"  balance [ADDR]                     ether, token, hub and licence balances\n"
"  mint ADDR AMOUNT                   mint test tokens (test token only)\n"
"  publish HASH PRICE KEY [--royalty BPS] [--agent ADDR] [--agent-fee BPS]\n"
"  buy INDEX [--holder ADDR] [--max-price N]\n"
"  key request TOKEN_ID               post a single-use key E on chain\n"
"  key deliver TOKEN_ID KEY [--from-block N]     (key agent)\n"
"  key fetch TOKEN_ID --agent-pub PK [--from-block N]\n"
"  fund-pot SIGNER DEPOSIT [ESCROW]\n"
"  voucher sign RECIPIENT LANE CUMULATIVE EXPIRY\n"
"  voucher redeem PAPER...\n"
"  ticket sign RECIPIENT FACE WIN_PROB NONCE RAND_HASH EXPIRY\n"
"  ticket redeem RAND PAPER...\n"
"  stealth meta | stealth new META | stealth scan EPH:TAG[:ADDR]...\n"
"  withdraw sign EPH TO AMOUNT [--fee N] [--deadline UNIX]   (payee)\n"
"  withdraw relay WITHDRAWAL          submit a signed withdrawal (relayer)\n"
"  did set NAME VALUE_HEX [--validity SECONDS]\n"
"  did get IDENTITY [NAME] [--from-block N]\n"
"Amounts are integers in base units (decimal or 0x hex).  WIN_PROB may be\n"
"1/N.  The passphrase comes from --password-file or BITS_WALLET_PASSWORD.\n";

struct cli {
	const char *rpc_url;
	const char *deploy_path;
	const char *wallet_path;
	const char *password_file;
	uint64_t chain_id;
	bool chain_id_set;
	unsigned timeout_ms;
	struct evloop *loop;
	struct chainrpc_http *http;
	struct chain_client *client;
	bool have_deploy;
	struct chain_deploy dep;
	struct wallet_keys *keys;
	uint8_t me[20];
};

/* ------------------------------------------------------------- helpers */

__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("bits-chain: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

static int usage(void)
{
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static void print_hex(const char *name, const void *p, size_t n)
{
	char *s = xmalloc(HEX_ENC_LEN(n));

	(void)hex_encode(s, HEX_ENC_LEN(n), p, n);
	printf("%s: 0x%s\n", name, s);
	free(s);
}

static void print_addr(const char *name, const uint8_t a[20])
{
	char s[ETH_ADDR_STR_BYTES];

	printf("%s: %s\n", name, eth_addr_format(a, s, sizeof(s)));
}

static void print_u256(const char *name, const struct u256 *v)
{
	char s[U256_DEC_BYTES];

	printf("%s: %s\n", name, u256_format_dec(v, s, sizeof(s)));
}

static bool arg_u256(const char *s, struct u256 *out)
{
	const char *slash = strchr(s, '/');

	if (slash && strncmp(s, "1/", 2) == 0) {	/* probability 1/N */
		struct u256 n, max;
		memset(&max, 0xff, sizeof(max));
		if (u256_parse_str(&n, slash + 1) != 0 || !u256_fits_u64(&n) ||
		    n.w[0] == 0)
			return false;
		return u256_div_u64(out, NULL, &max, n.w[0]) == 0;
	}
	return u256_parse_str(out, s) == 0;
}

static bool arg_u64(const char *s, uint64_t *out)
{
	struct u256 u;

	if (u256_parse_str(&u, s) != 0 || !u256_fits_u64(&u))
		return false;
	*out = u.w[0];
	return true;
}

/* Hex with optional 0x, exactly n bytes. */
static bool arg_hex(const char *s, uint8_t *out, size_t n)
{
	size_t got;

	if (strncmp(s, "0x", 2) == 0)
		s += 2;
	return hex_decode(out, n, &got, s, strlen(s)) == 0 && got == n;
}

/* Hex of at most max bytes into a new buffer. */
static uint8_t *arg_hex_any(const char *s, size_t max, size_t *n)
{
	uint8_t *buf;

	if (strncmp(s, "0x", 2) == 0)
		s += 2;
	if (strlen(s) / 2 > max)
		return NULL;
	buf = xmalloc(strlen(s) / 2 + 1);
	if (hex_decode(buf, strlen(s) / 2, n, s, strlen(s)) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Take "--name VALUE" out of argv (argc updated); NULL if absent. */
static const char *take_opt(int *argc, char **argv, const char *name)
{
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], name) != 0)
			continue;
		if (i + 1 >= *argc)
			return NULL;
		const char *v = argv[i + 1];
		memmove(argv + i, argv + i + 2, (size_t)(*argc - i - 2) * sizeof(*argv));
		*argc -= 2;
		return v;
	}
	return NULL;
}

static bool take_flag(int *argc, char **argv, const char *name)
{
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], name) == 0) {
			memmove(argv + i, argv + i + 1,
				(size_t)(*argc - i - 1) * sizeof(*argv));
			(*argc)--;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------- lazy set-up */

static int need_deploy(struct cli *c)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *why = NULL;
	int r;

	if (c->have_deploy)
		return 0;
	if (!c->deploy_path)
		return fail("this command needs --deploy FILE (the deploy JSON)");
	if ((r = fsutil_read_file(c->deploy_path, CHAIN_DEPLOY_MAX_BYTES, &buf,
				  &len)) != 0)
		return fail("%s: %s", c->deploy_path, err_str(r));
	r = chain_deploy_parse((const char *)buf, len, &c->dep, &why);
	xfree_wipe(buf, len);
	if (r != 0)
		return fail("%s: %s", c->deploy_path, why ? why : err_str(r));
	if (c->chain_id_set && c->chain_id != c->dep.chain_id)
		return fail("--chain-id %llu but the deploy file is for chain %llu",
			    (unsigned long long)c->chain_id,
			    (unsigned long long)c->dep.chain_id);
	c->chain_id = c->dep.chain_id;
	c->chain_id_set = true;
	c->have_deploy = true;
	return 0;
}

static int read_password(struct cli *c, char *out, size_t outlen)
{
	const char *env = getenv("BITS_WALLET_PASSWORD");
	uint8_t *buf;
	size_t len;
	int r;

	if (c->password_file) {
		if ((r = fsutil_read_file(c->password_file, CLI_PASSWORD_MAX_BYTES,
					  &buf, &len)) != 0)
			return fail("%s: %s", c->password_file, err_str(r));
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			len--;
		if (len >= outlen) {
			xfree_wipe(buf, len);
			return fail("passphrase too long");
		}
		memcpy(out, buf, len);
		out[len] = '\0';
		xfree_wipe(buf, len);
		return 0;
	}
	if (env && strlen(env) < outlen) {
		memcpy(out, env, strlen(env) + 1);
		return 0;
	}
	return fail("no passphrase: use --password-file FILE or "
		    "BITS_WALLET_PASSWORD");
}

static int need_wallet(struct cli *c)
{
	char pass[CLI_PASSWORD_MAX_BYTES];
	int r;

	if (c->keys)
		return 0;
	if (!c->wallet_path)
		return fail("this command needs --wallet FILE");
	if ((r = read_password(c, pass, sizeof(pass))) != 0)
		return r;
	r = wallet_file_read(c->wallet_path, pass, &c->keys);
	memwipe(pass, sizeof(pass));
	if (r == ERR_AUTH)
		return fail("%s: wrong passphrase (or the file was changed)",
			    c->wallet_path);
	if (r == ERR_BAD_STATE)
		return fail("%s: readable by others; chmod 600 it first",
			    c->wallet_path);
	if (r != 0)
		return fail("%s: %s", c->wallet_path, err_str(r));
	(void)secp_sk_address(&c->keys->account, c->me);
	return 0;
}

static int need_client(struct cli *c)
{
	struct chain_transport t;
	const char *why = NULL;
	int r;

	if (c->client)
		return 0;
	if (c->deploy_path && (r = need_deploy(c)) != 0)
		return r;
	if (!c->chain_id_set)
		c->chain_id = CLI_DEFAULT_CHAIN_ID;
	c->loop = evloop_new();
	if ((r = chainrpc_http_new(evloop_base(c->loop), c->rpc_url,
				   c->timeout_ms, CHAINRPC_DEFAULT_RETRIES,
				   &c->http, &why)) != 0)
		return fail("%s: %s", c->rpc_url, why);
	t = chainrpc_http_transport(c->http);
	c->client = chain_client_new(&t, c->chain_id);
	return 0;
}

static int need_all(struct cli *c)
{
	int r;

	if ((r = need_deploy(c)) != 0 || (r = need_wallet(c)) != 0 ||
	    (r = need_client(c)) != 0)
		return r;
	return 0;
}

static int chain_fail(struct cli *c, const char *what, int r)
{
	const char *e = chain_client_error(c->client);

	if (strncmp(e, what, strlen(what)) == 0)	/* says it already */
		return fail("%s (%s)", e, err_str(r));
	return fail("%s: %s (%s)", what, e, err_str(r));
}

/* Send calldata in b to `to` from our account; print the tx hash. */
static int send_tx(struct cli *c, const char *what, const uint8_t to[20],
		   const struct bbuf *b, struct chain_receipt *rc)
{
	struct chain_receipt tmp;
	int r;

	r = chain_send(c->client, &c->keys->account, to, b->data, b->len, NULL,
		       rc ? rc : &tmp);
	if (r != 0)
		return chain_fail(c, what, r);
	print_hex("tx", (rc ? rc : &tmp)->tx_hash, 32);
	if (!rc)
		chain_receipt_clear(&tmp);
	return 0;
}

static int view_u256(struct cli *c, const uint8_t to[20], const struct bbuf *b,
		     struct u256 *out, const char *what)
{
	int r = chain_call_u256(c->client, to, b->data, b->len, out);

	return r ? chain_fail(c, what, r) : 0;
}

/* Approve spender for amount unless the allowance already covers it. */
static int ensure_allowance(struct cli *c, const uint8_t spender[20],
			    const struct u256 *amount)
{
	struct bbuf b = BBUF_INIT;
	struct u256 have;
	int r;

	erc20_allowance(&b, c->me, spender);
	r = view_u256(c, c->dep.token, &b, &have, "allowance");
	bbuf_reset(&b);
	if (r == 0 && u256_cmp(&have, amount) < 0) {
		erc20_approve(&b, spender, amount);
		r = send_tx(c, "approve", c->dep.token, &b, NULL);
	}
	bbuf_free(&b);
	return r;
}

static void hub_domain(struct cli *c, uint8_t sep[32])
{
	struct eip712_domain d = { EIP712_NAME_HUB, c->chain_id, { 0 } };

	memcpy(d.verifying, c->dep.payment_hub, 20);
	eip712_domain_separator(&d, sep);
}

/* -------------------------------------------------------------- wallet */

static int show_keys(const struct wallet_keys *k)
{
	struct secp_pk pk;
	struct stealth_meta m;
	uint8_t addr[20], meta[STEALTH_META_BYTES];

	if (secp_sk_address(&k->account, addr) != 0 ||
	    secp_sk_pubkey(&k->account, &pk) != 0 ||
	    stealth_meta_from_keys(&m, &k->spend, &k->view) != 0)
		return fail("the wallet holds an invalid key");
	stealth_meta_encode(&m, meta);
	print_addr("address", addr);
	print_hex("pubkey", pk.b, sizeof(pk.b));
	print_hex("stealth-meta", meta, sizeof(meta));
	return 0;
}

static int cmd_wallet(struct cli *c, int argc, char **argv)
{
	char pass[CLI_PASSWORD_MAX_BYTES];
	struct wallet_keys *k;
	struct wallet_kdf kdf;
	bool force, kmin;
	int r;

	if (argc < 1)
		return usage();
	if (strcmp(argv[0], "show") == 0)
		return need_wallet(c) ? EXIT_FAIL : show_keys(c->keys);
	if (strcmp(argv[0], "new") != 0)
		return usage();
	force = take_flag(&argc, argv, "--force");
	kmin = take_flag(&argc, argv, "--kdf-min");
	if (argc != 1)
		return usage();
	if (!c->wallet_path)
		return fail("wallet new needs --wallet FILE");
	if ((r = read_password(c, pass, sizeof(pass))) != 0)
		return r;
	kdf = kmin ? wallet_kdf_min() : wallet_kdf_default();
	k = wallet_keys_generate();
	r = wallet_file_write(c->wallet_path, k, pass, &kdf, force);
	memwipe(pass, sizeof(pass));
	if (r == ERR_EXISTS)
		r = fail("%s exists (use --force to replace it)", c->wallet_path);
	else if (r != 0)
		r = fail("%s: %s", c->wallet_path, err_str(r));
	else
		r = show_keys(k);
	wallet_keys_free(k);
	return r;
}

/* ------------------------------------------------------------ balances */

static int cmd_balance(struct cli *c, int argc, char **argv)
{
	struct bbuf b = BBUF_INIT;
	uint8_t who[20];
	struct u256 v;
	int r;

	if (argc > 1)
		return usage();
	if ((r = need_deploy(c)) != 0 || (r = need_client(c)) != 0)
		return r;
	if (argc == 1) {
		if (eth_addr_parse(who, argv[0]) != 0)
			return fail("bad address %s", argv[0]);
	} else {
		if ((r = need_wallet(c)) != 0)
			return r;
		memcpy(who, c->me, 20);
	}
	print_addr("address", who);
	if ((r = chain_get_balance(c->client, who, &v)) != 0)
		return chain_fail(c, "eth_getBalance", r);
	print_u256("eth", &v);
	erc20_balance_of(&b, who);
	if ((r = view_u256(c, c->dep.token, &b, &v, "token balance")) != 0)
		goto out;
	print_u256("token", &v);
	bbuf_reset(&b);
	hub_balances_call(&b, who);
	if ((r = view_u256(c, c->dep.payment_hub, &b, &v, "hub balance")) != 0)
		goto out;
	print_u256("hub", &v);
	bbuf_reset(&b);
	license_owed_call(&b, who);
	if ((r = view_u256(c, c->dep.license_registry, &b, &v, "owed")) != 0)
		goto out;
	print_u256("owed", &v);
out:
	bbuf_free(&b);
	return r;
}

static int cmd_mint(struct cli *c, int argc, char **argv)
{
	struct bbuf b = BBUF_INIT;
	uint8_t to[20];
	struct u256 amount;
	int r;

	if (argc != 2)
		return usage();
	if (eth_addr_parse(to, argv[0]) != 0 || !arg_u256(argv[1], &amount))
		return fail("mint ADDR AMOUNT");
	if ((r = need_all(c)) != 0)
		return r;
	erc20_mint(&b, to, &amount);
	r = send_tx(c, "mint", c->dep.token, &b, NULL);
	bbuf_free(&b);
	return r;
}

/* ------------------------------------------------------------ licences */

static int cmd_publish(struct cli *c, int argc, char **argv)
{
	struct license_publish p = { 0 };
	struct ev_content_published ev;
	struct chain_receipt rc = { 0 };
	struct bbuf b = BBUF_INIT;
	const char *roy = take_opt(&argc, argv, "--royalty");
	const char *agent = take_opt(&argc, argv, "--agent");
	const char *afee = take_opt(&argc, argv, "--agent-fee");
	uint8_t key[32];
	uint64_t v;
	int r;

	if (argc != 3)
		return usage();
	if (!arg_hex(argv[0], p.content_hash, 32) || !arg_u256(argv[1], &p.price) ||
	    !arg_hex(argv[2], key, 32))
		return fail("publish HASH(32 bytes hex) PRICE KEY(32 bytes hex)");
	if (roy) {
		if (!arg_u64(roy, &v) || v > 10000)
			return fail("bad --royalty");
		p.royalty_bps = (uint16_t)v;
	}
	if (afee) {
		if (!arg_u64(afee, &v) || v > 10000)
			return fail("bad --agent-fee");
		p.agent_fee_bps = (uint16_t)v;
	}
	if ((r = need_all(c)) != 0)
		goto out;
	memcpy(p.key_agent, c->me, 20);
	if (agent && eth_addr_parse(p.key_agent, agent) != 0) {
		r = fail("bad --agent address");
		goto out;
	}
	license_key_commitment(key, p.content_hash, p.key_commitment);
	if ((r = license_publish_call(&b, &p)) != 0) {
		r = fail("price above uint96");
		goto out;
	}
	if ((r = send_tx(c, "publish", c->dep.license_registry, &b, &rc)) != 0)
		goto out;
	r = fail("publish: no ContentPublished event in the receipt");
	for (size_t i = 0; i < rc.nlogs; i++)
		if (memcmp(rc.logs[i].address, c->dep.license_registry, 20) == 0 &&
		    ev_content_published_decode(&rc.logs[i], &ev) == 0) {
			print_u256("index", &ev.index);
			print_hex("key-commitment", ev.key_commitment, 32);
			r = 0;
		}
out:
	memwipe(key, sizeof(key));
	chain_receipt_clear(&rc);
	bbuf_free(&b);
	return r;
}

static int content_of(struct cli *c, const struct u256 *index,
		      struct license_content *lc)
{
	struct bbuf b = BBUF_INIT, ret = BBUF_INIT;
	int r;

	license_content_call(&b, index);
	r = chain_call(c->client, NULL, c->dep.license_registry, b.data, b.len,
		       &ret);
	if (r != 0)
		r = chain_fail(c, "content", r);
	else if ((r = license_content_decode(ret.data, ret.len, lc)) != 0)
		r = fail("content(): malformed result (%s)", err_str(r));
	bbuf_free(&b);
	bbuf_free(&ret);
	return r;
}

static int cmd_buy(struct cli *c, int argc, char **argv)
{
	const char *holder_s = take_opt(&argc, argv, "--holder");
	const char *max_s = take_opt(&argc, argv, "--max-price");
	struct chain_receipt rc = { 0 };
	struct bbuf b = BBUF_INIT;
	struct license_content lc;
	struct u256 index, max, id, price;
	uint8_t holder[20];
	int r;

	if (argc != 1 || !arg_u256(argv[0], &index))
		return usage();
	if ((r = need_all(c)) != 0)
		return r;
	memcpy(holder, c->me, 20);
	if (holder_s && eth_addr_parse(holder, holder_s) != 0)
		return fail("bad --holder");
	if ((r = content_of(c, &index, &lc)) != 0)
		return r;
	max = lc.price;
	if (max_s && !arg_u256(max_s, &max))
		return fail("bad --max-price");
	if (u256_cmp(&lc.price, &max) > 0)
		return fail("price %llu is above --max-price",
			    (unsigned long long)lc.price.w[0]);
	if ((r = ensure_allowance(c, c->dep.license_registry, &lc.price)) != 0)
		return r;
	license_buy_call(&b, &index, holder, &max);
	if ((r = send_tx(c, "buy", c->dep.license_registry, &b, &rc)) != 0)
		goto out;
	r = fail("buy: no LicensePurchased event in the receipt");
	for (size_t i = 0; i < rc.nlogs; i++)
		if (memcmp(rc.logs[i].address, c->dep.license_registry, 20) == 0 &&
		    ev_license_purchased_decode(&rc.logs[i], &id, &price) == 0) {
			print_u256("token-id", &id);
			print_u256("price", &price);
			r = 0;
		}
out:
	chain_receipt_clear(&rc);
	bbuf_free(&b);
	return r;
}

/* ----------------------------------------------------------- key release */

/*
 * The single-use key E for a fallback request on tokenId, derived from
 * the account key so that `key fetch` can find e again without storing it.
 * FIXME: one E per (wallet, token); a second request for the same token
 * reuses it.
 */
static int request_eph(const struct cli *c, const struct u256 *token_id,
		       struct secp_sk *e)
{
	uint8_t buf[16 + 32 + 32 + 1];
	uint8_t ctr = 0;

	memcpy(buf, "bits/key-request", 16);
	memcpy(buf + 16, c->keys->account.b, 32);
	u256_to_be(token_id, buf + 48);
	do {
		buf[80] = ctr++;
		keccak256(e->b, buf, sizeof(buf));
	} while (!secp_sk_is_valid(e) && ctr);
	memwipe(buf, sizeof(buf));
	return secp_sk_is_valid(e) ? 0 : ERR_CRYPTO;
}

/* requestId of an on-chain request: the KeyRequest digest, deadline 0. */
static void request_id(const struct cli *c, const struct u256 *token_id,
		       const struct secp_pk *eph, uint8_t out[32])
{
	struct eip712_domain d = { EIP712_NAME_KEYRELEASE, c->chain_id, { 0 } };
	struct eip712_key_request k = { .token_id = *token_id, .deadline = 0 };
	uint8_t sep[32], h[32];

	memcpy(d.verifying, c->dep.key_release, 20);
	memcpy(k.eph_pub, eph->b, SECP_PK_BYTES);
	eip712_domain_separator(&d, sep);
	eip712_hash_key_request(&k, h);
	eip712_digest(sep, h, out);
}

struct key_scan {
	const struct cli *c;
	struct u256 token_id;
	bool found;
	struct ev_key_requested req;		/* latest request */
	uint8_t holder[20];
	uint8_t wrapped[32];
	uint8_t content_hash[32];
};

/* The content index of a licence: tokenId = index << 64 | serial. */
static struct u256 token_index(const struct u256 *id)
{
	return (struct u256){ { id->w[1], id->w[2], id->w[3], 0 } };
}

static int on_key_requested(void *arg, const struct chain_log *l)
{
	struct key_scan *s = arg;
	struct ev_key_requested k;

	if (ev_key_requested_decode(l, &k) == 0 &&
	    u256_cmp(&k.token_id, &s->token_id) == 0) {
		s->req = k;
		s->found = true;
	}
	return 0;
}

static int on_key_delivered(void *arg, const struct chain_log *l)
{
	struct key_scan *s = arg;
	struct u256 id;
	uint8_t holder[20], w[32];

	if (ev_key_delivered_decode(l, &id, holder, w) == 0 &&
	    u256_cmp(&id, &s->token_id) == 0 &&
	    memcmp(holder, s->holder, 20) == 0) {
		memcpy(s->wrapped, w, 32);
		s->found = true;
	}
	return 0;
}

static int on_published(void *arg, const struct chain_log *l)
{
	struct key_scan *s = arg;
	struct ev_content_published ev;
	struct u256 index = token_index(&s->token_id);

	if (ev_content_published_decode(l, &ev) == 0 &&
	    u256_cmp(&ev.index, &index) == 0) {
		memcpy(s->content_hash, ev.content_hash, 32);
		s->found = true;
	}
	return 0;
}

/* Scan [from, latest] of one contract for fn. */
static int scan(struct cli *c, const char *from_s, const uint8_t contract[20],
		chain_log_fn fn, void *arg)
{
	struct chain_log_filter f = { .has_address = true };
	uint64_t from = c->dep.start_block, to;
	int r;

	if (from_s && !arg_u64(from_s, &from))
		return fail("bad --from-block");
	memcpy(f.address, contract, 20);
	if ((r = chain_block_number(c->client, &to)) != 0 ||
	    (from <= to && (r = chain_get_logs(c->client, from, to, &f, fn, arg)) != 0))
		return chain_fail(c, "eth_getLogs", r);
	return 0;
}

static int key_request(struct cli *c, const struct u256 *id)
{
	struct bbuf b = BBUF_INIT;
	struct secp_sk e;
	struct secp_pk E;
	int r;

	if ((r = request_eph(c, id, &e)) != 0 || (r = secp_sk_pubkey(&e, &E)) != 0)
		r = fail("cannot derive the request key");
	memwipe(&e, sizeof(e));
	if (r)
		return r;
	keyrel_request_call(&b, id, &E);
	if ((r = send_tx(c, "requestKey", c->dep.key_release, &b, NULL)) == 0)
		print_hex("ephemeral", E.b, sizeof(E.b));
	bbuf_free(&b);
	return r;
}

static int key_deliver(struct cli *c, const struct u256 *id, const char *key_s,
		       const char *from_s)
{
	struct key_scan s = { .c = c, .token_id = *id };
	struct bbuf b = BBUF_INIT;
	uint8_t key[32], rid[32], w[32];
	int r;

	if (!arg_hex(key_s, key, 32))
		return fail("KEY must be 32 bytes of hex");
	if ((r = scan(c, from_s, c->dep.key_release, on_key_requested, &s)) != 0)
		goto out;
	if (!s.found) {
		r = fail("no KeyRequested for this token in the scanned blocks");
		goto out;
	}
	/* w = K xor keccak256(address(a·E) ‖ requestId) (CHAIN.md §5.3) */
	request_id(c, id, &s.req.eph, rid);
	if ((r = keyrel_wrap(w, key, &c->keys->account, &s.req.eph, rid)) != 0) {
		r = fail("cannot wrap the key");
		goto out;
	}
	keyrel_deliver_call(&b, id, s.req.holder, w);
	if ((r = send_tx(c, "deliverKey", c->dep.key_release, &b, NULL)) == 0) {
		print_addr("holder", s.req.holder);
		print_hex("wrapped", w, 32);
	}
out:
	memwipe(key, sizeof(key));
	bbuf_free(&b);
	return r;
}

static int key_fetch(struct cli *c, const struct u256 *id, const char *pk_s,
		     const char *from_s)
{
	struct key_scan s = { .c = c, .token_id = *id };
	struct license_content lc;
	struct secp_pk A, E;
	struct secp_sk e;
	struct u256 index = token_index(id);
	uint8_t pkb[33], rid[32], key[32], commit[32];
	int r;

	if (!pk_s || !arg_hex(pk_s, pkb, 33) || secp_pk_parse(&A, pkb, 33) != 0)
		return fail("key fetch needs --agent-pub (33-byte compressed key)");
	memcpy(s.holder, c->me, 20);
	if ((r = scan(c, from_s, c->dep.key_release, on_key_delivered, &s)) != 0)
		return r;
	if (!s.found)
		return fail("no KeyDelivered to us for this token yet");
	s.found = false;
	if ((r = scan(c, from_s, c->dep.license_registry, on_published, &s)) != 0)
		return r;
	if (!s.found)
		return fail("no ContentPublished for the licence's content");
	if ((r = content_of(c, &index, &lc)) != 0)
		return r;
	if ((r = request_eph(c, id, &e)) != 0 || (r = secp_sk_pubkey(&e, &E)) != 0)
		goto out;
	request_id(c, id, &E, rid);
	if ((r = keyrel_wrap(key, s.wrapped, &e, &A, rid)) != 0)
		goto out;
	/* "holder checks keyCommitment" (CHAIN.md §5.3) */
	license_key_commitment(key, s.content_hash, commit);
	if (memcmp(commit, lc.key_commitment, 32) != 0) {
		r = fail("the delivered key does not match the key commitment "
			 "(wrong --agent-pub, or a bad delivery)");
		goto out;
	}
	print_hex("content-hash", s.content_hash, 32);
	print_hex("key", key, 32);
	printf("commitment: ok\n");
out:
	memwipe(&e, sizeof(e));
	memwipe(key, sizeof(key));
	return r;
}

static int cmd_key(struct cli *c, int argc, char **argv)
{
	const char *from_s = take_opt(&argc, argv, "--from-block");
	const char *pk_s = take_opt(&argc, argv, "--agent-pub");
	struct u256 id;
	int r;

	if (argc < 2 || !arg_u256(argv[1], &id))
		return usage();
	if ((r = need_all(c)) != 0)
		return r;
	if (strcmp(argv[0], "request") == 0 && argc == 2)
		return key_request(c, &id);
	if (strcmp(argv[0], "deliver") == 0 && argc == 3)
		return key_deliver(c, &id, argv[2], from_s);
	if (strcmp(argv[0], "fetch") == 0 && argc == 2)
		return key_fetch(c, &id, pk_s, from_s);
	return usage();
}

/* ------------------------------------------------------------ payments */

static int cmd_fund_pot(struct cli *c, int argc, char **argv)
{
	struct bbuf b = BBUF_INIT;
	struct u256 dep, esc = u256_from_u64(0), sum;
	uint8_t signer[20];
	int r;

	if (argc < 2 || argc > 3)
		return usage();
	if (eth_addr_parse(signer, argv[0]) != 0 || !arg_u256(argv[1], &dep) ||
	    (argc == 3 && !arg_u256(argv[2], &esc)) || u256_add(&sum, &dep, &esc))
		return fail("fund-pot SIGNER DEPOSIT [ESCROW]");
	if ((r = need_all(c)) != 0)
		return r;
	if (hub_fund_call(&b, signer, &dep, &esc) != 0)
		return fail("deposit and escrow must fit in uint96");
	if ((r = ensure_allowance(c, c->dep.payment_hub, &sum)) == 0)
		r = send_tx(c, "fund", c->dep.payment_hub, &b, NULL);
	bbuf_free(&b);
	return r;
}

static int voucher_sign(struct cli *c, int argc, char **argv)
{
	struct eip712_voucher v = { 0 };
	struct bbuf b = BBUF_INIT;
	uint8_t sep[32], h[32], d[32], sig[65];
	int r;

	if (argc != 4 || eth_addr_parse(v.recipient, argv[0]) != 0 ||
	    !arg_hex(argv[1], v.lane, 32) || !arg_u256(argv[2], &v.cumulative) ||
	    !arg_u64(argv[3], &v.expiry))
		return fail("voucher sign RECIPIENT LANE(32 bytes) CUMULATIVE EXPIRY");
	if ((r = need_deploy(c)) != 0 || (r = need_wallet(c)) != 0)
		return r;
	hub_domain(c, sep);
	eip712_hash_voucher(&v, h);
	eip712_digest(sep, h, d);
	if (secp_sign(&c->keys->account, d, sig) != 0)
		return fail("signing failed");
	chain_voucher_paper_encode(&b, &v, sig);
	print_hex("paper", b.data, b.len);
	bbuf_free(&b);
	return 0;
}

/* Decode hex paper args; fn decodes one. */
typedef int (*paper_fn)(const uint8_t *p, size_t n, void *item, uint8_t sig[65]);

static int papers(int argc, char **argv, paper_fn fn, void *items,
		  size_t item_size, uint8_t (*sigs)[65])
{
	for (int i = 0; i < argc; i++) {
		size_t n;
		uint8_t *p = arg_hex_any(argv[i], CHAIN_PAPER_MAX_BYTES, &n);
		int r = p ? fn(p, n, (uint8_t *)items + (size_t)i * item_size,
			       sigs[i]) : ERR_FORMAT;
		free(p);
		if (r != 0)
			return fail("paper %d: %s", i + 1, err_str(r));
	}
	return 0;
}

static int dec_voucher(const uint8_t *p, size_t n, void *item, uint8_t sig[65])
{
	return chain_voucher_paper_decode(p, n, item, sig);
}

static int dec_ticket(const uint8_t *p, size_t n, void *item, uint8_t sig[65])
{
	return chain_ticket_paper_decode(p, n, item, sig);
}

static int voucher_redeem(struct cli *c, int argc, char **argv)
{
	struct eip712_voucher *v;
	uint8_t (*sigs)[65], sep[32], h[32], d[32], signer[20];
	struct bbuf b = BBUF_INIT;
	int r;

	if (argc < 1 || argc > CLI_MAX_PAPERS)
		return usage();
	if ((r = need_all(c)) != 0)
		return r;
	v = xcalloc((size_t)argc, sizeof(*v));
	sigs = xcalloc((size_t)argc, sizeof(*sigs));
	if ((r = papers(argc, argv, dec_voucher, v, sizeof(*v), sigs)) != 0)
		goto out;
	hub_domain(c, sep);
	for (int i = 0; i < argc; i++) {	/* check before paying gas */
		eip712_hash_voucher(&v[i], h);
		eip712_digest(sep, h, d);
		if (secp_recover(d, sigs[i], signer) != 0) {
			r = fail("paper %d: bad signature", i + 1);
			goto out;
		}
		print_addr("signer", signer);
	}
	if (argc == 1)
		hub_redeem_voucher_call(&b, &v[0], (const uint8_t *)sigs[0]);
	else
		hub_redeem_vouchers_call(&b, (size_t)argc, v,
					 (const uint8_t (*)[65])sigs);
	if ((r = send_tx(c, "redeemVoucher", c->dep.payment_hub, &b, NULL)) == 0)
		printf("redeemed: %d\n", argc);
out:
	free(v);
	free(sigs);
	bbuf_free(&b);
	return r;
}

static int cmd_voucher(struct cli *c, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "sign") == 0)
		return voucher_sign(c, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "redeem") == 0)
		return voucher_redeem(c, argc - 1, argv + 1);
	return usage();
}

static int ticket_sign(struct cli *c, int argc, char **argv)
{
	struct eip712_ticket t = { 0 };
	struct bbuf b = BBUF_INIT;
	uint8_t sep[32], h[32], d[32], sig[65];
	int r;

	if (argc != 6 || eth_addr_parse(t.recipient, argv[0]) != 0 ||
	    !arg_u256(argv[1], &t.face_value) || !arg_u256(argv[2], &t.win_prob) ||
	    !arg_u256(argv[3], &t.sender_nonce) ||
	    !arg_hex(argv[4], t.recipient_rand_hash, 32) ||
	    !arg_u64(argv[5], &t.expiry))
		return fail("ticket sign RECIPIENT FACE WIN_PROB NONCE RAND_HASH EXPIRY");
	if ((r = need_deploy(c)) != 0 || (r = need_wallet(c)) != 0)
		return r;
	hub_domain(c, sep);
	eip712_hash_ticket(&t, h);
	eip712_digest(sep, h, d);
	if (secp_sign(&c->keys->account, d, sig) != 0)
		return fail("signing failed");
	chain_ticket_paper_encode(&b, &t, sig);
	print_hex("paper", b.data, b.len);
	bbuf_free(&b);
	return 0;
}

static int ticket_redeem(struct cli *c, int argc, char **argv)
{
	struct eip712_ticket *t, *win;
	uint8_t (*sigs)[65], (*wsigs)[65], rand[32], rh[32];
	struct bbuf b = BBUF_INIT;
	size_t n = 0;
	int r;

	if (argc < 2 || argc - 1 > CLI_MAX_PAPERS || !arg_hex(argv[0], rand, 32))
		return usage();
	if ((r = need_all(c)) != 0)
		return r;
	argc--;
	argv++;
	t = xcalloc((size_t)argc, sizeof(*t));
	win = xcalloc((size_t)argc, sizeof(*win));
	sigs = xcalloc((size_t)argc, sizeof(*sigs));
	wsigs = xcalloc((size_t)argc, sizeof(*wsigs));
	if ((r = papers(argc, argv, dec_ticket, t, sizeof(*t), sigs)) != 0)
		goto out;
	keccak256(rh, rand, 32);
	for (int i = 0; i < argc; i++) {
		/* keep winners only: a losing ticket would revert the batch */
		if (memcmp(t[i].recipient_rand_hash, rh, 32) != 0 ||
		    !hub_ticket_wins(&t[i], sigs[i], rand))
			continue;
		win[n] = t[i];
		memcpy(wsigs[n++], sigs[i], 65);
	}
	printf("winners: %zu of %d\n", n, argc);
	if (n == 0)
		goto out;
	hub_redeem_tickets_call(&b, n, win, (const uint8_t (*)[65])wsigs, rand);
	r = send_tx(c, "redeemTickets", c->dep.payment_hub, &b, NULL);
out:
	memwipe(rand, sizeof(rand));
	free(t);
	free(win);
	free(sigs);
	free(wsigs);
	bbuf_free(&b);
	return r;
}

static int cmd_ticket(struct cli *c, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "sign") == 0)
		return ticket_sign(c, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "redeem") == 0)
		return ticket_redeem(c, argc - 1, argv + 1);
	return usage();
}

/* ------------------------------------------------------------- stealth */

static int cmd_stealth(struct cli *c, int argc, char **argv)
{
	struct stealth_meta m;
	struct stealth_out o;
	uint8_t meta[STEALTH_META_BYTES];
	int r;

	if (argc < 1)
		return usage();
	if (strcmp(argv[0], "new") == 0) {
		if (argc != 2 || !arg_hex(argv[1], meta, sizeof(meta)) ||
		    stealth_meta_decode(&m, meta, sizeof(meta)) != 0)
			return fail("stealth new META (66 bytes hex)");
		if (stealth_generate(&o, &m, NULL) != 0)
			return fail("cannot derive a stealth address");
		print_addr("stealth-address", o.addr);
		print_hex("ephemeral", o.eph.b, sizeof(o.eph.b));
		printf("view-tag: 0x%02x\n", o.view_tag);
		return 0;
	}
	if ((r = need_wallet(c)) != 0)
		return r;
	if (stealth_meta_from_keys(&m, &c->keys->spend, &c->keys->view) != 0)
		return fail("the wallet holds an invalid key");
	if (strcmp(argv[0], "meta") == 0 && argc == 1) {
		stealth_meta_encode(&m, meta);
		print_hex("stealth-meta", meta, sizeof(meta));
		return 0;
	}
	if (strcmp(argv[0], "scan") != 0 || argc < 2)
		return usage();
	/* scan EPH:TAG[:ADDR]... (interactive payments send E and the tag
	 * over the overlay; nothing is announced on chain) */
	for (int i = 1; i < argc; i++) {
		char eh[72] = { 0 }, *tag, *addr_s;
		uint8_t eb[33], want[20], got[20];
		uint64_t tv;
		size_t tl, hn;
		struct secp_pk E;

		tag = strchr(argv[i], ':');
		if (!tag || (size_t)(tag - argv[i]) >= sizeof(eh))
			return fail("scan: %s is not EPH:TAG[:ADDR]", argv[i]);
		memcpy(eh, argv[i], (size_t)(tag - argv[i]));
		if (!arg_hex(eh, eb, 33) || secp_pk_parse(&E, eb, 33) != 0)
			return fail("scan: %s is not EPH:TAG[:ADDR]", argv[i]);
		/* the tag as printed (0x and two hex digits) or in decimal */
		addr_s = strchr(tag + 1, ':');
		tl = addr_s ? (size_t)(addr_s - tag - 1) : strlen(tag + 1);
		if (tl == 4 && !strncasecmp(tag + 1, "0x", 2))
			tv = (hex_decode(eb, 1, &hn, tag + 3, 2) == 0) ? eb[0] :
			     256;
		else if (dec_decode(&tv, 255, tag + 1, tl) != 0)
			tv = 256;
		if (tv > 255 || (addr_s && eth_addr_parse(want, addr_s + 1) != 0))
			return fail("scan: bad view tag or address in %s", argv[i]);
		r = stealth_scan(&c->keys->view, &m.spend, &E, (uint8_t)tv,
				 addr_s ? want : NULL, got);
		if (r < 0)
			return fail("scan: %s", err_str(r));
		if (r == 1)
			print_addr("match", got);
		else
			printf("no-match: %s\n", eh);
	}
	return 0;
}

/* --------------------------------------------------- relayed withdrawal */

static int withdraw_sign(struct cli *c, int argc, char **argv)
{
	const char *fee_s = take_opt(&argc, argv, "--fee");
	const char *dl_s = take_opt(&argc, argv, "--deadline");
	struct eip712_withdraw w = { 0 };
	struct bbuf b = BBUF_INIT;
	struct secp_sk sk;
	struct secp_pk E;
	uint8_t eb[33], sep[32], h[32], d[32], sig[65];
	uint64_t now;
	int r;

	if (argc != 3 || !arg_hex(argv[0], eb, 33) || secp_pk_parse(&E, eb, 33) ||
	    eth_addr_parse(w.to, argv[1]) != 0 || !arg_u256(argv[2], &w.amount) ||
	    (fee_s && !arg_u256(fee_s, &w.fee)) ||
	    (dl_s && !arg_u64(dl_s, &w.deadline)))
		return fail("withdraw sign EPH TO AMOUNT [--fee N] [--deadline UNIX]");
	if ((r = need_all(c)) != 0)
		return r;
	/* the stealth key: p_spend + h mod n (CHAIN.md §4) */
	if (stealth_spend_key(&sk, &c->keys->spend, &c->keys->view, &E) != 0 ||
	    secp_sk_address(&sk, w.from) != 0) {
		r = fail("cannot derive the stealth key");
		goto out;
	}
	if (!dl_s) {
		if ((r = chain_block_timestamp(c->client, &now)) != 0) {
			r = chain_fail(c, "latest block", r);
			goto out;
		}
		w.deadline = now + 3600;
	}
	hub_nonces_call(&b, w.from);
	if ((r = view_u256(c, c->dep.payment_hub, &b, &w.nonce, "nonces")) != 0)
		goto out;
	bbuf_reset(&b);
	hub_domain(c, sep);
	eip712_hash_withdraw(&w, h);
	eip712_digest(sep, h, d);
	if (secp_sign(&sk, d, sig) != 0) {
		r = fail("signing failed");
		goto out;
	}
	hub_withdraw_for_call(&b, &w, sig);
	print_addr("from", w.from);
	print_hex("withdrawal", b.data + 4, b.len - 4);	/* the arguments */
out:
	memwipe(&sk, sizeof(sk));
	bbuf_free(&b);
	return r;
}

static int withdraw_relay(struct cli *c, int argc, char **argv)
{
	struct eip712_withdraw w = { 0 };
	struct bbuf b = BBUF_INIT;
	struct abi_dec dec;
	const uint8_t *sp;
	uint8_t *blob, sig[65], sep[32], h[32], d[32], signer[20];
	size_t n, sn;
	int r;

	if (argc != 1 || !(blob = arg_hex_any(argv[0], 1024, &n)))
		return fail("withdraw relay WITHDRAWAL(hex)");
	dec = abi_dec_init(blob, n);
	if (abi_dec_address(&dec, 0, w.from) || abi_dec_address(&dec, 1, w.to) ||
	    abi_dec_u256(&dec, 2, &w.amount) || abi_dec_u256(&dec, 3, &w.fee) ||
	    abi_dec_u64(&dec, 4, &w.deadline) ||
	    abi_dec_bytes(&dec, 5, 65, &sp, &sn) || sn != 65) {
		free(blob);
		return fail("malformed withdrawal");
	}
	memcpy(sig, sp, 65);
	free(blob);
	if ((r = need_all(c)) != 0)
		return r;
	hub_nonces_call(&b, w.from);
	if ((r = view_u256(c, c->dep.payment_hub, &b, &w.nonce, "nonces")) != 0)
		goto out;
	bbuf_reset(&b);
	hub_domain(c, sep);
	eip712_hash_withdraw(&w, h);
	eip712_digest(sep, h, d);
	if (secp_recover(d, sig, signer) != 0 || memcmp(signer, w.from, 20) != 0) {
		r = fail("the withdrawal is not signed by its owner (or was used)");
		goto out;
	}
	hub_withdraw_for_call(&b, &w, sig);
	if ((r = send_tx(c, "withdrawFor", c->dep.payment_hub, &b, NULL)) == 0) {
		print_u256("amount", &w.amount);
		print_u256("fee", &w.fee);
	}
out:
	bbuf_free(&b);
	return r;
}

static int cmd_withdraw(struct cli *c, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "sign") == 0)
		return withdraw_sign(c, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "relay") == 0)
		return withdraw_relay(c, argc - 1, argv + 1);
	return usage();
}

/* ----------------------------------------------------------------- DID */

struct did_scan {
	uint8_t identity[20];
	bool by_name;
	uint8_t name[32];
	unsigned found;
};

static int on_did(void *arg, const struct chain_log *l)
{
	struct did_scan *s = arg;
	struct ev_did_attribute a;
	char nm[33];

	if (ev_did_attribute_decode(l, &a) != 0 ||
	    memcmp(a.identity, s->identity, 20) != 0 ||
	    (s->by_name && memcmp(a.name, s->name, 32) != 0))
		return 0;
	memcpy(nm, a.name, 32);
	nm[32] = '\0';
	for (size_t i = 0; nm[i]; i++)
		if ((unsigned char)nm[i] < 0x20 || (unsigned char)nm[i] > 0x7e)
			nm[i] = '?';
	printf("attribute: %s\n", nm);
	print_hex("value", a.value, a.value_len);
	print_u256("valid-to", &a.valid_to);
	s->found++;
	return 0;
}

static int cmd_did(struct cli *c, int argc, char **argv)
{
	const char *from_s = take_opt(&argc, argv, "--from-block");
	const char *val_s = take_opt(&argc, argv, "--validity");
	struct did_scan s = { .found = 0 };
	struct bbuf b = BBUF_INIT;
	uint64_t validity = 365ull * 24 * 3600;
	uint8_t *value;
	size_t n;
	int r;

	if (argc < 2)
		return usage();
	if ((r = need_all(c)) != 0)
		return r;
	if (strcmp(argv[0], "set") == 0 && argc == 3) {
		if ((val_s && !arg_u64(val_s, &validity)) ||
		    !(value = arg_hex_any(argv[2], CLI_DID_VALUE_MAX_BYTES, &n)))
			return fail("did set NAME VALUE_HEX [--validity SECONDS]");
		r = did_set_attribute_call(&b, c->me, argv[1], value, n, validity);
		free(value);
		if (r != 0)
			return fail("NAME is at most 32 bytes");
		r = send_tx(c, "setAttribute", c->dep.did_registry, &b, NULL);
		bbuf_free(&b);
		return r;
	}
	if (strcmp(argv[0], "get") != 0 || argc > 3)
		return usage();
	if (eth_addr_parse(s.identity, argv[1]) != 0)
		return fail("bad identity address");
	if (argc == 3) {
		if (strlen(argv[2]) > 32)
			return fail("NAME is at most 32 bytes");
		s.by_name = true;
		memcpy(s.name, argv[2], strlen(argv[2]));
	}
	/* attributes live only in events: scan by block range, filter here */
	if ((r = scan(c, from_s, c->dep.did_registry, on_did, &s)) != 0)
		return r;
	printf("attributes: %u\n", s.found);
	return s.found ? 0 : EXIT_FAIL;
}

/* ---------------------------------------------------------------- main */

static const struct {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
} commands[] = {
	{ "wallet", cmd_wallet },
	{ "balance", cmd_balance },
	{ "mint", cmd_mint },
	{ "publish", cmd_publish },
	{ "buy", cmd_buy },
	{ "key", cmd_key },
	{ "fund-pot", cmd_fund_pot },
	{ "voucher", cmd_voucher },
	{ "ticket", cmd_ticket },
	{ "stealth", cmd_stealth },
	{ "withdraw", cmd_withdraw },
	{ "did", cmd_did },
};

static int parse_global(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rpc", required_argument, NULL, 'r' },
		{ "deploy", required_argument, NULL, 'd' },
		{ "wallet", required_argument, NULL, 'w' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "chain-id", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t v;
	int o;

	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (o) {
		case 'r': c->rpc_url = optarg; break;
		case 'd': c->deploy_path = optarg; break;
		case 'w': c->wallet_path = optarg; break;
		case 'p': c->password_file = optarg; break;
		case 'c':
			if (!arg_u64(optarg, &c->chain_id))
				return -1;
			c->chain_id_set = true;
			break;
		case 't':
			if (!arg_u64(optarg, &v) || v == 0 || v > 600000)
				return -1;
			c->timeout_ms = (unsigned)v;
			break;
		default:
			return -1;
		}
	}
	return optind;
}

int main(int argc, char **argv)
{
	struct cli c = { .rpc_url = CLI_DEFAULT_RPC,
			 .timeout_ms = CHAINRPC_DEFAULT_TIMEOUT_MS };
	struct rlimit nocore = { 0, 0 };
	int first, r = -1;

	setrlimit(RLIMIT_CORE, &nocore);	/* keys are in memory */
	crypto_init();
	log_set_level(LOG_WARN);
	if ((first = parse_global(&c, argc, argv)) < 0 || first >= argc)
		return usage();
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (strcmp(argv[first], commands[i].name) == 0)
			r = commands[i].fn(&c, argc - first - 1, argv + first + 1);
	if (r < 0)
		r = usage();
	chain_client_free(c.client);
	chainrpc_http_free(c.http);
	evloop_free(c.loop);
	wallet_keys_free(c.keys);
	fflush(stdout);
	return r;
}
