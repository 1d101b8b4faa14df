// SPDX-License-Identifier: GPL-2.0
/*
 * The page-array locator, for kernels whose kallsyms lists no data symbols
 * (no vmemmap_base): records the struct page pointer of every order-0 page
 * allocated by one process (the loader, while it faults in pages of its
 * own). The loader pairs them with the frame numbers /proc/self/pagemap
 * gives for those pages: vmemmap = page - pfn x sizeof(struct page).
 * Attached for a few milliseconds only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kmem_pair.h"

char LICENSE[] SEC("license") = "GPL";

__u32 target_tgid;
__u32 n;
__u64 ptrs[KMEM_PAIR_MAX];

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(kmem_pair_alloc, struct page *page, unsigned int order)
{
    __u32 i;

    if ((bpf_get_current_pid_tgid() >> 32) != target_tgid || order != 0)
        return 0;
    i = n++; /* one thread of one process: no race */
    if (i < KMEM_PAIR_MAX)
        ptrs[i] = (__u64)page;
    return 0;
}
