/*
 * The tunnel layer step over many messages (crypto/aes_layer.h).
 *
 * AES-NI path: AES-256 key expansion with AESKEYGENASSIST (FIPS 197
 * §5.2), decryption round keys with AESIMC (the "equivalent inverse
 * cipher", §5.3.5), and a pass that keeps L <= 8 messages' states in
 * registers and gives each AES round to every lane before the next
 * round, each lane with its own round keys.  The second IV encryption
 * depends only on the first, not on the chain, so it runs as one more
 * interleaved block at the end.  Decryption needs no lanes: CBC
 * decryption of one message is already parallel, 8 blocks at a time (16
 * with VAES, two to a 256-bit register; 32 with AVX-512, four to a
 * 512-bit one).  With VAES, 9 to 16 messages' chains also run as pairs
 * in 256-bit registers, and with AVX-512 17 to 32 as fours in 512-bit
 * ones.
 *
 * The intrinsics are compiled with target attributes and used only when
 * the CPU says it has AES (checked once), so the file builds for any
 * x86-64 and, without the AES-NI part, for any other architecture.
 */
#include "config.h"
#include "crypto/aes_layer.h"
#include "crypto/aes.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <pthread.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && \
	(defined(__GNUC__) || defined(__clang__))
#define AES_LAYER_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#define AES256_ROUNDS 14
/* Lanes of the 128-bit kernel: 8 chains keep two AES units busy through
 * a 4-cycle latency; 16 would not fit the 16 XMM registers. */
#define XMM_LANES 8
/* Registers of the VAES passes: 8 of two lanes (256-bit), 8 of four
 * (512-bit). */
#define VPAIRS 8
#define ZREGS 8

struct aes_layer_keys {
	/* round keys: [0] layerKey, [1] ivKey; enc[x][0..1] is the key */
	uint8_t enc[2][AES256_ROUNDS + 1][16];
	uint8_t dec[2][AES256_ROUNDS + 1][16];
	struct aes256_ctx *ossl[2];	/* fallback, made on first use */
};

static bool hw_present, vaes_present, vaes512_present;
static enum aes_layer_path forced = AES_LAYER_PATH_BEST;
static pthread_once_t hw_once = PTHREAD_ONCE_INIT;

static void hw_detect(void)
{
#ifdef AES_LAYER_X86
	unsigned a, b, c, d;

	__builtin_cpu_init();
	hw_present = __builtin_cpu_supports("aes") &&
		     __builtin_cpu_supports("sse4.1");
	/* VAES: CPUID.(EAX=7,ECX=0):ECX bit 9; "avx2" includes the check
	 * that the OS saves the YMM registers. */
	vaes_present = hw_present && __builtin_cpu_supports("avx2") &&
		       __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
		       (c & (1u << 9));
	/* and its 512-bit form: AVX-512F, with the OS saving ZMM state */
	vaes512_present = vaes_present && __builtin_cpu_supports("avx512f");
#endif
}

enum aes_layer_path aes_layer_path(void)
{
	pthread_once(&hw_once, hw_detect);
	if (!hw_present || forced == AES_LAYER_PATH_OPENSSL)
		return AES_LAYER_PATH_OPENSSL;
	if (!vaes_present || forced == AES_LAYER_PATH_AESNI)
		return AES_LAYER_PATH_AESNI;
	if (!vaes512_present || forced == AES_LAYER_PATH_VAES)
		return AES_LAYER_PATH_VAES;
	return AES_LAYER_PATH_BEST;
}

bool aes_layer_is_hw(void)
{
	return aes_layer_path() != AES_LAYER_PATH_OPENSSL;
}

void aes_layer_force_path(enum aes_layer_path p)
{
	forced = p;
}

/* ---- AES-NI ---- */

#ifdef AES_LAYER_X86
#define HW __attribute__((target("aes,sse4.1")))
#define HW_INLINE static inline __attribute__((always_inline, \
					      target("aes,sse4.1")))

typedef const uint8_t (*rk_t)[16];	/* AES256_ROUNDS + 1 round keys */

#define LD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define ST(p, v) _mm_storeu_si128((__m128i *)(void *)(p), (v))

/* The next two round keys' halves: w[i] = w[i-8] ^ SubWord(...) as the
 * slices of FIPS 197 Figure 11, four words at a time. */
