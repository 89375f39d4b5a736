/* OpenSSL libcrypto ciphers for SRTP: AES counter mode, AES-GCM and HMAC-SHA1 with contexts that are
 * keyed once and reused per packet (no allocation per call). Each context is owned by one thread. */
#ifndef TANDEM_COPENSSL_CIPHER_H
#define TANDEM_COPENSSL_CIPHER_H
#include <stddef.h>
#include <stdint.h>

typedef struct tdm_aes_ctr tdm_aes_ctr;
typedef struct tdm_aes_gcm tdm_aes_gcm;
typedef struct tdm_hmac_sha1 tdm_hmac_sha1;

/* AES-CTR with a 16- or 32-byte key; NULL on failure or a bad key length. */
tdm_aes_ctr *tdm_aes_ctr_create(const uint8_t *key, size_t key_len);
void tdm_aes_ctr_free(tdm_aes_ctr *ctx);
/* XORs the keystream that starts at the 16-byte counter block iv into data[0..<len], in place. 0 on success. */
int tdm_aes_ctr_xor(tdm_aes_ctr *ctx, const uint8_t *iv, uint8_t *data, size_t len);

/* AES-GCM with a 16- or 32-byte key, 12-byte IV and 16-byte tag; NULL on failure. */
tdm_aes_gcm *tdm_aes_gcm_create(const uint8_t *key, size_t key_len);
void tdm_aes_gcm_free(tdm_aes_gcm *ctx);
/* Encrypts data in place, authenticating aad || aad2 (either may be empty), and writes the 16-byte tag.
 * 0 on success. */
int tdm_aes_gcm_seal(tdm_aes_gcm *ctx, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                     const uint8_t *aad2, size_t aad2_len, uint8_t *data, size_t len, uint8_t *tag);
/* Decrypts data in place and checks (over aad || aad2 and the ciphertext) the 16-byte tag. 0 when authentic, 1 when the tag does not match,
 * -1 on a library failure. data holds garbage after a mismatch. */
int tdm_aes_gcm_open(tdm_aes_gcm *ctx, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                     const uint8_t *aad2, size_t aad2_len, uint8_t *data, size_t len, const uint8_t *tag);

/* HMAC-SHA1 with the key's inner and outer states precomputed; NULL on failure. */
tdm_hmac_sha1 *tdm_hmac_sha1_create(const uint8_t *key, size_t key_len);
void tdm_hmac_sha1_free(tdm_hmac_sha1 *ctx);
/* Writes HMAC-SHA1(key, a || b) (20 bytes) to out. b may be NULL when b_len is 0. */
void tdm_hmac_sha1_mac(const tdm_hmac_sha1 *ctx, const uint8_t *a, size_t a_len,
                       const uint8_t *b, size_t b_len, uint8_t *out);
#endif
