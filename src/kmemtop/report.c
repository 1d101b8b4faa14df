/* SPDX-License-Identifier: MIT */
/*
 * kmemtop --report: a plain-text explanation of where the node's kernel
 * memory went, for a reader who never heard of slab. Every number printed is
 * taken or derived exactly from the snapshot; byte counts are printed in full
 * (with a human size beside them) so that they can be checked.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "needs.h"
#include "report.h"

#ifndef KMEM_VERSION
#define KMEM_VERSION "0.0.0"
#endif

/* One line of plain English per kind, and where its figure comes from. */
static const char *const kind_help[KMEM_NODE_KIND_COUNT] = {
    [KMEM_NODE_SLAB_RECLAIMABLE] =
        "slab caches the kernel can empty when memory runs short, mostly "
        "the names and inodes of files it has seen (SReclaimable)",
    [KMEM_NODE_SLAB_UNRECLAIMABLE] = "slab caches in use that cannot just be dropped: processes, "
                                     "open files, sockets, network buffers (SUnreclaim)",
    [KMEM_NODE_KERNEL_STACK] = "the stack every thread uses while it runs kernel code "
                               "(KernelStack + ShadowCallStack)",
    [KMEM_NODE_PAGETABLES] = "page tables, the maps from each program's addresses to real memory "
                             "(PageTables)",
    [KMEM_NODE_SEC_PAGETABLES] = "the same maps for virtual machines (KVM) and IOMMUs "
                                 "(SecPageTables)",
    [KMEM_NODE_VMALLOC] = "memory the kernel maps into one contiguous range for itself: module "
                          "code, large tables, BPF programs (VmallocUsed without the stacks "
                          "counted in kernel_stack)",
    [KMEM_NODE_PERCPU] = "a copy of some kernel counters and structures for every CPU (Percpu)",
    [KMEM_NODE_OTHER_RECLAIMABLE] = "other memory the kernel can give back on demand, outside "
                                    "slab (KReclaimable - SReclaimable)",
    [KMEM_NODE_ZSWAP] = "compressed copies of swapped-out pages kept in RAM by zswap (Zswap)",
    [KMEM_NODE_ZRAM] = "compressed RAM disks (zram), e.g. swap on zram (vmstat nr_zspages x page "
                       "size - Zswap)",
    [KMEM_NODE_BOUNCE] = "copies of I/O buffers made for devices that cannot reach the original "
                         "memory (Bounce)",
    [KMEM_NODE_WRITEBACK_TMP] = "temporary copies FUSE makes of pages being written back "
                                "(WritebackTmp)",
    [KMEM_NODE_HASH_TABLES] = "lookup tables sized at boot (TCP and UDP connections, mounts, ...) "
                              "taken from the page allocator; sizes from the kernel log "
                              "(\"hash table entries\" lines)",
    [KMEM_NODE_UNACCOUNTED] = "what no counter explains: pages drivers and subsystems took "
                              "straight from the page allocator (see the formula below)",
};
static_assert(sizeof(kind_help) / sizeof(kind_help[0]) == KMEM_NODE_KIND_COUNT, "kind_help");

/* What a kind means on the root's kernel, where that differs (docs/node.md, per version). */
static const char *kind_note(const struct kmem_node *n, int k)
{
    if (n->release < 6018)
        return "";
    switch (k) {
    case KMEM_NODE_PAGETABLES:
        return "; on this kernel (6.18+) PageTables also counts the kernel's own page tables "
               "(vmalloc and ioremap mappings)";
    case KMEM_NODE_BOUNCE:
        return "; always 0 on this kernel (6.18+ prints a constant 0: block bounce buffers "
               "are gone)";
    case KMEM_NODE_WRITEBACK_TMP:
        return "; always 0 on this kernel (6.18+ prints a constant 0: FUSE no longer makes "
               "temporary pages)";
    default:
        return "";
    }
}

const char *kt_rep_hum(char *buf, uint64_t v)
{
    return kt_human(buf, H, (double)v);
}

/*
 * @text wrapped at WRAP columns: the first line after @first, the others after
 * @indent spaces. Words longer than a line are not cut.
 */
#define WRAP 88
void kt_rep_wrap(FILE *f, const char *first, int indent, const char *text)
{
    int col = fprintf(f, "%s", first);
    bool line_empty = true; /* no word on this line yet */

    for (const char *p = text; *p;) {
        int len;

        while (*p == ' ')
            p++;
        len = (int)strcspn(p, " ");
        if (len == 0)
            break;
        if (!line_empty && col + 1 + len > WRAP) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
            line_empty = true;
        }
        if (!line_empty) {
            fputc(' ', f);
            col++;
        }
        col += fprintf(f, "%.*s", len, p);
        line_empty = false;
        p += len;
    }
    fputc('\n', f);
}

void kt_rep_section(struct rep *r, const char *title)
{
    fprintf(r->f, "\n%s\n", title);
    for (const char *p = title; *p; p++)
        fputc('-', r->f);
    fputc('\n', r->f);
}