HW_INLINE __m128i expand_mix(__m128i k, __m128i t)
{
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	return _mm_xor_si128(k, t);
}

#define EXPAND_EVEN(i, rcon)                                                  \
	rk[i] = expand_mix(rk[(i) - 2],                                       \
			   _mm_shuffle_epi32(                                  \
				   _mm_aeskeygenassist_si128(rk[(i) - 1], rcon), \
				   0xff))
#define EXPAND_ODD(i)                                                         \
	rk[i] = expand_mix(rk[(i) - 2],                                       \
			   _mm_shuffle_epi32(                                  \
				   _mm_aeskeygenassist_si128(rk[(i) - 1], 0),  \
				   0xaa))

HW static void hw_expand(const uint8_t key[32], uint8_t enc[15][16],
			 uint8_t dec[15][16])
{
	__m128i rk[AES256_ROUNDS + 1];

	rk[0] = LD(key);
	rk[1] = LD(key + 16);
	EXPAND_EVEN(2, 0x01);
	EXPAND_ODD(3);
	EXPAND_EVEN(4, 0x02);
	EXPAND_ODD(5);
	EXPAND_EVEN(6, 0x04);
	EXPAND_ODD(7);
	EXPAND_EVEN(8, 0x08);
	EXPAND_ODD(9);
	EXPAND_EVEN(10, 0x10);
	EXPAND_ODD(11);
	EXPAND_EVEN(12, 0x20);
	EXPAND_ODD(13);
	EXPAND_EVEN(14, 0x40);
	for (int i = 0; i <= AES256_ROUNDS; i++)
		ST(enc[i], rk[i]);
	ST(dec[0], rk[AES256_ROUNDS]);
	for (int i = 1; i < AES256_ROUNDS; i++)
		ST(dec[i], _mm_aesimc_si128(rk[AES256_ROUNDS - i]));
	ST(dec[AES256_ROUNDS], rk[0]);
	memwipe(rk, sizeof(rk));
}

/* Encrypt L blocks, block j of s[] with round keys rk[j], round by round
 * across the lanes. */
HW_INLINE void enc_lanes(const int L, const rk_t *rk, __m128i *s)
{
#pragma GCC unroll 8
	for (int j = 0; j < L; j++)
		s[j] = _mm_xor_si128(s[j], LD(rk[j][0]));
	for (int r = 1; r < AES256_ROUNDS; r++) {
#pragma GCC unroll 8
		for (int j = 0; j < L; j++)
			s[j] = _mm_aesenc_si128(s[j], LD(rk[j][r]));
	}
#pragma GCC unroll 8
	for (int j = 0; j < L; j++)
		s[j] = _mm_aesenclast_si128(s[j], LD(rk[j][AES256_ROUNDS]));
}

/* Decrypt L blocks with one schedule. */
HW_INLINE void dec_lanes(const int L, rk_t rk, __m128i *s)
{
#pragma GCC unroll 8
	for (int j = 0; j < L; j++)
		s[j] = _mm_xor_si128(s[j], LD(rk[0]));
	for (int r = 1; r < AES256_ROUNDS; r++) {
		const __m128i k = LD(rk[r]);
#pragma GCC unroll 8
		for (int j = 0; j < L; j++)
			s[j] = _mm_aesdec_si128(s[j], k);
	}
#pragma GCC unroll 8
	for (int j = 0; j < L; j++)
		s[j] = _mm_aesdeclast_si128(s[j], LD(rk[AES256_ROUNDS]));
}

