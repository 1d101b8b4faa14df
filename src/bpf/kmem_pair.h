/* SPDX-License-Identifier: MIT */
/*
 * What the page-array locator (kmem_pair.bpf.c) and its loader
 * (src/lib/ownpair.c) share. Included by BPF code (after vmlinux.h) and by
 * user space (after <linux/types.h>).
 */
#ifndef KMEM_PAIR_ABI_H
#define KMEM_PAIR_ABI_H

#define KMEM_PAIR_MAX 1024 /* struct page pointers recorded */

#endif