/* The part's error (its message already says what to do), or "not collected". */
void kt_rep_missing(struct rep *r, unsigned part, const struct kmem_status *st, const char *what)
{
    if (!(r->snap->flags & part))
        fprintf(r->f, "  %s: not collected.\n", what);
    else
        fprintf(r->f, "  %s are not available: %s\n", what,
                st->msg[0] ? st->msg : strerror(st->err < 0 ? -st->err : st->err));
}

static void intro(struct rep *r)
{
    kt_rep_section(r, "What kernel memory is");
    fputs("  Most of a machine's memory goes to programs (their own data, the RSS that ps and\n"
          "  top show) and to the page cache (file contents kept in RAM, given back on\n"
          "  demand). Kernel memory is what the kernel allocates for itself to run the\n"
          "  machine: a record for every open file, process and network connection, the\n"
          "  stacks its threads run on, the tables that map each program's memory, buffers\n"
          "  for drivers. No program's RSS includes it and much of it cannot be given back\n"
          "  on demand, so when it grows (a leak, millions of cached file names, many\n"
          "  sockets) memory seems to vanish. Containers are charged for the kernel memory\n"
          "  they cause, which counts against their memory limit.\n",
          r->f);
}

/* The answer first: total, the largest kind and cache, what nothing explains or owns. */
static void summary(struct rep *r)
{
    const struct kmem_node *n = &r->snap->node;
    const struct kmem_slabinfo *si = &r->snap->slab;
    char text[1024] = "", h[H], h2[H];
    size_t len = 0;

    if (!r->node_ok && !r->slab_ok)
        return;
    kt_rep_section(r, "In short");
    if (r->node_ok) {
        int big = 0;

        for (int k = 1; k < KMEM_NODE_KIND_COUNT; k++)
            if (n->kind[k] > n->kind[big])
                big = k;
        len += (size_t)snprintf(text + len, sizeof(text) - len,
                                "The kernel uses %s (%" PRIu64 " bytes), %.1f%% of MemTotal. "
                                "The largest kind is %s: %s (%.1f%%).",
                                kt_rep_hum(h, n->kernel_total), n->kernel_total,
                                kt_pct(n->kernel_total, n->mi.v[KMEM_MI_MEMTOTAL]),
                                kmem_node_kind_name[big], kt_rep_hum(h2, n->kind[big]),
                                kt_pct(n->kind[big], n->kernel_total));
    }
    if (r->slab_ok && si->n > 0 && len < sizeof(text)) {
        char name[KMEM_SLAB_NAME_MAX];
        size_t big = 0;

        for (size_t i = 1; i < si->n; i++)
            if (kmem_slab_bytes(&si->v[i], kmem_page_size()) >
                kmem_slab_bytes(&si->v[big], kmem_page_size()))
                big = i;
        len += (size_t)snprintf(
            text + len, sizeof(text) - len, "%sThe largest slab cache is %s: %s.", len ? " " : "",
            (kt_printable(name, sizeof(name), si->v[big].name, KT_ESC_QMARK), name),
            kt_rep_hum(h, kmem_slab_bytes(&si->v[big], kmem_page_size())));
    }
    if (r->node_ok && len < sizeof(text)) {
        uint64_t un = n->kind[KMEM_NODE_UNACCOUNTED];

        len += (size_t)snprintf(text + len, sizeof(text) - len, " No counter explains %s (%.1f%%).",
                                kt_rep_hum(h, un), kt_pct(un, n->kernel_total));
    }
    if (r->node_ok && r->snap->detail.outside.known && len < sizeof(text)) {
        const struct kmem_outside *o = &r->snap->detail.outside;

        len += (size_t)snprintf(text + len, sizeof(text) - len,
                                " Outside MemTotal, %s of RAM was set aside at boot (memmap, "
                                "kernel image, ...); %s of it is unexplained.",
                                kt_rep_hum(h, o->total),
                                kt_rep_hum(h2, o->part[KMEM_OUT_UNEXPLAINED]));
    }
    if (r->node_ok && r->cg_ok && r->snap->cgroups.n > 0 && len < sizeof(text)) {
        uint64_t ch = r->snap->cgroups.v[0].kernel;
        uint64_t charged = kt_rep_charged(&r->snap->cgroups);
        uint64_t not_charged = n->kernel_total > charged ? n->kernel_total - charged : 0;

        snprintf(text + len, sizeof(text) - len,
                 " Cgroups are charged %s; %s (%.1f%%) belongs to no cgroup.", kt_rep_hum(h, ch),
                 kt_rep_hum(h2, not_charged), kt_pct(not_charged, n->kernel_total));
    }
    kt_rep_wrap(r->f, "  ", 2, text);
}

