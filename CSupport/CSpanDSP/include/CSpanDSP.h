/* spandsp, narrowed to what Tandem uses: G.722, G.711 (benchmark reference), PLC.
 * <spandsp.h> is avoided because it pulls in libtiff headers. */
#ifndef TANDEM_CSPANDSP_H
#define TANDEM_CSPANDSP_H
#include <stdint.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <spandsp/telephony.h>
#include <spandsp/saturated.h>
/* g711.h's inline encoders call top_bit() without including its header. */
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
#include <spandsp/g722.h>
#include <spandsp/plc.h>

/* The spandsp release date as YYYYMMDD (spandsp has no runtime version call). */
int tdm_spandsp_release_date(void);
#endif
