// SPDX-License-Identifier: MIT
/*
 * The memory-encryption engine: AES-128-XTS, one key per key ID, each
 * 64-byte line a data unit whose tweak is its physical address. This is
 * how SME/SEV (AES with an address tweak) and MKTME/TDX (AES-XTS) make the
 * same plaintext at two addresses, or under two keys, look unrelated. Key
 * ID 0 is plaintext.
 *
 * The block cipher is OpenSSL's AES (libcrypto, AES-NI where the CPU has
 * it). XTS over 64-byte units costs a cipher call per line through EVP's
 * XTS mode (the IV is set per call), so a run of lines is done with two
 * ECB calls instead, which is the same function (IEEE 1619):
 *
 *   T_i      = AES-ECB(K2, pa_i as a little-endian 128-bit number)  one call for the run's tweaks
 *   T_i,j    = T_i * alpha^j in GF(2^128)                            j = 0..3, the line's four blocks
 *   C_i,j    = AES-ECB(K1, P_i,j ^ T_i,j) ^ T_i,j                    one call for the run's blocks
 *
 * tests/platform checks the result against EVP_aes_128_xts line by line.
 *
 * A page's tweaks depend only on the tweak key and the address, not on the
 * data, so each thread keeps the whole tweak stream (4 KiB: 256 blocks) of
 * the last pages it ciphered in a small direct-mapped cache: a page
 * ciphered again (a DMA buffer bounced over and over, the SWIOTLB slots)
 * costs one ECB call and two XOR passes, as XTS over a 4 KiB unit does. A
 * run of a few lines of a page not in the cache computes just its own
 * tweaks (a 64-byte access does not pay for 64 lines).
 *
 * OpenSSL cipher contexts are not thread-safe, so each thread keeps its own
 * set, keyed on first use and thrown away when the thread exits.
 */
#include "platform/platform.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* Lines per cipher call: at most a page (a run never crosses one), so the tweaks and blocks stay in L1. */
#define RUN_LINES CCMM_LINES_PER_PAGE
#define BLOCKS_PER_LINE (CCMM_LINE_SIZE / 16)
#define PAGE_BLOCKS (RUN_LINES * BLOCKS_PER_LINE)
/* Pages whose tweak streams a thread keeps (4 KiB each), and the run that fills an entry on a miss. */
#define TWEAK_PAGES 64
#define TWEAK_FILL_LINES 8

struct ccmm_mee {
	uint64_t gen;                         /* distinguishes engines for the per-thread caches */
	uint64_t seed;                        /* the keys are derived from it at their first use */
	_Atomic bool keyed;                   /* key[] derived (release-stored under key_lock) */
	pthread_mutex_t key_lock;
	uint8_t key[CCMM_NR_KEYIDS][32];      /* XTS: two 128-bit keys, data (K1) then tweak (K2) */
};

/* One key's ECB contexts: K1 both ways, K2 forwards (tweaks are only ever encrypted). */
struct mee_key {
	EVP_CIPHER_CTX *enc, *dec, *tweak;
};

typedef uint64_t block_t __attribute__((vector_size(16)));

/* One page's tweak stream under one key: tag = page address | key ID << 1 | 1 (0: empty). */
struct tweak_page {
	uint64_t tag;
	block_t tw[PAGE_BLOCKS];
};

_Static_assert(CCMM_NR_KEYIDS << 1 < CCMM_PAGE_SIZE, "the tweak cache's tag holds the key ID below the page address");

