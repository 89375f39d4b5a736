#include "CReference.h"
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <limits.h>
#include <opus/opus.h>
#include <speex/speex_resampler.h>
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
