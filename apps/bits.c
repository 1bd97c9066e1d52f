/*
 * bits: the content command line (docs/content-format.md §8).
 *
 *   bits publish FILE [options]   seal FILE into a content directory and
 *                                 sign its hash card
 *   bits verify DIR               check a content directory without the key
 *   bits cat CONTENT --key K      decrypt to stdout, checking each chunk
 *   bits get HASH --key K         fetch through the local bitsd's swarm
 *                                 (apps/bits_get.c)
 *   bits buy HASH --agent DEST    buy the licence and its key through the
 *                                 local bitsd's market (apps/bits_buy.c)
 *   bits resale list|cancel|payout HASH  resell a licence held there
 *
 * CONTENT and DIR are a content directory, or a content hash looked up in
 * the store under --datadir.  Exit status: 0 ok, 1 rejected or failed,
 * 2 usage.
 */
#include "config.h"
#include "apps/bits_buy.h"
#include "apps/bits_get.h"
#include "apps/content/card.h"
#include "apps/content/cdir.h"
#include "apps/content/fsio.h"
#include "apps/content/publish.h"
#include "apps/content/store.h"
#include "apps/content/text.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/ed25519.h"
#include "crypto/init.h"
#include "crypto/rand.h"
#include "crypto/secmem.h"
#include "router/b33.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BITS_EXIT_FAIL 1
#define BITS_EXIT_USAGE 2
#define BITS_INDEX_FILE_MAX_BYTES (1u << 20)

static const char usage_text[] =
	"usage: bits publish FILE [--title T] [--description D] [--tag T]...\n"
	"           [--price AMOUNT --currency C [--decimals N]] [--mime TYPE]\n"
	"           [--index FILE] [--preview IMAGE | --excerpt TEXT]\n"
	"           [--did DID] [--licence 0xADDR [--licence-index N]]\n"
	"           [--key-agent DEST] [--seed DEST]... [--identity FILE]\n"
	"           [--out DIR | --datadir DIR] [--key-out FILE] [--threads N]\n"
	"       bits verify DIR|HASH [--threads N] [--json] [--datadir DIR]\n"
	"       bits cat DIR|HASH --key K [--from OFFSET] [--length N]\n"
	"           [--at MS] [--datadir DIR]\n"
	"       bits get HASH --key K [--port P] [--peer DEST]...\n"
	"           [--output FILE] [--quiet]\n"
	"       bits buy HASH --agent DEST [--index N] --api-port P\n"
	"           [--datadir DIR] [--quiet]\n"
	"       bits resale list HASH --price N | cancel HASH |\n"
	"           payout HASH [--to 0xADDRESS]  --api-port P [--datadir DIR]\n";

static int usage(void)
{
	fputs(usage_text, stderr);
	return BITS_EXIT_USAGE;
}

static int fail(const char *what, const char *msg)
{
	fprintf(stderr, "bits: %s: %s\n", what, msg);
	return BITS_EXIT_FAIL;
}

static const char *default_datadir(char *buf, size_t n)
{
	const char *d = getenv("BITS_DATADIR"), *home = getenv("HOME");

	if (d && *d)
		return d;
	snprintf(buf, n, "%s/.bits", home && *home ? home : ".");
	return buf;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	return s && dec_decode(out, UINT64_MAX, s, strlen(s)) == 0;
}

/* A destination hash: "<52 base32>.b32.i2p" or 64 hex digits. */
static bool parse_dest(const char *s, uint8_t out[32])
{
	return b32_hash_parse(s, strlen(s), out);
}

static const char *ext_of(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	return dot && (!slash || dot > slash) ? dot + 1 : "";
}