static void kinds(struct rep *r)
{
    const struct kmem_node *n = &r->snap->node;
    uint64_t memtotal = n->mi.v[KMEM_MI_MEMTOTAL];
    char h[H], h2[H];

    kt_rep_section(r, "Kernel memory by kind");
    if (!r->node_ok) {
        kt_rep_missing(r, KMEM_COLLECT_NODE, &r->snap->status[KMEM_PART_NODE], "Node counters");
        return;
    }
    fprintf(r->f, "  The kinds do not overlap: they add up to the total.\n\n");
    fprintf(r->f, "  %-20s %15s %8s %7s\n", "kind", "bytes", "size", "share");
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
        fprintf(r->f, "  %-20s %15" PRIu64 " %8s %6.1f%%\n", kmem_node_kind_name[k], n->kind[k],
                kt_rep_hum(h, n->kind[k]), kt_pct(n->kind[k], n->kernel_total));
    fprintf(r->f, "  %-20s %15" PRIu64 " %8s %6.1f%%\n", "total", n->kernel_total,
            kt_rep_hum(h, n->kernel_total), n->kernel_total ? 100.0 : 0.0);
    fprintf(r->f, "\n  Kernel memory is %.1f%% of MemTotal (%" PRIu64 " bytes, %s).\n",
            kt_pct(n->kernel_total, memtotal), memtotal, kt_rep_hum(h2, memtotal));
    fprintf(r->f, "\n  What each kind is:\n");
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++) {
        char first[64], text[512];

        snprintf(first, sizeof(first), "  %s: ", kmem_node_kind_name[k]);
        snprintf(text, sizeof(text), "%s%s.", kind_help[k], kind_note(n, k));
        kt_rep_wrap(r->f, first, 6, text);
    }
    {
        const uint64_t *mi = n->mi.v;
        uint64_t src =
            n->vmap_stack_source < KMEM_VMAP_STACK_SOURCE_COUNT ? n->vmap_stack_source : 0;
        char text[512];

        if (n->vmap_stack)
            snprintf(text, sizeof(text),
                     "On this kernel thread stacks live in vmalloc space (CONFIG_VMAP_STACK, "
                     "decided from: %s), so VmallocUsed includes them and vmalloc leaves them "
                     "out: vmalloc = VmallocUsed - KernelStack - ShadowCallStack = %" PRIu64
                     " - %" PRIu64 " - %" PRIu64 " = %" PRIu64 ".",
                     kmem_vmap_stack_source_name[src], mi[KMEM_MI_VMALLOCUSED],
                     mi[KMEM_MI_KERNELSTACK], mi[KMEM_MI_SHADOWCALLSTACK],
                     n->kind[KMEM_NODE_VMALLOC]);
        else
            snprintf(text, sizeof(text),
                     "On this kernel thread stacks are not in vmalloc space (decided from: %s): "
                     "vmalloc = VmallocUsed - ShadowCallStack = %" PRIu64 " - %" PRIu64
                     " = %" PRIu64 ".",
                     kmem_vmap_stack_source_name[src], mi[KMEM_MI_VMALLOCUSED],
                     mi[KMEM_MI_SHADOWCALLSTACK], n->kind[KMEM_NODE_VMALLOC]);
        fputc('\n', r->f);
        kt_rep_wrap(r->f, "  ", 2, text);
        if (n->stack_in_slab || n->scs_in_slab) {
            snprintf(text, sizeof(text),
                     "Here %s from slab caches (decided from: %s), so SUnreclaim includes them "
                     "and slab_unreclaimable leaves them out: slab_unreclaimable = SUnreclaim - "
                     "%s = %" PRIu64 " - %" PRIu64 " = %" PRIu64 ".",
                     n->stack_in_slab && n->scs_in_slab ? "thread stacks and shadow call stacks "
                                                          "come"
                     : n->stack_in_slab                 ? "thread stacks come (thread_stack)"
                                                        : "shadow call stacks come (scs_cache)",
                     kmem_vmap_stack_source_name[n->stack_in_slab ? n->stack_slab_source
                                                                  : n->scs_source],
                     n->stack_in_slab && n->scs_in_slab ? "KernelStack - ShadowCallStack"
                     : n->stack_in_slab                 ? "KernelStack"
                                                        : "ShadowCallStack",
                     mi[KMEM_MI_SUNRECLAIM],
                     (n->stack_in_slab ? mi[KMEM_MI_KERNELSTACK] : 0) +
                         (n->scs_in_slab ? mi[KMEM_MI_SHADOWCALLSTACK] : 0),
                     n->kind[KMEM_NODE_SLAB_UNRECLAIMABLE]);
            fputc('\n', r->f);
            kt_rep_wrap(r->f, "  ", 2, text);
        }
        if (n->percpu_first_chunk_bytes) {
            int len =
                snprintf(text, sizeof(text),
                         "Percpu also counts the first per-CPU chunk, which was set aside at boot "
                         "outside MemTotal (kernel log: %" PRIu64 " pages per unit x %" PRIu64
                         " units%s); percpu leaves it out: percpu = Percpu - first chunk = "
                         "%" PRIu64 " - %" PRIu64 " = %" PRIu64 ".",
                         n->boot.percpu_unit_pages, n->percpu_units,
                         n->boot.percpu_units ? ", pcpu-alloc lines" : ", one per possible CPU",
                         mi[KMEM_MI_PERCPU], n->percpu_first_chunk_bytes,
                         mi[KMEM_MI_PERCPU] - n->percpu_first_chunk_bytes);

            if (n->percpu_units > n->percpu_units_used && len > 0 && (size_t)len < sizeof(text))
                snprintf(
                    text + len, sizeof(text) - (size_t)len,
                    " Percpu multiplies by every unit, %" PRIu64
                    " of them unused (\"-\"), but later chunks have pages only for the %" PRIu64
                    " used: percpu = %" PRIu64 ".",
                    n->percpu_units - n->percpu_units_used, n->percpu_units_used,
                    n->kind[KMEM_NODE_PERCPU]);
            fputc('\n', r->f);
            kt_rep_wrap(r->f, "  ", 2, text);
        }
    }
}

