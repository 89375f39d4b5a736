/* OpenSSL libcrypto, narrowed to what TandemBase needs: digests, HMAC, PBKDF2, random bytes. */
#ifndef TANDEM_COPENSSL_H
#define TANDEM_COPENSSL_H
#include <stddef.h>
#include <stdint.h>

/* "OpenSSL 3.0.x ..." */
const char *tdm_openssl_version(void);
/* algorithm: 1 MD5, 2 SHA-1, 3 SHA-256, 4 SHA-512. Writes the digest into out; returns its length or -1. */
int tdm_digest(int algorithm, const uint8_t *data, size_t len, uint8_t *out, size_t out_cap);
int tdm_hmac(int algorithm, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t *out, size_t out_cap);
/* PBKDF2-HMAC-SHA256. Returns 0 on success. */
int tdm_pbkdf2_sha256(const char *password, size_t password_len, const uint8_t *salt, size_t salt_len,
                      uint32_t iterations, uint8_t *out, size_t out_len);
/* Cryptographically secure random bytes. Returns 0 on success. */
int tdm_random_bytes(uint8_t *out, size_t len);
/* Constant-time comparison: 1 when equal. */
int tdm_constant_time_equal(const uint8_t *a, const uint8_t *b, size_t len);
#endif
