/* SPDX-License-Identifier: MIT */
/* kmemtop --report: the memory cgroups and the dying ones (see report.c). */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static int cmp_kernel(const void *pa, const void *pb, void *arg)
{
    const struct kmem_cgroup *v = arg;
    const struct kmem_cgroup *a = &v[*(const size_t *)pa];
    const struct kmem_cgroup *b = &v[*(const size_t *)pb];

    if (a->kernel != b->kernel)
        return a->kernel > b->kernel ? -1 : 1;
    return strcmp(a->path, b->path);
}

static void cg_table(struct rep *r, const size_t *idx, size_t n, uint64_t whole)
{
    const struct kmem_cgroup *v = r->snap->cgroups.v;
    char h[H], name[4096];

    fprintf(r->f, "  %15s %8s %7s  %s\n", "bytes", "size", "share", "cgroup");
    for (size_t i = 0; i < n && i < TOP_N; i++) {
        const struct kmem_cgroup *cg = &v[idx[i]];

        fprintf(r->f, "  %15" PRIu64 " %7s%c %6.1f%%  ", cg->kernel, kt_rep_hum(h, cg->kernel),
                cg->kernel_approx ? '~' : ' ', kt_pct(cg->kernel, whole));
        fprintf(r->f, "%s\n", kt_cg_name(name, sizeof(name), cg, KT_ESC_HEX));
    }
    if (n > TOP_N)
        fprintf(r->f, "  ... and %zu more\n", n - TOP_N);
}

/*
 * What the node's kernel memory has charged to cgroups: the root's kernel, and
 * on v2 its sock too (charged outside "kernel"; the node counts socket buffers
 * in its unaccounted rest), so that "not charged" leaves both out.
 */
uint64_t kt_rep_charged(const struct kmem_cgroups *cgs)
{
    const struct kmem_cgroup *root = &cgs->v[0];
    uint64_t sock = cgs->layout == KMEM_CG_V2 && root->has_sock ? root->sock : 0;

    return root->kernel + sock < root->kernel ? UINT64_MAX : root->kernel + sock;
}

const struct kmem_cgroup *kt_rep_top_leaf(const struct kmem_cgroups *cgs)
{
    const struct kmem_cgroup *best = NULL;
    size_t *idx;

    if (cgs->n < 2 || !(idx = malloc(cgs->n * sizeof(*idx))))
        return NULL;
    /* In tree order, a cgroup followed by one of its descendants is no leaf. */
    kt_cg_tree_order(cgs->v, cgs->n, idx);
    for (size_t i = 0; i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[idx[i]];
        bool leaf = i + 1 == cgs->n || !kt_cg_is_ancestor(cg->path, cgs->v[idx[i + 1]].path);

        if (leaf && cg->depth > 0 && cg->kernel &&
            (!best || cg->kernel > best->kernel ||
             (cg->kernel == best->kernel && strcmp(cg->path, best->path) < 0)))
            best = cg;
    }
    free(idx);
    return best;
}

/* Where the root's figure ("charged to cgroups") comes from. */
static const char *charged_source(const struct kmem_cgroups *cgs)
{
    const struct kmem_cgroup *root = &cgs->v[0];

    if (cgs->layout != KMEM_CG_V2)
        return "the root cgroup's memory.kmem.usage_in_bytes";
    if (root->kernel_lower_bound)
        return "the sum of the root's children (a lower bound)";
    if (root->kernel_approx)
        return "the root cgroup's memory.stat, sum of the parts (estimated)";
    return "the root cgroup's memory.stat \"kernel\"";
}