/* Slab caches by size, descending; ties keep file order. */
static int cmp_slab_size(const void *pa, const void *pb, void *arg)
{
    const struct kmem_slabinfo *si = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    uint64_t sa = kmem_slab_bytes(&si->v[a], kmem_page_size());
    uint64_t sb = kmem_slab_bytes(&si->v[b], kmem_page_size());

    if (sa != sb)
        return sa > sb ? -1 : 1;
    return a < b ? -1 : 1;
}

/* meminfo Slab against /proc/slabinfo: what the caches do not hold. */
static void slab_gap(struct rep *r)
{
    const struct kmem_node *n = &r->snap->node;
    char text[1024], h[H];

    snprintf(text, sizeof(text),
             "The difference, Slab - sum of /proc/slabinfo = %" PRIu64 " - %" PRIu64 " = %" PRId64
             " bytes (%s), is memory no cache holds: kmalloc() of more than two pages goes "
             "straight to the page allocator, yet the kernel counts it in SUnreclaim (mm/slub.c, "
             "since about 5.7; SLAB since 6.1).",
             n->mi.v[KMEM_MI_SLAB], n->slabinfo_bytes, n->slab_gap,
             n->slab_gap >= 0 ? kt_rep_hum(h, (uint64_t)n->slab_gap) : "below 0");
    fputc('\n', r->f);
    kt_rep_wrap(r->f, "  ", 2, text);
    if (n->slab_split_known) {
        snprintf(text, sizeof(text),
                 "By /sys/kernel/slab/*/reclaim_account: reclaimable caches = %" PRIu64
                 " bytes (SReclaimable = %" PRIu64 "); large kmallocs = SUnreclaim - the other "
                 "caches = %" PRId64 " bytes.",
                 n->slabinfo_reclaimable_bytes, n->mi.v[KMEM_MI_SRECLAIMABLE], n->large_kmalloc);
        kt_rep_wrap(r->f, "  ", 2, text);
    }
}

static void slabs(struct rep *r)
{
    const struct kmem_slabinfo *si = &r->snap->slab;
    uint64_t page = kmem_page_size(), total = si->totals.size_bytes;
    size_t *idx, shown;
    char h[H];

    kt_rep_section(r, "Largest slab caches");
    if (!r->slab_ok) {
        kt_rep_missing(r, KMEM_COLLECT_SLAB, &r->snap->status[KMEM_PART_SLAB], "Slab caches");
        return;
    }
    fputs("  The kernel allocates most of its small records (one per open file, socket,\n"
          "  process, cached file name...) from slab caches: pools of equally sized objects\n"
          "  of one type, carved out of whole pages, so that getting and freeing one is fast.\n"
          "  A cache that keeps growing is the usual sign of a kernel memory leak.\n",
          r->f);
    fprintf(r->f,
            "\n  /proc/slabinfo lists %zu caches using %" PRIu64 " bytes (%s) in slabs of %" PRIu64
            "-byte pages",
            si->n, total, kt_rep_hum(h, total), page);
    if (r->node_ok)
        fprintf(r->f, ";\n  /proc/meminfo counts Slab = %" PRIu64 " bytes",
                r->snap->node.mi.v[KMEM_MI_SLAB]);
    fputs(".\n", r->f);
    if (r->node_ok && r->snap->node.slab_gap_known)
        slab_gap(r);
    if (si->n == 0)
        return;
    idx = malloc(si->n * sizeof(*idx));
    if (!idx) {
        fputs("  (out of memory sorting the caches)\n", r->f);
        return;
    }
    for (size_t i = 0; i < si->n; i++)
        idx[i] = i;
    qsort_r(idx, si->n, sizeof(*idx), cmp_slab_size, (void *)si);
    shown = si->n < TOP_N ? si->n : TOP_N;
    fprintf(r->f, "\n  Top %zu by size:\n", shown);
    fprintf(r->f, "  %15s %8s %12s %12s %8s  %s\n", "bytes", "size", "objects", "in use",
            "obj size", "cache");
    for (size_t i = 0; i < shown; i++) {
        const struct kmem_slab *s = &si->v[idx[i]];
        uint64_t b = kmem_slab_bytes(s, page);

        fprintf(r->f, "  %15" PRIu64 " %8s %12" PRIu64 " %12" PRIu64 " %8" PRIu64 "  ", b,
                kt_rep_hum(h, b), s->num_objs, s->active_objs, s->objsize);
        kt_put_printable(r->f, s->name);
        if (s->dup)
            fprintf(r->f, " (line %u, repeated name)", s->line);
        fputc('\n', r->f);
    }
    free(idx);
}