struct mee_tls {
	uint64_t gen;
	struct mee_key k[CCMM_NR_KEYIDS];
	struct tweak_page *tp; /* TWEAK_PAGES entries, allocated on first use; emptied when the engine changes */
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t mee_gen;
/* This thread's contexts (also registered under tls_key, which frees them at thread exit). */
static _Thread_local struct mee_tls *tls_cur;

static void key_free(struct mee_key *k)
{
	EVP_CIPHER_CTX_free(k->enc);
	EVP_CIPHER_CTX_free(k->dec);
	EVP_CIPHER_CTX_free(k->tweak);
	memset(k, 0, sizeof(*k));
}

static void tls_free(void *p)
{
	struct mee_tls *t = p;

	if (!t)
		return;
	for (int k = 0; k < CCMM_NR_KEYIDS; k++)
		key_free(&t->k[k]);
	if (tls_cur == t)
		tls_cur = NULL;
	free(t->tp);
	free(t);
}

static bool xor_avx2; /* xor_lines() in AVX2 */
static bool cpu_has_avx2(void);

static void tls_init(void)
{
	pthread_key_create(&tls_key, tls_free);
	xor_avx2 = cpu_has_avx2();
}

/*
 * The keys, derived from the machine's seed by SHA-256 at the first use of
 * any (a run that never needs the cipher never starts libcrypto). 0 or -EIO.
 */
static int derive_keys(struct ccmm_mee *mee)
{
	int ret = 0;

	if (atomic_load_explicit(&mee->keyed, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&mee->key_lock);
	for (unsigned k = 1; k < CCMM_NR_KEYIDS && !atomic_load_explicit(&mee->keyed, memory_order_relaxed); k++) {
		uint8_t msg[32];
		unsigned int len = 0;

		memset(msg, 0, sizeof(msg));
		memcpy(msg, "ccmm-mee-key", 12);
		memcpy(msg + 16, &mee->seed, sizeof(mee->seed));
		msg[24] = (uint8_t)k;
		if (!EVP_Digest(msg, sizeof(msg), mee->key[k], &len, EVP_sha256(), NULL) || len != 32) {
			ret = -EIO;
			break;
		}
		/* XTS refuses equal halves; flip a bit in the (astronomically unlikely) case */
		if (!memcmp(mee->key[k], mee->key[k] + 16, 16))
			mee->key[k][31] ^= 1;
	}
	if (!ret)
		atomic_store_explicit(&mee->keyed, true, memory_order_release);
	pthread_mutex_unlock(&mee->key_lock);
	return ret;
}

int ccmm_mee_create(uint64_t seed, struct ccmm_mee **out)
{
	struct ccmm_mee *mee = calloc(1, sizeof(*mee));

	if (!mee)
		return -ENOMEM;
	pthread_once(&tls_once, tls_init);
	mee->gen = atomic_fetch_add(&mee_gen, 1) + 1;
	mee->seed = seed;
	pthread_mutex_init(&mee->key_lock, NULL);
	*out = mee;
	return 0;
}

void ccmm_mee_destroy(struct ccmm_mee *mee)
{
	struct mee_tls *t;

	if (!mee)
		return;
	/* Free this thread's contexts now rather than at thread exit. */
	t = pthread_getspecific(tls_key);
	if (t && t->gen == mee->gen) {
		tls_free(t);
		pthread_setspecific(tls_key, NULL);
	}
	pthread_mutex_destroy(&mee->key_lock);
	free(mee);
}

static EVP_CIPHER_CTX *ecb_ctx(const uint8_t key[16], int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (!c)
		return NULL;
	if (!EVP_CipherInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL, enc) || !EVP_CIPHER_CTX_set_padding(c, 0)) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

/* This thread's contexts for @keyid, keyed on first use (*@tp: its state). NULL: out of memory or OpenSSL failed. */
static struct mee_key *get_key(struct ccmm_mee *mee, unsigned keyid, struct mee_tls **tp)
{
	struct mee_tls *t = tls_cur;
	struct mee_key *k;

	if (!t) {
		t = pthread_getspecific(tls_key);
		if (!t) {
			t = calloc(1, sizeof(*t));
			if (!t)
				return NULL;
			pthread_setspecific(tls_key, t);
		}
		tls_cur = t;
	}
	if (t->gen != mee->gen) {
		for (int i = 0; i < CCMM_NR_KEYIDS; i++)
			key_free(&t->k[i]);
		if (t->tp)
			for (int i = 0; i < TWEAK_PAGES; i++)
				t->tp[i].tag = 0;
		t->gen = mee->gen;
	}
	*tp = t;
	k = &t->k[keyid];
	if (!k->enc) {
		if (derive_keys(mee))
			return NULL;
		k->enc = ecb_ctx(mee->key[keyid], 1);
		k->dec = ecb_ctx(mee->key[keyid], 0);
		k->tweak = ecb_ctx(mee->key[keyid] + 16, 1);
		if (!k->enc || !k->dec || !k->tweak) {
			key_free(k);
			return NULL;
		}
	}
	return k;
}

/*
 * block_t: 16 bytes as two 64-bit halves, for the tweak arithmetic (SSE2
 * on x86-64; the compiler splits it elsewhere). The halves are the block's
 * bytes 0-7 and 8-15 read as numbers, which is XTS's little-endian order
 * on a little-endian host.
 */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mee.c: the XTS tweak arithmetic assumes a little-endian host"
#endif

/* Multiply the tweak @t by alpha in GF(2^128): a 128-bit little-endian shift, x^128 = x^7 + x^2 + x + 1. */
static inline block_t mul_alpha(block_t t)
{
	block_t carry = t >> 63;                                 /* each half's top bit */
	block_t swapped = __builtin_shufflevector(carry, carry, 1, 0); /* into the other half (GCC 12+ and clang) */

	return (t << 1) ^ (-swapped & (block_t){ 0x87, 1 });
}

/* The tweaks of @n lines at @pa (the blocks' T_i,j, in order) into @tw: one ECB call. */
static int line_tweaks(struct mee_key *k, uint64_t pa, size_t n, block_t *tw)
{
	block_t tin[RUN_LINES], t0[RUN_LINES];
	int outl = 0;

	for (size_t i = 0; i < n; i++)
		tin[i] = (block_t){ pa + i * CCMM_LINE_SIZE, 0 };
	if (!EVP_EncryptUpdate(k->tweak, (uint8_t *)t0, &outl, (const uint8_t *)tin, (int)(n * 16)) || outl != (int)(n * 16))
		return -EIO;
	/* each line's four tweaks: T, T*alpha, T*alpha^2, T*alpha^3 */
	for (size_t i = 0; i < n; i++) {
		block_t t = t0[i], t1 = mul_alpha(t), t2 = mul_alpha(t1);

		tw[4 * i] = t;
		tw[4 * i + 1] = t1;
		tw[4 * i + 2] = t2;
		tw[4 * i + 3] = mul_alpha(t2);
	}
	return 0;
}

/*
 * The tweaks of @n lines at @pa (within one page) under key @keyid: from
 * this thread's cache, computed into the cache when the run is long enough
 * to pay for the whole page, else computed into @buf. NULL on a cipher error.
 */
static const block_t *run_tweaks(struct mee_tls *t, struct mee_key *k, unsigned keyid, uint64_t pa, size_t n,
				 block_t *buf)
{
	uint64_t page = CCMM_ALIGN_DOWN(pa, CCMM_PAGE_SIZE), tag = page | (uint64_t)keyid << 1 | 1;
	size_t first = (size_t)((pa - page) / CCMM_LINE_SIZE) * BLOCKS_PER_LINE;
	struct tweak_page *e;

	if (!t->tp && n >= TWEAK_FILL_LINES)
		t->tp = calloc(TWEAK_PAGES, sizeof(*t->tp)); /* without it, every run computes its own */
	if (!t->tp)
		return line_tweaks(k, pa, n, buf) ? NULL : buf;
	e = &t->tp[((page >> CCMM_PAGE_SHIFT) ^ keyid * 0x9e37) % TWEAK_PAGES];
	if (e->tag == tag)
		return e->tw + first;
	if (n < TWEAK_FILL_LINES)
		return line_tweaks(k, pa, n, buf) ? NULL : buf;
	e->tag = 0;
	if (line_tweaks(k, page, RUN_LINES, e->tw))
		return NULL;
	e->tag = tag;
	return e->tw + first;
}

/*
 * @out = @in ^ @tw over @n lines: half a line (32 bytes) per AVX2 XOR
 * where the CPU has AVX2, a block (16 bytes) per SSE2 XOR elsewhere. These
 * two passes are all XTS adds to ECB here. The choice is made once, by
 * tls_init() (run through pthread_once before an engine exists), with a
 * plain check and not an ifunc: an ifunc resolver runs before the
 * sanitizers' runtimes are up and crashes in their builds.
 */

static void xor_lines_sse2(uint8_t *out, const uint8_t *in, const block_t *tw, size_t n)
{
	for (size_t b = 0; b < n * BLOCKS_PER_LINE; b++) {
		block_t v;

		memcpy(&v, in + 16 * b, sizeof(v));
		v ^= tw[b];
		memcpy(out + 16 * b, &v, sizeof(v));
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
/* half a line at any address (a whole line as one vector compiles to a spill through the stack) */
typedef uint64_t half_t __attribute__((vector_size(CCMM_LINE_SIZE / 2), aligned(1), may_alias));

__attribute__((target("avx2"))) static void xor_lines_avx2(uint8_t *out, const uint8_t *in, const block_t *tw,
							   size_t n)
{
	const half_t *a = (const half_t *)(const void *)in, *b = (const half_t *)(const void *)tw;
	half_t *o = (half_t *)(void *)out;

	for (size_t i = 0; i < 2 * n; i++)
		o[i] = a[i] ^ b[i];
}

static bool cpu_has_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}
#else
#define xor_lines_avx2 xor_lines_sse2
static bool cpu_has_avx2(void)
{
	return false;
}
#endif

static inline void xor_lines(uint8_t *out, const uint8_t *in, const block_t *tw, size_t n)
{
	if (xor_avx2)
		xor_lines_avx2(out, in, tw, n);
	else
		xor_lines_sse2(out, in, tw, n);
}

/* @n lines at @pa (within one page) through @k: XTS per line, one ECB call (two without cached tweaks). */
static int xts_run(struct mee_tls *t, struct mee_key *k, unsigned keyid, uint64_t pa, const uint8_t *in, uint8_t *out,
		   size_t n, int enc)
{
	block_t buf[PAGE_BLOCKS];
	const block_t *tw = run_tweaks(t, k, keyid, pa, n, buf);
	int len = (int)(n * CCMM_LINE_SIZE), outl = 0;

	if (!tw)
		return -EIO;
	/* out = ECB(in ^ T) ^ T, in place in @out (which may be @in) */
	xor_lines(out, in, tw, n);
	if (!EVP_CipherUpdate(enc ? k->enc : k->dec, out, &outl, out, len) || outl != len)
		return -EIO;
	xor_lines(out, out, tw, n);
	return 0;
}

static int crypt_run(struct ccmm_mee *mee, unsigned keyid, uint64_t pa, const uint8_t *in, uint8_t *out, size_t len,
		     int enc)
{
	struct mee_tls *t;
	struct mee_key *k;

	if (keyid >= CCMM_NR_KEYIDS || !CCMM_IS_ALIGNED(pa, CCMM_LINE_SIZE) || !CCMM_IS_ALIGNED(len, CCMM_LINE_SIZE))
		return -EINVAL;
	if (keyid == CCMM_KEYID_NONE) {
		if (in != out)
			memmove(out, in, len);
		return 0;
	}
	k = get_key(mee, keyid, &t);
	if (!k)
		return -ENOMEM;
	while (len) {
		/* up to the end of the page */
		size_t n = CCMM_MIN(len, CCMM_PAGE_SIZE - (pa & (CCMM_PAGE_SIZE - 1))) / CCMM_LINE_SIZE;
		int ret = xts_run(t, k, keyid, pa, in, out, n, enc);

		if (ret)
			return ret;
		pa += n * CCMM_LINE_SIZE;
		in += n * CCMM_LINE_SIZE;
		out += n * CCMM_LINE_SIZE;
		len -= n * CCMM_LINE_SIZE;
	}
	return 0;
}

int ccmm_mee_encrypt(struct ccmm_mee *mee, unsigned keyid, uint64_t pa, const uint8_t *in, uint8_t *out, size_t len)
{
	return crypt_run(mee, keyid, pa, in, out, len, 1);
}

int ccmm_mee_decrypt(struct ccmm_mee *mee, unsigned keyid, uint64_t pa, const uint8_t *in, uint8_t *out, size_t len)
{
	return crypt_run(mee, keyid, pa, in, out, len, 0);
}

int ccmm_mee_encrypt_line(struct ccmm_mee *mee, unsigned keyid, uint64_t pa, const uint8_t *in, uint8_t *out)
{
	return crypt_run(mee, keyid, pa, in, out, CCMM_LINE_SIZE, 1);
}

int ccmm_mee_decrypt_line(struct ccmm_mee *mee, unsigned keyid, uint64_t pa, const uint8_t *in, uint8_t *out)
{
	return crypt_run(mee, keyid, pa, in, out, CCMM_LINE_SIZE, 0);
}

const char *const ccmm_mee_mode_names[] = { "on-demand", "eager", NULL };

const char *ccmm_mee_mode_name(enum ccmm_mee_mode mode)
{
	return (unsigned)mode < CCMM_MEE_MODE_NR ? ccmm_mee_mode_names[mode] : "?";
}

int ccmm_mee_mode_parse(const char *name)
{
	for (int i = 0; ccmm_mee_mode_names[i]; i++)
		if (!strcmp(name, ccmm_mee_mode_names[i]))
			return i;
	return -1;
}
