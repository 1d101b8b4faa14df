/* SPDX-License-Identifier: MIT */
/* Fuzz target: the /proc/meminfo parser, then the node breakdown on its result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The kinds never overlap: kernel_total is their (saturating) sum. */
static void check_compute(struct kmem_node *node, bool vmap)
{
    uint64_t sum = 0;

    node->vmap_stack = vmap;
    kmem_node_compute(node, 4096);
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
        sum = sat_add(sum, node->kind[k]);
    if (sum != node->kernel_total)
        abort();
    if ((node->unaccounted_signed > 0) != (node->kind[KMEM_NODE_UNACCOUNTED] > 0))
        abort();
    if (node->kind[KMEM_NODE_SLAB_RECLAIMABLE] != node->mi.v[KMEM_MI_SRECLAIMABLE])
        abort();
}

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
    rc = kmem_meminfo_parse(buf, size, &node.mi, &perr);
    if (rc != kmem_meminfo_parse(buf, size, &node.mi, NULL))
        abort();
    if (rc == 0) {
        node.percpu_free_pages = size;
        check_compute(&node, true);
        check_compute(&node, false);
    } else if (perr.what == NULL || perr.line == 0) {
        abort();
    }
    free(buf);
    return 0;
}
