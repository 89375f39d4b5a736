/* jemalloc, linked into the server executable only, where it replaces malloc process-wide. */
#ifndef TANDEM_CJEMALLOC_H
#define TANDEM_CJEMALLOC_H
#include <stddef.h>

/* jemalloc's version string, or NULL when jemalloc is not the allocator in use. */
const char *tdm_jemalloc_version(void);
/* Bytes allocated by the application, as jemalloc's "stats.allocated" reports (0 if unavailable). */
size_t tdm_jemalloc_allocated(void);
#endif
