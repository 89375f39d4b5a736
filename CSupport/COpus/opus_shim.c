#include "COpus.h"

int tdm_opus_encoder_set(OpusEncoder *enc, int request, int32_t value) { return opus_encoder_ctl(enc, request, (opus_int32)value); }
int tdm_opus_encoder_get(OpusEncoder *enc, int request, int32_t *value) { return opus_encoder_ctl(enc, request, (opus_int32 *)value); }
int tdm_opus_decoder_set(OpusDecoder *dec, int request, int32_t value) { return opus_decoder_ctl(dec, request, (opus_int32)value); }
int tdm_opus_decoder_get(OpusDecoder *dec, int request, int32_t *value) { return opus_decoder_ctl(dec, request, (opus_int32 *)value); }
int tdm_opus_encoder_reset(OpusEncoder *enc) { return opus_encoder_ctl(enc, OPUS_RESET_STATE); }
int tdm_opus_decoder_reset(OpusDecoder *dec) { return opus_decoder_ctl(dec, OPUS_RESET_STATE); }
