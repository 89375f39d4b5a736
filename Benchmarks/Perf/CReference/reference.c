#include "CReference.h"
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <limits.h>
#include <opus/opus.h>
#include <speex/speex_resampler.h>
#include <srtp2/srtp.h>
#include <time.h>
#include <spandsp/telephony.h>
#include <spandsp/g711.h>
#include <spandsp/g722.h>

void *ref_g711_create(int ulaw) { return g711_init(NULL, ulaw ? G711_ULAW : G711_ALAW); }
void ref_g711_free(void *state) { g711_free((g711_state_t *)state); }
int ref_g711_encode(void *state, uint8_t *out, const int16_t *in, int samples) {
    return g711_encode((g711_state_t *)state, out, in, samples);
}
int ref_g711_decode(void *state, int16_t *out, const uint8_t *in, int bytes) {
    return g711_decode((g711_state_t *)state, out, in, bytes);
}

void *ref_g722_encoder_create(void) { return g722_encode_init(NULL, 64000, 0); }
void *ref_g722_decoder_create(void) { return g722_decode_init(NULL, 64000, 0); }
void ref_g722_encoder_free(void *s) { g722_encode_free((g722_encode_state_t *)s); }
void ref_g722_decoder_free(void *s) { g722_decode_free((g722_decode_state_t *)s); }
int ref_g722_encode(void *s, uint8_t *out, const int16_t *in, int samples) {
    return g722_encode((g722_encode_state_t *)s, out, in, samples);
}
int ref_g722_decode(void *s, int16_t *out, const uint8_t *in, int bytes) {
    return g722_decode((g722_decode_state_t *)s, out, in, bytes);
}

void *ref_opus_encoder_create(int rate, int bitrate, int complexity) {
    int err = 0;
    OpusEncoder *e = opus_encoder_create(rate, 1, OPUS_APPLICATION_VOIP, &err);
    if (e == NULL) return NULL;
    opus_encoder_ctl(e, OPUS_SET_BITRATE(bitrate));
    opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(complexity));
    return e;
}
void *ref_opus_decoder_create(int rate) {
    int err = 0;
    return opus_decoder_create(rate, 1, &err);
}
void ref_opus_encoder_free(void *e) { opus_encoder_destroy((OpusEncoder *)e); }
void ref_opus_decoder_free(void *d) { opus_decoder_destroy((OpusDecoder *)d); }
int ref_opus_encode(void *e, const int16_t *pcm, int samples, uint8_t *out, int cap) {
    return opus_encode((OpusEncoder *)e, pcm, samples, out, cap);
}
int ref_opus_decode(void *d, const uint8_t *data, int len, int16_t *pcm, int cap) {
    return opus_decode((OpusDecoder *)d, data, len, pcm, cap, 0);
}

void *ref_speex_resampler_create(int in_rate, int out_rate, int quality) {
    int err = 0;
    return speex_resampler_init(1, (spx_uint32_t)in_rate, (spx_uint32_t)out_rate, quality, &err);
}
void ref_speex_resampler_free(void *r) { speex_resampler_destroy((SpeexResamplerState *)r); }
int ref_speex_resample(void *r, const int16_t *in, int in_len, int16_t *out, int out_cap) {
    spx_uint32_t il = (spx_uint32_t)in_len, ol = (spx_uint32_t)out_cap;
    speex_resampler_process_int((SpeexResamplerState *)r, 0, in, &il, out, &ol);
    return (int)ol;
}
int ref_speex_output_latency(void *r) { return speex_resampler_get_output_latency((SpeexResamplerState *)r); }

int ref_speex_resample_float(void *r, const float *in, int in_len, float *out, int out_cap) {
    spx_uint32_t il = (spx_uint32_t)in_len, ol = (spx_uint32_t)out_cap;
    speex_resampler_process_float((SpeexResamplerState *)r, 0, in, &il, out, &ol);
    return (int)ol;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void set_policy(srtp_policy_t *p, int suite, int inbound, unsigned char *key) {
    memset(p, 0, sizeof(*p));
    switch (suite) {
    case 1: srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp); srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp); break;
    case 2: srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp); srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp); break;
    case 3: srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp); srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp); break;
    default: srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp); srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp); break;
    }
    p->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    p->key = key;
    p->window_size = 128;
}

double ref_srtp_protect_unprotect_ns(int suite, const uint8_t *key_and_salt, int key_and_salt_len, int iterations, int runs) {
    static int initialised = 0;
    if (!initialised) { if (srtp_init() != srtp_err_status_ok) return -1; initialised = 1; }
    unsigned char key[64];
    memset(key, 0, sizeof(key));
    memcpy(key, key_and_salt, (size_t)(key_and_salt_len < 64 ? key_and_salt_len : 64));
    srtp_policy_t tx_policy, rx_policy;
    set_policy(&tx_policy, suite, 0, key);
    set_policy(&rx_policy, suite, 1, key);
    srtp_t tx = NULL, rx = NULL;
    if (srtp_create(&tx, &tx_policy) != srtp_err_status_ok || srtp_create(&rx, &rx_policy) != srtp_err_status_ok) return -1;
    uint8_t packet[256];
    uint16_t seq = 0;
    double best = 1e30;
    for (int r = 0; r < runs; r++) {
        double start = now_ns();
        for (int i = 0; i < iterations; i++) {
            memset(packet, 0x55, 172);
            packet[0] = 0x80; packet[1] = 0;
            seq++;
            packet[2] = (uint8_t)(seq >> 8); packet[3] = (uint8_t)seq;
            packet[8] = 1; packet[9] = 2; packet[10] = 3; packet[11] = 4;
            int len = 172;
            if (srtp_protect(tx, packet, &len) != srtp_err_status_ok) return -1;
            if (srtp_unprotect(rx, packet, &len) != srtp_err_status_ok) return -1;
        }
        double elapsed = (now_ns() - start) / iterations;
        if (elapsed < best) best = elapsed;
    }
    srtp_dealloc(tx);
    srtp_dealloc(rx);
    return best;
}