/* The encryption step on L messages (nblk data blocks each). */
HW_INLINE void hw_step_lanes(const int L, struct aes_layer_keys *const *k,
			     uint8_t *const *m, size_t nblk)
{
	rk_t lk[XMM_LANES], ik[XMM_LANES];
	__m128i s[XMM_LANES], iv[XMM_LANES];

#pragma GCC unroll 8
	for (int j = 0; j < L; j++) {
		lk[j] = (rk_t)k[j]->enc[0];
		ik[j] = (rk_t)k[j]->enc[1];
		s[j] = LD(m[j]);
	}
	enc_lanes(L, ik, s);			/* IV' = E(ivKey, IV) */
#pragma GCC unroll 8
	for (int j = 0; j < L; j++)
		iv[j] = s[j];
	for (size_t b = 0; b < nblk; b++) {
		const size_t off = AES_LAYER_IV_BYTES + 16 * b;

#pragma GCC unroll 8
		for (int j = 0; j < L; j++)
			s[j] = _mm_xor_si128(s[j], LD(m[j] + off));
		enc_lanes(L, lk, s);
#pragma GCC unroll 8
		for (int j = 0; j < L; j++)
			ST(m[j] + off, s[j]);
	}
	enc_lanes(L, ik, iv);			/* IV = E(ivKey, IV') */
#pragma GCC unroll 8
	for (int j = 0; j < L; j++)
		ST(m[j], iv[j]);
}

static void vaes_encrypt(struct aes_layer_keys *const *k, uint8_t *const *m,
			 size_t n, size_t nblk, uint8_t *scratch);
static void vaes512_encrypt(struct aes_layer_keys *const *k,
			    uint8_t *const *m, size_t n, size_t nblk,
			    uint8_t *scratch);

HW static void hw_encrypt_n(struct aes_layer_keys *const *k,
			    uint8_t *const *m, size_t n, size_t nblk,
			    enum aes_layer_path path)
{
	uint8_t scratch[1024];		/* the partner of lanes left over */
	const size_t len = AES_LAYER_IV_BYTES + 16 * nblk;
	bool used = false;

	/* More than 16: passes of up to 32 in 512-bit registers */
	while (path == AES_LAYER_PATH_BEST && len <= sizeof(scratch) &&
	       n > 2 * VPAIRS) {
		size_t c = n < 4 * ZREGS ? n : 4 * ZREGS;

		if (c % 4) {
			memcpy(scratch, m[c - 1], len);
			used = true;
		}
		vaes512_encrypt(k, m, c, nblk, scratch);
		k += c;
		m += c;
		n -= c;
	}
	/* More than XMM_LANES: passes of up to 16 in 256-bit registers */
	while (path <= AES_LAYER_PATH_VAES && len <= sizeof(scratch) &&
	       n > XMM_LANES) {
		size_t c = n < 2 * VPAIRS ? n : 2 * VPAIRS;

		if (c % 2) {
			memcpy(scratch, m[c - 1], len);
			used = true;
		}
		vaes_encrypt(k, m, c, nblk, scratch);
		k += c;
		m += c;
		n -= c;
	}
	if (used)
		memwipe(scratch, len);
	for (; n >= XMM_LANES; n -= XMM_LANES) {
		hw_step_lanes(XMM_LANES, k, m, nblk);
		k += XMM_LANES;
		m += XMM_LANES;
	}
	switch (n) {
	case 7: hw_step_lanes(7, k, m, nblk); break;
	case 6: hw_step_lanes(6, k, m, nblk); break;
	case 5: hw_step_lanes(5, k, m, nblk); break;
	case 4: hw_step_lanes(4, k, m, nblk); break;
	case 3: hw_step_lanes(3, k, m, nblk); break;
	case 2: hw_step_lanes(2, k, m, nblk); break;
	case 1: hw_step_lanes(1, k, m, nblk); break;
	default: break;
	}
}

/* CBC-decrypt the L blocks at p in place; *prev is the ciphertext block
 * before them (the IV first), and becomes their last. */
HW_INLINE void hw_cbc_dec_run(const int L, rk_t rk, uint8_t *p, __m128i *prev)
{
	__m128i c[XMM_LANES], s[XMM_LANES];

#pragma GCC unroll 8
	for (int j = 0; j < L; j++)
		s[j] = c[j] = LD(p + 16 * j);
	dec_lanes(L, rk, s);
	ST(p, _mm_xor_si128(s[0], *prev));
#pragma GCC unroll 8
	for (int j = 1; j < L; j++)
		ST(p + 16 * j, _mm_xor_si128(s[j], c[j - 1]));
	*prev = c[L - 1];
}

static size_t vaes_cbc_dec(rk_t rk, uint8_t *p, size_t nblk, __m128i *iv);
static size_t vaes512_cbc_dec(rk_t rk, uint8_t *p, size_t nblk,
			      __m128i *iv);

