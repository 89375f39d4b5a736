/* libsrtp2: the SRTP reference implementation. */
#ifndef TANDEM_CSRTP_H
#define TANDEM_CSRTP_H
#include <stdint.h>
#include <srtp2/srtp.h>

/* Initialises libsrtp once per process (thread-safe). Returns srtp_err_status_ok (0) on success. */
int tdm_srtp_init_once(void);
/* Fills a policy for one of the SDES suites: 1 AES_CM_128_HMAC_SHA1_80, 2 AES_CM_128_HMAC_SHA1_32,
 * 3 AEAD_AES_128_GCM, 4 AEAD_AES_256_GCM. Returns 0, or -1 for an unknown suite. */
int tdm_srtp_policy_for_suite(srtp_policy_t *policy, int suite, int inbound, unsigned char *key);
#endif
