/*
 * The chunk merkle tree (apps/content/merkle.h): RFC 6962 §2.1 hashing and
 * shape, stored level by level; inclusion proofs after RFC 9162 §2.1.3.
 *
 * "MTH({d(0)}) = SHA-256(0x00 || d(0))" and "MTH(D[n]) = SHA-256(0x01 ||
 * MTH(D[0:k]) || MTH(D[k:n]))" (RFC 6962 §2.1).  Pairing nodes level by
 * level and carrying an odd last node up yields the same root: the first k
 * leaves (k a power of two) always pair among themselves.
 */
#include "config.h"
#include "apps/content/merkle.h"
#include "apps/content/codec_internal.h"
#include "apps/content/fsio.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/hash.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TREE_WINDOW_NODES 2048u	/* 64 KiB of nodes per read; even */

static const uint8_t proof_magic[4] = { 'B', 'P', 'R', 'F' };

void content_leaf_hash(uint8_t out[32], const void *ct, size_t len)
{
	struct sha256_ctx c;
	static const uint8_t tag = 0x00;

	sha256_init(&c);
	sha256_update(&c, &tag, 1);
	sha256_update(&c, ct, len);
	sha256_final(&c, out);
}

void content_node_hash(uint8_t out[32], const uint8_t left[32],
		       const uint8_t right[32])
{
	uint8_t buf[1 + 2 * CONTENT_NODE_BYTES];

	buf[0] = 0x01;
	memcpy(buf + 1, left, 32);
	memcpy(buf + 33, right, 32);
	sha256(out, buf, sizeof(buf));
}

unsigned content_tree_levels(uint32_t leaves)
{
	unsigned l = 1;

	for (uint32_t w = leaves; w > 1; w = (w + 1) / 2)
		l++;
	return l;
}

uint32_t content_tree_width(uint32_t leaves, unsigned level)
{
	uint32_t w = leaves;

	while (level--)
		w = (w + 1) / 2;
	return w;
}

uint64_t content_tree_level_start(uint32_t leaves, unsigned level)
{
	uint64_t off = 0;
	uint32_t w = leaves;

	for (unsigned l = 0; l < level; l++) {
		off += w;
		w = (w + 1) / 2;
	}
	return off;
}

uint64_t content_tree_nodes(uint32_t leaves)
{
	return content_tree_level_start(leaves, content_tree_levels(leaves));
}

unsigned content_proof_depth(uint32_t index, uint32_t count)
{
	unsigned d = 0;

	for (uint32_t i = index, w = count; w > 1; i >>= 1, w = (w + 1) / 2)
		if ((i ^ 1u) < w)
			d++;
	return d;
}

/* Hash the n nodes in `in` pairwise into out; an odd last node is copied.
 * Returns the number of parents. */
static uint32_t hash_pairs(uint8_t *out, const uint8_t *in, uint32_t n)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i + 1 < n; i += 2)
		content_node_hash(out + 32 * (size_t)k++, in + 32 * (size_t)i,
				  in + 32 * (size_t)(i + 1));
	if (n & 1)
		memcpy(out + 32 * (size_t)k++, in + 32 * (size_t)(n - 1), 32);
	return k;
}

/*
 * Walk the stored levels of fd: parents of each window of level l are
 * written (build) or compared with what is stored (check).
 */
static int tree_walk(int fd, uint32_t leaves, bool build, uint8_t top[32])
{
	uint8_t *in = xmalloc(TREE_WINDOW_NODES * 32);
	uint8_t *par = xmalloc(TREE_WINDOW_NODES / 2 * 32);
	uint8_t *got = xmalloc(TREE_WINDOW_NODES / 2 * 32);
	unsigned levels = content_tree_levels(leaves);
	int r = 0;

	for (unsigned l = 0; l + 1 < levels && r == 0; l++) {
		uint32_t w = content_tree_width(leaves, l);
		uint64_t src = content_tree_level_start(leaves, l) * 32;
		uint64_t dst = content_tree_level_start(leaves, l + 1) * 32;
		for (uint32_t i = 0; i < w && r == 0; i += TREE_WINDOW_NODES) {
			uint32_t n = w - i < TREE_WINDOW_NODES ?
				     w - i : TREE_WINDOW_NODES;
			uint32_t k;
			if ((r = content_fs_pread_all(fd, in, 32 * (size_t)n,
						      src + 32 * (uint64_t)i)))
				break;
			k = hash_pairs(par, in, n);
			if (build) {
				r = content_fs_pwrite_all(fd, par, 32 * (size_t)k,
							  dst + 16 * (uint64_t)i);
			} else if (!(r = content_fs_pread_all(
					     fd, got, 32 * (size_t)k,
					     dst + 16 * (uint64_t)i)) &&
				   memcmp(par, got, 32 * (size_t)k) != 0) {
				r = ERR_AUTH;
			}
		}
	}
	if (r == 0)
		r = content_fs_pread_all(fd, top, 32,
					 content_tree_level_start(leaves,
								  levels - 1) * 32);
	free(in);
	free(par);
	free(got);
	return r;
}

