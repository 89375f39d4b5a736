/* SRTP-oriented cipher contexts over OpenSSL 3. The key schedule is expanded once per context and each
 * packet costs only the blocks it needs: no re-initialisation and no allocation per call. */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA1_Init & co.: deprecated in 3.0 but the fastest keyed HMAC */
#include "COpenSSLCipher.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/modes.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* Counter-mode keystream is produced by encrypting counter blocks with an ECB context: EVP_EncryptUpdate on
 * ECB needs no per-packet re-initialisation, whereas re-installing an IV through EVP_EncryptInit_ex costs
 * ~100 ns in OpenSSL 3.0 (it queries the IV length through OSSL_PARAM string lookups). */
#define TDM_CHUNK_BLOCKS 32

struct tdm_aes_ctr {
    EVP_CIPHER_CTX *ecb;
    uint8_t counters[TDM_CHUNK_BLOCKS * 16];
    uint8_t keystream[TDM_CHUNK_BLOCKS * 16];
};

struct tdm_aes_gcm {
    EVP_CIPHER_CTX *ecb;
    GCM128_CONTEXT *gcm;
    uint8_t counters[TDM_CHUNK_BLOCKS * 16];
    uint8_t keystream[TDM_CHUNK_BLOCKS * 16];
};
struct tdm_hmac_sha1 { SHA_CTX inner; SHA_CTX outer; };

