#include "CSRTP.h"
#include <pthread.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_status = -1;

static void do_init(void) { init_status = (int)srtp_init(); }

int tdm_srtp_init_once(void) {
    pthread_once(&once, do_init);
    return init_status;
}

int tdm_srtp_policy_for_suite(srtp_policy_t *policy, int suite, int inbound, unsigned char *key) {
    memset(policy, 0, sizeof(*policy));
    switch (suite) {
    case 1:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp);
        break;
    case 2:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp); /* RFC 5764 §4.1.2: SRTCP keeps the 80-bit tag */
        break;
    case 3:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtcp);
        break;
    case 4:
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy->rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy->rtcp);
        break;
    default:
        return -1;
    }
    policy->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    policy->key = key;
    policy->window_size = 128;
    policy->allow_repeat_tx = 0;
    policy->next = NULL;
    return 0;
}
