/* apps/content/merkle: RFC 6962 shape, stored levels, proofs. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/content/tcontent.h"
#include "apps/content/fsio.h"
#include "apps/content/merkle.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* RFC 6962 §2.1 MTH, written recursively as the RFC states it. */
static void mth(uint8_t out[32], const uint8_t (*leaves)[32], uint32_t n)
{
	uint8_t l[32], r[32];
	uint32_t k = 1;

	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	mth(l, leaves, k);
	mth(r, leaves + k, n - k);
	content_node_hash(out, l, r);
}

static void make_leaves(uint8_t (*leaves)[32], uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t ct[8];
		tc_fill(ct, sizeof(ct), i * 8, 77);
		content_leaf_hash(leaves[i], ct, sizeof(ct));
	}
}

/* A tree file for n leaves in dir; returns an fd (O_RDWR). */
static int tree_file(struct tctx *t, const char *dir, uint8_t (*leaves)[32],
		     uint32_t n, uint8_t root[32])
{
	char *p = fsutil_path_join(dir, "tree");
	int fd;

	unlink(p);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	free(p);
	T_TRUE(t, fd >= 0);
	T_OK(t, content_fs_pwrite_all(fd, leaves, 32 * (size_t)n, 0));
	T_OK(t, content_tree_build_fd(fd, n, root));
	return fd;
}

static void test_hash_domains(struct tctx *t)
{
	/* SHA-256(0x00 ‖ "abc") and SHA-256(0x01 ‖ 32×0x00 ‖ 32×0x01), from
	 * Python's hashlib. */
	uint8_t leaf[32], node[32], want[32], l[32] = { 0 }, r[32];

	content_leaf_hash(leaf, "abc", 3);
	tc_hex(t, "609f6e36d2405585188d5cfd761f407c7cc46a7d3f314c88270469dde315fcd1",
	       want, 32);
	T_MEMEQ(t, leaf, want, 32);
	memset(r, 1, 32);
	content_node_hash(node, l, r);
	tc_hex(t, "2ad82c3a51e8ed6418cb5bf267c5f9e521b99f7ab4fce657f460a8f1a3e87b2e", want, 32);
	T_MEMEQ(t, node, want, 32);
}

static void test_shape_matches_rfc6962(struct tctx *t)
{
	static const uint32_t sizes[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17,
					  31, 33, 63, 64, 65, 100, 1000, 1025,
					  2049, 4097 };
	char *dir = t_tmpdir(t);
	uint8_t (*leaves)[32] = xcalloc(4097, 32);

	make_leaves(leaves, 4097);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t n = sizes[s];
		uint8_t root[32], want[32];
		int fd = tree_file(t, dir, leaves, n, root);
		mth(want, (const uint8_t (*)[32])leaves, n);
		T_MEMEQ(t, root, want, 32);
		T_OK(t, content_tree_check_fd(fd, n, root));
		T_ERR(t, content_tree_check_fd(fd, n, leaves[0]), n == 1 ? 0 : ERR_AUTH);
		close(fd);
	}
	T_EQ(t, content_tree_nodes(1), 1);
	T_EQ(t, content_tree_nodes(3), 3 + 2 + 1);
	T_EQ(t, content_tree_nodes(5), 5 + 3 + 2 + 1);
	T_EQ(t, content_tree_levels(16384), 15);
	free(leaves);
	t_rmtree(dir);
	free(dir);
}

static void test_tree_tamper(struct tctx *t)
{
	char *dir = t_tmpdir(t), *p = fsutil_path_join(dir, "tree");
	uint8_t (*leaves)[32] = xcalloc(70, 32), root[32];
	uint64_t nodes = content_tree_nodes(70);
	int fd;

	make_leaves(leaves, 70);
	fd = tree_file(t, dir, leaves, 70, root);
	/* Any changed node (leaf, inner or root) is caught. */
	for (uint64_t i = 0; i < nodes; i += 7) {
		tc_flip(t, p, i * 32 + 5, 0x10);
		T_ERR(t, content_tree_check_fd(fd, 70, root), ERR_AUTH);
		tc_flip(t, p, i * 32 + 5, 0x10);
	}
	T_OK(t, content_tree_check_fd(fd, 70, root));
	T_OK(t, ftruncate(fd, (off_t)(nodes * 32 - 1)));
	T_ERR(t, content_tree_check_fd(fd, 70, root), ERR_FORMAT);
	T_ERR(t, content_tree_check_fd(fd, 0, root), ERR_TOO_BIG);
	close(fd);
	free(leaves);
	free(p);
	t_rmtree(dir);
	free(dir);
}

