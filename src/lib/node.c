/* SPDX-License-Identifier: MIT */
/*
 * The node's kernel memory: read /proc/meminfo, /proc/vmstat and
 * /proc/zoneinfo, decide whether kernel stacks are vmap'd, and split the
 * kernel's memory into kinds that do not overlap. docs/node.md explains
 * every formula.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "readers.h"
#include "kv.h"
#include "parse.h"
#include "sat.h"

const char *const kmem_node_kind_name[] = {
    [KMEM_NODE_SLAB_RECLAIMABLE] = "slab_reclaimable",
    [KMEM_NODE_SLAB_UNRECLAIMABLE] = "slab_unreclaimable",
    [KMEM_NODE_KERNEL_STACK] = "kernel_stack",
    [KMEM_NODE_PAGETABLES] = "pagetables",
    [KMEM_NODE_SEC_PAGETABLES] = "sec_pagetables",
    [KMEM_NODE_VMALLOC] = "vmalloc",
    [KMEM_NODE_PERCPU] = "percpu",
    [KMEM_NODE_OTHER_RECLAIMABLE] = "other_reclaimable",
    [KMEM_NODE_ZSWAP] = "zswap",
    [KMEM_NODE_ZRAM] = "zram",
    [KMEM_NODE_BOUNCE] = "bounce",
    [KMEM_NODE_WRITEBACK_TMP] = "writeback_tmp",
    [KMEM_NODE_HASH_TABLES] = "hash_tables",
    [KMEM_NODE_UNACCOUNTED] = "unaccounted",
};
static_assert(sizeof(kmem_node_kind_name) / sizeof(kmem_node_kind_name[0]) == KMEM_NODE_KIND_COUNT,
              "kmem_node_kind_name table");

const char *const kmem_vmap_stack_source_name[] = {
    [KMEM_VMAP_STACK_UNKNOWN] = "unknown",   [KMEM_VMAP_STACK_VMALLOCINFO] = "vmallocinfo",
    [KMEM_VMAP_STACK_CONFIG] = "config",     [KMEM_VMAP_STACK_ARCH] = "arch-default",
    [KMEM_VMAP_STACK_SLABINFO] = "slabinfo", [KMEM_VMAP_STACK_SYSFS] = "sysfs",
    [KMEM_VMAP_STACK_RELEASE] = "release",
};
static_assert(sizeof(kmem_vmap_stack_source_name) / sizeof(kmem_vmap_stack_source_name[0]) ==
                  KMEM_VMAP_STACK_SOURCE_COUNT,
              "kmem_vmap_stack_source_name table");

/* ---- arithmetic that saturates instead of wrapping -------------------- */

/* a - b, clamped at 0. */
static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* ---- the breakdown ---------------------------------------------------- */