static const char *mime_guess(const char *path)
{
	static const char *const map[][2] = {
		{ "mp4", "video/mp4" }, { "m4v", "video/mp4" },
		{ "webm", "video/webm" }, { "mkv", "video/x-matroska" },
		{ "mp3", "audio/mpeg" }, { "ogg", "audio/ogg" },
		{ "opus", "audio/opus" }, { "flac", "audio/flac" },
		{ "m4a", "audio/mp4" }, { "wav", "audio/wav" },
		{ "png", "image/png" }, { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" }, { "webp", "image/webp" },
		{ "gif", "image/gif" }, { "avif", "image/avif" },
		{ "pdf", "application/pdf" }, { "epub", "application/epub+zip" },
		{ "txt", "text/plain" }, { "md", "text/markdown" },
		{ "html", "text/html" }, { "zip", "application/zip" },
	};
	const char *e = ext_of(path);

	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (strcasecmp(e, map[i][0]) == 0)
			return map[i][1];
	return "application/octet-stream";
}

/* Resolve DIR|HASH to a content directory path (new string). */
static char *content_path(const char *arg, const char *datadir)
{
	struct stat st;
	char buf[4096], *c, *o;

	if (stat(arg, &st) == 0 || strlen(arg) != 64 ||
	    strspn(arg, "0123456789abcdef") != 64)
		return xstrdup(arg);
	c = fsutil_path_join(datadir ? datadir : default_datadir(buf, sizeof(buf)),
			    "content/objects");
	o = fsutil_path_join(c, arg);
	free(c);
	return o;
}

/* The creator key: 32 raw bytes in path, created when missing. */
static int load_identity(const char *path, struct ed25519_seed **out)
{
	struct ed25519_seed *sk = secmem_alloc(sizeof(*sk));
	uint8_t *buf = NULL;
	size_t len = 0;
	int r, fd;

	r = fsutil_read_file(path, 64, &buf, &len);
	if (r == ERR_NOT_FOUND) {
		rand_bytes(sk->b, sizeof(sk->b));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || fsutil_write_all(fd, sk->b, 32) != 0 ||
		    fsync(fd) != 0)
			r = ERR_IO;
		else
			r = 0;
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "bits: created a new creator key in %s\n", path);
	} else if (r == 0 && len != 32) {
		r = ERR_FORMAT;
	} else if (r == 0) {
		memcpy(sk->b, buf, 32);
	}
	xfree_wipe(buf, len);
	if (r != 0) {
		secmem_free(sk);
		return r;
	}
	*out = sk;
	return 0;
}

/* "TIME_MS OFFSET" lines (e.g. from ffprobe's keyframes) into an index. */
static int load_index(const char *path, struct content_publish_opts *o,
		      struct content_index_entry **out)
{
	uint8_t *buf = NULL;
	size_t len = 0, n = 0;
	struct content_index_entry *e;
	char *line, *save = NULL;
	int r;

