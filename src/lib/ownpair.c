// SPDX-License-Identifier: MIT
/*
 * Finding the page array without kallsyms: attach a tracepoint program on
 * mm_page_alloc that records the struct page pointers of the pages this
 * process allocates, fault in NPAGES fresh anonymous pages, read their frame
 * numbers from /proc/self/pagemap (root only), and vote: the value
 * page - pfn x sizeof(struct page), aligned to 1 GiB (KASLR places the page
 * array at a PUD boundary; without KASLR it is 0xffffea0000000000), that
 * most pairs give. Page-table pages the faults allocate are among the
 * recorded pointers too; they vote for nothing in particular.
 */
#include "ownpair.h"
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/types.h>

#include "../bpf/kmem_pair.h"

#ifdef KMEM_HAVE_BPF
#include <bpf/libbpf.h>

#include "kmem_pair.skel.h"
#endif

#define NPAGES 64

#ifndef KMEM_HAVE_BPF
int kmem_ownpair_vmemmap(unsigned page_size, uint64_t *vmemmap, char *why, size_t whylen)
{
    (void)page_size;
    (void)vmemmap;
    kmem_msgf(why, whylen, "built without BPF");
    return -ENOTSUP;
}
#else

/* Frame numbers of the NPAGES pages at @mem (pagemap: bit 63 present, bits 0-54 pfn). */
static int pfns_of(const char *mem, long psz, uint64_t *pfns, char *why, size_t whylen)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    uint64_t e[NPAGES];
    ssize_t r;

    if (fd < 0) {
        kmem_msgf(why, whylen, "/proc/self/pagemap: %s", strerror(errno));
        return -errno;
    }
    r = pread(fd, e, sizeof(e), (off_t)((uintptr_t)mem / (uintptr_t)psz * sizeof(e[0])));
    close(fd);
    if (r != (ssize_t)sizeof(e)) {
        kmem_msgf(why, whylen, "/proc/self/pagemap: %s", r < 0 ? strerror(errno) : "short read");
        return -EIO;
    }
    for (int i = 0; i < NPAGES; i++) {
        pfns[i] = e[i] & ((UINT64_C(1) << 55) - 1);
        if (!(e[i] >> 63) || !pfns[i]) {
            kmem_msgf(why, whylen,
                      "/proc/self/pagemap shows no frame numbers (they are hidden without "
                      "CAP_SYS_ADMIN)");
            return -EPERM;
        }
    }
    return 0;
}

int kmem_ownpair_vmemmap(unsigned page_size, uint64_t *vmemmap, char *why, size_t whylen)
{
    struct kmem_pair_bpf *sk = kmem_pair_bpf__open();
    long psz = sysconf(_SC_PAGESIZE);
    uint64_t pfns[NPAGES];
    size_t votes = 0, got;
    char *mem = MAP_FAILED;
    int rc;

    if (!sk) {
        kmem_msgf(why, whylen, "opening the mm_page_alloc tracepoint program: %s", strerror(errno));
        return -errno;
    }
    sk->bss->target_tgid = (__u32)getpid();
    rc = kmem_pair_bpf__load(sk);
    if (!rc)
        rc = kmem_pair_bpf__attach(sk);
    if (rc) {
        kmem_msgf(why, whylen, "attaching a tp_btf program to mm_page_alloc: %s", strerror(-rc));
        goto out;
    }
    mem = mmap(NULL, (size_t)psz * NPAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
               0);
    if (mem == MAP_FAILED) {
        rc = -errno;
        kmem_msgf(why, whylen, "mmap: %s", strerror(errno));
        goto out;
    }
    madvise(mem, (size_t)psz * NPAGES, MADV_NOHUGEPAGE);
    for (int i = 0; i < NPAGES; i++)
        ((volatile char *)mem)[(size_t)i * (size_t)psz] = 1;
    kmem_pair_bpf__detach(sk);
    rc = pfns_of(mem, psz, pfns, why, whylen);
    if (rc)
        goto out;
    got = sk->bss->n < KMEM_PAIR_MAX ? sk->bss->n : KMEM_PAIR_MAX;
    rc = kmem_ownpair_vote((const uint64_t *)sk->bss->ptrs, got, pfns, NPAGES, page_size,
                           NPAGES / 2, vmemmap, &votes);
    if (rc == -ENOENT)
        kmem_msgf(why, whylen,
                  "pairing %zu struct page pointers from mm_page_alloc with the frame numbers of "
                  "%d pages this process faulted in: at most %zu of %d agree on one page array",
                  got, NPAGES, votes, NPAGES);
    else if (rc)
        kmem_msgf(why, whylen, "out of memory");
out:
    if (mem != MAP_FAILED)
        munmap(mem, (size_t)psz * NPAGES);
    kmem_pair_bpf__destroy(sk);
    return rc;
}
#endif
