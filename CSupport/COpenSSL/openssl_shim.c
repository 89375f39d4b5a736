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

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

/* Copies a memory BIO's contents into a caller's buffer. */
static int copy_bio(BIO *bio, char *out, size_t cap, size_t *len) {
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || data == NULL) return -1;
    if ((size_t)n > cap) return -2;
    memcpy(out, data, (size_t)n);
    *len = (size_t)n;
    return 0;
}

int tdm_selfsigned_generate(const char *common_name, uint32_t days,
                            char *cert_out, size_t cert_cap, size_t *cert_len,
                            char *key_out, size_t key_cap, size_t *key_len) {
    int rc = -1;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    BIO *cert_bio = NULL, *key_bio = NULL;
    uint8_t serial_bytes[16];
    BIGNUM *serial = NULL;

    key = EVP_EC_gen("P-256");
    if (key == NULL) goto done;
    cert = X509_new();
    if (cert == NULL) goto done;
    if (X509_set_version(cert, 2) != 1) goto done; /* v3 */
    /* RFC 5280 §4.1.2.2: a positive serial of at most 20 octets; clear the top bit to keep it positive. */
    if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) goto done;
    serial_bytes[0] &= 0x7f;
    serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, NULL);
    if (serial == NULL || BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) == NULL) goto done;
    if (X509_gmtime_adj(X509_getm_notBefore(cert), -60) == NULL) goto done;
    if (X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400L) == NULL) goto done;
    if (X509_set_pubkey(cert, key) != 1) goto done;
    X509_NAME *name = X509_get_subject_name(cert);
    const char *cn = (common_name != NULL && common_name[0] != 0) ? common_name : "tandem";
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1) goto done;
    if (X509_set_issuer_name(cert, name) != 1) goto done;
    {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
        char san[300];
        int n = snprintf(san, sizeof san, "DNS:%s", cn);
        if (n <= 0 || (size_t)n >= sizeof san) goto done;
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
        if (ext == NULL) goto done;
        int ok = X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
        if (ok != 1) goto done;
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:FALSE");
        if (ext == NULL) goto done;
        ok = X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
        if (ok != 1) goto done;
    }
    if (X509_sign(cert, key, EVP_sha256()) <= 0) goto done;
    cert_bio = BIO_new(BIO_s_mem());
    key_bio = BIO_new(BIO_s_mem());
    if (cert_bio == NULL || key_bio == NULL) goto done;
    if (PEM_write_bio_X509(cert_bio, cert) != 1) goto done;
    if (PEM_write_bio_PrivateKey(key_bio, key, NULL, NULL, 0, NULL, NULL) != 1) goto done;
    rc = copy_bio(cert_bio, cert_out, cert_cap, cert_len);
    if (rc == 0) rc = copy_bio(key_bio, key_out, key_cap, key_len);
done:
    BN_free(serial);
    BIO_free(cert_bio);
    BIO_free(key_bio);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

int tdm_certificate_sha256_fingerprint(const char *pem, size_t pem_len, uint8_t out[32]) {
    if (pem == NULL || pem_len > (size_t)0x7fffffff) return -1;
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (bio == NULL) return -1;
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (cert == NULL) return -1;
    unsigned int n = 0;
    int ok = X509_digest(cert, EVP_sha256(), out, &n);
    X509_free(cert);
    return (ok == 1 && n == 32) ? 0 : -1;
}