	if ((r = fsutil_read_file(path, BITS_INDEX_FILE_MAX_BYTES, &buf,
				      &len)) != 0)
		return r;
	e = xcalloc(CONTENT_INDEX_MAX_ENTRIES, sizeof(*e));
	buf = xrealloc(buf, len + 1);
	buf[len] = '\0';
	for (line = strtok_r((char *)buf, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long t, off;
		if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0')
			continue;
		if (sscanf(line, "%llu %llu", &t, &off) != 2)
			r = ERR_FORMAT;
		else if (n == CONTENT_INDEX_MAX_ENTRIES)
			r = ERR_TOO_BIG;
		else
			e[n++] = (struct content_index_entry){ t, off };
	}
	free(buf);
	if (r == 0 && n == 0)
		r = ERR_FORMAT;
	if (r != 0) {
		free(e);
		return r;
	}
	o->timescale = 1000;
	o->duration = e[n - 1].time;
	o->index = e;
	o->index_count = (uint32_t)n;
	*out = e;
	return 0;
}

struct publish_args {
	const char *file, *title, *description, *price, *currency, *mime;
	const char *index, *preview, *excerpt, *did, *licence, *key_agent;
	const char *identity, *out, *datadir, *key_out;
	const char *tags[CARD_TAGS_MAX + 1];
	const char *seeds[CARD_SEEDS_MAX + 1];
	unsigned ntags, nseeds, threads, decimals, chunk_log2;
	uint64_t licence_index;
};

static int set_text(char *dst, size_t cap, const char *src, const char *what)
{
	if (strlen(src) >= cap) {
		fprintf(stderr, "bits publish: %s is over its limit of %zu bytes\n",
			what, cap - 1);
		return ERR_TOO_BIG;
	}
	snprintf(dst, cap, "%s", src);
	return 0;
}

static int card_preview(struct content_card *c, const struct publish_args *a)
{
	uint8_t *img = NULL;
	size_t len = 0;
	int r;

	if (a->excerpt) {
		if (strlen(a->excerpt) > CARD_EXCERPT_MAX_BYTES)
			return ERR_TOO_BIG;
		c->preview_kind = CONTENT_PREVIEW_TEXT;
		c->preview_len = (uint16_t)strlen(a->excerpt);
		memcpy(c->preview, a->excerpt, c->preview_len);
		return 0;
	}
	if (!a->preview)
		return 0;
	if ((r = fsutil_read_file(a->preview, CARD_IMAGE_MAX_BYTES, &img,
				      &len)) != 0)
		return r;
	c->preview_kind = CONTENT_PREVIEW_IMAGE;
	snprintf(c->preview_mime, sizeof(c->preview_mime), "%s",
		 mime_guess(a->preview));
	c->preview_len = (uint16_t)len;
	memcpy(c->preview, img, len);
	free(img);
	return strncmp(c->preview_mime, "image/", 6) == 0 ? 0 : ERR_FORMAT;
}

/* Fill the card from the arguments (everything but hash and signature),
 * and check it before the file is published. */
static int card_fill(struct content_card *c, const struct publish_args *a,
		     const char *mime)
{
	const char *base = strrchr(a->file, '/');
	struct stat st;
	size_t got;
	int r;

	base = base ? base + 1 : a->file;
	if (stat(a->file, &st) != 0)
		return errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
	c->size = (uint64_t)st.st_size;
	if ((r = set_text(c->mime, sizeof(c->mime), mime, "--mime")))
		return r;
	if ((r = set_text(c->title, sizeof(c->title), a->title ? a->title : base,
			  "--title")) ||
	    (r = set_text(c->description, sizeof(c->description),
			  a->description ? a->description : "", "--description")) ||
	    (r = set_text(c->did, sizeof(c->did), a->did ? a->did : "", "--did")))
		return r;
	c->tag_count = (uint8_t)a->ntags;
	for (unsigned i = 0; i < a->ntags; i++)
		if ((r = set_text(c->tags[i], sizeof(c->tags[i]), a->tags[i],
				  "--tag")))
			return r;
	if (a->price) {
		if (!a->currency)
			return ERR_ARG;
		if ((r = content_amount_parse(a->price, a->decimals, c->price)))
			return r;
		c->decimals = (uint8_t)a->decimals;
		if ((r = set_text(c->currency, sizeof(c->currency), a->currency,
				  "--currency")))
			return r;
	}
	if (a->licence) {
		if (strlen(a->licence) != 42 || strncmp(a->licence, "0x", 2) ||
		    hex_decode(c->licence_contract, 20, &got, a->licence + 2, 40) ||
		    got != 20)
			return ERR_FORMAT;
		c->licence_index = a->licence_index;
	}
	if (a->key_agent && !parse_dest(a->key_agent, c->key_agent))
		return ERR_FORMAT;
	c->seed_count = (uint8_t)a->nseeds;
	for (unsigned i = 0; i < a->nseeds; i++)
		if (!parse_dest(a->seeds[i], c->seeds[i]))
			return ERR_FORMAT;
	if ((r = card_preview(c, a)) != 0)
		return r;
	c->created = time_now_s();
	c->version = 1;
	content_card_normalize(c);
	return content_card_validate(c);
}

static int write_key(const struct publish_args *a, const struct content_key *k)
{
	char hex[HEX_ENC_LEN(32) + 1];
	int fd, r;

	hex_encode(hex, sizeof(hex), k->b, 32);
	if (!a->key_out) {
		printf("key        %s\n", hex);
		memwipe(hex, sizeof(hex));
		return 0;
	}
	hex[64] = '\n';
	fd = open(a->key_out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	r = fd < 0 ? ERR_IO : fsutil_write_all(fd, hex, 65);
	if (fd >= 0 && (fsync(fd) != 0 || close(fd) != 0))
		r = ERR_IO;
	memwipe(hex, sizeof(hex));
	if (r == 0)
		printf("key        written to %s\n", a->key_out);
	return r;
}

/* Publish into the store or into --out; fills *pub and *dir_out. */
static int publish_file(const struct publish_args *a, int fd,
			const struct content_publish_opts *o,
			struct content_published *pub, struct content_store **st,
			const char *datadir)
{
	int r;

	if (a->out) {
		if ((r = content_fs_mkdirs(a->out, 0755)) != 0)
			return r;
		return content_publish_fd(fd, a->out, o, pub);
	}
	if ((r = content_fs_mkdirs(datadir, 0700)) != 0 ||
	    (r = content_store_open(datadir, st)) != 0)
		return r;
	return content_store_publish(*st, fd, o, true, pub);
}

static int attach_card(struct content_card *card,
		       const struct content_published *pub,
		       const struct ed25519_seed *sk, struct content_store *st)
{
	struct content_signer s;
	struct bbuf b = BBUF_INIT;
	uint8_t id[32];
	char hex[HEX_ENC_LEN(32)];
	int r;

	memcpy(card->content_hash, pub->content_hash, 32);
	memcpy(card->key_commitment, pub->key_commitment, 32);
	card->size = pub->manifest.size;
	snprintf(card->mime, sizeof(card->mime), "%s", pub->manifest.mime);
	content_signer_from_seed(&s, sk);
	if ((r = content_card_sign(card, &s)) != 0)
		return r;
	if (st)
		r = content_store_card_put(st, pub->content_hash, card);
	else if ((r = content_card_encode(card, &b)) == 0)
		r = content_fs_write_atomic(pub->dir, "card", b.data, b.len, 0644);
	bbuf_free(&b);
	if (r == 0 && (r = content_card_id(card, id)) == 0) {
		hex_encode(hex, sizeof(hex), id, 32);
		printf("card       %s\n", hex);
	}
	return r;
}

static int do_publish(struct publish_args *a)
{
	struct content_publish_opts o = { .threads = a->threads,
					  .chunk_log2 = a->chunk_log2 };
	struct content_published pub = { 0 };
	struct content_index_entry *index = NULL;
	struct content_store *st = NULL;
	struct content_card *card = xzalloc(sizeof(*card));
	struct ed25519_seed *sk = NULL;
	char ddbuf[4096], idbuf[4096], hex[HEX_ENC_LEN(32)];
	const char *datadir = a->datadir ? a->datadir :
			      default_datadir(ddbuf, sizeof(ddbuf));
	const char *what = a->file;
	int fd = -1, r;

	o.mime = a->mime ? a->mime : mime_guess(a->file);
	if ((r = card_fill(card, a, o.mime)) != 0) {
		what = r == ERR_NOT_FOUND || r == ERR_IO ? a->file : "card fields";
		goto out;
	}
	if (a->index && (r = load_index(a->index, &o, &index)) != 0) {
		what = a->index;
		goto out;
	}
	if (!a->identity) {
		if ((r = content_fs_mkdirs(datadir, 0700)) != 0)
			goto out;
		snprintf(idbuf, sizeof(idbuf), "%s/creator.key", datadir);
	}
	if ((r = load_identity(a->identity ? a->identity : idbuf, &sk)) != 0) {
		what = a->identity ? a->identity : idbuf;
		goto out;
	}
	if ((fd = open(a->file, O_RDONLY | O_CLOEXEC)) < 0) {
		r = errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
		goto out;
	}
	if ((r = publish_file(a, fd, &o, &pub, &st, datadir)) != 0)
		goto out;
	hex_encode(hex, sizeof(hex), pub.content_hash, 32);
	printf("content    %s\n", hex);
	printf("dir        %s\n", pub.dir);
	hex_encode(hex, sizeof(hex), pub.key_commitment, 32);
	printf("commitment %s\n", hex);
	what = "card";
	if ((r = attach_card(card, &pub, sk, st)) != 0)
		goto out;
	what = "key";
	r = write_key(a, &pub.key);
out:
	if (r != 0)
		fprintf(stderr, "bits publish: %s: %s\n", what,
			r == ERR_IO ? strerror(errno) : err_str(r));
	if (fd >= 0)
		close(fd);
	content_published_clear(&pub);
	content_store_free(st);
	secmem_free(sk);
	free(index);
	free(card);
	return r ? BITS_EXIT_FAIL : 0;
}

static int do_verify(const char *arg, const char *datadir, unsigned threads,
		     bool json)
{
	struct content_card *card = xzalloc(sizeof(*card));
	struct content_dir *d = NULL;
	struct content_fault f = { 0 };
	char *path = content_path(arg, datadir), msg[256], hex[HEX_ENC_LEN(32)];
	int r;

	if ((r = content_dir_open(path, &d, &f)) == 0)
		r = content_dir_verify(d, threads, NULL, &f);
	if (r != 0) {
		fail(path, content_fault_str(&f, r, msg, sizeof(msg)));
		goto out;
	}
	hex_encode(hex, sizeof(hex), content_dir_hash(d), 32);
	printf("ok %s: %" PRIu64 " bytes, %u chunks, %s\n", hex,
	       content_dir_manifest(d)->size, content_dir_manifest(d)->chunk_count,
	       content_dir_manifest(d)->mime);
	if (content_dir_card(d, card) == 0) {
		char *js = json ? content_card_to_json(card) : NULL;
		printf("card: \"%s\" signed by %s\n", card->title,
		       card->did[0] ? card->did : "(no DID)");
		if (js)
			printf("%s\n", js);
		free(js);
	}
out:
	content_dir_free(d);
	free(path);
	free(card);
	return r ? BITS_EXIT_FAIL : 0;
}

struct cat_args {
	const char *content, *key, *datadir;
	uint64_t from, length, at_ms;
	bool have_at;
};

static int do_cat(struct cat_args *a)
{
	struct content_key k;
	struct content_card *card = xzalloc(sizeof(*card));
	struct content_dir *d = NULL;
	struct content_fault f = { 0 };
	char *path = content_path(a->content, a->datadir), msg[256];
	uint64_t from = a->from;
	size_t got;
	int r;

	r = hex_decode(k.b, 32, &got, a->key, strlen(a->key));
	memwipe((char *)a->key, strlen(a->key));	/* the argv copy */
	if (r != 0 || got != 32) {
		r = fail("--key", "want 64 hex digits");
		goto out;
	}
	if ((r = content_dir_open(path, &d, &f)) != 0) {
		r = fail(path, content_fault_str(&f, r, msg, sizeof(msg)));
		goto out;
	}
	/* With a card at hand, a wrong key is caught before any chunk. */
	if (content_dir_card(d, card) == 0 &&
	    !content_key_matches(&k, content_dir_hash(d), card->key_commitment)) {
		r = fail(path, "the key does not match the card's keyCommitment");
		goto out;
	}
	if (a->have_at &&
	    content_manifest_seek(content_dir_manifest(d), a->at_ms *
				  content_dir_manifest(d)->timescale / 1000,
				  &from) != 0) {
		r = fail(path, "--at: this content has no keyframe index");
		goto out;
	}
	r = content_dir_cat(d, &k, from, a->length, STDOUT_FILENO, &f);
	if (r == ERR_RANGE && f.part == CONTENT_FAULT_NONE) {
		snprintf(msg, sizeof(msg), "--from %" PRIu64 " is past the end "
			 "(%" PRIu64 " bytes)", from, content_dir_manifest(d)->size);
		r = fail(path, msg);
	} else if (r != 0) {
		r = fail(path, content_fault_str(&f, r, msg, sizeof(msg)));
	}
out:
	memwipe(&k, sizeof(k));
	content_dir_free(d);
	free(path);
	free(card);
	return r;
}

/* Hashing threads by default: the online CPUs, at most 4. */
static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 4 ? 4 : (unsigned)n;
}

enum {
	OPT_TITLE = 256, OPT_DESC, OPT_TAG, OPT_PRICE, OPT_CURRENCY,
	OPT_DECIMALS, OPT_MIME, OPT_INDEX, OPT_PREVIEW, OPT_EXCERPT, OPT_DID,
	OPT_LICENCE, OPT_LICENCE_INDEX, OPT_KEY_AGENT, OPT_SEED, OPT_IDENTITY,
	OPT_OUT, OPT_DATADIR, OPT_KEY_OUT, OPT_THREADS, OPT_CHUNK_LOG2,
	OPT_JSON, OPT_KEY, OPT_FROM, OPT_LENGTH, OPT_AT
};

static const struct option long_opts[] = {
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "description", required_argument, NULL, OPT_DESC },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "price", required_argument, NULL, OPT_PRICE },
	{ "currency", required_argument, NULL, OPT_CURRENCY },
	{ "decimals", required_argument, NULL, OPT_DECIMALS },
	{ "mime", required_argument, NULL, OPT_MIME },
	{ "index", required_argument, NULL, OPT_INDEX },
	{ "preview", required_argument, NULL, OPT_PREVIEW },
	{ "excerpt", required_argument, NULL, OPT_EXCERPT },
	{ "did", required_argument, NULL, OPT_DID },
	{ "licence", required_argument, NULL, OPT_LICENCE },
	{ "licence-index", required_argument, NULL, OPT_LICENCE_INDEX },
	{ "key-agent", required_argument, NULL, OPT_KEY_AGENT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "identity", required_argument, NULL, OPT_IDENTITY },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "datadir", required_argument, NULL, OPT_DATADIR },
	{ "key-out", required_argument, NULL, OPT_KEY_OUT },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "chunk-log2", required_argument, NULL, OPT_CHUNK_LOG2 },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ "at", required_argument, NULL, OPT_AT },
	{ NULL, 0, NULL, 0 }
};

