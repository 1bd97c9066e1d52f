/*
 * RouterInfo (common-structures spec, "RouterInfo"; network-database page,
 * "RouterInfo" options): decode and verify over the received bytes, build
 * and sign our own, look up options and addresses, and read/write the
 * routerInfo-*.dat file format.  The netDb (netdb/) stores these; the
 * transports (router/ntcp2, router/ssu2) send and receive them.
 */
#include "config.h"
#include "router/router_info.h"
#include "crypto/base/fsutil.h"
#include "router/i2p_types.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* netDb files are public data. */
#define ROUTER_INFO_FILE_MODE 0644
/* "peer_size ... The number of peer Hashes to follow, 0-255, unused" */
#define ROUTER_INFO_PEER_HASH_BYTES 32

struct router_info {
	struct keys_and_cert id;
	uint64_t published;
	struct router_address *addrs;	/* n_addrs of them, each owned */
	size_t n_addrs;
	struct mapping options;
	uint8_t *raw;			/* signed bytes, or NULL if changed */
	size_t raw_len;
};

struct router_info *router_info_new(const struct keys_and_cert *id)
{
	struct router_info *ri = xzalloc(sizeof(*ri));

	ri->id = *id;
	ri->published = time_now_ms();
	mapping_init(&ri->options);
	return ri;
}

/* Drop the signed bytes: ri no longer matches them. */
static void router_info_unsign(struct router_info *ri)
{
	free(ri->raw);
	ri->raw = NULL;
	ri->raw_len = 0;
}

void router_info_free(struct router_info *ri)
{
	if (!ri)
		return;
	for (size_t i = 0; i < ri->n_addrs; i++)
		router_address_clear(&ri->addrs[i]);
	free(ri->addrs);
	mapping_clear(&ri->options);
	router_info_unsign(ri);
	free(ri);
}

size_t router_info_heap_bytes(const struct router_info *ri)
{
	size_t n = alloc_cost(sizeof(*ri)) + mapping_heap_bytes(&ri->options);

	if (ri->addrs)
		n += alloc_cost((ri->n_addrs ? ri->n_addrs : 1) *
				sizeof(*ri->addrs));
	for (size_t i = 0; i < ri->n_addrs; i++) {
		n += mapping_heap_bytes(&ri->addrs[i].options);
		if (ri->addrs[i].style_owned)
			n += alloc_cost(strlen(ri->addrs[i].style) + 1);
	}
	if (ri->raw)
		n += alloc_cost(ri->raw_len);
	return n;
}

void router_info_set_published(struct router_info *ri, uint64_t ms)
{
	router_info_unsign(ri);
	ri->published = ms;
}

int router_info_add_address(struct router_info *ri, struct router_address *a)
{
	if (ri->n_addrs >= ROUTER_INFO_MAX_ADDRESSES) {
		router_address_clear(a);
		return ERR_LIMIT;
	}
	router_info_unsign(ri);
	ri->addrs = xrealloc(ri->addrs, (ri->n_addrs + 1) * sizeof(*ri->addrs));
	ri->addrs[ri->n_addrs++] = *a;
	router_address_init(a);
	return 0;
}

int router_info_set_option(struct router_info *ri, const char *key,
			   const char *value)
{
	int ret = mapping_set(&ri->options, key, value);

	if (ret == 0)
		router_info_unsign(ri);
	return ret;
}

int router_info_set_basic_options(struct router_info *ri, unsigned netid,
				  const char *caps)
{
	char id[8];
	int ret;

	if (netid == 0 || netid > 255 || !caps || !*caps)
		return ERR_ARG;
	snprintf(id, sizeof(id), "%u", netid);
	if ((ret = router_info_set_option(ri, "caps", caps)) != 0 ||
	    (ret = router_info_set_option(ri, "netId", id)) != 0 ||
	    (ret = router_info_set_option(ri, "router.version",
					  ROUTER_INFO_VERSION)) != 0)
		return ret == ERR_TOO_BIG ? ERR_ARG : ret;
	return 0;
}

/* Append everything the signature covers. */
static int router_info_encode_body(const struct router_info *ri,
				   struct bbuf *b)
{
	int ret;

