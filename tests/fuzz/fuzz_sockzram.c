/* SPDX-License-Identifier: MIT */
/* Fuzz target: the /proc/net/sockstat(6) and /sys/block/zramN/mm_stat parsers. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kmem_parse_error perr = {0, NULL};
    struct kmem_sockstat s;
    struct kmem_zram_dev z;
    char *buf = malloc(size + 1);
    int rc;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    memset(&s, 0, sizeof(s));
    rc = kmem_sockstat_parse(buf, size, size & 1, &s, &perr);
    if (rc != 0 && (rc != -EINVAL || !perr.what || !perr.line))
        abort();
    memset(&z, 0, sizeof(z));
    perr.what = NULL;
    rc = kmem_zram_mm_stat_parse(buf, size, &z, &perr);
    if (rc != 0 && (rc != -EINVAL || !perr.what))
        abort();
    free(buf);
    return 0;
}