/* Number options; false on a bad value. */
static bool opt_number(int c, const char *v, struct publish_args *p,
		       struct cat_args *ca)
{
	uint64_t n;

	if (!parse_u64(v, &n))
		return false;
	switch (c) {
	case OPT_DECIMALS:
		p->decimals = (unsigned)n;
		return n <= CARD_DECIMALS_MAX;
	case OPT_LICENCE_INDEX:
		p->licence_index = n;
		return true;
	case OPT_THREADS:
		p->threads = (unsigned)n;
		return n >= 1 && n <= 64;
	case OPT_CHUNK_LOG2:
		p->chunk_log2 = (unsigned)n;
		return n >= CONTENT_CHUNK_LOG2_MIN && n <= CONTENT_CHUNK_LOG2_MAX;
	case OPT_FROM:
		ca->from = n;
		return true;
	case OPT_LENGTH:
		ca->length = n;
		return true;
	case OPT_AT:
		ca->at_ms = n;
		ca->have_at = true;
		return n < UINT64_MAX / CONTENT_TIMESCALE_MAX;
	}
	return false;
}

/* Store one option; false on a bad value or an unknown option. */
static bool opt_set(int c, const char *v, struct publish_args *p,
		    struct cat_args *ca, bool *json)
{
	const char **strs[] = {
		[OPT_TITLE - OPT_TITLE] = &p->title,
		[OPT_DESC - OPT_TITLE] = &p->description,
		[OPT_PRICE - OPT_TITLE] = &p->price,
		[OPT_CURRENCY - OPT_TITLE] = &p->currency,
		[OPT_MIME - OPT_TITLE] = &p->mime,
		[OPT_INDEX - OPT_TITLE] = &p->index,
		[OPT_PREVIEW - OPT_TITLE] = &p->preview,
		[OPT_EXCERPT - OPT_TITLE] = &p->excerpt,
		[OPT_DID - OPT_TITLE] = &p->did,
		[OPT_LICENCE - OPT_TITLE] = &p->licence,
		[OPT_KEY_AGENT - OPT_TITLE] = &p->key_agent,
		[OPT_IDENTITY - OPT_TITLE] = &p->identity,
		[OPT_OUT - OPT_TITLE] = &p->out,
		[OPT_KEY_OUT - OPT_TITLE] = &p->key_out,
		[OPT_KEY - OPT_TITLE] = &ca->key,
	};