HW static void hw_decrypt(const struct aes_layer_keys *k, uint8_t *msg,
			  size_t nblk, enum aes_layer_path path)
{
	rk_t lk = (rk_t)k->dec[0], ik = (rk_t)k->dec[1];
	uint8_t *p = msg + AES_LAYER_IV_BYTES;
	__m128i iv = LD(msg), iv2;
	size_t done;

	dec_lanes(1, ik, &iv);			/* IV' = D(ivKey, IV) */
	iv2 = iv;
	if (path == AES_LAYER_PATH_BEST) {	/* whole fours of blocks */
		done = vaes512_cbc_dec(lk, p, nblk, &iv);
		p += 16 * done;
		nblk -= done;
	}
	if (path <= AES_LAYER_PATH_VAES) {	/* then whole pairs */
		done = vaes_cbc_dec(lk, p, nblk, &iv);
		p += 16 * done;
		nblk -= done;
	}
	for (; nblk >= XMM_LANES; nblk -= XMM_LANES) {
		hw_cbc_dec_run(XMM_LANES, lk, p, &iv);
		p += 16 * XMM_LANES;
	}
	switch (nblk) {
	case 7: hw_cbc_dec_run(7, lk, p, &iv); break;
	case 6: hw_cbc_dec_run(6, lk, p, &iv); break;
	case 5: hw_cbc_dec_run(5, lk, p, &iv); break;
	case 4: hw_cbc_dec_run(4, lk, p, &iv); break;
	case 3: hw_cbc_dec_run(3, lk, p, &iv); break;
	case 2: hw_cbc_dec_run(2, lk, p, &iv); break;
	case 1: hw_cbc_dec_run(1, lk, p, &iv); break;
	default: break;
	}
	dec_lanes(1, ik, &iv2);			/* IV = D(ivKey, IV') */
	ST(msg, iv2);
}

/* ---- VAES: two lanes in each 256-bit register ---- */

#define HWV __attribute__((target("aes,avx2,vaes")))
#define HWV_INLINE static inline __attribute__((always_inline, \
					       target("aes,avx2,vaes")))

/* Block b of messages a (low half) and c (high half). */
HWV_INLINE __m256i ld2(const uint8_t *a, const uint8_t *c)
{
	return _mm256_inserti128_si256(_mm256_castsi128_si256(LD(a)), LD(c),
				       1);
}

HWV_INLINE void st2(uint8_t *a, uint8_t *c, __m256i v)
{
	ST(a, _mm256_castsi256_si128(v));
	ST(c, _mm256_extracti128_si256(v, 1));
}

HWV_INLINE void venc(const int P, const __m256i (*k)[AES256_ROUNDS + 1],
		     __m256i *s)
{
#pragma GCC unroll 8
	for (int j = 0; j < P; j++)
		s[j] = _mm256_xor_si256(s[j], k[j][0]);
	for (int r = 1; r < AES256_ROUNDS; r++) {
#pragma GCC unroll 8
		for (int j = 0; j < P; j++)
			s[j] = _mm256_aesenc_epi128(s[j], k[j][r]);
	}
#pragma GCC unroll 8
	for (int j = 0; j < P; j++)
		s[j] = _mm256_aesenclast_epi128(s[j], k[j][AES256_ROUNDS]);
}

/* The step on 2P messages m[0..2P-1] (pairs of lanes), as hw_step_lanes;
 * lk and ik hold each pair's round keys side by side. */
HWV_INLINE void vstep_pairs(const int P, uint8_t *const *m, size_t nblk,
			    const __m256i (*lk)[AES256_ROUNDS + 1],
			    const __m256i (*ik)[AES256_ROUNDS + 1])
{
	__m256i s[VPAIRS], iv[VPAIRS];

#pragma GCC unroll 8
	for (int j = 0; j < P; j++)
		s[j] = ld2(m[2 * j], m[2 * j + 1]);
	venc(P, ik, s);
#pragma GCC unroll 8
	for (int j = 0; j < P; j++)
		iv[j] = s[j];
	for (size_t b = 0; b < nblk; b++) {
		const size_t off = AES_LAYER_IV_BYTES + 16 * b;

#pragma GCC unroll 8
		for (int j = 0; j < P; j++)
			s[j] = _mm256_xor_si256(
				s[j], ld2(m[2 * j] + off, m[2 * j + 1] + off));
		venc(P, lk, s);
#pragma GCC unroll 8
		for (int j = 0; j < P; j++)
			st2(m[2 * j] + off, m[2 * j + 1] + off, s[j]);
	}
	venc(P, ik, iv);
#pragma GCC unroll 8
	for (int j = 0; j < P; j++)
		st2(m[2 * j], m[2 * j + 1], iv[j]);
}

