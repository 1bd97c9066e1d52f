/*
 * The key library (apps/market/library.h): one private file per licence.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/market/library.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"

struct market_library {
	char *dir;
	struct market_licence *l;
	size_t n;
};

/* What one file holds; the secrets only while it is being read or
 * written. */
struct lic_file {
	struct market_licence l;
	bool has_holder_key;
	struct secp_sk holder_key;
	uint8_t key[32];
};

static char *lic_path(const struct market_library *lib, const uint8_t h[32])
{
	char hex[65];

	if (hex_encode(hex, sizeof(hex), h, 32) != 0)
		return NULL;
	return fsutil_path_join(lib->dir, hex);
}

static bool take_hex(const char *v, size_t n, uint8_t *out, size_t len)
{
	size_t got = 0;

	return n == 2 * len && hex_decode(out, len, &got, v, n) == 0 &&
	       got == len;
}

static bool take_u64(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return true;
}

/* One line "name value" into f.  False for anything unknown or bad. */
static bool parse_line(const char *p, size_t n, struct lic_file *f,
		       unsigned *seen)
{
	const char *sp = memchr(p, ' ', n);
	const char *v;
	size_t nl, vn;

	if (!sp)
		return false;
	nl = (size_t)(sp - p);
	v = sp + 1;
	vn = n - nl - 1;
#define IS(s) (nl == sizeof(s) - 1 && memcmp(p, s, nl) == 0)
	if (IS("content")) {
		*seen |= 1;
		return take_hex(v, vn, f->l.content_hash, 32);
	}
	if (IS("index")) {
		*seen |= 2;
		return take_u64(v, vn, &f->l.index);
	}
	if (IS("token")) {
		f->l.has_token = true;
		return u256_parse(&f->l.token_id, v, vn) == 0;
	}
	if (IS("price"))
		return u256_parse(&f->l.price, v, vn) == 0;
	if (IS("fee"))
		return u256_parse(&f->l.relayer_fee, v, vn) == 0;
	if (IS("holder")) {
		*seen |= 4;
		return vn == 42 && v[0] == '0' && v[1] == 'x' &&
		       take_hex(v + 2, 40, f->l.holder, 20);
	}
	if (IS("agent"))
		return take_hex(v, vn, f->l.agent, 32);
	if (IS("bought"))
		return take_u64(v, vn, &f->l.bought_at);
	if (IS("holder-key")) {
		*seen |= 8;
		f->has_holder_key = true;
		return take_hex(v, vn, f->holder_key.b, SECP_SK_BYTES) &&
		       secp_sk_is_valid(&f->holder_key);
	}
	if (IS("key")) {
		f->l.has_key = true;
		return take_hex(v, vn, f->key, 32);
	}
	if (IS("sold"))
		return take_u64(v, vn, &f->l.sold_at) && f->l.sold_at != 0;
#undef IS
	return false;
}

/* Read the file at path into *f (wipe it after use). */
static int lic_read(const char *path, struct lic_file *f)
{
	uint8_t *buf = NULL;
	size_t len = 0, off = 0;
	unsigned seen = 0;
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = fsutil_read_file(path, MARKET_LIBRARY_FILE_MAX_BYTES, &buf,
				  &len)) != 0)
		return r;
	while (off < len && r == 0) {
		const uint8_t *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;

		if (n && !parse_line((const char *)buf + off, n, f, &seen))
			r = ERR_FORMAT;
		off += n + 1;
	}
	xfree_wipe(buf, len);
	if (r == 0 && seen != 15)
		r = ERR_FORMAT;
	if (r != 0)
		memwipe(f, sizeof(*f));
	return r;
}

#define LIC_TEXT_BYTES 768

static int lic_write(const char *path, const struct lic_file *f)
{
	char t[LIC_TEXT_BYTES], hex[65], hk[65], num[80];
	size_t n = 0;
	int r = ERR_INTERNAL;

#define ADD(...) do { \
		int w_ = snprintf(t + n, sizeof(t) - n, __VA_ARGS__); \
		if (w_ < 0 || (size_t)w_ >= sizeof(t) - n) \
			goto out; \
		n += (size_t)w_; \
	} while (0)
	if (hex_encode(hex, sizeof(hex), f->l.content_hash, 32) != 0)
		goto out;
	ADD("content %s\nindex %llu\n", hex, (unsigned long long)f->l.index);
	if (f->l.has_token)
		ADD("token %s\n", u256_format_dec(&f->l.token_id, num,
						  sizeof(num)));
	ADD("price %s\n", u256_format_dec(&f->l.price, num, sizeof(num)));
	ADD("fee %s\n", u256_format_dec(&f->l.relayer_fee, num, sizeof(num)));
	if (hex_encode(hex, sizeof(hex), f->l.holder, 20) != 0)
		goto out;
	ADD("holder 0x%s\n", hex);
	if (hex_encode(hex, sizeof(hex), f->l.agent, 32) != 0)
		goto out;
	ADD("agent %s\nbought %llu\n", hex,
	    (unsigned long long)f->l.bought_at);
	if (hex_encode(hk, sizeof(hk), f->holder_key.b, SECP_SK_BYTES) != 0)
		goto out;
	ADD("holder-key %s\n", hk);
	if (f->l.has_key) {
		if (hex_encode(hk, sizeof(hk), f->key, 32) != 0)
			goto out;
		ADD("key %s\n", hk);
	}
	if (f->l.sold_at)
		ADD("sold %llu\n", (unsigned long long)f->l.sold_at);