void kmem_node_compute(struct kmem_node *node, uint64_t page_size)
{
    const uint64_t *mi = node->mi.v, *vm = node->vm.v;
    uint64_t *kind = node->kind;
    uint64_t in_vmalloc, in_slab, explained = 0, not_kernel, zspages, first_chunk = 0;

    node->page_size = page_size;
    node->percpu_free_bytes = kmem_mul_sat(node->percpu_free_pages, page_size);
    node->memmap_boot_bytes = kmem_mul_sat(vm[KMEM_VM_NR_MEMMAP_BOOT_PAGES], page_size);
    node->memmap_bytes =
        kmem_add_sat(kmem_mul_sat(vm[KMEM_VM_NR_MEMMAP_PAGES], page_size), node->memmap_boot_bytes);
    node->lru_bytes = kmem_add_sat(kmem_add_sat(mi[KMEM_MI_ACTIVE], mi[KMEM_MI_INACTIVE]),
                                   mi[KMEM_MI_UNEVICTABLE]);
    node->isolated_bytes = kmem_mul_sat(
        kmem_add_sat(vm[KMEM_VM_NR_ISOLATED_ANON], vm[KMEM_VM_NR_ISOLATED_FILE]), page_size);
    /* Hugetlb (4.16+) covers every huge page size; HugePages_* only the default. */
    if (node->mi.present & (UINT64_C(1) << KMEM_MI_HUGETLB))
        node->hugetlb_bytes = mi[KMEM_MI_HUGETLB];
    else
        node->hugetlb_bytes = kmem_mul_sat(mi[KMEM_MI_HUGEPAGES_TOTAL], mi[KMEM_MI_HUGEPAGESIZE]);

    kind[KMEM_NODE_SLAB_RECLAIMABLE] = mi[KMEM_MI_SRECLAIMABLE];
    /* Stacks from a slab cache (thread_stack, scs_cache) are inside SUnreclaim. */
    in_slab = kmem_add_sat(node->stack_in_slab ? mi[KMEM_MI_KERNELSTACK] : 0,
                           node->scs_in_slab ? mi[KMEM_MI_SHADOWCALLSTACK] : 0);
    kind[KMEM_NODE_SLAB_UNRECLAIMABLE] = sub0(mi[KMEM_MI_SUNRECLAIM], in_slab);
    kind[KMEM_NODE_KERNEL_STACK] =
        kmem_add_sat(mi[KMEM_MI_KERNELSTACK], mi[KMEM_MI_SHADOWCALLSTACK]);
    kind[KMEM_NODE_PAGETABLES] = mi[KMEM_MI_PAGETABLES];
    kind[KMEM_NODE_SEC_PAGETABLES] = mi[KMEM_MI_SECPAGETABLES];
    /* VmallocUsed counts vmap'd thread stacks and (5.14+) shadow call stacks. */
    in_vmalloc =
        kmem_add_sat(node->vmap_stack && !node->stack_in_slab ? mi[KMEM_MI_KERNELSTACK] : 0,
                     node->scs_in_slab ? 0 : mi[KMEM_MI_SHADOWCALLSTACK]);
    kind[KMEM_NODE_VMALLOC] = sub0(mi[KMEM_MI_VMALLOCUSED], in_vmalloc);
    /*
     * Percpu = populated pages x units (mm/percpu.c pcpu_nr_pages()), and the
     * embed allocator may set up more units than CPUs (a group rounded up to
     * whole atoms): the kernel log's pcpu-alloc lines list them, "-" for a
     * unit no CPU uses. Without them: one unit per possible CPU.
     */
    node->percpu_units = node->boot.possible_cpus;
    node->percpu_units_used = node->boot.possible_cpus;
    if (node->boot.percpu_units && node->boot.percpu_units > node->boot.percpu_units_unused) {
        node->percpu_units = node->boot.percpu_units;
        node->percpu_units_used = node->boot.percpu_units - node->boot.percpu_units_unused;
    }
    /*
     * Percpu counts the first chunk too, which was allocated at boot from
     * memblock (outside MemTotal): known from the kernel log, it moves out.
     * Memblock keeps it for the used units only (unused units were freed).
     */
    if (node->boot.percpu_seen && node->percpu_units)
        first_chunk =
            kmem_mul_sat(kmem_mul_sat(node->boot.percpu_unit_pages, page_size), node->percpu_units);
    if (first_chunk > mi[KMEM_MI_PERCPU])
        first_chunk = 0; /* not what this kernel counts: leave Percpu whole */
    node->percpu_first_chunk_bytes = first_chunk;
    node->percpu_first_chunk_kept_bytes =
        first_chunk ? kmem_mul_sat(kmem_mul_sat(node->boot.percpu_unit_pages, page_size),
                                   node->percpu_units_used)
                    : 0;
    /*
     * Later chunks get pages for each possible CPU only (mm/percpu-vm.c
     * pcpu_alloc_pages()), while Percpu multiplies by every unit.
     */
    kind[KMEM_NODE_PERCPU] = mi[KMEM_MI_PERCPU] - first_chunk;
    if (node->percpu_units > node->percpu_units_used)
        kind[KMEM_NODE_PERCPU] =
            kind[KMEM_NODE_PERCPU] / node->percpu_units * node->percpu_units_used;
    kind[KMEM_NODE_OTHER_RECLAIMABLE] = sub0(mi[KMEM_MI_KRECLAIMABLE], mi[KMEM_MI_SRECLAIMABLE]);
    kind[KMEM_NODE_ZSWAP] = mi[KMEM_MI_ZSWAP];
    /* nr_zspages counts every zsmalloc page: zswap's pool and zram devices. */
    zspages = kmem_mul_sat(vm[KMEM_VM_NR_ZSPAGES], page_size);
    kind[KMEM_NODE_ZRAM] = sub0(zspages, mi[KMEM_MI_ZSWAP]);
    kind[KMEM_NODE_BOUNCE] = mi[KMEM_MI_BOUNCE];
    kind[KMEM_NODE_WRITEBACK_TMP] = mi[KMEM_MI_WRITEBACKTMP];
    kind[KMEM_NODE_HASH_TABLES] = node->boot.hash_bytes[KMEM_HASH_PAGES];

    for (int k = 0; k < KMEM_NODE_UNACCOUNTED; k++)
        explained = kmem_add_sat(explained, kind[k]);
    /* Memory in MemTotal that is not kernel memory: free, user/page cache, hugetlb. */
    not_kernel = kmem_add_sat(kmem_add_sat(mi[KMEM_MI_MEMFREE], node->percpu_free_bytes),
                              kmem_add_sat(node->lru_bytes, node->hugetlb_bytes));
    not_kernel = kmem_add_sat(not_kernel, node->isolated_bytes);
    not_kernel = kmem_add_sat(not_kernel, explained);
    if (mi[KMEM_MI_MEMTOTAL] >= not_kernel) {
        uint64_t rest = mi[KMEM_MI_MEMTOTAL] - not_kernel;

        kind[KMEM_NODE_UNACCOUNTED] = rest;
        node->unaccounted_signed = rest > INT64_MAX ? INT64_MAX : (int64_t)rest;
    } else {
        uint64_t over = not_kernel - mi[KMEM_MI_MEMTOTAL];

        kind[KMEM_NODE_UNACCOUNTED] = 0;
        node->unaccounted_signed = over > INT64_MAX ? -INT64_MAX : -(int64_t)over;
    }
    node->kernel_total = kmem_add_sat(explained, kind[KMEM_NODE_UNACCOUNTED]);
}