	if (c == OPT_TAG || c == OPT_SEED) {
		unsigned *n = c == OPT_TAG ? &p->ntags : &p->nseeds;
		const char **list = c == OPT_TAG ? p->tags : p->seeds;
		unsigned max = c == OPT_TAG ? CARD_TAGS_MAX : CARD_SEEDS_MAX;
		if (*n >= max)
			return false;
		list[(*n)++] = v;
		return true;
	}
	if (c == OPT_DATADIR) {
		p->datadir = ca->datadir = v;
		return true;
	}
	if (c == OPT_JSON) {
		*json = true;
		return true;
	}
	if (c >= OPT_TITLE && (size_t)(c - OPT_TITLE) < ARRAY_LEN(strs) &&
	    strs[c - OPT_TITLE]) {
		*strs[c - OPT_TITLE] = v;
		return true;
	}
	return opt_number(c, v, p, ca);
}

int main(int argc, char **argv)
{
	struct publish_args p = { .decimals = 18, .threads = default_threads() };
	struct cat_args ca = { .length = UINT64_MAX };
	const char *cmd;
	bool json = false;
	int c;

	if (argc >= 2 && strcmp(argv[1], "get") == 0)
		return bits_get_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "buy") == 0)
		return bits_buy_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "resale") == 0)
		return bits_resale_main(argc - 1, argv + 1);
	if (argc < 3)
		return usage();
	crypto_init();
	cmd = argv[1];
	argv++;
	argc--;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == '?' || !opt_set(c, optarg, &p, &ca, &json)) {
			if (c != '?')
				fprintf(stderr, "bits: bad value for --%s\n",
					long_opts[c - OPT_TITLE].name);
			return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	if (strcmp(cmd, "publish") == 0) {
		p.file = argv[optind];
		return do_publish(&p);
	}
	if (strcmp(cmd, "verify") == 0)
		return do_verify(argv[optind], p.datadir, p.threads, json);
	if (strcmp(cmd, "cat") == 0) {
		ca.content = argv[optind];
		if (!ca.key)
			return usage();
		return do_cat(&ca);
	}
	return usage();
}
