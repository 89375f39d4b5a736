/* SRTP-oriented cipher contexts over OpenSSL 3. The key schedule is expanded once per context; each call
 * only installs a new IV, which is what makes per-packet cost low. */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA1_Init & co.: deprecated in 3.0 but the fastest keyed HMAC */
#include "COpenSSLCipher.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

struct tdm_aes_ctr { EVP_CIPHER_CTX *ctx; };
struct tdm_aes_gcm { EVP_CIPHER_CTX *enc; EVP_CIPHER_CTX *dec; };
struct tdm_hmac_sha1 { SHA_CTX inner; SHA_CTX outer; };

tdm_aes_ctr *tdm_aes_ctr_create(const uint8_t *key, size_t key_len) {
    const EVP_CIPHER *cipher = key_len == 16 ? EVP_aes_128_ctr() : key_len == 32 ? EVP_aes_256_ctr() : NULL;
    if (cipher == NULL) return NULL;
    tdm_aes_ctr *c = calloc(1, sizeof(*c));
    if (c == NULL) return NULL;
    c->ctx = EVP_CIPHER_CTX_new();
    uint8_t zero[16] = {0};
    if (c->ctx == NULL || EVP_EncryptInit_ex(c->ctx, cipher, NULL, key, zero) != 1) {
        tdm_aes_ctr_free(c);
        return NULL;
    }
    return c;
}

void tdm_aes_ctr_free(tdm_aes_ctr *c) {
    if (c == NULL) return;
    EVP_CIPHER_CTX_free(c->ctx);
    free(c);
}

int tdm_aes_ctr_xor(tdm_aes_ctr *c, const uint8_t *iv, uint8_t *data, size_t len) {
    /* NULL cipher and key keep the expanded key; only the counter block (and the partial-block offset) reset. */
    if (EVP_EncryptInit_ex(c->ctx, NULL, NULL, NULL, iv) != 1) return -1;
    if (len == 0) return 0;
    int out = 0;
    return EVP_EncryptUpdate(c->ctx, data, &out, data, (int)len) == 1 ? 0 : -1;
}

static EVP_CIPHER_CTX *gcm_ctx(const EVP_CIPHER *cipher, const uint8_t *key, int enc) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return NULL;
    if (EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, enc) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

tdm_aes_gcm *tdm_aes_gcm_create(const uint8_t *key, size_t key_len) {
    const EVP_CIPHER *cipher = key_len == 16 ? EVP_aes_128_gcm() : key_len == 32 ? EVP_aes_256_gcm() : NULL;
    if (cipher == NULL) return NULL;
    tdm_aes_gcm *g = calloc(1, sizeof(*g));
    if (g == NULL) return NULL;
    g->enc = gcm_ctx(cipher, key, 1);
    g->dec = gcm_ctx(cipher, key, 0);
    if (g->enc == NULL || g->dec == NULL) {
        tdm_aes_gcm_free(g);
        return NULL;
    }
    return g;
}

void tdm_aes_gcm_free(tdm_aes_gcm *g) {
    if (g == NULL) return;
    EVP_CIPHER_CTX_free(g->enc);
    EVP_CIPHER_CTX_free(g->dec);
    free(g);
}

int tdm_aes_gcm_seal(tdm_aes_gcm *g, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                     const uint8_t *aad2, size_t aad2_len, uint8_t *data, size_t len, uint8_t *tag) {
    int out = 0;
    if (EVP_EncryptInit_ex(g->enc, NULL, NULL, NULL, iv) != 1) return -1;
    if (aad_len > 0 && EVP_EncryptUpdate(g->enc, NULL, &out, aad, (int)aad_len) != 1) return -1;
    if (aad2_len > 0 && EVP_EncryptUpdate(g->enc, NULL, &out, aad2, (int)aad2_len) != 1) return -1;
    if (len > 0 && EVP_EncryptUpdate(g->enc, data, &out, data, (int)len) != 1) return -1;
    if (EVP_EncryptFinal_ex(g->enc, data + len, &out) != 1) return -1;
    return EVP_CIPHER_CTX_ctrl(g->enc, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1 ? 0 : -1;
}

int tdm_aes_gcm_open(tdm_aes_gcm *g, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                     const uint8_t *aad2, size_t aad2_len, uint8_t *data, size_t len, const uint8_t *tag) {
    int out = 0;
    if (EVP_DecryptInit_ex(g->dec, NULL, NULL, NULL, iv) != 1) return -1;
    if (aad_len > 0 && EVP_DecryptUpdate(g->dec, NULL, &out, aad, (int)aad_len) != 1) return -1;
    if (aad2_len > 0 && EVP_DecryptUpdate(g->dec, NULL, &out, aad2, (int)aad2_len) != 1) return -1;
    if (len > 0 && EVP_DecryptUpdate(g->dec, data, &out, data, (int)len) != 1) return -1;
    if (EVP_CIPHER_CTX_ctrl(g->dec, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) != 1) return -1;
    return EVP_DecryptFinal_ex(g->dec, data + len, &out) == 1 ? 0 : 1;
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