static void percpu_free(struct rep *r)
{
    const struct kmem_node *n = &r->snap->node;
    char h[H];

    kt_rep_section(r, "Per-CPU free pages");
    if (!r->node_ok) {
        kt_rep_missing(r, KMEM_COLLECT_NODE, &r->snap->status[KMEM_PART_NODE], "Node counters");
        return;
    }
    fputs("  Each CPU keeps a small stock of free pages so that it can allocate without\n"
          "  taking a lock. They are free, but MemFree does not count them, so they look\n"
          "  used; the formula below subtracts them (/proc/zoneinfo, \"count:\" of each\n"
          "  pageset).\n",
          r->f);
    fprintf(r->f,
            "  per-CPU free pages = %" PRIu64 " pages x %" PRIu64 " bytes = %" PRIu64
            " bytes (%s)\n",
            n->percpu_free_pages, n->page_size, n->percpu_free_bytes,
            kt_rep_hum(h, n->percpu_free_bytes));
}

struct term {
    const char *name;
    uint64_t v;
    const char *note;
};

static void unaccounted(struct rep *r)
{
    const struct kmem_node *n = &r->snap->node;
    const uint64_t *mi = n->mi.v;
    struct term t[32];
    size_t nt = 0;
    int64_t sum;
    bool overflow = false;
    char h[H];

    kt_rep_section(r, "The unaccounted rest");
    if (!r->node_ok) {
        kt_rep_missing(r, KMEM_COLLECT_NODE, &r->snap->status[KMEM_PART_NODE], "Node counters");
        return;
    }
    fputs("  MemTotal is all the RAM the kernel manages. Take away what is free, what\n"
          "  programs and the page cache use (the LRU lists), huge pages, and every kind of\n"
          "  kernel memory that has a counter: what is left is memory the kernel uses but\n"
          "  does not report, typically pages that drivers (network cards, GPUs, storage)\n"
          "  and some subsystems take straight from the page allocator.\n\n",
          r->f);
    fputs("  unaccounted = MemTotal - MemFree - per-CPU free pages\n"
          "              - (Active + Inactive + Unevictable) - isolated pages - huge pages\n"
          "              - (every kind above except unaccounted)\n\n",
          r->f);

    t[nt++] = (struct term){"MemTotal", mi[KMEM_MI_MEMTOTAL], ""};
    t[nt++] = (struct term){"MemFree", mi[KMEM_MI_MEMFREE], ""};
    t[nt++] = (struct term){"per-CPU free pages", n->percpu_free_bytes, ""};
    t[nt++] = (struct term){"Active + Inactive + Unevictable", n->lru_bytes, ""};
    t[nt++] = (struct term){"isolated pages", n->isolated_bytes,
                            "nr_isolated_anon + nr_isolated_file: user pages off the LRU"};
    if (n->mi.present & (UINT64_C(1) << KMEM_MI_HUGETLB))
        t[nt++] = (struct term){"Hugetlb", n->hugetlb_bytes, "huge pages of every size"};
    else
        t[nt++] = (struct term){"HugePages_Total x Hugepagesize", n->hugetlb_bytes, ""};
    for (int k = 0; k < KMEM_NODE_UNACCOUNTED; k++)
        t[nt++] = (struct term){kmem_node_kind_name[k], n->kind[k], ""};

    fprintf(r->f, "  with this node's values, in bytes:\n");
    sum = 0;
    for (size_t i = 0; i < nt; i++) {
        int64_t v = t[i].v > INT64_MAX ? INT64_MAX : (int64_t)t[i].v;

        fprintf(r->f, "    %c %15" PRIu64 "  %s%s%s%s\n", i == 0 ? ' ' : '-', t[i].v, t[i].name,
                *t[i].note ? " (" : "", t[i].note, *t[i].note ? ")" : "");
        if (i == 0)
            sum = v;
        else if (__builtin_sub_overflow(sum, v, &sum))
            overflow = true;
    }
    fprintf(r->f, "    = %15" PRId64 "  unaccounted", n->unaccounted_signed);
    if (n->unaccounted_signed < 0)
        fprintf(r->f, " (below zero: the counters overlap by %" PRIu64 " bytes; shown as 0)\n",
                (uint64_t)(-(n->unaccounted_signed + 1)) + 1);
    else
        fprintf(r->f, " (%s, %.1f%% of kernel memory)\n",
                kt_rep_hum(h, (uint64_t)n->unaccounted_signed),
                kt_pct((uint64_t)n->unaccounted_signed, n->kernel_total));
    if (overflow || sum != n->unaccounted_signed)
        fprintf(r->f,
                "  (note: these terms give %" PRId64 "; the node reader's own result is "
                "shown)\n",
                sum);
}

