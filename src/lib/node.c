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
    [KMEM_NODE_UNACCOUNTED] = "unaccounted",
};
static_assert(sizeof(kmem_node_kind_name) / sizeof(kmem_node_kind_name[0]) == KMEM_NODE_KIND_COUNT,
              "kmem_node_kind_name table");

const char *const kmem_vmap_stack_source_name[] = {
    [KMEM_VMAP_STACK_UNKNOWN] = "unknown",
    [KMEM_VMAP_STACK_VMALLOCINFO] = "vmallocinfo",
    [KMEM_VMAP_STACK_CONFIG] = "config",
    [KMEM_VMAP_STACK_ARCH] = "arch-default",
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
    uint64_t in_vmalloc, explained = 0, not_kernel, zspages;

    node->page_size = page_size;
    node->percpu_free_bytes = kmem_mul_sat(node->percpu_free_pages, page_size);
    node->memmap_boot_bytes = kmem_mul_sat(vm[KMEM_VM_NR_MEMMAP_BOOT_PAGES], page_size);
    node->memmap_bytes =
        kmem_add_sat(kmem_mul_sat(vm[KMEM_VM_NR_MEMMAP_PAGES], page_size), node->memmap_boot_bytes);
    node->lru_bytes = kmem_add_sat(kmem_add_sat(mi[KMEM_MI_ACTIVE], mi[KMEM_MI_INACTIVE]),
                                   mi[KMEM_MI_UNEVICTABLE]);
    /* Hugetlb (4.16+) covers every huge page size; HugePages_* only the default. */
    if (node->mi.present & (UINT64_C(1) << KMEM_MI_HUGETLB))
        node->hugetlb_bytes = mi[KMEM_MI_HUGETLB];
    else
        node->hugetlb_bytes = kmem_mul_sat(mi[KMEM_MI_HUGEPAGES_TOTAL], mi[KMEM_MI_HUGEPAGESIZE]);

    kind[KMEM_NODE_SLAB_RECLAIMABLE] = mi[KMEM_MI_SRECLAIMABLE];
    kind[KMEM_NODE_SLAB_UNRECLAIMABLE] = mi[KMEM_MI_SUNRECLAIM];
    kind[KMEM_NODE_KERNEL_STACK] =
        kmem_add_sat(mi[KMEM_MI_KERNELSTACK], mi[KMEM_MI_SHADOWCALLSTACK]);
    kind[KMEM_NODE_PAGETABLES] = mi[KMEM_MI_PAGETABLES];
    kind[KMEM_NODE_SEC_PAGETABLES] = mi[KMEM_MI_SECPAGETABLES];
    /* VmallocUsed counts vmap'd thread stacks and (5.14+) shadow call stacks. */
    in_vmalloc =
        kmem_add_sat(node->vmap_stack ? mi[KMEM_MI_KERNELSTACK] : 0, mi[KMEM_MI_SHADOWCALLSTACK]);
    kind[KMEM_NODE_VMALLOC] = sub0(mi[KMEM_MI_VMALLOCUSED], in_vmalloc);
    kind[KMEM_NODE_PERCPU] = mi[KMEM_MI_PERCPU];
    kind[KMEM_NODE_OTHER_RECLAIMABLE] = sub0(mi[KMEM_MI_KRECLAIMABLE], mi[KMEM_MI_SRECLAIMABLE]);
    kind[KMEM_NODE_ZSWAP] = mi[KMEM_MI_ZSWAP];
    /* nr_zspages counts every zsmalloc page: zswap's pool and zram devices. */
    zspages = kmem_mul_sat(vm[KMEM_VM_NR_ZSPAGES], page_size);
    kind[KMEM_NODE_ZRAM] = sub0(zspages, mi[KMEM_MI_ZSWAP]);

    for (int k = 0; k < KMEM_NODE_UNACCOUNTED; k++)
        explained = kmem_add_sat(explained, kind[k]);
    /* Memory in MemTotal that is not kernel memory: free, user/page cache, hugetlb. */
    not_kernel = kmem_add_sat(kmem_add_sat(mi[KMEM_MI_MEMFREE], node->percpu_free_bytes),
                              kmem_add_sat(node->lru_bytes, node->hugetlb_bytes));
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

static bool is_stack_caller(const char *tok, size_t len)
{
    const char *plus = memchr(tok, '+', len);

    if (plus)
        len = (size_t)(plus - tok);
    for (size_t i = 0; i < sizeof(stack_callers) / sizeof(stack_callers[0]); i++)
        if (kmem_tok_eq(tok, len, stack_callers[i]))
            return true;
    return false;
}

/* Any "ADDR-ADDR SIZE CALLER ... vmalloc ..." line whose caller makes stacks. */
static bool vmallocinfo_has_stacks(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;

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
        if (caller && vmalloc && is_stack_caller(caller, caller_len))
            return true;
        if (!kmem_next_line(&p, end))
            break;
    }
    return false;
}