static EVP_CIPHER_CTX *ecb_ctx(const uint8_t *key, size_t key_len) {
    const EVP_CIPHER *cipher = key_len == 16 ? EVP_aes_128_ecb() : key_len == 32 ? EVP_aes_256_ecb() : NULL;
    if (cipher == NULL) return NULL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return NULL;
    if (EVP_EncryptInit_ex(ctx, cipher, NULL, key, NULL) != 1 || EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* XORs the keystream for `blocks`-many counter blocks starting at ctr into in -> out. The counter is
 * incremented as a big-endian integer over its last `width` bytes (16: full CTR; 4: GCM's inc32). */
static int ctr_xor(EVP_CIPHER_CTX *ecb, uint8_t *counters, uint8_t *keystream, uint8_t ctr[16], int width,
                   const uint8_t *in, uint8_t *out, size_t len) {
    while (len > 0) {
        size_t blocks = (len + 15) / 16;
        if (blocks > TDM_CHUNK_BLOCKS) blocks = TDM_CHUNK_BLOCKS;
        for (size_t b = 0; b < blocks; b++) {
            memcpy(counters + 16 * b, ctr, 16);
            for (int i = 15; i >= 16 - width; i--) {
                if (++ctr[i] != 0) break;
            }
        }
        int n = 0;
        if (EVP_EncryptUpdate(ecb, keystream, &n, counters, (int)(blocks * 16)) != 1) return -1;
        size_t chunk = blocks * 16 < len ? blocks * 16 : len;
        for (size_t i = 0; i < chunk; i++) out[i] = in[i] ^ keystream[i];
        in += chunk;
        out += chunk;
        len -= chunk;
    }
    return 0;
}

tdm_aes_ctr *tdm_aes_ctr_create(const uint8_t *key, size_t key_len) {
    tdm_aes_ctr *c = calloc(1, sizeof(*c));
    if (c == NULL) return NULL;
    c->ecb = ecb_ctx(key, key_len);
    if (c->ecb == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void tdm_aes_ctr_free(tdm_aes_ctr *c) {
    if (c == NULL) return;
    EVP_CIPHER_CTX_free(c->ecb);
    OPENSSL_cleanse(c, sizeof(*c));
    free(c);
}

int tdm_aes_ctr_xor(tdm_aes_ctr *c, const uint8_t *iv, uint8_t *data, size_t len) {
    uint8_t ctr[16];
    memcpy(ctr, iv, 16);
    return ctr_xor(c->ecb, c->counters, c->keystream, ctr, 16, data, data, len);
}

/* block128_f and ctr128_f for CRYPTO_gcm128: the "key" is our context. GHASH runs in OpenSSL's
 * CPU-dispatched code (PCLMULQDQ where available). */
static void gcm_block(const unsigned char in[16], unsigned char out[16], const void *key) {
    tdm_aes_gcm *g = (tdm_aes_gcm *)key;
    int n = 0;
    EVP_EncryptUpdate(g->ecb, out, &n, in, 16);
}

static void gcm_ctr32(const unsigned char *in, unsigned char *out, size_t blocks, const void *key,
                      const unsigned char ivec[16]) {
    tdm_aes_gcm *g = (tdm_aes_gcm *)key;
    uint8_t ctr[16];
    memcpy(ctr, ivec, 16);
    ctr_xor(g->ecb, g->counters, g->keystream, ctr, 4, in, out, blocks * 16);
}

tdm_aes_gcm *tdm_aes_gcm_create(const uint8_t *key, size_t key_len) {
    tdm_aes_gcm *g = calloc(1, sizeof(*g));
    if (g == NULL) return NULL;
    g->ecb = ecb_ctx(key, key_len);
    if (g->ecb != NULL) g->gcm = CRYPTO_gcm128_new(g, gcm_block);
    if (g->ecb == NULL || g->gcm == NULL) {
        tdm_aes_gcm_free(g);
        return NULL;
    }
    return g;
}

void tdm_aes_gcm_free(tdm_aes_gcm *g) {
    if (g == NULL) return;
    if (g->gcm != NULL) CRYPTO_gcm128_release(g->gcm);
    EVP_CIPHER_CTX_free(g->ecb);
    OPENSSL_cleanse(g, sizeof(*g));
    free(g);
}

int tdm_aes_gcm_seal(tdm_aes_gcm *g, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                     const uint8_t *aad2, size_t aad2_len, uint8_t *data, size_t len, uint8_t *tag) {
    CRYPTO_gcm128_setiv(g->gcm, iv, 12);
    if (aad_len > 0 && CRYPTO_gcm128_aad(g->gcm, aad, aad_len) != 0) return -1;
    if (aad2_len > 0 && CRYPTO_gcm128_aad(g->gcm, aad2, aad2_len) != 0) return -1;
    if (len > 0 && CRYPTO_gcm128_encrypt_ctr32(g->gcm, data, data, len, gcm_ctr32) != 0) return -1;
    CRYPTO_gcm128_tag(g->gcm, tag, 16);
    return 0;
}

int tdm_aes_gcm_open(tdm_aes_gcm *g, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                     const uint8_t *aad2, size_t aad2_len, uint8_t *data, size_t len, const uint8_t *tag) {
    CRYPTO_gcm128_setiv(g->gcm, iv, 12);
    if (aad_len > 0 && CRYPTO_gcm128_aad(g->gcm, aad, aad_len) != 0) return -1;
    if (aad2_len > 0 && CRYPTO_gcm128_aad(g->gcm, aad2, aad2_len) != 0) return -1;
    if (len > 0 && CRYPTO_gcm128_decrypt_ctr32(g->gcm, data, data, len, gcm_ctr32) != 0) return -1;
    /* CRYPTO_gcm128_finish compares in constant time (CRYPTO_memcmp). */
    return CRYPTO_gcm128_finish(g->gcm, tag, 16) == 0 ? 0 : 1;
}

tdm_hmac_sha1 *tdm_hmac_sha1_create(const uint8_t *key, size_t key_len) {
    /* RFC 2104: keys longer than the 64-byte block are hashed first; then K^ipad and K^opad are
     * absorbed once so each MAC costs only the message blocks plus two finals. */
    uint8_t block[64] = {0};
    if (key_len > 64) {
        SHA1(key, key_len, block);
    } else if (key_len > 0) {
        memcpy(block, key, key_len);
    }
    tdm_hmac_sha1 *h = calloc(1, sizeof(*h));
    if (h == NULL) return NULL;
    uint8_t pad[64];
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    SHA1_Init(&h->inner);
    SHA1_Update(&h->inner, pad, 64);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    SHA1_Init(&h->outer);
    SHA1_Update(&h->outer, pad, 64);
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
    return h;
}

void tdm_hmac_sha1_free(tdm_hmac_sha1 *h) {
    if (h == NULL) return;
    OPENSSL_cleanse(h, sizeof(*h));
    free(h);
}

void tdm_hmac_sha1_mac(const tdm_hmac_sha1 *h, const uint8_t *a, size_t a_len,
                       const uint8_t *b, size_t b_len, uint8_t *out) {
    SHA_CTX ctx = h->inner;
    uint8_t digest[20];
    SHA1_Update(&ctx, a, a_len);
    if (b_len > 0) SHA1_Update(&ctx, b, b_len);
    SHA1_Final(digest, &ctx);
    ctx = h->outer;
    SHA1_Update(&ctx, digest, 20);
    SHA1_Final(out, &ctx);
}