/* n (9..16) messages in one pass of ceil(n/2) pairs; an odd
 * last lane is paired with a scratch copy of itself. */
HWV static void vaes_encrypt(struct aes_layer_keys *const *k,
			     uint8_t *const *m, size_t n, size_t nblk,
			     uint8_t *scratch)
{
	__m256i lk[VPAIRS][AES256_ROUNDS + 1], ik[VPAIRS][AES256_ROUNDS + 1];
	uint8_t *mm[2 * VPAIRS];
	const size_t P = (n + 1) / 2;

	for (size_t i = 0; i < 2 * P; i++) {
		const struct aes_layer_keys *a = k[i < n ? i : n - 1];

		mm[i] = i < n ? m[i] : scratch;
		if (i % 2)
			continue;
		for (int r = 0; r <= AES256_ROUNDS; r++) {
			const struct aes_layer_keys *c = k[i + 1 < n ? i + 1
								     : n - 1];

			lk[i / 2][r] = ld2(a->enc[0][r], c->enc[0][r]);
			ik[i / 2][r] = ld2(a->enc[1][r], c->enc[1][r]);
		}
	}
	switch (P) {
	case 8: vstep_pairs(8, mm, nblk, lk, ik); break;
	case 7: vstep_pairs(7, mm, nblk, lk, ik); break;
	case 6: vstep_pairs(6, mm, nblk, lk, ik); break;
	default: vstep_pairs(5, mm, nblk, lk, ik); break;
	}
	memwipe(lk, sizeof(lk));
	memwipe(ik, sizeof(ik));
}

/* CBC-decrypt the 2P blocks at p in place, two to a register; *iv is
 * the ciphertext block before them and becomes their last. */
HWV_INLINE void vdec_run(const int P, const __m256i *dk, uint8_t *p,
			 __m128i *iv)
{
	__m256i c[VPAIRS], s[VPAIRS], prev[VPAIRS];

#pragma GCC unroll 8
	for (int j = 0; j < P; j++)
		s[j] = c[j] = _mm256_loadu_si256(
			(const __m256i *)(void *)(p + 32 * j));
	prev[0] = _mm256_inserti128_si256(_mm256_castsi128_si256(*iv),
					  _mm256_castsi256_si128(c[0]), 1);
#pragma GCC unroll 8
	for (int j = 1; j < P; j++)	/* blocks 2j-1 and 2j */
		prev[j] = _mm256_permute2x128_si256(c[j - 1], c[j], 0x21);
#pragma GCC unroll 8
	for (int j = 0; j < P; j++)
		s[j] = _mm256_xor_si256(s[j], dk[0]);
	for (int r = 1; r < AES256_ROUNDS; r++) {
#pragma GCC unroll 8
		for (int j = 0; j < P; j++)
			s[j] = _mm256_aesdec_epi128(s[j], dk[r]);
	}
#pragma GCC unroll 8
	for (int j = 0; j < P; j++)
		_mm256_storeu_si256((__m256i *)(void *)(p + 32 * j),
				    _mm256_xor_si256(_mm256_aesdeclast_epi128(
					    s[j], dk[AES256_ROUNDS]), prev[j]));
	*iv = _mm256_extracti128_si256(c[P - 1], 1);
}

/* CBC decryption of the whole pairs of nblk blocks at p, 16 blocks in
 * flight; returns the blocks done (nblk rounded down to even). */