	bbuf_put(b, ri->id.raw, ri->id.len);
	i2p_date_encode(b, ri->published);
	bbuf_u8(b, (uint8_t)ri->n_addrs);
	for (size_t i = 0; i < ri->n_addrs; i++)
		if ((ret = router_address_encode(&ri->addrs[i], b)) != 0)
			return ret;
	bbuf_u8(b, 0);		/* peer_size: "unused, always zero" */
	return mapping_encode(&ri->options, b);
}

int router_info_sign(struct router_info *ri, const struct keystore *ks)
{
	struct bbuf b = BBUF_INIT;
	struct ed25519_pk ours, theirs;
	struct ed25519_sig sig;
	int ret;

	keystore_sign_pk(ks, &ours);
	if (keys_and_cert_ed25519_pk(&ri->id, &theirs) != 0 ||
	    memcmp(ours.b, theirs.b, sizeof(ours.b)) != 0)
		return ERR_ARG;
	router_info_unsign(ri);
	if ((ret = router_info_encode_body(ri, &b)) != 0)
		goto out;
	if (b.len + sizeof(sig.b) > ROUTER_INFO_MAX_BYTES) {
		ret = ERR_TOO_BIG;
		goto out;
	}
	/* "signature :: Signature ... of the previous bytes" */
	keystore_sign(ks, &sig, b.data, b.len);
	bbuf_put(&b, sig.b, sizeof(sig.b));
	ri->raw = bbuf_steal(&b, &ri->raw_len);
out:
	bbuf_free(&b);
	return ret;
}

/* Decode everything after the identity, up to and excluding the
 * signature. */
static int router_info_decode_fields(struct breader *r, struct router_info *ri)
{
	size_t n, peers;
	int ret;

	if ((ret = i2p_date_decode(r, &ri->published)) != 0)
		return ret;
	/* "size :: Integer, length -> 1 byte, The number of RouterAddresses
	 * to follow, 0-255" */
	n = br_u8(r);
	if (r->failed)
		return ERR_TRUNCATED;
	if (n > ROUTER_INFO_MAX_ADDRESSES)
		return ERR_TOO_BIG;
	if (n > br_left(r) / ROUTER_ADDRESS_MIN_BYTES)
		return ERR_TRUNCATED;
	ri->addrs = xcalloc(n ? n : 1, sizeof(*ri->addrs));
	for (; ri->n_addrs < n; ri->n_addrs++)
		if ((ret = router_address_decode(r, ROUTER_INFO_MAX_BYTES,
						 &ri->addrs[ri->n_addrs])) != 0)
			return ret;
	/* "peer_size ... unused, always zero"; like i2pd, skip any hashes so
	 * the signature still covers what was sent. */
	peers = br_u8(r);
	br_skip(r, peers * ROUTER_INFO_PEER_HASH_BYTES);
	if (r->failed)
		return ERR_TRUNCATED;
	if ((ret = mapping_decode(r, ROUTER_INFO_MAX_BYTES, &ri->options)) != 0)
		return ret;
	n = ri->options.n;
	for (size_t i = 0; i < ri->n_addrs; i++)
		n += ri->addrs[i].options.n;
	return n > ROUTER_INFO_MAX_ENTRIES ? ERR_TOO_BIG : 0;
}

int router_info_decode(const uint8_t *buf, size_t len,
		       struct router_info **out)
{
	struct router_info *ri = xzalloc(sizeof(*ri));
	struct breader r;
	size_t sig_len;
	int ret;

	mapping_init(&ri->options);
	if (len > ROUTER_INFO_MAX_BYTES) {
		ret = ERR_TOO_BIG;
		goto out;
	}
	br_init(&r, buf, len);
	if ((ret = keys_and_cert_decode(&r, &ri->id)) != 0 ||
	    (ret = router_info_decode_fields(&r, ri)) != 0)
		goto out;
	sig_len = keys_and_cert_sig_len(&ri->id);
	if (br_take(&r, sig_len) == NULL) {
		ret = ERR_TRUNCATED;
		goto out;
	}
	if (!br_done(&r)) {
		ret = ERR_FORMAT;	/* trailing bytes */
		goto out;
	}
	ri->raw = xmemdup(buf, len);
	ri->raw_len = len;
	*out = ri;
	ri = NULL;
out:
	if (ret != 0)
		log_info_rl(60, LD_ROUTER,
			    "RouterInfo rejected (%zu bytes): %s", len,
			    err_str(ret));
	router_info_free(ri);
	return ret;
}