/* The parts of the charged total; they add up to it exactly. */
static void root_parts(struct rep *r, const struct kmem_cgroups *cgs)
{
    const struct kmem_cgroup *root = &cgs->v[0];
    char h[H];

    if (!root->comp_present)
        return;
    fputs("\n  By kind (the parts add up to the charged total):\n", r->f);
    for (int k = 0; k < KMEM_CG_KIND_COUNT; k++) {
        if (!(root->comp_present & (UINT32_C(1) << k)))
            continue;
        fprintf(r->f, "    %-20s %15" PRIu64 " bytes %8s\n", kmem_cg_kind_name[k], root->comp[k],
                kt_rep_hum(h, root->comp[k]));
    }
    if (root->has_sock)
        fprintf(r->f, "    %-20s %15" PRIu64 " bytes %8s  charged too, but outside kernel memory\n",
                "sock", root->sock, kt_rep_hum(h, root->sock));
    if (root->comp_excess)
        fprintf(r->f,
                "    (the parts the kernel reported were %" PRIu64 " bytes above its \"kernel\":\n"
                "    per-CPU counter lag; taken off the largest parts)\n",
                root->comp_excess);
    if (cgs->pagetables_unreported) {
        char text[900], rel[40] = "release unknown";
        size_t n = 0;

        for (size_t i = 0; i < cgs->n; i++)
            n += cgs->v[i].pagetables_unreported;
        if (cgs->kernel_release)
            snprintf(rel, sizeof(rel), "%u.%u", cgs->kernel_release / 1000,
                     cgs->kernel_release % 1000);
        snprintf(text, sizeof(text),
                 "pagetables reads 0 in %zu cgroups that have processes (anonymous pages): "
                 "the memory.stat regression of Linux 6.18 (upstream f0c92726e89f, reverted "
                 "for stable in March 2026; this kernel: %s). The page tables are still "
                 "charged inside kernel, so here they are part of other, not missing. "
                 "/proc/meminfo PageTables is not affected.",
                 n, rel);
        fputc('\n', r->f);
        kt_rep_wrap(r->f, "    ", 4, text);
    }
}

/* Which figures are the kernel's own counters, and how far off the others can be. */
static void exactness(struct rep *r, const struct kmem_cgroups *cgs, bool approx)
{
    const struct kmem_cgroup *root = &cgs->v[0];
    char text[1400];
    size_t len = 0;

    fputc('\n', r->f);
    if (cgs->kernel_exact) {
        kt_rep_wrap(r->f, "  ", 2,
                    cgs->layout == KMEM_CG_V2
                        ? "Exact: every cgroup figure is the kernel's own counter (memory.stat "
                          "\"kernel\", Linux 5.18 and later)."
                        : "Exact: every cgroup figure is the kernel's own counter "
                          "(memory.kmem.usage_in_bytes).");
        return;
    }
    if (approx)
        len += (size_t)snprintf(
            text + len, sizeof(text) - len,
            "Estimated: this kernel's memory.stat has no \"kernel\" line (before Linux 5.18). "
            "Each figure marked ~ is the sum of the parts it does report, a lower bound: it "
            "misses vmalloc, page tables before 5.11 and every other accounted kernel page "
            "(pipes, BPF maps, ...). Each cgroup's kernel memory is at most "
            "memory.current - pages on its LRU lists - sock (--json upper_bound_bytes, "
            "kmem_cgroup_kernel_upper_bound_bytes; docs/cgroups.md). ");
    if (root->kernel_lower_bound && len < sizeof(text))
        snprintf(text + len, sizeof(text) - len,
                 "The root cgroup has no memory.stat on this kernel: \"charged\" is the sum of "
                 "its children, which misses what removed cgroups handed up to the root, so "
                 "\"not charged\" may be too high.");
    kt_rep_wrap(r->f, "  ", 2, text);
}

/*
 * Cost of one removed ("dying") memory cgroup, measured on Linux 6.18 (x86-64,
 * 2 possible CPUs, 1 node) with bench/dying_memcg.sh: 1000 and 2000 removed
 * cgroups held by one tmpfs page each, then freed: Slab fell by 15.7-16.3 KiB
 * and Percpu by 1.8-1.9 KiB per possible CPU for each. Slab: struct
 * mem_cgroup, its statistics, its per-node data, the cgroup; percpu: its
 * per-CPU statistics (docs/cgroups.md).
 */
#define DYING_SLAB_BYTES       (16 * 1024)
#define DYING_PERCPU_CPU_BYTES 1900
/* 5.x kernels: 2.9 KiB per CPU (the kernel-source audit of 5.10, issue 22) */
#define DYING_PERCPU_CPU_BYTES_5X 2900

static int cmp_dying(const void *pa, const void *pb, void *v)
{
    const struct kmem_cgroup *a = (const struct kmem_cgroup *)v + *(const size_t *)pa;
    const struct kmem_cgroup *b = (const struct kmem_cgroup *)v + *(const size_t *)pb;

    if (a->dying != b->dying)
        return a->dying > b->dying ? -1 : 1;
    return strcmp(a->path, b->path);
}