/* The memmap lines (vmstat, 6.11+). */
static void outside_memmap(struct rep *r)
{
    const struct kmem_node *n = &r->snap->node;
    char h[H];

    if (!(n->vm.present & (UINT64_C(1) << KMEM_VM_NR_MEMMAP_PAGES))) {
        fputs("  This kernel does not report the memmap's size (/proc/vmstat nr_memmap_pages,\n"
              "  Linux 6.11 and later).\n",
              r->f);
        return;
    }
    fprintf(r->f,
            "  memmap = (nr_memmap_pages + nr_memmap_boot_pages) x page size\n"
            "         = (%" PRIu64 " + %" PRIu64 ") x %" PRIu64 " = %" PRIu64 " bytes (%s)\n",
            n->vm.v[KMEM_VM_NR_MEMMAP_PAGES], n->vm.v[KMEM_VM_NR_MEMMAP_BOOT_PAGES], n->page_size,
            n->memmap_bytes, kt_rep_hum(h, n->memmap_bytes));
    fprintf(r->f,
            "  The boot part, nr_memmap_boot_pages x page size = %" PRIu64 " bytes (%s), is\n"
            "  outside MemTotal. The part allocated later (nr_memmap_pages, e.g. memory\n"
            "  hot-plug) is inside MemTotal; no other counter shows it, so it is part of\n"
            "  unaccounted above.\n",
            n->memmap_boot_bytes, kt_rep_hum(h, n->memmap_boot_bytes));
}

