#include "CJemalloc.h"
#include <jemalloc/jemalloc.h>
#include <stdint.h>

const char *tdm_jemalloc_version(void) {
    const char *version = NULL;
    size_t len = sizeof(version);
    if (mallctl("version", &version, &len, NULL, 0) != 0) return NULL;
    return version;
}

size_t tdm_jemalloc_allocated(void) {
    /* Statistics are cached per epoch; bump it first. */
    uint64_t epoch = 1;
    size_t elen = sizeof(epoch);
    mallctl("epoch", &epoch, &elen, &epoch, elen);
    size_t allocated = 0;
    size_t len = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &len, NULL, 0) != 0) return 0;
    return allocated;
}