HWV static size_t vaes_cbc_dec(rk_t rk, uint8_t *p, size_t nblk, __m128i *iv)
{
	__m256i dk[AES256_ROUNDS + 1];
	const size_t done = nblk & ~(size_t)1;

	for (int r = 0; r <= AES256_ROUNDS; r++)
		dk[r] = _mm256_broadcastsi128_si256(LD(rk[r]));
	for (; nblk >= 2 * VPAIRS; nblk -= 2 * VPAIRS) {
		vdec_run(VPAIRS, dk, p, iv);
		p += 32 * VPAIRS;
	}
	switch (nblk / 2) {
	case 7: vdec_run(7, dk, p, iv); break;
	case 6: vdec_run(6, dk, p, iv); break;
	case 5: vdec_run(5, dk, p, iv); break;
	case 4: vdec_run(4, dk, p, iv); break;
	case 3: vdec_run(3, dk, p, iv); break;
	case 2: vdec_run(2, dk, p, iv); break;
	case 1: vdec_run(1, dk, p, iv); break;
	default: break;
	}
	memwipe(dk, sizeof(dk));
	return done;
}

/* ---- VAES with AVX-512: four blocks in each 512-bit register ---- */

#define HWZ_INLINE static inline __attribute__((always_inline, \
					       target("aes,avx512f,vaes")))

/* Block b of messages a, b, c, d, low to high. */
HWZ_INLINE __m512i ld4(const uint8_t *a, const uint8_t *b, const uint8_t *c,
		       const uint8_t *d)
{
	__m512i v = _mm512_castsi128_si512(LD(a));

	v = _mm512_inserti32x4(v, LD(b), 1);
	v = _mm512_inserti32x4(v, LD(c), 2);
	return _mm512_inserti32x4(v, LD(d), 3);
}

HWZ_INLINE void st4(uint8_t *a, uint8_t *b, uint8_t *c, uint8_t *d,
		    __m512i v)
{
	ST(a, _mm512_castsi512_si128(v));
	ST(b, _mm512_extracti32x4_epi32(v, 1));
	ST(c, _mm512_extracti32x4_epi32(v, 2));
	ST(d, _mm512_extracti32x4_epi32(v, 3));
}

HWZ_INLINE void zenc(const int Q, const __m512i (*k)[AES256_ROUNDS + 1],
		     __m512i *s)
{
#pragma GCC unroll 8
	for (int j = 0; j < Q; j++)
		s[j] = _mm512_xor_si512(s[j], k[j][0]);
	for (int r = 1; r < AES256_ROUNDS; r++) {
#pragma GCC unroll 8
		for (int j = 0; j < Q; j++)
			s[j] = _mm512_aesenc_epi128(s[j], k[j][r]);
	}
#pragma GCC unroll 8
	for (int j = 0; j < Q; j++)
		s[j] = _mm512_aesenclast_epi128(s[j], k[j][AES256_ROUNDS]);
}

#define M4(j, x) m[4 * (j)] + (x), m[4 * (j) + 1] + (x), \
		 m[4 * (j) + 2] + (x), m[4 * (j) + 3] + (x)

/* The step on 4Q messages, as vstep_pairs with four to a register. */
HWZ_INLINE void zstep_quads(const int Q, uint8_t *const *m, size_t nblk,
			    const __m512i (*lk)[AES256_ROUNDS + 1],
			    const __m512i (*ik)[AES256_ROUNDS + 1])
{
	__m512i s[ZREGS], iv[ZREGS];

#pragma GCC unroll 8
	for (int j = 0; j < Q; j++)
		s[j] = ld4(M4(j, 0));
	zenc(Q, ik, s);
#pragma GCC unroll 8
	for (int j = 0; j < Q; j++)
		iv[j] = s[j];
	for (size_t b = 0; b < nblk; b++) {
		const size_t off = AES_LAYER_IV_BYTES + 16 * b;

#pragma GCC unroll 8
		for (int j = 0; j < Q; j++)
			s[j] = _mm512_xor_si512(s[j], ld4(M4(j, off)));
		zenc(Q, lk, s);
#pragma GCC unroll 8
		for (int j = 0; j < Q; j++)
			st4(M4(j, off), s[j]);
	}
	zenc(Q, ik, iv);
#pragma GCC unroll 8
	for (int j = 0; j < Q; j++)
		st4(M4(j, 0), iv[j]);
}

/* n (17..32) messages in one pass of ceil(n/4) registers; the lanes
 * left over in the last one work on scratch (a copy of the last
 * message) with its keys. */
