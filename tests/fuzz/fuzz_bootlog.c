/* SPDX-License-Identifier: MIT */
/* Fuzz target: the kernel log parser (hash tables, freed image, per-CPU first chunk) and the CPU
 * list parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "node.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    struct kmem_bootlog a, b;
    struct kmem_buf keep = {0};

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    if (kmem_bootlog_parse(buf, size, &a, &keep) != 0)
        abort();
    /* The lines kept give the same figures again (what a capture replays). */
    if (kmem_bootlog_parse(keep.data ? keep.data : "", keep.len, &b, NULL) != 0)
        abort();
    if (a.n_hash_lines != b.n_hash_lines || a.n_hash != b.n_hash ||
        memcmp(a.hash_bytes, b.hash_bytes, sizeof(a.hash_bytes)) != 0 ||
        a.image_freed_bytes != b.image_freed_bytes || a.percpu_unit_pages != b.percpu_unit_pages ||
        a.percpu_units != b.percpu_units || a.percpu_units_unused != b.percpu_units_unused ||
        a.percpu_units_unused > a.percpu_units)
        abort();
    if (a.n_hash > KMEM_BOOT_HASH_MAX)
        abort();
    for (unsigned i = 0; i < a.n_hash; i++)
        if (strlen(a.hash[i].name) >= sizeof(a.hash[i].name) ||
            a.hash[i].home >= KMEM_HASH_HOME_COUNT)
            abort();
    (void)kmem_cpulist_count(buf, size);
    free(keep.data);
    free(buf);
    return 0;
}