static void test_proofs_all_positions(struct tctx *t)
{
	char *dir = t_tmpdir(t);
	uint8_t (*leaves)[32] = xcalloc(70, 32);

	make_leaves(leaves, 70);
	for (uint32_t n = 1; n <= 70; n++) {
		uint8_t root[32];
		int fd = tree_file(t, dir, leaves, n, root);
		for (uint32_t i = 0; i < n; i++) {
			struct content_proof p, q;
			struct bbuf b = BBUF_INIT;
			uint8_t bad[32];
			T_OK(t, content_proof_make(&p, i, n, content_tree_fd_read, &fd));
			T_EQ(t, p.depth, content_proof_depth(i, n));
			T_OK(t, content_proof_verify(&p, leaves[i], root));
			memcpy(bad, leaves[i], 32);
			bad[0] ^= 1;
			T_ERR(t, content_proof_verify(&p, bad, root), ERR_AUTH);
			if (p.depth) {
				q = p;
				q.sib[p.depth - 1][31] ^= 0x80;
				T_ERR(t, content_proof_verify(&q, leaves[i], root), ERR_AUTH);
			}
			if (n > 1) {	/* the right leaf at the wrong index */
				q = p;
				q.index = (i + 1) % n;
				q.depth = (uint8_t)content_proof_depth(q.index, n);
				T_TRUE(t, content_proof_verify(&q, leaves[i], root) != 0);
			}
			content_proof_encode(&p, &b);
			T_EQ(t, b.len, 14 + 32 * (size_t)p.depth);
			T_OK(t, content_proof_decode(b.data, b.len, &q));
			T_EQ(t, q.index, i);
			T_EQ(t, q.count, n);
			T_OK(t, content_proof_verify(&q, leaves[i], root));
			bbuf_free(&b);
		}
		close(fd);
	}
	free(leaves);
	t_rmtree(dir);
	free(dir);
}

static int decode_proof(const uint8_t *b, size_t n, void *out)
{
	return content_proof_decode(b, n, out);
}

static void test_proof_decode_rejects(struct tctx *t)
{
	/* Chunk 0 of 3 from gen_vectors.py: siblings leaf 1 then leaf 2. */
	static const char vec[] = "42505246010000000000000003026531ae42c9b6a5"
		"900249890eba26059a6f9c1c6a628c0985d97b4bb54832e1dd38d0a808cd"
		"27ef6872c3b095c8ec6e503f12f4f10a220e2f17ef5b6fed6e2e3e";
	uint8_t buf[78], copy[79];
	struct content_proof p;
	struct bbuf b = BBUF_INIT;

	tc_hex(t, vec, buf, sizeof(buf));
	T_OK(t, content_proof_decode(buf, sizeof(buf), &p));
	T_EQ(t, p.depth, 2);
	content_proof_encode(&p, &b);
	T_EQ(t, b.len, sizeof(buf));
	T_MEMEQ(t, b.data, buf, sizeof(buf));
	bbuf_free(&b);
	tc_prefixes_fail(t, buf, sizeof(buf), decode_proof, &p);
	memcpy(copy, buf, sizeof(buf));
	copy[78] = 0;
	T_ERR(t, content_proof_decode(copy, sizeof(copy), &p), ERR_FORMAT);
	memcpy(copy, buf, sizeof(buf));
	copy[0] = 'X';
	T_ERR(t, content_proof_decode(copy, sizeof(buf), &p), ERR_FORMAT);
	memcpy(copy, buf, sizeof(buf));
	copy[4] = 2;
	T_ERR(t, content_proof_decode(copy, sizeof(buf), &p), ERR_UNSUPPORTED);
	memcpy(copy, buf, sizeof(buf));
	copy[13] = 1;	/* depth 1 where the path needs 2 */
	T_ERR(t, content_proof_decode(copy, sizeof(buf), &p), ERR_FORMAT);
	memcpy(copy, buf, sizeof(buf));
	copy[8] = 3;	/* index 3 of 3 */
	T_ERR(t, content_proof_decode(copy, sizeof(buf), &p), ERR_FORMAT);
	memcpy(copy, buf, sizeof(buf));
	copy[9] = 0x7f;	/* count far over the cap */
	T_ERR(t, content_proof_decode(copy, sizeof(buf), &p), ERR_TOO_BIG);
}

const struct test_case content_merkle_tests[] = {
	{ "hash_domains", test_hash_domains, 0 },
	{ "shape_matches_rfc6962", test_shape_matches_rfc6962, 0 },
	{ "tree_tamper", test_tree_tamper, 0 },
	{ "proofs_all_positions", test_proofs_all_positions, 0 },
	{ "proof_decode_rejects", test_proof_decode_rejects, 0 },
	{ NULL, NULL, 0 }
};