__attribute__((target("aes,avx512f,vaes")))
static void vaes512_encrypt(struct aes_layer_keys *const *k,
			    uint8_t *const *m, size_t n, size_t nblk,
			    uint8_t *scratch)
{
	__m512i lk[ZREGS][AES256_ROUNDS + 1], ik[ZREGS][AES256_ROUNDS + 1];
	const struct aes_layer_keys *kk[4 * ZREGS];
	uint8_t *mm[4 * ZREGS];
	const size_t Q = (n + 3) / 4;

	for (size_t i = 0; i < 4 * Q; i++) {
		kk[i] = k[i < n ? i : n - 1];
		mm[i] = i < n ? m[i] : scratch;
	}
	for (size_t j = 0; j < Q; j++)
		for (int r = 0; r <= AES256_ROUNDS; r++) {
			lk[j][r] = ld4(kk[4 * j]->enc[0][r],
				       kk[4 * j + 1]->enc[0][r],
				       kk[4 * j + 2]->enc[0][r],
				       kk[4 * j + 3]->enc[0][r]);
			ik[j][r] = ld4(kk[4 * j]->enc[1][r],
				       kk[4 * j + 1]->enc[1][r],
				       kk[4 * j + 2]->enc[1][r],
				       kk[4 * j + 3]->enc[1][r]);
		}
	switch (Q) {
	case 8: zstep_quads(8, mm, nblk, lk, ik); break;
	case 7: zstep_quads(7, mm, nblk, lk, ik); break;
	case 6: zstep_quads(6, mm, nblk, lk, ik); break;
	default: zstep_quads(5, mm, nblk, lk, ik); break;
	}
	memwipe(lk, sizeof(lk));
	memwipe(ik, sizeof(ik));
}

/* CBC-decrypt the 4P blocks at p in place; *iv as in vdec_run. */
HWZ_INLINE void zdec_run(const int P, const __m512i *dk, uint8_t *p,
			 __m128i *iv)
{
	__m512i c[ZREGS], s[ZREGS], prev[ZREGS];

#pragma GCC unroll 8
	for (int j = 0; j < P; j++)
		s[j] = c[j] = _mm512_loadu_si512((const void *)(p + 64 * j));
	/* blocks 4j-1 .. 4j+2: the last of the register before, then the
	 * first three of this one */
	prev[0] = _mm512_alignr_epi64(
		c[0], _mm512_inserti32x4(_mm512_setzero_si512(), *iv, 3), 6);
#pragma GCC unroll 8
	for (int j = 1; j < P; j++)
		prev[j] = _mm512_alignr_epi64(c[j], c[j - 1], 6);
#pragma GCC unroll 8
	for (int j = 0; j < P; j++)
		s[j] = _mm512_xor_si512(s[j], dk[0]);
	for (int r = 1; r < AES256_ROUNDS; r++) {
#pragma GCC unroll 8
		for (int j = 0; j < P; j++)
			s[j] = _mm512_aesdec_epi128(s[j], dk[r]);
	}
#pragma GCC unroll 8
	for (int j = 0; j < P; j++)
		_mm512_storeu_si512((void *)(p + 64 * j),
				    _mm512_xor_si512(_mm512_aesdeclast_epi128(
					    s[j], dk[AES256_ROUNDS]), prev[j]));
	*iv = _mm512_extracti32x4_epi32(c[P - 1], 3);
}

/* CBC decryption of the whole fours of nblk blocks at p, 32 blocks in
 * flight; returns the blocks done (nblk rounded down to a multiple of
 * 4). */
__attribute__((target("aes,avx512f,vaes")))
static size_t vaes512_cbc_dec(rk_t rk, uint8_t *p, size_t nblk, __m128i *iv)
{
	__m512i dk[AES256_ROUNDS + 1];
	const size_t done = nblk & ~(size_t)3;

	for (int r = 0; r <= AES256_ROUNDS; r++)
		dk[r] = _mm512_broadcast_i32x4(LD(rk[r]));
	for (; nblk >= 4 * ZREGS; nblk -= 4 * ZREGS) {
		zdec_run(ZREGS, dk, p, iv);
		p += 64 * ZREGS;
	}
	switch (nblk / 4) {
	case 7: zdec_run(7, dk, p, iv); break;
	case 6: zdec_run(6, dk, p, iv); break;
	case 5: zdec_run(5, dk, p, iv); break;
	case 4: zdec_run(4, dk, p, iv); break;
	case 3: zdec_run(3, dk, p, iv); break;
	case 2: zdec_run(2, dk, p, iv); break;
	case 1: zdec_run(1, dk, p, iv); break;
	default: break;
	}
	memwipe(dk, sizeof(dk));
	return done;
}
#endif /* AES_LAYER_X86 */