/* ---- CONFIG_VMAP_STACK ------------------------------------------------- */

/*
 * The caller recorded for a thread stack in /proc/vmallocinfo: the function
 * that called __vmalloc_node_range(), which is alloc_thread_stack_node() or
 * whichever caller the compiler inlined it into.
 */
static const char *const stack_callers[] = {
    "alloc_thread_stack_node",
    "dup_task_struct",
    "copy_process",
    "kernel_clone",
    "_do_fork",
    "do_fork",
    "fork_idle",
    "create_io_thread",
    "kernel_thread",
    "user_mode_thread",
};

/* The function name of a vmallocinfo caller token ("kernel_clone+0xb8/0x400"). */
static size_t symbol_len(const char *tok, size_t len)
{
    const char *plus = memchr(tok, '+', len);

    return plus ? (size_t)(plus - tok) : len;
}

static bool is_stack_caller(const char *tok, size_t len)
{
    len = symbol_len(tok, len);
    for (size_t i = 0; i < sizeof(stack_callers) / sizeof(stack_callers[0]); i++)
        if (kmem_tok_eq(tok, len, stack_callers[i]))
            return true;
    return false;
}

/* What /proc/vmallocinfo says about stacks: vmalloc areas of their allocators. */
struct vmalloc_stacks {
    bool thread; /* a thread-stack caller */
    bool scs;    /* scs_alloc (shadow call stacks, 5.14+) */
};

/* Every "ADDR-ADDR SIZE CALLER ... vmalloc ..." line whose caller makes stacks. */
static struct vmalloc_stacks vmallocinfo_stacks(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    struct vmalloc_stacks st = {false, false};

    while (p < end) {
        const char *tok, *caller = NULL;
        size_t tl, caller_len = 0;
        bool vmalloc = false;
        int n = 0;

        while (kmem_next_token(&p, end, &tok, &tl)) {
            if (++n == 3) {
                caller = tok;
                caller_len = tl;
            } else if (n > 3 && kmem_tok_eq(tok, tl, "vmalloc")) {
                vmalloc = true;
            }
        }
        if (caller && vmalloc) {
            if (is_stack_caller(caller, caller_len))
                st.thread = true;
            else if (kmem_tok_eq(caller, symbol_len(caller, caller_len), "scs_alloc"))
                st.scs = true;
        }
        if (!kmem_next_line(&p, end))
            break;
    }
    return st;
}

/* 1 if CONFIG_VMAP_STACK=y in the root's boot/config-<release>, 0 if not, -1 unknown. */
static int config_vmap_stack(struct kmem_io *io)
{
    char rel[128], path[160];
    const char *p, *end;

    if (!kmem_root_release(io, rel, sizeof(rel)))
        return -1;
    snprintf(path, sizeof(path), "boot/config-%s", rel);
    if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_ROOT), path, &io->buf) != 0)
        return -1;
    p = io->buf.data;
    end = p + io->buf.len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t ll;

        if (!eol)
            eol = end;
        ll = (size_t)(eol - p);
        if (ll >= 19 && memcmp(p, "CONFIG_VMAP_STACK=y", 19) == 0)
            return 1;
        p = eol < end ? eol + 1 : end;
    }
    /* "# CONFIG_VMAP_STACK is not set", or an architecture without it. */
    return 0;
}

static bool arch_default_vmap_stack(void)
{
#if defined(__x86_64__) || defined(__aarch64__) || defined(__s390x__) || defined(__powerpc64__) || \
    (defined(__riscv) && __riscv_xlen == 64)
    return true; /* HAVE_ARCH_VMAP_STACK: VMAP_STACK defaults to y (not with KASAN before 5.x) */
#else
    return false;
#endif
}