#undef ADD
	r = fsutil_write_atomic(path, t, n, 0600, true);
out:
	memwipe(t, sizeof(t));
	memwipe(hk, sizeof(hk));
	return r;
}

static void mem_set(struct market_library *lib, const struct market_licence *l)
{
	for (size_t i = 0; i < lib->n; i++)
		if (!memcmp(lib->l[i].content_hash, l->content_hash, 32)) {
			lib->l[i] = *l;
			return;
		}
	lib->l = xrealloc(lib->l, (lib->n + 1) * sizeof(*lib->l));
	lib->l[lib->n++] = *l;
}

int market_library_open(const char *datadir, struct market_library **out)
{
	struct market_library *lib = xzalloc(sizeof(*lib));
	struct dirent *de;
	DIR *d;
	int r;

	lib->dir = fsutil_path_join(datadir, MARKET_LIBRARY_DIR);
	if ((r = fsutil_dir_ensure_private(lib->dir)) != 0 ||
	    !(d = opendir(lib->dir))) {
		log_err(LD_APP, "market: %s: %s", lib->dir,
			r ? err_str(r) : strerror(errno));
		market_library_free(lib);
		return r ? r : ERR_IO;
	}
	while ((de = readdir(d)) && lib->n < MARKET_LIBRARY_MAX) {
		struct lic_file f;
		uint8_t h[32];
		char *path;

		if (!take_hex(de->d_name, strlen(de->d_name), h, 32))
			continue;
		path = fsutil_path_join(lib->dir, de->d_name);
		r = lic_read(path, &f);
		if (r == 0 && memcmp(f.l.content_hash, h, 32) != 0)
			r = ERR_FORMAT;
		if (r == 0)
			mem_set(lib, &f.l);
		else
			log_warn(LD_APP, "market: licence file %s left out: %s",
				 path, err_str(r));
		memwipe(&f, sizeof(f));
		free(path);
	}
	closedir(d);
	*out = lib;
	return 0;
}

void market_library_free(struct market_library *lib)
{
	if (!lib)
		return;
	free(lib->dir);
	free(lib->l);
	free(lib);
}

size_t market_library_count(const struct market_library *lib)
{
	return lib->n;
}

size_t market_library_held(const struct market_library *lib)
{
	size_t n = 0;

	for (size_t i = 0; i < lib->n; i++)
		n += lib->l[i].sold_at == 0;
	return n;
}

const struct market_licence *market_library_at(const struct market_library *lib,
					       size_t i)
{
	return i < lib->n ? &lib->l[i] : NULL;
}

const struct market_licence *market_library_find(
	const struct market_library *lib, const uint8_t content_hash[32])
{
	for (size_t i = 0; i < lib->n; i++)
		if (!memcmp(lib->l[i].content_hash, content_hash, 32))
			return &lib->l[i];
	return NULL;
}

bool market_library_has_room(const struct market_library *lib,
			     const uint8_t content_hash[32])
{
	return market_library_find(lib, content_hash) ||
	       lib->n < MARKET_LIBRARY_MAX;
}

int market_library_store(const struct market_library *lib,
			 const struct market_licence *l,
			 const struct secp_sk *holder, const uint8_t key[32],
			 struct market_licence *written)
{
	struct lic_file f, old;
	char *path;
	int r;

	if (!(path = lic_path(lib, l->content_hash)))
		return ERR_INTERNAL;
	memset(&f, 0, sizeof(f));
	f.l = *l;
	f.l.has_key = false;
	f.holder_key = *holder;
	f.has_holder_key = true;
	if (key) {
		memcpy(f.key, key, 32);
		f.l.has_key = true;
	} else if (lic_read(path, &old) == 0) {
		if (old.l.has_key) {
			memcpy(f.key, old.key, 32);
			f.l.has_key = true;
		}
		memwipe(&old, sizeof(old));
	}
	r = lic_write(path, &f);
	if (r == 0)
		*written = f.l;
	else
		log_err(LD_APP, "market: cannot write %s: %s", path,
			err_str(r));
	memwipe(&f, sizeof(f));
	free(path);
	return r;
}

