/* SPDX-License-Identifier: MIT */
/*
 * The cgroup table: kernel memory charged to each memory cgroup, with its
 * parts and the Kubernetes identity when known. Used by `kmemtop --cgroups -o`
 * (a file sink) and by the interactive cgroup view (a curses sink).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "views.h"

/* Values of a row, as text. */
#define CELL 24

struct cg_sort_ctx {
    const struct kmem_cgroup *v;
    enum kt_cg_sort sort;
};

/* qsort_r is a GNU extension; a file-scope pointer keeps this plain C17. */
static struct cg_sort_ctx sort_ctx;

static int cmp_path(const struct kmem_cgroup *a, const struct kmem_cgroup *b)
{
    return strcmp(a->path ? a->path : "", b->path ? b->path : "");
}

static int cmp_cg(const void *pa, const void *pb)
{
    const struct kmem_cgroup *a = &sort_ctx.v[*(const size_t *)pa];
    const struct kmem_cgroup *b = &sort_ctx.v[*(const size_t *)pb];
    int64_t da, db;
    int c;

    if (sort_ctx.sort == KT_CG_SORT_CHANGE) {
        /* Without a previous value the change counts as 0. */
        da = a->has_prev ? a->delta_kernel : 0;
        db = b->has_prev ? b->delta_kernel : 0;
        if (da != db)
            return da > db ? -1 : 1;
    }
    /* Kernel memory orders the kernel sort and breaks ties of the change sort. */
    if (sort_ctx.sort != KT_CG_SORT_NAME && a->kernel != b->kernel)
        return a->kernel > b->kernel ? -1 : 1;
    c = cmp_path(a, b);
    if (c)
        return c;
    /* Keep snapshot order for equal paths: qsort is not stable. */
    return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
}