/* sys/kernel/slab/<cache> exists (a directory or a link to a merged one). */
static bool sysfs_cache_exists(struct kmem_io *io, const char *cache)
{
    char rel[64];
    int sys = kmem_io_dir(io, KMEM_DIR_SYS);

    snprintf(rel, sizeof(rel), "kernel/slab/%s", cache);
    return sys >= 0 && faccessat(sys, rel, F_OK, 0) == 0;
}

/*
 * Where stacks live: vmap'd or not (CONFIG_VMAP_STACK), from the
 * thread_stack slab cache or not, shadow call stacks from scs_cache or
 * vmalloc. A kernel's config does not change while it runs: decided once
 * per context (a context capturing into a directory decides again so that
 * the files land in the capture; the recorder, capturing into memory,
 * carries them from its first sample), except that this collection's
 * /proc/slabinfo always counts.
 */
static void detect_stacks(struct kmem_io *io, struct kmem_node *node, const struct kmem_node *prev,
                          const struct kmem_slabinfo *slab)
{
    bool reuse =
        prev && prev->vmap_stack_source != KMEM_VMAP_STACK_UNKNOWN && !kmem_capturing_dir(io);
    bool have_slab = slab && slab->n > 0;
    struct vmalloc_stacks vs = {false, false};
    bool vmallocinfo = false;
    int cfg;

    if (reuse) {
        node->vmap_stack_detected = prev->vmap_stack_detected;
        node->vmap_stack_source = prev->vmap_stack_source;
    } else if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_PROC), "vmallocinfo", &io->buf) == 0 &&
               io->buf.len) {
        vs = vmallocinfo_stacks(io->buf.data, io->buf.len);
        vmallocinfo = true;
        node->vmap_stack_detected = vs.thread;
        node->vmap_stack_source = KMEM_VMAP_STACK_VMALLOCINFO;
    } else if ((cfg = config_vmap_stack(io)) >= 0) {
        node->vmap_stack_detected = cfg;
        node->vmap_stack_source = KMEM_VMAP_STACK_CONFIG;
    } else {
        node->vmap_stack_detected = arch_default_vmap_stack();
        node->vmap_stack_source = KMEM_VMAP_STACK_ARCH;
    }

    /* Thread stacks from a slab cache (kernel/fork.c: THREAD_SIZE < PAGE_SIZE, no VMAP_STACK). */
    if (have_slab) {
        node->stack_in_slab = kmem_slabinfo_find(slab, "thread_stack", 0) >= 0;
        node->stack_slab_source =
            node->stack_in_slab ? KMEM_VMAP_STACK_SLABINFO : KMEM_VMAP_STACK_UNKNOWN;
    } else if (reuse) {
        node->stack_in_slab = prev->stack_in_slab;
        node->stack_slab_source = prev->stack_slab_source;
    } else if (sysfs_cache_exists(io, "thread_stack")) {
        node->stack_in_slab = true;
        node->stack_slab_source = KMEM_VMAP_STACK_SYSFS;
    }

    /* Shadow call stacks (arm64): scs_cache on 5.8-5.13, vmalloc (scs_alloc) since 5.14. */
    if (node->mi.v[KMEM_MI_SHADOWCALLSTACK] == 0)
        return;
    if (have_slab && kmem_slabinfo_find(slab, "scs_cache", 0) >= 0) {
        node->scs_in_slab = true;
        node->scs_source = KMEM_VMAP_STACK_SLABINFO;
    } else if (reuse && prev->scs_source != KMEM_VMAP_STACK_UNKNOWN) {
        node->scs_in_slab = prev->scs_in_slab;
        node->scs_source = prev->scs_source;
    } else if (sysfs_cache_exists(io, "scs_cache")) {
        node->scs_in_slab = true; /* merged into another cache: not in slabinfo by name */
        node->scs_source = KMEM_VMAP_STACK_SYSFS;
    } else if (vmallocinfo && vs.scs) {
        node->scs_in_slab = false;
        node->scs_source = KMEM_VMAP_STACK_VMALLOCINFO;
    } else {
        unsigned rel = kmem_root_release_number(io);

        node->scs_in_slab = rel >= 5008 && rel < 5014;
        node->scs_source = rel ? KMEM_VMAP_STACK_RELEASE : KMEM_VMAP_STACK_ARCH;
    }
}