/* ---- the keys ---- */

struct aes_layer_keys *aes_layer_keys_new(
	const uint8_t layer_key[AES_LAYER_KEY_BYTES],
	const uint8_t iv_key[AES_LAYER_KEY_BYTES])
{
	struct aes_layer_keys *k = xzalloc(sizeof(*k));
	const uint8_t *key[2] = { layer_key, iv_key };

	for (int i = 0; i < 2; i++) {
#ifdef AES_LAYER_X86
		pthread_once(&hw_once, hw_detect);
		if (hw_present) {
			hw_expand(key[i], k->enc[i], k->dec[i]);
			continue;
		}
#endif
		/* the key itself, for the fallback to schedule */
		memcpy(k->enc[i], key[i], AES_LAYER_KEY_BYTES);
	}
	return k;
}

void aes_layer_keys_free(struct aes_layer_keys *k)
{
	if (!k)
		return;
	aes256_free(k->ossl[0]);
	aes256_free(k->ossl[1]);
	xfree_wipe(k, sizeof(*k));
}

/* ---- the OpenSSL fallback, one message at a time ---- */

static struct aes256_ctx *ossl(struct aes_layer_keys *k, int i)
{
	if (!k->ossl[i])
		k->ossl[i] = aes256_new((const uint8_t *)k->enc[i]); /* the key */
	return k->ossl[i];
}

static int ossl_encrypt(struct aes_layer_keys *k, uint8_t *msg, size_t len)
{
	uint8_t iv[AES_LAYER_IV_BYTES];
	int r;

	if ((r = aes256_ecb_encrypt(ossl(k, 1), msg, AES_LAYER_IV_BYTES)) != 0)
		return r;
	memcpy(iv, msg, AES_LAYER_IV_BYTES);
	if ((r = aes256_cbc_encrypt(ossl(k, 0), iv, msg + AES_LAYER_IV_BYTES,
				    len)) != 0)
		return r;
	return aes256_ecb_encrypt(ossl(k, 1), msg, AES_LAYER_IV_BYTES);
}

static int ossl_decrypt(struct aes_layer_keys *k, uint8_t *msg, size_t len)
{
	uint8_t iv[AES_LAYER_IV_BYTES];
	int r;

	if ((r = aes256_ecb_decrypt(ossl(k, 1), msg, AES_LAYER_IV_BYTES)) != 0)
		return r;
	memcpy(iv, msg, AES_LAYER_IV_BYTES);
	if ((r = aes256_cbc_decrypt(ossl(k, 0), iv, msg + AES_LAYER_IV_BYTES,
				    len)) != 0)
		return r;
	return aes256_ecb_decrypt(ossl(k, 1), msg, AES_LAYER_IV_BYTES);
}

/* ---- the step ---- */

int aes_layer_encrypt_n(struct aes_layer_keys *const *keys,
			uint8_t *const *msgs, size_t n, size_t data_len)
{
	int r;

	if (data_len % 16)
		return ERR_ARG;
#ifdef AES_LAYER_X86
	if (aes_layer_is_hw()) {
		hw_encrypt_n(keys, msgs, n, data_len / 16, aes_layer_path());
		return 0;
	}
#endif
	for (size_t i = 0; i < n; i++)
		if ((r = ossl_encrypt(keys[i], msgs[i], data_len)) != 0)
			return r;
	return 0;
}

int aes_layer_decrypt(struct aes_layer_keys *k, uint8_t *msg,
		      size_t data_len)
{
	if (data_len % 16)
		return ERR_ARG;
#ifdef AES_LAYER_X86
	if (aes_layer_is_hw()) {
		hw_decrypt(k, msg, data_len / 16, aes_layer_path());
		return 0;
	}
#endif
	return ossl_decrypt(k, msg, data_len);
}