static void outside(struct rep *r)
{
    const struct kmem_node *n = &r->snap->node;
    const struct kmem_detail *d = &r->snap->detail;
    const struct kmem_outside *o = &d->outside;
    const struct kmem_iomem *io = &d->iomem;
    bool detail = (r->snap->flags & KMEM_COLLECT_DETAIL) != 0;
    char h[H];

    kt_rep_section(r, "Memory outside MemTotal");
    if (!r->node_ok) {
        kt_rep_missing(r, KMEM_COLLECT_NODE, &r->snap->status[KMEM_PART_NODE], "Node counters");
        return;
    }
    fputs("  Some RAM never appears in MemTotal: the kernel's own code and data, memory the\n"
          "  firmware reserves, and most of the memmap, the table with one descriptor\n"
          "  (struct page) for every page of RAM, set up at boot.\n",
          r->f);
    outside_memmap(r);
    if (!detail)
        return;
    fputc('\n', r->f);
    if (!o->known) {
        char text[512];

        snprintf(text, sizeof(text),
                 "The RAM installed (/proc/iomem \"System RAM\") is not known: /proc/iomem is "
                 "%s. Without it the part outside MemTotal cannot be totalled; the parts below "
                 "are what the other files show.",
                 io->err ? kmem_errno_text(io->err, KMEM_ADVICE_DETAIL) : "not collected");
        kt_rep_wrap(r->f, "  ", 2, text);
        fputc('\n', r->f);
    } else {
        fprintf(r->f,
                "  outside = System RAM (/proc/iomem) - MemTotal = %" PRIu64 " - %" PRIu64
                " = %" PRIu64 " bytes (%s)\n\n",
                o->system_ram, o->memtotal, o->total, kt_rep_hum(h, o->total));
    }
    fprintf(r->f, "  %-20s %15s %8s  %s\n", "part", "bytes", "size", "from");
    fprintf(r->f, "  %-20s %15" PRIu64 " %8s  %s\n", "memmap", o->part[KMEM_OUT_MEMMAP],
            kt_rep_hum(h, o->part[KMEM_OUT_MEMMAP]),
            o->memmap_estimated ? "estimated: System RAM pages x 64 bytes (no nr_memmap_boot_pages)"
                                : "nr_memmap_boot_pages x page size");
    if (io->err == 0 && io->kernel_seen) {
        char from[256];

        if (o->image_from_span)
            snprintf(from, sizeof(from),
                     "iomem Kernel code..bss span %" PRIu64 " - freed after boot %" PRIu64
                     " (kernel log)",
                     io->kernel_end - io->kernel_start + 1, n->boot.image_freed_bytes);
        else
            snprintf(from, sizeof(from), "iomem Kernel code + rodata + data + bss");
        fprintf(r->f, "  %-20s %15" PRIu64 " %8s  %s\n", "kernel_image",
                o->part[KMEM_OUT_KERNEL_IMAGE], kt_rep_hum(h, o->part[KMEM_OUT_KERNEL_IMAGE]),
                from);
    } else {
        fprintf(r->f, "  %-20s %15s %8s  %s\n", "kernel_image", "?", "",
                "iomem Kernel code/rodata/data/bss (not known)");
    }
    fprintf(r->f, "  %-20s %15" PRIu64 " %8s  %s\n", "crash_kernel", o->part[KMEM_OUT_CRASH_KERNEL],
            kt_rep_hum(h, o->part[KMEM_OUT_CRASH_KERNEL]), "iomem Crash kernel (kdump)");
    fprintf(r->f, "  %-20s %15" PRIu64 " %8s  %s\n", "boot_hash_tables",
            o->part[KMEM_OUT_BOOT_HASH_TABLES], kt_rep_hum(h, o->part[KMEM_OUT_BOOT_HASH_TABLES]),
            n->boot.err ? "kernel log (not readable)" : "kernel log: tables made before MemTotal");
    fprintf(r->f, "  %-20s %15" PRIu64 " %8s  %s\n", "percpu_first_chunk",
            o->part[KMEM_OUT_PERCPU_FIRST_CHUNK],
            kt_rep_hum(h, o->part[KMEM_OUT_PERCPU_FIRST_CHUNK]),
            "kernel log \"percpu: Embedded N pages/cpu\" x used units");
    fprintf(r->f, "  %-20s %15" PRIu64 " %8s  %s\n", "swiotlb", o->part[KMEM_OUT_SWIOTLB],
            kt_rep_hum(h, o->part[KMEM_OUT_SWIOTLB]),
            n->boot.swiotlb_torn_down ? "kernel log: swiotlb pool torn down (given back)"
                                      : "kernel log \"software IO TLB: mapped [mem A-B]\"");
    if (o->known) {
        fprintf(r->f, "  %-20s %15" PRId64 " %8s  %s\n", "unexplained", o->unexplained_signed,
                o->unexplained_signed >= 0 ? kt_rep_hum(h, (uint64_t)o->unexplained_signed) : "<0",
                "outside - the parts above: firmware, early page tables, ...");
        fprintf(r->f,
                "\n  Inside and outside MemTotal together, %" PRIu64
                " bytes (%s) of System RAM are\n  explained by no figure: unaccounted %" PRIu64
                " + unexplained %" PRIu64 ".\n",
                n->kind[KMEM_NODE_UNACCOUNTED] + o->part[KMEM_OUT_UNEXPLAINED],
                kt_rep_hum(h, n->kind[KMEM_NODE_UNACCOUNTED] + o->part[KMEM_OUT_UNEXPLAINED]),
                n->kind[KMEM_NODE_UNACCOUNTED], o->part[KMEM_OUT_UNEXPLAINED]);
    }
    if (n->boot.err) {
        char text[768], why[320];
        struct kmem_privs p;

        kmem_privs_self(&p);
        snprintf(text, sizeof(text),
                 "The kernel log was not readable (%s): boot hash tables, the freed parts of the "
                 "kernel image and the per-CPU first chunk are not known; %s.",
                 strerror(n->boot.err < 0 ? -n->boot.err : n->boot.err),
                 kmem_need_text(why, sizeof(why), KMEM_NEED_KLOG, n->boot.err, &p));
        fputc('\n', r->f);
        kt_rep_wrap(r->f, "  ", 2, text);
    }
    if (n->boot.n_hash) {
        fputs("\n  Boot hash tables (kernel log; boot: outside MemTotal, pages: the hash_tables\n"
              "  kind, vmalloc: inside vmalloc):\n",
              r->f);
        for (unsigned i = 0; i < n->boot.n_hash; i++)
            fprintf(r->f, "  %15" PRIu64 " %8s  %-8s %s\n", n->boot.hash[i].bytes,
                    kt_rep_hum(h, n->boot.hash[i].bytes), kmem_hash_home_name[n->boot.hash[i].home],
                    n->boot.hash[i].name);
    }
}

