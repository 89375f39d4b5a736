/* Reference implementations measured side by side with Tandem's in `perf/run codecs`:
 * spandsp's own G.711 and G.722 calls, libopus called directly, and libspeexdsp's resampler.
 * Benchmark-time only; nothing in Tandem links this. */
#ifndef TANDEM_CREFERENCE_H
#define TANDEM_CREFERENCE_H
#include <stdint.h>

/* spandsp g711_encode/g711_decode over `frames` frames of `samples` each. mode 0 A-law, 1 µ-law. */
void *ref_g711_create(int ulaw);
void ref_g711_free(void *state);
int ref_g711_encode(void *state, uint8_t *out, const int16_t *in, int samples);
int ref_g711_decode(void *state, int16_t *out, const uint8_t *in, int bytes);

/* spandsp G.722 at 64 kbit/s. */
void *ref_g722_encoder_create(void);
void *ref_g722_decoder_create(void);
void ref_g722_encoder_free(void *s);
void ref_g722_decoder_free(void *s);
int ref_g722_encode(void *s, uint8_t *out, const int16_t *in, int samples);
int ref_g722_decode(void *s, int16_t *out, const uint8_t *in, int bytes);

/* libopus directly: mono, given rate, VOIP application, bitrate, complexity. */
void *ref_opus_encoder_create(int rate, int bitrate, int complexity);
void *ref_opus_decoder_create(int rate);
void ref_opus_encoder_free(void *e);
void ref_opus_decoder_free(void *d);
int ref_opus_encode(void *e, const int16_t *pcm, int samples, uint8_t *out, int cap);
int ref_opus_decode(void *d, const uint8_t *data, int len, int16_t *pcm, int cap);

/* libsrtp2: protect then unprotect the same 172-byte RTP packet `iterations` times (sequence number
 * advancing), with suite 1 AES_CM_128_HMAC_SHA1_80, 2 _32, 3 AEAD_AES_128_GCM, 4 AEAD_AES_256_GCM and
 * the given master key || salt. Returns the best of `runs` runs in nanoseconds per packet, or -1. */
double ref_srtp_protect_unprotect_ns(int suite, const uint8_t *key_and_salt, int key_and_salt_len, int iterations, int runs);

/* speexdsp resampler, mono. */
void *ref_speex_resampler_create(int in_rate, int out_rate, int quality);
void ref_speex_resampler_free(void *r);
/* Returns the number of output samples. */
int ref_speex_resample(void *r, const int16_t *in, int in_len, int16_t *out, int out_cap);
/* The same on Float samples (full-scale ±32768), for measuring the filter itself without Int16 rounding. */
int ref_speex_resample_float(void *r, const float *in, int in_len, float *out, int out_cap);
/* Output samples of the filter's latency, as speexdsp reports it. */
int ref_speex_output_latency(void *r);
#endif