void kt_rep_dying(struct rep *r)
{
    const struct kmem_cgroups *cgs = &r->snap->cgroups;
    uint64_t per, total;
    char h[H], text[1500];
    size_t *idx, n = 0;
    int pcpu;

    if (!r->cg_ok || cgs->layout == KMEM_CG_NONE || cgs->n == 0)
        return;
    kt_rep_section(r, "Removed memory cgroups");
    if (cgs->dying_source == KMEM_CG_DYING_NONE) {
        fputs("  Unknown: this kernel shows no count (cgroup.stat, /proc/cgroups).\n", r->f);
        return;
    }
    fprintf(r->f, "  %-20s %15" PRIu64 "  %s\n", "removed, still held", cgs->dying,
            cgs->dying_source == KMEM_CG_DYING_SUBSYS_MEMORY
                ? "root cgroup.stat nr_dying_subsys_memory"
            : cgs->dying_source == KMEM_CG_DYING_DESCENDANTS
                ? "root cgroup.stat nr_dying_descendants (all controllers)"
                : "/proc/cgroups num_cgroups of memory - cgroups walked");
    if (cgs->dying == 0) {
        fputs("  None: no removed memory cgroup is held.\n", r->f);
        return;
    }
    /* Per-CPU statistics were larger before 6.x (docs/cgroups.md: 2.9 KiB per CPU on 5.10). */
    pcpu = cgs->kernel_release && cgs->kernel_release < 6000 ? DYING_PERCPU_CPU_BYTES_5X
                                                             : DYING_PERCPU_CPU_BYTES;
    per = DYING_SLAB_BYTES + (uint64_t)cgs->possible_cpus * pcpu;
    if (__builtin_mul_overflow(cgs->dying, per, &total))
        total = UINT64_MAX;
    if (cgs->possible_cpus)
        fprintf(r->f,
                "  %-20s %15" PRIu64 " bytes %8s  estimate: %" PRIu64 " x (%d + %u CPUs x %d)\n",
                "they pin about", total, kt_rep_hum(h, total), cgs->dying, DYING_SLAB_BYTES,
                cgs->possible_cpus, pcpu);
    else
        fprintf(r->f,
                "  %-20s %15" PRIu64 " bytes %8s  estimate: %" PRIu64 " x %d, plus per-CPU "
                "statistics\n",
                "they pin about", total, kt_rep_hum(h, total), cgs->dying, DYING_SLAB_BYTES);
    snprintf(text, sizeof(text),
             "A memory cgroup removed (rmdir, a container that ended) stays in the kernel while "
             "anything is still charged to it, mostly page cache and tmpfs or shm files its "
             "processes left behind. Each one keeps its own bookkeeping: about %d KiB of slab "
             "(struct mem_cgroup, its statistics, the cgroup) and about %.1f KiB of per-CPU "
             "statistics per possible CPU (measured on Linux 6.18; about 2.9 KiB on 5.x kernels; "
             "docs/cgroups.md), besides the pages that hold it. A few are normal; a count that "
             "keeps growing is a leak. To free "
             "them, free what holds them: delete files no one needs, or reclaim page cache "
             "(echo 1 > /proc/sys/vm/drop_caches, or memory.reclaim of the parent cgroup on "
             "cgroup v2, Linux 5.19+).",
             DYING_SLAB_BYTES / 1024, pcpu / 1024.0);
    kt_rep_wrap(r->f, "  ", 2, text);
    /* v2: where they are (top-level cgroups with the most). */
    idx = malloc(cgs->n * sizeof(*idx));
    if (!idx)
        return;
    for (size_t i = 0; i < cgs->n; i++)
        if (cgs->v[i].depth == 1 && cgs->v[i].has_dying && cgs->v[i].dying)
            idx[n++] = i;
    if (n) {
        qsort_r(idx, n, sizeof(*idx), cmp_dying, cgs->v);
        fputs("\n  Below the top-level cgroups with the most:\n", r->f);
        for (size_t i = 0; i < n && i < TOP_N; i++) {
            fprintf(r->f, "  %15" PRIu64 "  ", cgs->v[idx[i]].dying);
            kt_put_printable(r->f, cgs->v[idx[i]].path);
            fputc('\n', r->f);
        }
    }
    free(idx);
}