/* /proc/vmallocinfo by caller. */
static void vmalloc_callers(struct rep *r)
{
    const struct kmem_vmallocinfo *v = &r->snap->detail.vmalloc;
    char h[H];

    if (!(r->snap->flags & KMEM_COLLECT_DETAIL))
        return;
    kt_rep_section(r, "Where vmalloc memory goes");
    if (v->err) {
        fprintf(r->f, "  /proc/vmallocinfo is %s, so the callers are not shown.\n",
                kmem_errno_text(v->err, KMEM_ADVICE_DETAIL));
        return;
    }
    fprintf(r->f,
            "  /proc/vmallocinfo lists %" PRIu64 " areas from %" PRIu64 " callers holding %" PRIu64
            " bytes (%s) of RAM\n  (the sum of pages=N, which is VmallocUsed",
            v->areas, v->callers, v->bytes, kt_rep_hum(h, v->bytes));
    if (r->node_ok)
        fprintf(r->f, " = %" PRIu64, r->snap->node.mi.v[KMEM_MI_VMALLOCUSED]);
    fprintf(r->f, "), and %" PRIu64 " bytes of device memory\n  mapped with ioremap (no RAM).\n",
            v->ioremap_vsize);
    if (v->n_groups) {
        fputs("\n  By purpose:\n", r->f);
        for (unsigned i = 0; i < v->n_groups; i++)
            if (v->groups[i].bytes)
                fprintf(r->f, "  %15" PRIu64 " %8s  %s\n", v->groups[i].bytes,
                        kt_rep_hum(h, v->groups[i].bytes), v->groups[i].name);
    }
    if (v->n_top) {
        fputs("\n  Top callers (RAM behind their areas):\n", r->f);
        fprintf(r->f, "  %15s %8s %7s  %s\n", "bytes", "size", "areas", "caller");
        for (unsigned i = 0; i < v->n_top && i < TOP_N; i++) {
            fprintf(r->f, "  %15" PRIu64 " %8s %7" PRIu64 "  ", v->top[i].bytes,
                    kt_rep_hum(h, v->top[i].bytes), v->top[i].areas);
            kt_put_printable(r->f, v->top[i].caller);
            if (v->top[i].plain)
                fprintf(r->f, " (%s)", v->top[i].plain);
            fputc('\n', r->f);
        }
    }
}

/* /proc/allocinfo: the top call sites. */
static void alloc_sites(struct rep *r)
{
    const struct kmem_allocinfo *a = &r->snap->detail.alloc;
    char h[H];

    if (!(r->snap->flags & KMEM_COLLECT_DETAIL))
        return;
    kt_rep_section(r, "Allocation call sites");
    if (!a->present) {
        fputs("  This kernel has no /proc/allocinfo (Linux 6.10+ built with\n"
              "  CONFIG_MEM_ALLOC_PROFILING), which counts the bytes every call site holds.\n",
              r->f);
        return;
    }
    if (a->err) {
        fprintf(r->f, "  /proc/allocinfo is %s.\n", kmem_errno_text(a->err, KMEM_ADVICE_DETAIL));
        return;
    }
    fprintf(r->f,
            "  /proc/allocinfo (version %u.%u): %" PRIu64 " call sites hold %" PRId64
            " bytes in %" PRIu64 " allocations.\n",
            a->major, a->minor, a->sites, a->bytes, a->calls);
    fprintf(r->f, "  %15s %8s %10s  %s\n", "bytes", "size", "calls", "call site");
    for (unsigned i = 0; i < a->n_top && i < TOP_N; i++) {
        fprintf(r->f, "  %15" PRId64 " %8s %10" PRIu64 "  ", a->top[i].bytes,
                a->top[i].bytes >= 0 ? kt_rep_hum(h, (uint64_t)a->top[i].bytes) : "<0",
                a->top[i].calls);
        kt_put_printable(r->f, a->top[i].site);
        if (*a->top[i].func)
            fprintf(r->f, " %s", a->top[i].func);
        if (*a->top[i].module)
            fprintf(r->f, " [%s]", a->top[i].module);
        if (a->top[i].inaccurate)
            fputs(" (not accurate)", r->f);
        fputc('\n', r->f);
    }
}

/* Which machine a capture read back with --root describes. */
static void capture_header(FILE *f, const struct kmem_capture_meta *m)
{
    if (!m)
        return;
    fputs("Read from a capture: taken ", f);
    kt_put_printable(f, *m->date ? m->date : "(date unknown)");
    fputs(" on host ", f);
    kt_put_printable(f, *m->hostname ? m->hostname : "unknown");
    fputs(", Linux ", f);
    kt_put_printable(f, *m->kernel ? m->kernel : "unknown");
    fputs(", by kmem ", f);
    kt_put_printable(f, *m->version ? m->version : "unknown");
    fputs("\n", f);
    if (*m->command) {
        fputs("  with: ", f);
        kt_put_printable(f, m->command);
        fputs("\n", f);
    }
}

int kt_report(FILE *f, const struct kmem_snapshot *snap, const struct kmem_capture_meta *meta)
{
    struct rep r = {
        .f = f,
        .snap = snap,
        .slab_ok = kt_part_ok(snap, KMEM_PART_SLAB),
        .node_ok = kt_part_ok(snap, KMEM_PART_NODE),
        .cg_ok = kt_part_ok(snap, KMEM_PART_CGROUPS),
    };

    fprintf(f, "Kernel memory report (kmemtop %s)\n", KMEM_VERSION);
    capture_header(f, meta);
    summary(&r);
    kt_rep_advice(&r);
    intro(&r);
    kinds(&r);
    slabs(&r);
    percpu_free(&r);
    unaccounted(&r);
    outside(&r);
    vmalloc_callers(&r);
    alloc_sites(&r);
    kt_rep_notes(&r);
    kt_rep_cgroups(&r);
    kt_owner_report(f, snap, 10);
    kt_rep_dying(&r);
    if (fflush(f) != 0 || ferror(f))
        return -(errno ? errno : EIO);
    return 0;
}