/* Kernel release of the root's kernel into @out; false if unknown. */
static bool root_release(struct kmem_io *io, char *out, size_t outlen)
{
    const char *p, *end, *tok = NULL;
    size_t len = 0;

    if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_PROC), "sys/kernel/osrelease", &io->buf) == 0) {
        p = io->buf.data;
        end = p + io->buf.len;
        kmem_next_token(&p, end, &tok, &len);
    } else if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_PROC), "version", &io->buf) == 0) {
        /* "Linux version 6.18.44-foo (builder@host) ..." */
        p = io->buf.data;
        end = p + io->buf.len;
        for (int i = 0; i < 3; i++) {
            if (!kmem_next_token(&p, end, &tok, &len))
                return false;
        }
    }
    if (!tok || len == 0 || len >= outlen)
        return false;
    for (size_t i = 0; i < len; i++)
        if (tok[i] == '/' || tok[i] == '\0' || (i == 0 && tok[i] == '.'))
            return false;
    memcpy(out, tok, len);
    out[len] = '\0';
    return true;
}

/* 1 if CONFIG_VMAP_STACK=y in the root's boot/config-<release>, 0 if not, -1 unknown. */
static int config_vmap_stack(struct kmem_io *io)
{
    char rel[128], path[160];
    const char *p, *end;

    if (!root_release(io, rel, sizeof(rel)))
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

static void detect_vmap_stack(struct kmem_io *io, struct kmem_node *node,
                              const struct kmem_node *prev)
{
    int cfg;

    /* A kernel's config does not change while it runs: decide once. */
    if (prev && prev->vmap_stack_source != KMEM_VMAP_STACK_UNKNOWN && !kmem_capturing(io)) {
        node->vmap_stack_detected = prev->vmap_stack_detected;
        node->vmap_stack_source = prev->vmap_stack_source;
        return;
    }
    if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_PROC), "vmallocinfo", &io->buf) == 0 &&
        io->buf.len) {
        node->vmap_stack_detected = vmallocinfo_has_stacks(io->buf.data, io->buf.len);
        node->vmap_stack_source = KMEM_VMAP_STACK_VMALLOCINFO;
        return;
    }
    cfg = config_vmap_stack(io);
    if (cfg >= 0) {
        node->vmap_stack_detected = cfg;
        node->vmap_stack_source = KMEM_VMAP_STACK_CONFIG;
        return;
    }
    node->vmap_stack_detected = arch_default_vmap_stack();
    node->vmap_stack_source = KMEM_VMAP_STACK_ARCH;
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

int kmem_read_node(struct kmem_io *io, struct kmem_node *node, const struct kmem_node *prev)
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

    detect_vmap_stack(io, node, prev);
    /* Stacks cannot be inside VmallocUsed if it is smaller (it is 0 before 5.3). */
    node->vmap_stack = node->vmap_stack_detected &&
                       node->mi.v[KMEM_MI_VMALLOCUSED] >= node->mi.v[KMEM_MI_KERNELSTACK];
    kmem_node_compute(node, kmem_page_size());
    return 0;
}

void kmem_node_release(struct kmem_node *node)
{
    (void)node; /* the node part owns no heap memory */
}