void market_library_note(struct market_library *lib,
			 const struct market_licence *l)
{
	if (market_library_has_room(lib, l->content_hash))
		mem_set(lib, l);
}

int market_library_put(struct market_library *lib,
		       const struct market_licence *l,
		       const struct secp_sk *holder, const uint8_t key[32])
{
	struct market_licence w;
	int r;

	if (!market_library_has_room(lib, l->content_hash))
		return ERR_LIMIT;
	if ((r = market_library_store(lib, l, holder, key, &w)) == 0)
		market_library_note(lib, &w);
	return r;
}

/* The content's file, read (wipe f after use). */
static int lic_get(const struct market_library *lib, const uint8_t h[32],
		   struct lic_file *f)
{
	char *path;
	int r;

	if (!market_library_find(lib, h))
		return ERR_NOT_FOUND;
	if (!(path = lic_path(lib, h)))
		return ERR_INTERNAL;
	r = lic_read(path, f);
	free(path);
	return r;
}

int market_library_mark_sold(struct market_library *lib,
			     const uint8_t content_hash[32], uint64_t when)
{
	struct lic_file f;
	char *path;
	int r = lic_get(lib, content_hash, &f);

	if (r == 0 && f.l.sold_at == 0 && when != 0) {
		f.l.sold_at = when;
		if (!(path = lic_path(lib, content_hash)))
			r = ERR_INTERNAL;
		else if ((r = lic_write(path, &f)) != 0)
			log_err(LD_APP, "market: cannot write %s: %s", path,
				err_str(r));
		free(path);
	}
	if (r == 0)
		mem_set(lib, &f.l);
	memwipe(&f, sizeof(f));
	return r;
}

int market_library_holder_key(const struct market_library *lib,
			      const uint8_t content_hash[32],
			      struct secp_sk *out)
{
	struct lic_file f;
	int r = lic_get(lib, content_hash, &f);

	if (r == 0)
		*out = f.holder_key;
	memwipe(&f, sizeof(f));
	return r;
}

int market_library_content_key(const struct market_library *lib,
			       const uint8_t content_hash[32],
			       uint8_t key[32])
{
	struct lic_file f;
	int r = lic_get(lib, content_hash, &f);

	if (r == 0 && !f.l.has_key)
		r = ERR_NOT_FOUND;
	if (r == 0)
		memcpy(key, f.key, 32);
	memwipe(&f, sizeof(f));
	return r;
}

json_t *market_licence_json(const struct market_licence *l)
{
	char hex[65], holder[43], num[80];
	json_t *o = json_object();

	if (hex_encode(hex, sizeof(hex), l->content_hash, 32) == 0)
		json_object_set_new(o, "content_hash", json_string(hex));
	json_object_set_new(o, "index", json_integer((json_int_t)l->index));
	json_object_set_new(o, "token_id", l->has_token ?
			    json_string(u256_format_dec(&l->token_id, num,
							sizeof(num))) :
			    json_null());
	json_object_set_new(o, "price", json_string(
		u256_format_dec(&l->price, num, sizeof(num))));
	json_object_set_new(o, "relayer_fee", json_string(
		u256_format_dec(&l->relayer_fee, num, sizeof(num))));
	holder[0] = '0';
	holder[1] = 'x';
	if (hex_encode(holder + 2, sizeof(holder) - 2, l->holder, 20) == 0)
		json_object_set_new(o, "holder", json_string(holder));
	if (hex_encode(hex, sizeof(hex), l->agent, 32) == 0)
		json_object_set_new(o, "agent", json_string(hex));
	json_object_set_new(o, "bought_at",
			    json_integer((json_int_t)l->bought_at));
	json_object_set_new(o, "has_key", json_boolean(l->has_key));
	json_object_set_new(o, "held", json_boolean(l->sold_at == 0));
	json_object_set_new(o, "sold_at", l->sold_at ?
			    json_integer((json_int_t)l->sold_at) :
			    json_null());
	return o;
}

json_t *market_library_json(const struct market_library *lib)
{
	json_t *a = json_array(), *sold = json_array();

	for (size_t i = 0; i < lib->n; i++)
		json_array_append_new(lib->l[i].sold_at ? sold : a,
				      market_licence_json(&lib->l[i]));
	return json_pack("{soso}", "licences", a, "sold", sold);
}