int router_info_verify(const struct router_info *ri)
{
	size_t sig_len = keys_and_cert_sig_len(&ri->id);

	if (!ri->raw || BUG(ri->raw_len < ri->id.len + sig_len))
		return ERR_BAD_STATE;
	return keys_and_cert_verify(&ri->id, ri->raw, ri->raw_len - sig_len,
				    ri->raw + ri->raw_len - sig_len, sig_len);
}

const uint8_t *router_info_bytes(const struct router_info *ri, size_t *len)
{
	if (!ri->raw)
		return NULL;
	*len = ri->raw_len;
	return ri->raw;
}

const struct keys_and_cert *router_info_identity(const struct router_info *ri)
{
	return &ri->id;
}

const uint8_t *router_info_hash(const struct router_info *ri)
{
	return ri->id.hash;
}

uint64_t router_info_published(const struct router_info *ri)
{
	return ri->published;
}

size_t router_info_address_count(const struct router_info *ri)
{
	return ri->n_addrs;
}

const struct router_address *router_info_address(const struct router_info *ri,
						 size_t i)
{
	return i < ri->n_addrs ? &ri->addrs[i] : NULL;
}

const struct router_address *
router_info_find_address(const struct router_info *ri, const char *style)
{
	for (size_t i = 0; i < ri->n_addrs; i++)
		if (strcmp(ri->addrs[i].style, style) == 0)
			return &ri->addrs[i];
	return NULL;
}

const char *router_info_option(const struct router_info *ri, const char *key)
{
	return mapping_get(&ri->options, key);
}

const struct mapping *router_info_options(const struct router_info *ri)
{
	return &ri->options;
}

/* A decimal number 0-255 with 1-3 digits. */
static int u8_parse(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	if (n == 0 || n > 3)
		return ERR_FORMAT;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ERR_FORMAT;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 255)
		return ERR_FORMAT;
	*out = v;
	return 0;
}

int router_info_check_netid(const struct router_info *ri, unsigned netid)
{
	const char *v = router_info_option(ri, "netId");
	unsigned got;

	if (!v || u8_parse(v, strlen(v), &got) != 0 || got != netid)
		return ERR_NETWORK;
	return 0;
}

int router_info_check_published(const struct router_info *ri, uint64_t now_ms)
{
	if (ri->published > now_ms &&
	    ri->published - now_ms > ROUTER_INFO_MAX_FUTURE_MS)
		return ERR_EXPIRED;
	return 0;
}

int router_info_version_parse(const char *s, uint32_t *out)
{
	unsigned part[3];
	const char *p = s;

	for (int i = 0; i < 3; i++) {
		size_t n = strcspn(p, ".");
		if (u8_parse(p, n, &part[i]) != 0)
			return ERR_FORMAT;
		p += n;
		if (i < 2 && *p++ != '.')
			return ERR_FORMAT;
	}
	if (*p != '\0')
		return ERR_FORMAT;
	*out = ROUTER_VERSION(part[0], part[1], part[2]);
	return 0;
}

int router_info_file_name(const uint8_t hash[SHA256_BYTES], char *out,
			  size_t outlen)
{
	char b64[B64_ENC_LEN(SHA256_BYTES)];

	if (outlen < ROUTER_INFO_FILE_NAME_BYTES)
		return ERR_TOO_BIG;
	(void)b64_encode(b64, sizeof(b64), hash, SHA256_BYTES);
	snprintf(out, outlen, "routerInfo-%s.dat", b64);
	return 0;
}

int router_info_file_read(const char *path, struct router_info **out)
{
	uint8_t *buf;
	size_t len;
	int ret;

	if ((ret = fsutil_read_file(path, ROUTER_INFO_MAX_BYTES, &buf,
				    &len)) != 0)
		return ret;
	ret = router_info_decode(buf, len, out);
	xfree_wipe(buf, len);
	return ret;
}

int router_info_file_write(const struct router_info *ri, const char *path)
{
	if (!ri->raw)
		return ERR_BAD_STATE;
	return fsutil_write_atomic(path, ri->raw, ri->raw_len,
				   ROUTER_INFO_FILE_MODE, true);
}
