/* libFuzzer target: the RLP decoder and the EIP-1559 raw-tx decoder. */
#include "config.h"
#include "chain/rlp.h"
#include "chain/tx1559.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk every item of a list, reading integers from strings. */
static void walk(const struct rlp_item *it, unsigned level)
{
	struct breader r;
	struct rlp_item sub;
	struct u256 u;
	uint64_t v;
	size_t n;
	unsigned d;

	if (!it->is_list) {
		(void)rlp_item_u64(it, &v);
		(void)rlp_item_u256(it, &u);
		return;
	}
	(void)rlp_list_count(it, &n);
	(void)rlp_item_depth(it, &d);
	if (level >= RLP_MAX_DEPTH)
		return;
	br_init(&r, it->p, it->len);
	while (br_left(&r) && rlp_item_decode(&r, &sub) == 0)
		walk(&sub, level + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct breader r;
	struct rlp_item it;
	struct tx1559 tx;
	uint8_t from[20];

	br_init(&r, data, size);
	while (br_left(&r) && rlp_item_decode(&r, &it) == 0)
		walk(&it, 0);
	(void)tx1559_decode(data, size, &tx, from);
	return 0;
}
