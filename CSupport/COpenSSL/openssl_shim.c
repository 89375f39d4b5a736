#include "COpenSSL.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

static const EVP_MD *md_for(int algorithm) {
    switch (algorithm) {
    case 1: return EVP_md5();
    case 2: return EVP_sha1();
    case 3: return EVP_sha256();
    case 4: return EVP_sha512();
    default: return NULL;
    }
}

const char *tdm_openssl_version(void) { return OpenSSL_version(OPENSSL_VERSION); }

int tdm_digest(int algorithm, const uint8_t *data, size_t len, uint8_t *out, size_t out_cap) {
    const EVP_MD *md = md_for(algorithm);
    if (md == NULL || out_cap < (size_t)EVP_MD_size(md)) return -1;
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, md, NULL) != 1) return -1;
    return (int)n;
}

int tdm_hmac(int algorithm, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t *out, size_t out_cap) {
    const EVP_MD *md = md_for(algorithm);
    if (md == NULL || out_cap < (size_t)EVP_MD_size(md)) return -1;
    unsigned int n = 0;
    if (HMAC(md, key, (int)key_len, data, len, out, &n) == NULL) return -1;
    return (int)n;
}

int tdm_pbkdf2_sha256(const char *password, size_t password_len, const uint8_t *salt, size_t salt_len,
                      uint32_t iterations, uint8_t *out, size_t out_len) {
    return PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, (int)iterations,
                             EVP_sha256(), (int)out_len, out) == 1 ? 0 : -1;
}

int tdm_random_bytes(uint8_t *out, size_t len) { return RAND_bytes(out, (int)len) == 1 ? 0 : -1; }

int tdm_constant_time_equal(const uint8_t *a, const uint8_t *b, size_t len) { return CRYPTO_memcmp(a, b, len) == 0; }