int content_tree_build_fd(int fd, uint32_t leaves, uint8_t root[32])
{
	if (BUG(leaves == 0 || leaves > CONTENT_MAX_CHUNKS))
		return ERR_INTERNAL;
	return tree_walk(fd, leaves, true, root);
}

int content_tree_check_fd(int fd, uint32_t leaves, const uint8_t root[32])
{
	struct stat st;
	uint8_t top[32];
	int r;

	if (leaves == 0 || leaves > CONTENT_MAX_CHUNKS)
		return ERR_TOO_BIG;
	if (fstat(fd, &st) != 0)
		return ERR_IO;
	if ((uint64_t)st.st_size != content_tree_nodes(leaves) * 32)
		return ERR_FORMAT;
	if ((r = tree_walk(fd, leaves, false, top)) != 0)
		return r == ERR_TRUNCATED ? ERR_FORMAT : r;
	return crypto_verify_32(top, root) == 0 ? 0 : ERR_AUTH;
}

int content_tree_fd_read(void *ctx, uint64_t node, uint8_t out[32])
{
	return content_fs_pread_all(*(const int *)ctx, out, 32, node * 32);
}

int content_proof_make(struct content_proof *p, uint32_t index,
		       uint32_t count, content_node_read_fn read, void *ctx)
{
	struct content_proof pr = { .index = index, .count = count };
	unsigned level = 0;
	int r;

	if (count == 0 || count > CONTENT_MAX_CHUNKS || index >= count)
		return ERR_RANGE;
	for (uint32_t i = index, w = count; w > 1;
	     i >>= 1, w = (w + 1) / 2, level++) {
		if ((i ^ 1u) >= w)
			continue;
		uint64_t node = content_tree_level_start(count, level) + (i ^ 1u);
		if ((r = read(ctx, node, pr.sib[pr.depth++])) != 0)
			return r;
	}
	*p = pr;
	return 0;
}

int content_proof_verify(const struct content_proof *p, const uint8_t leaf[32],
			 const uint8_t root[32])
{
	uint8_t h[32];
	unsigned k = 0;

	if (p->count == 0 || p->count > CONTENT_MAX_CHUNKS ||
	    p->index >= p->count ||
	    p->depth != content_proof_depth(p->index, p->count))
		return ERR_FORMAT;
	memcpy(h, leaf, 32);
	for (uint32_t i = p->index, w = p->count; w > 1;
	     i >>= 1, w = (w + 1) / 2) {
		if (i & 1)
			content_node_hash(h, p->sib[k++], h);
		else if (i + 1 < w)
			content_node_hash(h, h, p->sib[k++]);
	}
	return crypto_verify_32(h, root) == 0 ? 0 : ERR_AUTH;
}

int content_proof_decode(const uint8_t *buf, size_t len,
			 struct content_proof *out)
{
	struct content_proof p = { 0 };
	struct breader r;
	int rc;

	br_init(&r, buf, len);
	if ((rc = content_header_read(&r, proof_magic, CONTENT_PROOF_VERSION)))
		return rc;
	p.index = br_be32(&r);
	p.count = br_be32(&r);
	p.depth = br_u8(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (p.count > CONTENT_MAX_CHUNKS)
		return ERR_TOO_BIG;
	if (p.count == 0 || p.index >= p.count ||
	    p.depth != content_proof_depth(p.index, p.count))
		return ERR_FORMAT;
	for (unsigned i = 0; i < p.depth; i++)
		br_copy(&r, p.sib[i], 32);
	if (r.failed)
		return ERR_TRUNCATED;
	if (br_left(&r) != 0)
		return ERR_FORMAT;
	*out = p;
	return 0;
}

void content_proof_encode(const struct content_proof *p, struct bbuf *out)
{
	bbuf_put(out, proof_magic, 4);
	bbuf_u8(out, CONTENT_PROOF_VERSION);
	bbuf_be32(out, p->index);
	bbuf_be32(out, p->count);
	bbuf_u8(out, p->depth);
	for (unsigned i = 0; i < p->depth && i < CONTENT_PROOF_MAX_DEPTH; i++)
		bbuf_put(out, p->sib[i], 32);
}
