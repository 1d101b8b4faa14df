/* SPDX-License-Identifier: MIT */
/* The node summary: kernel memory by kind, the unexplained rest, and the
 * memory that MemTotal and MemFree leave out. */
#include <stdint.h>

#include "views.h"

#define H 24

void kt_node_render(struct kt_sink *s, const struct kmem_snapshot *snap)
{
    const struct kmem_node *n = &snap->node;
    uint64_t memtotal = n->mi.v[KMEM_MI_MEMTOTAL];
    bool memmap_known;
    char a[H], b[H];

    if (kt_part_missing(s, snap, KMEM_PART_NODE))
        return;
    if (!kt_line(s, KT_NORMAL, "node kernel memory %s = %.1f%% of MemTotal %s",
                 kt_human(a, sizeof(a), (double)n->kernel_total), kt_pct(n->kernel_total, memtotal),
                 kt_human(b, sizeof(b), (double)memtotal)))
        return;
    if (!kt_line(s, KT_HEADING, "%-20s %8s %6s  %s", "KIND", "SIZE", "SHARE", "NOTE"))
        return;
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++) {
        const char *note = "";
        char nb[96];

        if (k == KMEM_NODE_UNACCOUNTED) {
            if (n->unaccounted_signed < 0) {
                snprintf(nb, sizeof(nb), "counters exceed MemTotal by %s; shown as 0",
                         kt_human(b, sizeof(b), -(double)n->unaccounted_signed));
                note = nb;
            } else {
                note = "no counter explains it (kmemtop --report)";
            }
        } else if (k == KMEM_NODE_VMALLOC && n->vmap_stack) {
            note = "kernel stacks left out (in kernel_stack)";
        }
        if (!kt_line(s, KT_NORMAL, "%-20s %8s %5.1f%%  %s", kmem_node_kind_name[k],
                     kt_human(a, sizeof(a), (double)n->kind[k]),
                     kt_pct(n->kind[k], n->kernel_total), note))
            return;
    }
    if (!kt_line(s, KT_BOLD, "%-20s %8s %5.1f%%", "total",
                 kt_human(a, sizeof(a), (double)n->kernel_total), n->kernel_total ? 100.0 : 0.0))
        return;
    if (!kt_line(s, KT_NORMAL, "%s", ""))
        return;
    if (!kt_line(s, KT_NORMAL, "%-20s %8s", "MemTotal", kt_human(a, sizeof(a), (double)memtotal)))
        return;
    if (!kt_line(s, KT_NORMAL, "%-20s %8s         free, but not counted in MemFree",
                 "per-CPU free pages", kt_human(a, sizeof(a), (double)n->percpu_free_bytes)))
        return;
    memmap_known = (n->vm.present & (UINT64_C(1) << KMEM_VM_NR_MEMMAP_PAGES)) != 0;
    if (memmap_known && n->memmap_boot_bytes >= n->memmap_bytes)
        kt_line(s, KT_NORMAL, "%-20s %8s         page descriptors, outside MemTotal", "memmap",
                kt_human(a, sizeof(a), (double)n->memmap_bytes));
    else if (memmap_known)
        kt_line(s, KT_NORMAL, "%-20s %8s         page descriptors, %s of it outside MemTotal",
                "memmap", kt_human(a, sizeof(a), (double)n->memmap_bytes),
                kt_human(b, sizeof(b), (double)n->memmap_boot_bytes));
    else
        kt_line(s, KT_NORMAL, "%-20s %8s         not reported by this kernel (Linux 6.11+)",
                "memmap", "-");
}
