/* tests/unit/crypto: every crypto/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case base_bytes_tests[];
extern const struct test_case encode_tests[];
extern const struct test_case rand_tests[];
extern const struct test_case hash_tests[];
extern const struct test_case ed25519_tests[];
extern const struct test_case x25519_tests[];
extern const struct test_case chacha_tests[];
extern const struct test_case keccak_tests[];
extern const struct test_case aes_tests[];
extern const struct test_case aes_layer_tests[];
extern const struct test_case aesgcm_tests[];
extern const struct test_case siphash_tests[];
extern const struct test_case keystore_tests[];
extern const struct test_case noise_tests[];
extern const struct test_case elligator2_tests[];
extern const struct test_case blinding_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "bytes", base_bytes_tests },
		{ "encode", encode_tests },
		{ "rand", rand_tests },
		{ "hash", hash_tests },
		{ "ed25519", ed25519_tests },
		{ "x25519", x25519_tests },
		{ "chacha", chacha_tests },
		{ "keccak", keccak_tests },
		{ "aes", aes_tests },
		{ "aes_layer", aes_layer_tests },
		{ "aesgcm", aesgcm_tests },
		{ "siphash", siphash_tests },
		{ "keystore", keystore_tests },
		{ "noise", noise_tests },
		{ "elligator2", elligator2_tests },
		{ "blinding", blinding_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