void kt_rep_cgroups(struct rep *r)
{
    const struct kmem_cgroups *cgs = &r->snap->cgroups;
    const struct kmem_node *node = &r->snap->node;
    const struct kmem_cgroup *root;
    size_t *idx, nleaf = 0, ntop = 0, *top;
    bool approx = false;
    char h[H];

    kt_rep_section(r, "Charged to cgroups, and not");
    if (!r->cg_ok) {
        kt_rep_missing(r, KMEM_COLLECT_CGROUPS, &r->snap->status[KMEM_PART_CGROUPS], "Cgroups");
        return;
    }
    if (cgs->layout == KMEM_CG_NONE || cgs->n == 0) {
        fputs("  No memory cgroup hierarchy was found under sys/fs/cgroup: nothing is charged.\n",
              r->f);
        return;
    }
    root = &cgs->v[0];
    for (size_t i = 0; i < cgs->n; i++)
        approx |= cgs->v[i].kernel_approx;
    {
        char text[1024];

        snprintf(text, sizeof(text),
                 "Memory cgroups (layout %s, %zu cgroups under %s) group processes, e.g. one per "
                 "service or container. The kernel charges each cgroup for the kernel memory its "
                 "processes cause, and it counts against the cgroup's memory limit. Tasks in the "
                 "root cgroup and kernel threads are never charged: their kernel memory belongs "
                 "to no cgroup.",
                 kmem_cg_layout_name[cgs->layout], cgs->n, cgs->mount ? cgs->mount : "?");
        kt_rep_wrap(r->f, "  ", 2, text);
        fputc('\n', r->f);
    }
    fprintf(r->f, "  %-20s %15" PRIu64 " bytes %8s  %s\n", "charged to cgroups", root->kernel,
            kt_rep_hum(h, root->kernel), charged_source(cgs));
    if (r->node_ok) {
        uint64_t sock = cgs->layout == KMEM_CG_V2 && root->has_sock ? root->sock : 0;
        uint64_t charged = kt_rep_charged(cgs);
        uint64_t not_charged = node->kernel_total > charged ? node->kernel_total - charged : 0;

        fprintf(r->f,
                "  %-20s %15" PRIu64 " bytes %8s  node kernel memory %" PRIu64 " - charged%s%s\n",
                "not charged", not_charged, kt_rep_hum(h, not_charged), node->kernel_total,
                sock ? " - the root's sock" : "",
                node->kernel_total < charged ? " (below 0: shown as 0)" : "");
        fprintf(r->f, "  %.1f%% of the node's kernel memory is charged to some cgroup.\n",
                kt_pct(root->kernel < node->kernel_total ? root->kernel : node->kernel_total,
                       node->kernel_total));
    } else {
        fputs("  (the part not charged needs the node counters, which are not available)\n", r->f);
    }
    root_parts(r, cgs);
    exactness(r, cgs, approx);
    if (cgs->n_errors)
        fprintf(r->f, "  %zu cgroups could not be read and are left out.\n", cgs->n_errors);
    if (cgs->n_unnamed)
        fprintf(r->f, "  %zu cgroups nested too deep (or with paths too long) are left out.\n",
                cgs->n_unnamed);

    idx = malloc(2 * cgs->n * sizeof(*idx));
    if (!idx) {
        fputs("  (out of memory sorting the cgroups)\n", r->f);
        return;
    }
    top = idx + cgs->n;
    /* Leaves: in tree order, a cgroup followed by one of its descendants is not one. */
    kt_cg_tree_order(cgs->v, cgs->n, idx);
    for (size_t i = 0; i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[idx[i]];
        bool leaf = i + 1 == cgs->n || !kt_cg_is_ancestor(cg->path, cgs->v[idx[i + 1]].path);

        if (cg->depth == 1)
            top[ntop++] = idx[i];
        if (leaf && cg->depth > 0)
            idx[nleaf++] = idx[i];
    }

    kt_rep_section(r, "Top cgroups by kernel memory");
    fputs("  Values are hierarchical: a cgroup's figure includes all of its descendants.\n"
          "  Shares are of the memory charged to cgroups.\n",
          r->f);
    if (ntop) {
        qsort_r(top, ntop, sizeof(*top), cmp_kernel, (void *)cgs->v);
        fprintf(r->f, "\n  Top-level cgroups (the root's children):\n");
        cg_table(r, top, ntop, root->kernel);
    }
    if (nleaf) {
        qsort_r(idx, nleaf, sizeof(*idx), cmp_kernel, (void *)cgs->v);
        fprintf(r->f, "\n  Leaf cgroups (containers, services; no double counting among "
                      "them):\n");
        cg_table(r, idx, nleaf, root->kernel);
    } else {
        fputs("\n  There is no cgroup below the root.\n", r->f);
    }
    free(idx);
}
