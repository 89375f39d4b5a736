/* OpenSSL libcrypto, narrowed to what TandemBase needs: digests, HMAC, PBKDF2, random bytes, self-signed certificates. */
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
/* Generates an EC P-256 key and a self-signed X.509 v3 certificate (SHA-256 signature, serial from random bytes,
   valid from now for `days` days, subject and issuer CN=common_name, subjectAltName DNS:common_name when given).
   Writes the PEM texts (not NUL-terminated) into the caller's buffers and their lengths into *_len.
   Returns 0 on success, -1 on an OpenSSL failure, -2 when a buffer is too small. */
int tdm_selfsigned_generate(const char *common_name, uint32_t days,
                            char *cert_out, size_t cert_cap, size_t *cert_len,
                            char *key_out, size_t key_cap, size_t *key_len);
/* SHA-256 of the DER encoding of the first certificate in a PEM text. Writes 32 bytes. Returns 0 on success. */
int tdm_certificate_sha256_fingerprint(const char *pem, size_t pem_len, uint8_t out[32]);
#endif
