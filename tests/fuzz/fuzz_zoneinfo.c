/* SPDX-License-Identifier: MIT */
/* Fuzz target: the /proc/zoneinfo per-CPU page-list parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    struct kmem_parse_error perr;
    uint64_t pages = 1, again = 2;
    int rc;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    rc = kmem_zoneinfo_parse(buf, size, &pages, &perr);
    if (rc != kmem_zoneinfo_parse(buf, size, &again, NULL))
        abort();
    if (rc == 0 && pages != again)
        abort();
    if (rc != 0 && (perr.what == NULL || perr.line == 0))
        abort();
    free(buf);
    return 0;
}
