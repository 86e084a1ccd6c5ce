// SPDX-License-Identifier: MIT
/*
 * The memory-encryption engine: AES-128-XTS from OpenSSL's libcrypto, one
 * key per key ID, the physical address of each 64-byte line as the tweak.
 * This is how SME/SEV (AES with an address tweak) and MKTME/TDX (AES-XTS)
 * make the same plaintext at two addresses, or under two keys, look
 * unrelated. Key ID 0 is plaintext.
 *
 * OpenSSL cipher contexts are not thread-safe, so each thread keeps its own
 * set, keyed lazily and thrown away when the thread exits.
 */
#include "platform/platform.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct ccmm_mee {
	uint64_t gen;                         /* distinguishes engines for the per-thread caches */
	uint8_t key[CCMM_NR_KEYIDS][32];      /* XTS: two 128-bit keys */
};

struct mee_tls {
	uint64_t gen;
	EVP_CIPHER_CTX *ctx[CCMM_NR_KEYIDS][2]; /* [keyid][encrypt] */
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t mee_gen;

static void tls_free(void *p)
{
	struct mee_tls *t = p;

	if (!t)
		return;
	for (int k = 0; k < CCMM_NR_KEYIDS; k++)
		for (int e = 0; e < 2; e++)
			EVP_CIPHER_CTX_free(t->ctx[k][e]);
	free(t);
}

static void tls_init(void)
{
	pthread_key_create(&tls_key, tls_free);
}

int ccmm_mee_create(uint64_t seed, struct ccmm_mee **out)
{
	struct ccmm_mee *mee = calloc(1, sizeof(*mee));

	if (!mee)
		return -ENOMEM;
	pthread_once(&tls_once, tls_init);
	mee->gen = atomic_fetch_add(&mee_gen, 1) + 1;
	for (unsigned k = 1; k < CCMM_NR_KEYIDS; k++) {
		uint8_t msg[32];
		unsigned int len = 0;

		memset(msg, 0, sizeof(msg));
		memcpy(msg, "ccmm-mee-key", 12);
		memcpy(msg + 16, &seed, sizeof(seed));
		msg[24] = (uint8_t)k;
		if (!EVP_Digest(msg, sizeof(msg), mee->key[k], &len, EVP_sha256(), NULL) || len != 32) {
			free(mee);
			return -EIO;
		}
		/* XTS refuses equal halves; flip a bit in the (astronomically unlikely) case */
		if (!memcmp(mee->key[k], mee->key[k] + 16, 16))
			mee->key[k][31] ^= 1;
	}
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
	free(mee);
}

static EVP_CIPHER_CTX *get_ctx(struct ccmm_mee *mee, unsigned keyid, int enc)
{
	struct mee_tls *t = pthread_getspecific(tls_key);

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		pthread_setspecific(tls_key, t);
	}
	if (t->gen != mee->gen) {
		for (int k = 0; k < CCMM_NR_KEYIDS; k++)
			for (int e = 0; e < 2; e++) {
				EVP_CIPHER_CTX_free(t->ctx[k][e]);
				t->ctx[k][e] = NULL;
			}
		t->gen = mee->gen;
	}
	if (!t->ctx[keyid][enc]) {
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

		if (!c)
			return NULL;
		if (!EVP_CipherInit_ex(c, EVP_aes_128_xts(), NULL, mee->key[keyid], NULL, enc)) {
			EVP_CIPHER_CTX_free(c);
			return NULL;
		}
		t->ctx[keyid][enc] = c;
	}
	return t->ctx[keyid][enc];
}

static int crypt_line(struct ccmm_mee *mee, unsigned keyid, uint64_t pa, const uint8_t *in, uint8_t *out,
		      int enc)
{
	uint8_t iv[16] = { 0 };
	EVP_CIPHER_CTX *c;
	int outl = 0;

	if (keyid >= CCMM_NR_KEYIDS || !CCMM_IS_ALIGNED(pa, CCMM_LINE_SIZE))
		return -EINVAL;
	if (keyid == CCMM_KEYID_NONE) {
		memmove(out, in, CCMM_LINE_SIZE);
		return 0;
	}
	c = get_ctx(mee, keyid, enc);
	if (!c)
		return -ENOMEM;
	for (int i = 0; i < 8; i++)
		iv[i] = (uint8_t)(pa >> (8 * i));
	if (!EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, enc) ||
	    !EVP_CipherUpdate(c, out, &outl, in, (int)CCMM_LINE_SIZE) || outl != (int)CCMM_LINE_SIZE)
		return -EIO;
	return 0;
}

int ccmm_mee_encrypt_line(struct ccmm_mee *mee, unsigned keyid, uint64_t pa, const uint8_t *in, uint8_t *out)
{
	return crypt_line(mee, keyid, pa, in, out, 1);
}

int ccmm_mee_decrypt_line(struct ccmm_mee *mee, unsigned keyid, uint64_t pa, const uint8_t *in, uint8_t *out)
{
	return crypt_line(mee, keyid, pa, in, out, 0);
}
