/* SPDX-License-Identifier: MIT */
/* Fuzz target: the /proc/vmstat parser, then the node breakdown on its result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    struct kmem_node node;
    struct kmem_parse_error perr;
    int rc;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    memset(&node, 0, sizeof(node));
    rc = kmem_vmstat_parse(buf, size, &node.vm, &perr);
    if (rc != kmem_vmstat_parse(buf, size, &node.vm, NULL))
        abort();
    if (rc == 0) {
        /* Page counts times a large page size must saturate, not wrap. */
        kmem_node_compute(&node, 65536);
        if (node.memmap_bytes < node.memmap_boot_bytes)
            abort();
        if (node.kind[KMEM_NODE_ZRAM] > node.kernel_total)
            abort();
    } else if (perr.what == NULL || perr.line == 0) {
        abort();
    }
    free(buf);
    return 0;
}
