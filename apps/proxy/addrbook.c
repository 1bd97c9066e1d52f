/*
 * The address book (see addrbook.h): hosts.txt lines, the signed
 * registration commands of the "Addressbook Subscription Feed Commands"
 * spec, and a hash table from names to Destinations (SipHash with a
 * random key, since subscription feeds choose the names).
 */
#include "config.h"
#include "apps/proxy/addrbook.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"

struct ab_entry {
	struct ab_entry *next;
	char *name;
	uint8_t *raw;		/* the Destination's bytes */
	size_t len;
};

struct addrbook {
	uint8_t key[SIPHASH_KEY_BYTES];
	struct ab_entry **b;
	size_t nb, n;
};

bool addrbook_name_ok(const char *name, size_t n)
{
	if (n < 5 || n > ADDRBOOK_NAME_MAX_BYTES ||
	    memcmp(name + n - 4, ".i2p", 4) != 0)
		return false;
	if (n >= 8 && memcmp(name + n - 8, ".b32.i2p", 8) == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
		/* no empty labels, no label starting with '-' */
		if ((c == '.' || c == '-') && (i == 0 || name[i - 1] == '.'))
			return false;
	}
	return true;
}

/* ---- lines ---- */

static bool kv_eq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

const char *hosts_line_opt(const struct hosts_line *l, const char *key,
			   size_t *n)
{
	for (size_t i = 0; i < l->nopt; i++)
		if (kv_eq(l->opt[i].key, l->opt[i].key_len, key)) {
			*n = l->opt[i].value_len;
			return l->opt[i].value;
		}
	return NULL;
}

/* "k=v#k=v..." into l->opt. */
static int parse_opts(const char *p, const char *e, struct hosts_line *l)
{
	while (p < e) {
		const char *hash = memchr(p, '#', (size_t)(e - p));
		const char *end = hash ? hash : e;
		const char *eq = memchr(p, '=', (size_t)(end - p));
		struct hosts_kv *kv;
		size_t dummy;
		char k[64];

		if (!eq || eq == p)
			return ERR_FORMAT;
		if (l->nopt == ADDRBOOK_OPTS_MAX)
			return ERR_TOO_BIG;
		kv = &l->opt[l->nopt];
		kv->key = p;
		kv->key_len = (size_t)(eq - p);
		kv->value = eq + 1;
		kv->value_len = (size_t)(end - eq - 1);
		/* "Duplicate keys are not allowed." */
		if (kv->key_len >= sizeof(k))
			return ERR_FORMAT;
		memcpy(k, kv->key, kv->key_len);
		k[kv->key_len] = 0;
		if (hosts_line_opt(l, k, &dummy))
			return ERR_FORMAT;
		l->nopt++;
		p = end + 1;
		if (!hash)
			break;
	}
	return 0;
}