/* Copy @s into @out replacing control bytes (terminal escapes) with '?'. */
static const char *printable(char *out, size_t len, const char *s)
{
    size_t o = 0;

    for (; s && *s && o + 1 < len; s++)
        out[o++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    out[o] = '\0';
    return out;
}

static bool has(const struct kmem_cgroup *cg, enum kmem_cg_kind k)
{
    return (cg->comp_present & (UINT32_C(1) << k)) != 0;
}

static const char *comp_cell(char *buf, size_t len, const struct kmem_cgroup *cg,
                             enum kmem_cg_kind k)
{
    if (!has(cg, k))
        return "-";
    return kt_human(buf, len, (double)cg->comp[k]);
}

/* NAMESPACE/POD/CONTAINER when the names are known, else the pod UID and the
 * short container ID, else the cgroup path. */
static const char *row_name(char *buf, size_t len, const struct kmem_cgroup *cg)
{
    const char *cid = cg->container_id ? cg->container_id : "";
    char raw[4096];

    if (cg->pod_name && *cg->pod_name) {
        if (cg->container_name && *cg->container_name)
            snprintf(raw, sizeof(raw), "%s/%s/%s", cg->namespace_name ? cg->namespace_name : "",
                     cg->pod_name, cg->container_name);
        else if (*cid)
            snprintf(raw, sizeof(raw), "%s/%s/%.12s", cg->namespace_name ? cg->namespace_name : "",
                     cg->pod_name, cid);
        else
            snprintf(raw, sizeof(raw), "%s/%s%s", cg->namespace_name ? cg->namespace_name : "",
                     cg->pod_name, cg->kube_conmon ? " (conmon)" : "");
    } else if (cg->pod_uid && *cg->pod_uid) {
        if (*cid)
            snprintf(raw, sizeof(raw), "pod %s/%.12s", cg->pod_uid, cid);
        else
            snprintf(raw, sizeof(raw), "pod %s%s", cg->pod_uid, cg->kube_conmon ? " (conmon)" : "");
    } else {
        snprintf(raw, sizeof(raw), "%s", cg->path ? cg->path : "?");
    }
    return printable(buf, len, raw);
}

/* On a screen, a name too long keeps its end (where paths differ). */
static const char *fit(const char *name, int avail, char *buf, size_t len)
{
    size_t n = strlen(name);

    if (avail <= 3 || n <= (size_t)avail)
        return name;
    snprintf(buf, len, "...%s", name + n - (size_t)(avail - 3));
    return buf;
}

void kt_cgroup_render(struct kt_sink *s, const struct kmem_snapshot *snap, enum kt_cg_sort sort)
{
    const struct kmem_cgroups *cgs = &snap->cgroups;
    const char *layout;
    bool v1, any_approx = false, any_kube = false;
    size_t *idx;

    if (!(snap->flags & KMEM_COLLECT_CGROUPS)) {
        kt_line(s, KT_NORMAL, "cgroups were not collected");
        return;
    }
    if (snap->status[KMEM_PART_CGROUPS].err) {
        kt_line(s, KT_NORMAL, "%s", snap->status[KMEM_PART_CGROUPS].msg);
        return;
    }
    layout = (unsigned)cgs->layout <= KMEM_CG_HYBRID ? kmem_cg_layout_name[cgs->layout] : "none";
    v1 = cgs->layout == KMEM_CG_V1 || cgs->layout == KMEM_CG_HYBRID;
    for (size_t i = 0; i < cgs->n; i++) {
        any_approx |= cgs->v[i].kernel_approx;
        any_kube |= (cgs->v[i].pod_uid && *cgs->v[i].pod_uid);
    }
    if (!kt_line(s, KT_NORMAL, "cgroup layout %s, %zu memory cgroup%s%s", layout, cgs->n,
                 cgs->n == 1 ? "" : "s",
                 any_approx ? "; ~ = no \"kernel\" in memory.stat, sum of the parts" : ""))
        return;
    if (cgs->n == 0)
        return;
    if (!kt_line(s, KT_HEADING, "%8s %8s %8s %8s %8s %8s  %s", "KERNEL", "CHANGE", "SLAB", "STACK",
                 "PGTABLE", v1 ? "TCP" : "OTHER",
                 any_kube ? "NAMESPACE/POD/CONTAINER or CGROUP" : "CGROUP"))
        return;

    idx = malloc(cgs->n * sizeof(*idx));
    if (!idx) {
        kt_line(s, KT_NORMAL, "out of memory");
        return;
    }
    for (size_t i = 0; i < cgs->n; i++)
        idx[i] = i;
    sort_ctx.v = cgs->v;
    sort_ctx.sort = sort;
    qsort(idx, cgs->n, sizeof(*idx), cmp_cg);

    for (size_t r = 0; r < cgs->n; r++) {
        const struct kmem_cgroup *cg = &cgs->v[idx[r]];
        char kern[CELL + 1], kh[CELL], chg[CELL], slab[CELL], b1[CELL], b2[CELL], b3[CELL];
        char name[4096], cut[4096];
        const char *shown, *stack, *pgt, *oth;

        kt_human(kh, sizeof(kh), (double)cg->kernel);
        snprintf(kern, sizeof(kern), "%s%s", cg->kernel_approx ? "~" : "", kh);
        if (cg->has_prev)
            kt_human_delta(chg, sizeof(chg), (double)cg->delta_kernel);
        else
            chg[0] = '\0';
        if (has(cg, KMEM_CG_SLAB_RECLAIMABLE) || has(cg, KMEM_CG_SLAB_UNRECLAIMABLE)) {
            uint64_t sum =
                (has(cg, KMEM_CG_SLAB_RECLAIMABLE) ? cg->comp[KMEM_CG_SLAB_RECLAIMABLE] : 0) +
                (has(cg, KMEM_CG_SLAB_UNRECLAIMABLE) ? cg->comp[KMEM_CG_SLAB_UNRECLAIMABLE] : 0);

            kt_human(slab, sizeof(slab), (double)sum);
        } else {
            snprintf(slab, sizeof(slab), "-");
        }
        stack = comp_cell(b1, sizeof(b1), cg, KMEM_CG_KERNEL_STACK);
        pgt = comp_cell(b2, sizeof(b2), cg, KMEM_CG_PAGETABLES);
        if (v1)
            oth = cg->has_sock ? kt_human(b3, sizeof(b3), (double)cg->sock) : "-";
        else
            oth = comp_cell(b3, sizeof(b3), cg, KMEM_CG_OTHER);
        row_name(name, sizeof(name), cg);
        shown = s->width > 0 ? fit(name, s->width - (6 * 9 + 1), cut, sizeof(cut)) : name;
        if (!kt_line(s, KT_NORMAL, "%8s %8s %8s %8s %8s %8s  %s", kern, chg, slab, stack, pgt, oth,
                     shown))
            break;
    }
    free(idx);
}
