/* SPDX-License-Identifier: MIT */
/*
 * The node's detail reader (/proc/vmallocinfo, /proc/iomem, /proc/allocinfo)
 * and the memory outside MemTotal. docs/node.md explains every figure.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "readers.h"
#include "sat.h"

const char *const kmem_outside_part_name[KMEM_OUT_PART_COUNT] = {
    [KMEM_OUT_MEMMAP] = "memmap",
    [KMEM_OUT_KERNEL_IMAGE] = "kernel_image",
    [KMEM_OUT_CRASH_KERNEL] = "crash_kernel",
    [KMEM_OUT_BOOT_HASH_TABLES] = "boot_hash_tables",
    [KMEM_OUT_PERCPU_FIRST_CHUNK] = "percpu_first_chunk",
    [KMEM_OUT_SWIOTLB] = "swiotlb",
    [KMEM_OUT_UNEXPLAINED] = "unexplained",
};
static_assert(sizeof(kmem_outside_part_name) / sizeof(kmem_outside_part_name[0]) ==
                  KMEM_OUT_PART_COUNT,
              "kmem_outside_part_name table");

void kmem_outside_compute(struct kmem_outside *o, const struct kmem_node *node,
                          const struct kmem_iomem *iomem)
{
    uint64_t parts = 0;

    memset(o, 0, sizeof(*o));
    if (node) {
        o->memtotal = node->mi.v[KMEM_MI_MEMTOTAL];
        o->part[KMEM_OUT_MEMMAP] = node->memmap_boot_bytes;
        o->part[KMEM_OUT_BOOT_HASH_TABLES] = node->boot.hash_bytes[KMEM_HASH_MEMBLOCK];
        o->part[KMEM_OUT_PERCPU_FIRST_CHUNK] = node->percpu_first_chunk_kept_bytes;
        o->part[KMEM_OUT_SWIOTLB] = node->boot.swiotlb_bytes;
    }
    if (iomem && iomem->err == 0 && iomem->ram_ranges) {
        o->known = node != NULL;
        o->system_ram = iomem->system_ram;
        /*
         * Before 6.11 no counter gives the memmap: one struct page (64 bytes
         * on 64-bit kernels without debug options, 32 on 32-bit) per page of
         * System RAM is the estimate.
         */
        if (node && !(node->vm.present & (UINT64_C(1) << KMEM_VM_NR_MEMMAP_BOOT_PAGES)) &&
            node->page_size) {
            o->part[KMEM_OUT_MEMMAP] =
                kmem_mul_sat(iomem->system_ram / node->page_size, sizeof(void *) == 8 ? 64 : 32);
            o->memmap_estimated = true;
        }
        o->part[KMEM_OUT_CRASH_KERNEL] = iomem->crash_kernel;
        if (iomem->kernel_seen) {
            uint64_t named =
                iomem->kernel_code + iomem->kernel_rodata + iomem->kernel_data + iomem->kernel_bss;
            uint64_t span = iomem->kernel_end - iomem->kernel_start + 1;
            uint64_t freed = node && node->boot.image_freed_seen ? node->boot.image_freed_bytes : 0;

            o->image_named = named;
            o->part[KMEM_OUT_KERNEL_IMAGE] = named;
            /*
             * The image is reserved at boot as one block from its first to its
             * last byte; what the kernel gives back later is logged ("Freeing
             * unused kernel image ... memory: NK"). Without those lines only
             * the named ranges are certain.
             */
            if (freed && span > freed && span - freed >= named) {
                o->part[KMEM_OUT_KERNEL_IMAGE] = span - freed;
                o->image_from_span = true;
            }
        }
    }
    for (int p = 0; p < KMEM_OUT_UNEXPLAINED; p++)
        parts = kmem_add_sat(parts, o->part[p]);
    if (!o->known)
        return;
    o->total = o->system_ram > o->memtotal ? o->system_ram - o->memtotal : 0;
    o->unexplained_signed = kmem_sub_signed(o->total, parts);
    o->part[KMEM_OUT_UNEXPLAINED] = o->unexplained_signed > 0 ? (uint64_t)o->unexplained_signed : 0;
}

/* Read @name from procfs into io->buf: 0, or -errno (ENOENT when absent). */
static int read_proc(struct kmem_io *io, const char *name)
{
    return kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_PROC), name, &io->buf);
}

static int fail_read(struct kmem_io *io, int first, const char *name, int err)
{
    char shown[PATH_MAX];

    if (first)
        return first;
    return kmem_err(io, err, "cannot read %s: %s%s",
                    kmem_display_path(io, KMEM_DIR_PROC, name, shown, sizeof(shown)),
                    strerror(-err), kmem_errno_hint(err));
}

static int fail_parse(struct kmem_io *io, int first, const char *name,
                      const struct kmem_parse_error *perr)
{
    char shown[PATH_MAX];

    if (first)
        return first;
    return kmem_err(io, EINVAL, "%s:%u: %s (not a Linux /proc/%s? a truncated capture?)",
                    kmem_display_path(io, KMEM_DIR_PROC, name, shown, sizeof(shown)), perr->line,
                    perr->what ? perr->what : "parse error", name);
}

int kmem_read_detail(struct kmem_io *io, struct kmem_detail *out, uint64_t page_size)
{
    struct kmem_parse_error perr;
    int first = 0, err;

    memset(out, 0, sizeof(*out));

    /*
     * A file that is not there (an older capture, a tree with only some
     * files) leaves its figures out without failing the part; one that
     * cannot be read (not root) fails it, with what to do.
     */
    err = read_proc(io, "vmallocinfo");
    if (err) {
        out->vmalloc.err = err;
        if (err != -ENOENT)
            first = fail_read(io, first, "vmallocinfo", err);
    } else if ((err = kmem_vmallocinfo_parse(io->buf.data, io->buf.len, page_size, &out->vmalloc,
                                             &perr))) {
        out->vmalloc.err = err;
        first = err == -ENOMEM ? kmem_err(io, ENOMEM, "out of memory")
                               : fail_parse(io, first, "vmallocinfo", &perr);
    }

    /* A hot file, opened with the context: see kmem_io_preopen(). */
    err = kmem_read_hot(io, KMEM_F_IOMEM);
    if (err) {
        out->iomem.err = err;
        if (err != -ENOENT)
            first = fail_read(io, first, "iomem", err);
    } else if (kmem_iomem_parse(io->buf.data, io->buf.len, &out->iomem, &perr)) {
        out->iomem.err = -EINVAL;
        first = fail_parse(io, first, "iomem", &perr);
    }
    /*
     * Every address reading 0 (not CAP_SYS_ADMIN, e.g. the exporter after
     * --run-as) is not an error of the part: iomem.err says so and the
     * memory outside MemTotal is then not totalled.
     */

    /* Optional: only kernels built with CONFIG_MEM_ALLOC_PROFILING have it. */
    err = read_proc(io, "allocinfo");
    if (err == -ENOENT) {
        out->alloc.present = false;
    } else if (err) {
        out->alloc.present = true;
        out->alloc.err = err;
        first = fail_read(io, first, "allocinfo", err);
    } else if ((err = kmem_allocinfo_parse(io->buf.data, io->buf.len, &out->alloc, &perr))) {
        out->alloc.present = true;
        out->alloc.err = err;
        first = fail_parse(io, first, "allocinfo", &perr);
    }
    return first;
}