/* The kernel log and the possible CPUs: boot facts, read once per context. */
static void read_boot_facts(struct kmem_io *io, struct kmem_node *node,
                            const struct kmem_node *prev)
{
    if (prev && prev->boot.read && !kmem_capturing_dir(io)) {
        node->boot = prev->boot;
        return;
    }
    kmem_read_bootlog(io, &node->boot);
    node->boot.possible_cpus = kmem_possible_cpus(io);
}

void kmem_node_slab_gap(struct kmem_node *node, const struct kmem_slabinfo *slab,
                        uint64_t page_size)
{
    uint64_t sum = slab->totals.size_bytes, recl = 0, unrecl = 0;
    bool split = slab->attrs_ok;

    for (size_t i = 0; i < slab->n; i++) {
        uint64_t b = kmem_slab_bytes(&slab->v[i], page_size);

        if (!slab->v[i].attr.known)
            split = false;
        else if (slab->v[i].attr.reclaimable)
            recl = kmem_add_sat(recl, b);
        else
            unrecl = kmem_add_sat(unrecl, b);
    }
    node->slab_gap_known = true;
    node->slabinfo_bytes = sum;
    node->slab_gap = kmem_sub_signed(node->mi.v[KMEM_MI_SLAB], sum);
    node->slab_split_known = split;
    if (split) {
        node->slabinfo_reclaimable_bytes = recl;
        node->large_kmalloc = kmem_sub_signed(node->mi.v[KMEM_MI_SUNRECLAIM], unrecl);
    }
}

/* ---- the reader -------------------------------------------------------- */

/* @name is the file's name inside the procfs directory ("meminfo"). */
static int parse_failed(struct kmem_io *io, const char *name, const struct kmem_parse_error *perr)
{
    char shown[PATH_MAX];

    return kmem_err(io, EINVAL, "%s:%u: %s (not a Linux /proc/%s? a truncated capture?)",
                    kmem_display_path(io, KMEM_DIR_PROC, name, shown, sizeof(shown)), perr->line,
                    perr->what ? perr->what : "parse error", name);
}

static int missing_field(struct kmem_io *io, const char *name, const char *field)
{
    char shown[PATH_MAX];

    return kmem_err(io, EINVAL, "%s: no \"%s\" line (not a Linux /proc/%s? a truncated capture?)",
                    kmem_display_path(io, KMEM_DIR_PROC, name, shown, sizeof(shown)), field, name);
}

int kmem_read_node(struct kmem_io *io, struct kmem_node *node, const struct kmem_node *prev,
                   const struct kmem_slabinfo *slab)
{
    struct kmem_parse_error perr;
    int err;

    kmem_node_release(node);
    memset(node, 0, sizeof(*node));

    err = kmem_read_hot(io, KMEM_F_MEMINFO);
    if (err)
        return err;
    if (kmem_meminfo_parse(io->buf.data, io->buf.len, &node->mi, &perr))
        return parse_failed(io, "meminfo", &perr);
    if (!(node->mi.present & (UINT64_C(1) << KMEM_MI_MEMTOTAL)))
        return missing_field(io, "meminfo", "MemTotal:");
    if (!(node->mi.present & (UINT64_C(1) << KMEM_MI_MEMFREE)))
        return missing_field(io, "meminfo", "MemFree:");

    err = kmem_read_hot(io, KMEM_F_VMSTAT);
    if (err)
        return err;
    if (kmem_vmstat_parse(io->buf.data, io->buf.len, &node->vm, &perr))
        return parse_failed(io, "vmstat", &perr);
    if (!(node->vm.present & (UINT64_C(1) << KMEM_VM_NR_FREE_PAGES)))
        return missing_field(io, "vmstat", "nr_free_pages");

    err = kmem_read_hot(io, KMEM_F_ZONEINFO);
    if (err)
        return err;
    if (kmem_zoneinfo_parse(io->buf.data, io->buf.len, &node->percpu_free_pages, &perr))
        return parse_failed(io, "zoneinfo", &perr);

    detect_stacks(io, node, prev, slab);
    /* Stacks cannot be inside VmallocUsed if it is smaller (it is 0 before 5.3). */
    node->vmap_stack = node->vmap_stack_detected && !node->stack_in_slab &&
                       node->mi.v[KMEM_MI_VMALLOCUSED] >= node->mi.v[KMEM_MI_KERNELSTACK];
    read_boot_facts(io, node, prev);
    node->release = kmem_root_release_number(io);
    kmem_read_zram(io, &node->zram);
    kmem_read_sockstat(io, &node->sock, kmem_page_size());
    kmem_node_compute(node, kmem_page_size());
    return 0;
}

void kmem_node_release(struct kmem_node *node)
{
    (void)node; /* the node part owns no heap memory */
}
