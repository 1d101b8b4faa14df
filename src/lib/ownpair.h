/* SPDX-License-Identifier: MIT */
/*
 * Finds the page array (vmemmap_base) without kallsyms: see kmem_pair.bpf.c.
 * Internal to ownwalk.c.
 */
#ifndef KMEM_OWNPAIR_H
#define KMEM_OWNPAIR_H

#include <stddef.h>
#include <stdint.h>

/*
 * @page_size: sizeof(struct page) from BTF. 0 with *@vmemmap, or -errno with
 * the reason in @why.
 */
int kmem_ownpair_vmemmap(unsigned page_size, uint64_t *vmemmap, char *why, size_t whylen);

/*
 * The vote: the value of ptrs[i] - pfns[j] x @page_size aligned to 1 GiB
 * that most pairs give. 0 if at least @need pairs agree, else -ENOENT.
 */
int kmem_ownpair_vote(const uint64_t *ptrs, size_t nptrs, const uint64_t *pfns, size_t npfns,
                      unsigned page_size, size_t need, uint64_t *vmemmap, size_t *votes);

#endif
