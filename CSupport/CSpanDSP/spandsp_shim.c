#include "CSpanDSP.h"
#include <spandsp/version.h>

int tdm_spandsp_release_date(void) { return SPANDSP_RELEASE_DATE; }
