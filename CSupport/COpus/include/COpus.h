/* libopus. The CTL calls are variadic in C, which Swift cannot call, so they go through
 * the typed wrappers below. */
#ifndef TANDEM_COPUS_H
#define TANDEM_COPUS_H
#include <stdint.h>
#include <opus/opus.h>

/* opus_encoder_ctl(enc, request, value) for the OPUS_SET_* requests that take an opus_int32. */
int tdm_opus_encoder_set(OpusEncoder *enc, int request, int32_t value);
/* opus_encoder_ctl(enc, request, &value) for the OPUS_GET_* requests that return an opus_int32. */
int tdm_opus_encoder_get(OpusEncoder *enc, int request, int32_t *value);
int tdm_opus_decoder_set(OpusDecoder *dec, int request, int32_t value);
int tdm_opus_decoder_get(OpusDecoder *dec, int request, int32_t *value);
int tdm_opus_encoder_reset(OpusEncoder *enc);
int tdm_opus_decoder_reset(OpusDecoder *dec);
#endif
