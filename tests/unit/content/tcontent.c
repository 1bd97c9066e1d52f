/* Helpers shared by the apps/content unit tests (tcontent.h). */
#include "config.h"
#include "tests/unit/content/tcontent.h"
#include "apps/content/fsio.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tc_fill(uint8_t *buf, size_t n, uint64_t off, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t x = (off + i) * 0x9e3779b97f4a7c15ull ^ seed;
		buf[i] = (uint8_t)(x >> 29 ^ x >> 47);
	}
}

void tc_write_file(struct tctx *t, const char *path, uint64_t n,
		   uint32_t seed)
{
	uint8_t *buf = xmalloc(1 << 20);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	T_TRUE(t, fd >= 0);
	for (uint64_t o = 0; fd >= 0 && o < n; o += 1 << 20) {
		size_t k = n - o < (1 << 20) ? (size_t)(n - o) : 1 << 20;
		tc_fill(buf, k, o, seed);
		T_OK(t, fsutil_write_all(fd, buf, k));
	}
	if (fd >= 0)
		close(fd);
	free(buf);
}

int tc_source(struct tctx *t, const char *dir, uint64_t n, uint32_t seed)
{
	char name[64], *src;
	int fd;

	snprintf(name, sizeof(name), "src-%u", seed);
	src = fsutil_path_join(dir, name);
	tc_write_file(t, src, n, seed);
	fd = open(src, O_RDONLY);
	unlink(src);
	free(src);
	T_TRUE(t, fd >= 0);
	return fd;
}

int tc_publish(struct tctx *t, const char *dir, uint64_t n, uint32_t seed,
	       unsigned log2, unsigned threads, struct content_published *out)
{
	struct content_publish_opts o = { .mime = "application/octet-stream",
					  .chunk_log2 = log2,
					  .threads = threads };
	int fd = tc_source(t, dir, n, seed), r;

	r = fd < 0 ? ERR_IO : content_publish_fd(fd, dir, &o, out);
	if (fd >= 0)
		close(fd);
	return r;
}

uint8_t *tc_read(const char *path, size_t *len)
{
	uint8_t *buf;

	if (fsutil_read_file(path, (size_t)1 << 31, &buf, len) != 0)
		return NULL;
	return buf;
}

void tc_flip(struct tctx *t, const char *path, uint64_t off, uint8_t mask)
{
	int fd = open(path, O_RDWR);
	uint8_t b = 0;

	T_TRUE(t, fd >= 0);
	if (fd < 0)
		return;
	T_OK(t, content_fs_pread_all(fd, &b, 1, off));
	b ^= mask;
	T_OK(t, content_fs_pwrite_all(fd, &b, 1, off));
	close(fd);
}

void tc_signer(struct content_signer *s, struct ed25519_seed *sk, uint8_t b)
{
	memset(sk->b, b, sizeof(sk->b));
	content_signer_from_seed(s, sk);
}

void tc_card(struct content_card *c)
{
	memset(c, 0, sizeof(*c));
	memset(c->content_hash, 0x11, 32);
	memset(c->key_commitment, 0x22, 32);
	c->size = 123456;
	snprintf(c->mime, sizeof(c->mime), "video/mp4");
	snprintf(c->title, sizeof(c->title), "Night train — a short film");
	snprintf(c->description, sizeof(c->description),
		 "Twelve minutes on the last train.\nShot on 16 mm.");
	c->tag_count = 2;
	snprintf(c->tags[0], sizeof(c->tags[0]), "film");
	snprintf(c->tags[1], sizeof(c->tags[1]), "short");
	c->preview_kind = CONTENT_PREVIEW_TEXT;
	c->preview_len = 11;
	memcpy(c->preview, "Opening\tact", 11);
	c->price[31] = 0x40;
	c->price[30] = 0x42;
	c->price[29] = 0x0f;	/* 1 000 000 base units */
	snprintf(c->currency, sizeof(c->currency), "USDC");
	c->decimals = 6;
	snprintf(c->did, sizeof(c->did),
		 "did:ethr:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
	memset(c->licence_contract, 0xab, sizeof(c->licence_contract));
	c->licence_index = 7;
	memset(c->key_agent, 0x33, sizeof(c->key_agent));
	c->seed_count = 2;
	memset(c->seeds[0], 0x44, 32);
	memset(c->seeds[1], 0x55, 32);
	c->created = 1767225600;	/* 2026-01-01 */
	c->version = 1;
}

void tc_prefixes_fail(struct tctx *t, const uint8_t *buf, size_t len,
		      int (*decode)(const uint8_t *, size_t, void *),
		      void *scratch)
{
	int bad = 0;

	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = xmemdup(buf, n ? n : 1);	/* exact-size heap copy */
		if (decode(copy, n, scratch) == 0)
			bad++;
		free(copy);
	}
	T_EQ(t, bad, 0);
}

void tc_hex(struct tctx *t, const char *s, uint8_t *out, size_t n)
{
	size_t got = 0;

	T_OK(t, hex_decode(out, n, &got, s, strlen(s)));
	T_EQ(t, got, n);
}
