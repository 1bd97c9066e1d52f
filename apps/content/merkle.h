/*
 * The merkle tree over a content's ciphertext chunks, and inclusion proofs.
 *
 * Hashes are SHA-256 with RFC 6962 §2.1 domain separation: a leaf is
 * H(0x00 ‖ ciphertext chunk), an inner node H(0x01 ‖ left ‖ right).  The
 * tree has RFC 6962's shape (split at the largest power of two below n),
 * which is the same as building it level by level and carrying an odd last
 * node up unchanged.  That level form is how the tree is stored: level 0
 * (the leaves), then level 1, ..., up to the root, 32 bytes a node.
 *
 * A proof for chunk i of n lists the sibling hashes from the leaf up,
 * skipping levels where i's node is carried up; its length is fixed by
 * (i, n), so an encoding has one valid length (RFC 9162 §2.1.3).
 */
#ifndef APPS_CONTENT_MERKLE_H
#define APPS_CONTENT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

#define CONTENT_NODE_BYTES 32
/* Most leaves a tree may have (also the manifest's chunk-count cap). */
#define CONTENT_MAX_CHUNKS (1u << 22)
/* Longest proof: ceil(log2(CONTENT_MAX_CHUNKS)). */
#define CONTENT_PROOF_MAX_DEPTH 22
/* "BPRF" ‖ version ‖ index ‖ count ‖ depth ‖ siblings. */
#define CONTENT_PROOF_VERSION 1
#define CONTENT_PROOF_MAX_BYTES (4 + 1 + 4 + 4 + 1 + \
				 CONTENT_PROOF_MAX_DEPTH * CONTENT_NODE_BYTES)

struct content_proof {
	uint32_t index;		/* leaf index, < count */
	uint32_t count;		/* leaves in the tree, 1..CONTENT_MAX_CHUNKS */
	uint8_t depth;		/* = content_proof_depth(index, count) */
	uint8_t sib[CONTENT_PROOF_MAX_DEPTH][CONTENT_NODE_BYTES];
};

/* Leaf hash of one ciphertext chunk: H(0x00 ‖ ct). */
void content_leaf_hash(uint8_t out[32], const void *ct, size_t len);
/* Inner node: H(0x01 ‖ left ‖ right). */
void content_node_hash(uint8_t out[32], const uint8_t left[32],
		       const uint8_t right[32]);

/* Number of levels (1 for a single leaf). leaves ≥ 1. */
unsigned content_tree_levels(uint32_t leaves);
/* Width of a level and where it starts (in nodes) in the stored form. */
uint32_t content_tree_width(uint32_t leaves, unsigned level);
uint64_t content_tree_level_start(uint32_t leaves, unsigned level);
/* Total nodes stored (all levels). */
uint64_t content_tree_nodes(uint32_t leaves);
/* Sibling count of leaf index's path. */
unsigned content_proof_depth(uint32_t index, uint32_t count);

/*
 * Stored-tree file helpers.  The tree file holds level 0 (written by the
 * caller) and the levels above it.
 *
 * content_tree_build_fd: compute levels 1.. from level 0 at offset 0 of fd
 * and append them; root gets the top node.  Memory is bounded (a 64 KiB
 * window), whatever the size.
 * content_tree_check_fd: check that fd is exactly the tree of `leaves`
 * leaves whose root is root.  ERR_FORMAT for a wrong file size, ERR_AUTH
 * when a node or the root does not match, ERR_IO.
 */
int content_tree_build_fd(int fd, uint32_t leaves, uint8_t root[32]);
int content_tree_check_fd(int fd, uint32_t leaves, const uint8_t root[32]);
/* Read node `node` (index into the stored form) into out. */
typedef int (*content_node_read_fn)(void *ctx, uint64_t node, uint8_t out[32]);
/* Build the proof for leaf index of count leaves from a stored tree. */
int content_proof_make(struct content_proof *p, uint32_t index,
		       uint32_t count, content_node_read_fn read, void *ctx);
/* Node reader over a tree file descriptor (ctx points to the int fd). */
int content_tree_fd_read(void *ctx, uint64_t node, uint8_t out[32]);

/* 0 when leaf with proof p hashes up to root, else ERR_AUTH. */
int content_proof_verify(const struct content_proof *p, const uint8_t leaf[32],
			 const uint8_t root[32]);
/*
 * Decode a proof from untrusted bytes.  Errors: ERR_TRUNCATED, ERR_FORMAT
 * (bad magic, index ≥ count, wrong depth, trailing bytes), ERR_TOO_BIG
 * (count over CONTENT_MAX_CHUNKS), ERR_UNSUPPORTED (another version).
 */
int content_proof_decode(const uint8_t *buf, size_t len,
			 struct content_proof *out);
void content_proof_encode(const struct content_proof *p, struct bbuf *out);

#endif /* APPS_CONTENT_MERKLE_H */