int hosts_line_parse(const char *line, size_t len, struct hosts_line *out)
{
	struct hosts_line l;
	const char *e, *eq, *bang;
	int err;

	if (len > ADDRBOOK_LINE_MAX_BYTES)
		return ERR_TOO_BIG;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	memset(&l, 0, sizeof(l));
	e = line + len;
	if (len == 0)
		return ERR_NOT_FOUND;
	if (line[0] == '#') {
		if (len < 2 || line[1] != '!')
			return ERR_NOT_FOUND;
		l.has_opts = true;
		if ((err = parse_opts(line + 2, e, &l)) != 0)
			return err;
		*out = l;
		return 0;
	}
	eq = memchr(line, '=', len);
	if (!eq)
		return ERR_FORMAT;
	bang = memchr(eq, '#', (size_t)(e - eq));
	l.name = line;
	l.name_len = (size_t)(eq - line);
	l.dest = eq + 1;
	l.dest_len = (size_t)((bang ? bang : e) - l.dest);
	if (!addrbook_name_ok(l.name, l.name_len) || l.dest_len == 0)
		return ERR_FORMAT;
	if (bang) {
		if (bang + 1 >= e || bang[1] != '!')
			return ERR_FORMAT;
		l.has_opts = true;
		if ((err = parse_opts(bang + 2, e, &l)) != 0)
			return err;
	}
	*out = l;
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct hosts_kv *x = *(const struct hosts_kv *const *)a;
	const struct hosts_kv *y = *(const struct hosts_kv *const *)b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

void hosts_line_signed_bytes(const struct hosts_line *l, bool inner,
			     struct bbuf *out)
{
	const struct hosts_kv *kv[ADDRBOOK_OPTS_MAX];
	size_t n = 0;

	/* "Remove the "sig" key; if verifying with oldsig, also remove the
	 * "oldsig" key" */
	for (size_t i = 0; i < l->nopt; i++) {
		const struct hosts_kv *o = &l->opt[i];

		if (kv_eq(o->key, o->key_len, "sig") ||
		    (inner && kv_eq(o->key, o->key_len, "oldsig")))
			continue;
		kv[n++] = o;
	}
	/* "For Add or Change commands only, output example.i2p=b64dest" */
	if (l->name) {
		bbuf_put(out, l->name, l->name_len);
		bbuf_put(out, "=", 1);
		bbuf_put(out, l->dest, l->dest_len);
	}
	if (n == 0)
		return;
	/* "If any keys remain, output "#!"; sort the options by UTF-8 key" */
	qsort(kv, n, sizeof(kv[0]), kv_cmp);
	bbuf_put(out, "#!", 2);
	for (size_t i = 0; i < n; i++) {
		if (i)
			bbuf_put(out, "#", 1);
		bbuf_put(out, kv[i]->key, kv[i]->key_len);
		bbuf_put(out, "=", 1);
		bbuf_put(out, kv[i]->value, kv[i]->value_len);
	}
}

/* A base64 Destination (untrusted) into out. */
static int dest_decode(const char *s, size_t n, struct keys_and_cert *out)
{
	uint8_t raw[KAC_MAX_BYTES];
	struct breader r;
	size_t len;

	if (n > B64_ENC_LEN(KAC_MAX_BYTES) ||
	    b64_decode(raw, sizeof(raw), &len, s, n) != 0)
		return ERR_FORMAT;
	br_init(&r, raw, len);
	if (keys_and_cert_decode(&r, out) != 0 || !br_done(&r))
		return ERR_FORMAT;
	return 0;
}

static int verify_one(const struct hosts_line *l, bool inner,
		      const char *dest, size_t dest_len, const char *sig,
		      size_t sig_len)
{
	struct keys_and_cert *k = xmalloc(sizeof(*k));
	uint8_t s[512];
	struct bbuf msg = BBUF_INIT;
	size_t sl;
	int e;

	if ((e = dest_decode(dest, dest_len, k)) != 0)
		goto out;
	if (sig_len > B64_ENC_LEN(sizeof(s)) ||
	    b64_decode(s, sizeof(s), &sl, sig, sig_len) != 0) {
		e = ERR_FORMAT;
		goto out;
	}
	hosts_line_signed_bytes(l, inner, &msg);
	e = keys_and_cert_verify(k, msg.data, msg.len, s, sl);
	if (e == ERR_FORMAT)
		e = ERR_BAD_SIG;	/* a signature of the wrong length */
out:
	bbuf_free(&msg);
	free(k);
	return e;
}

int hosts_line_verify(const struct hosts_line *l)
{
	const char *sig, *dest = l->dest, *old, *oldsig;
	size_t sig_n, dest_n = l->dest_len, old_n, oldsig_n;
	int e;

	if (!(sig = hosts_line_opt(l, "sig", &sig_n)))
		return ERR_NOT_FOUND;
	if (!dest && !(dest = hosts_line_opt(l, "dest", &dest_n)))
		return ERR_FORMAT;
	/* "The second signature is the "inner" signature and is signed and
	 * verified first" */
	if ((oldsig = hosts_line_opt(l, "oldsig", &oldsig_n))) {
		if (!(old = hosts_line_opt(l, "olddest", &old_n)))
			return ERR_FORMAT;
		if ((e = verify_one(l, true, old, old_n, oldsig,
				    oldsig_n)) != 0)
			return e;
	}
	return verify_one(l, false, dest, dest_n, sig, sig_n);
}

/* ---- the table ---- */

struct addrbook *addrbook_new(void)
{
	struct addrbook *ab = xzalloc(sizeof(*ab));

	rand_bytes(ab->key, sizeof(ab->key));
	ab->nb = 64;
	ab->b = xcalloc(ab->nb, sizeof(*ab->b));
	return ab;
}

static void entry_free(struct ab_entry *e)
{
	free(e->name);
	free(e->raw);
	free(e);
}

void addrbook_free(struct addrbook *ab)
{
	if (!ab)
		return;
	for (size_t i = 0; i < ab->nb; i++)
		while (ab->b[i]) {
			struct ab_entry *e = ab->b[i];

			ab->b[i] = e->next;
			entry_free(e);
		}
	free(ab->b);
	free(ab);
}

static size_t bucket(const struct addrbook *ab, const char *name, size_t nb)
{
	return (size_t)(siphash24_u64(ab->key, name, strlen(name)) % nb);
}

static struct ab_entry **find(const struct addrbook *ab, const char *name)
{
	struct ab_entry **pp = &ab->b[bucket(ab, name, ab->nb)];

	while (*pp && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	return pp;
}

static void grow(struct addrbook *ab)
{
	size_t nb = ab->nb * 2;
	struct ab_entry **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < ab->nb; i++)
		while (ab->b[i]) {
			struct ab_entry *e = ab->b[i];
			size_t j = bucket(ab, e->name, nb);

			ab->b[i] = e->next;
			e->next = b[j];
			b[j] = e;
		}
	free(ab->b);
	ab->b = b;
	ab->nb = nb;
}

int addrbook_add(struct addrbook *ab, const char *name,
		 const struct keys_and_cert *dest, bool replace)
{
	struct ab_entry **pp, *e;

	if (!addrbook_name_ok(name, strlen(name)))
		return ERR_FORMAT;
	pp = find(ab, name);
	if ((e = *pp)) {
		if (e->len == dest->len && memcmp(e->raw, dest->raw,
						   dest->len) == 0)
			return 0;
		if (!replace)
			return ERR_EXISTS;
		free(e->raw);
		e->raw = xmemdup(dest->raw, dest->len);
		e->len = dest->len;
		return 0;
	}
	if (ab->n >= ADDRBOOK_MAX_ENTRIES)
		return ERR_LIMIT;
	e = xzalloc(sizeof(*e));
	e->name = xstrdup(name);
	e->raw = xmemdup(dest->raw, dest->len);
	e->len = dest->len;
	e->next = *pp;
	*pp = e;
	if (++ab->n > ab->nb * 2)
		grow(ab);
	return 0;
}

static void drop(struct addrbook *ab, const char *name)
{
	struct ab_entry **pp = find(ab, name), *e = *pp;

	if (!e)
		return;
	*pp = e->next;
	entry_free(e);
	ab->n--;
}

int addrbook_lookup(const struct addrbook *ab, const char *name,
		    struct keys_and_cert *out)
{
	struct ab_entry *e = *find(ab, name);
	struct breader r;

	if (!e)
		return ERR_NOT_FOUND;
	br_init(&r, e->raw, e->len);
	return keys_and_cert_decode(&r, out) == 0 ? 0 : ERR_INTERNAL;
}

size_t addrbook_count(const struct addrbook *ab)
{
	return ab->n;
}

/* Copy n bytes of s as a C string into buf (ADDRBOOK_NAME_MAX_BYTES+1). */
static bool name_copy(char *buf, const char *s, size_t n)
{
	if (!addrbook_name_ok(s, n))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	return true;
}

/* A verified remove / removeall command. */
static void apply_remove(struct addrbook *ab, const struct hosts_line *l,
			 bool all, struct addrbook_merge_stats *st)
{
	char name[ADDRBOOK_NAME_MAX_BYTES + 1];
	struct keys_and_cert *cur = xmalloc(sizeof(*cur)), *d;
	const char *p;
	size_t n;

	d = xmalloc(sizeof(*d));
	p = hosts_line_opt(l, "dest", &n);
	if (!p || dest_decode(p, n, d) != 0)
		goto out;
	if (!all) {
		p = hosts_line_opt(l, "name", &n);
		if (p && name_copy(name, p, n) &&
		    addrbook_lookup(ab, name, cur) == 0 &&
		    memcmp(cur->hash, d->hash, 32) == 0) {
			drop(ab, name);
			st->removed++;
		}
		goto out;
	}
	/* "all with this dest are removed" */
	for (size_t i = 0; i < ab->nb; i++)
		for (struct ab_entry **pp = &ab->b[i]; *pp;) {
			struct ab_entry *e = *pp;

			if (e->len == d->len &&
			    memcmp(e->raw, d->raw, d->len) == 0) {
				*pp = e->next;
				entry_free(e);
				ab->n--;
				st->removed++;
			} else {
				pp = &e->next;
			}
		}
out:
	free(cur);
	free(d);
}

static void merge_line(struct addrbook *ab, const char *s, size_t n,
		       struct addrbook_merge_stats *st)
{
	char name[ADDRBOOK_NAME_MAX_BYTES + 1];
	struct keys_and_cert *d;
	struct hosts_line l;
	const char *act = NULL;
	size_t an = 0;
	int e;

	if ((e = hosts_line_parse(s, n, &l)) == ERR_NOT_FOUND)
		return;
	if (e != 0) {
		st->bad++;
		return;
	}
	if (l.has_opts) {
		if (hosts_line_verify(&l) != 0) {
			st->bad_sig++;
			return;
		}
		act = hosts_line_opt(&l, "action", &an);
	}
	if (!l.name) {
		if (act && kv_eq(act, an, "remove"))
			apply_remove(ab, &l, false, st);
		else if (act && kv_eq(act, an, "removeall"))
			apply_remove(ab, &l, true, st);
		else
			st->ignored++;
		return;
	}
	/* Plain, add, and the commands that add a name or alias; a
	 * verified changedest replaces the old Destination. */
	if (act && !kv_eq(act, an, "changedest") &&
	    !kv_eq(act, an, "addname") && !kv_eq(act, an, "addsubdomain") &&
	    !kv_eq(act, an, "changename") && !kv_eq(act, an, "adddest")) {
		st->ignored++;
		return;
	}
	d = xmalloc(sizeof(*d));
	memcpy(name, l.name, l.name_len);
	name[l.name_len] = 0;
	if (dest_decode(l.dest, l.dest_len, d) != 0) {
		st->bad++;
	} else {
		bool change = act && kv_eq(act, an, "changedest");
		bool had = *find(ab, name) != NULL;

		e = addrbook_add(ab, name, d, change);
		if (e == 0 && had && change)
			st->replaced++;
		else if (e == 0 && !had)
			st->added++;
		else if (e == 0 || e == ERR_EXISTS)
			st->known++;
		else
			st->bad++;
	}
	free(d);
}

void addrbook_merge(struct addrbook *ab, const char *text, size_t len,
		    struct addrbook_merge_stats *st)
{
	const char *p = text, *e = text + len;

	memset(st, 0, sizeof(*st));
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *end = nl ? nl : e;

		merge_line(ab, p, (size_t)(end - p), st);
		p = end + 1;
	}
}

int addrbook_load_file(struct addrbook *ab, const char *path,
		       struct addrbook_merge_stats *st)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	int fd, e = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ERR_IO;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return ERR_IO;
	}
	if (sb.st_size > ADDRBOOK_FILE_MAX_BYTES) {
		close(fd);
		return ERR_TOO_BIG;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			e = r < 0 ? ERR_IO : 0;
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	if (e == 0)
		addrbook_merge(ab, buf, got, st);
	free(buf);
	return e;
}
