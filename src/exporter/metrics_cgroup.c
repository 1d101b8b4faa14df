// SPDX-License-Identifier: MIT
/* The cgroup collector: kernel memory of memory cgroups, and cAdvisor's
 * container_memory_kernel_usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors.h"

kx_render_fn kx_render_cgroup;
bool kx_cgroup_complete(const struct kx_collection *c);

static const char *nz(const char *s)
{
    return s ? s : "";
}

int kx_cadvisor_compat_parse(const char *s, enum kx_cadvisor_compat *out)
{
    static const char *const names[] = {
        [KX_CADVISOR_AUTO] = "auto",
        [KX_CADVISOR_ALWAYS] = "always",
        [KX_CADVISOR_NEVER] = "never",
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (s && strcmp(s, names[i]) == 0) {
            *out = (enum kx_cadvisor_compat)i;
            return 0;
        }
    }
    return -EINVAL;
}

void kx_cadvisor_name(const struct kmem_cgroup *cg, char *out, size_t outlen)
{
    const char *rt = nz(cg->runtime), *cid = nz(cg->container_id);

    if (*cid && (!strcmp(rt, "crio") || !strcmp(rt, "docker")) && cg->container_name &&
        *cg->container_name && cg->pod_name && *cg->pod_name && cg->namespace_name &&
        *cg->namespace_name && cg->pod_uid && *cg->pod_uid && cg->container_attempt >= 0) {
        snprintf(out, outlen, "k8s_%s_%s_%s_%s_%d", cg->container_name, cg->pod_name,
                 cg->namespace_name, cg->pod_uid, cg->container_attempt);
        return;
    }
    snprintf(out, outlen, "%s", cid);
}

static bool cadvisor_family(const struct kmem_cgroups *cgs, const struct kx_render_opts *o)
{
    switch (o->cadvisor_compat) {
    case KX_CADVISOR_ALWAYS:
        return true;
    case KX_CADVISOR_NEVER:
        return false;
    case KX_CADVISOR_AUTO:
        break;
    }
    /* Before the first collection succeeds the layout is unknown: no family. */
    return cgs && cgs->layout == KMEM_CG_V2;
}

enum {
    F_KERNEL,
    F_COMPONENT,
    F_SOCK,
    F_EXACT,
    F_UPPER,
    F_DYING,
    F_DYING_DESC,
    F_SKIPPED,
    F_CADVISOR,
    F_COUNT,
};

static const struct kx_family fam[F_COUNT] = {
    [F_KERNEL] = {"kmem_cgroup_kernel_bytes",
                  "Kernel memory charged to the memory cgroup and its descendants (v1 "
                  "memory.kmem.usage_in_bytes, v2 memory.stat kernel, or the sum of its parts "
                  "before Linux 5.18: see kmem_cgroup_kernel_exact).",
                  KX_GAUGE,
                  {"cgroup", "pod", "namespace", "container"}},
    [F_COMPONENT] = {"kmem_cgroup_kernel_component_bytes",
                     "Parts of the kernel memory charged to the cgroup; they add up exactly to "
                     "kmem_cgroup_kernel_bytes (other: what the kernel does not name; all of it "
                     "on cgroup v1).",
                     KX_GAUGE,
                     {"cgroup", "kind"}},
    [F_SOCK] = {"kmem_cgroup_sock_bytes",
                "Socket memory charged to the cgroup outside its kernel memory (v2 "
                "memory.stat sock, v1 memory.kmem.tcp.usage_in_bytes).",
                KX_GAUGE,
                {"cgroup"}},
    [F_EXACT] = {"kmem_cgroup_kernel_exact",
                 "1 when every kmem_cgroup_kernel_bytes is the kernel's own counter, 0 when "
                 "some are estimated (cgroup v2 before Linux 5.18: the sum of the parts).",
                 KX_GAUGE,
                 {NULL}},
    [F_UPPER] = {"kmem_cgroup_kernel_upper_bound_bytes",
                 "Where kmem_cgroup_kernel_bytes is estimated: the most it can be, "
                 "memory.current - LRU pages - sock (docs/cgroups.md).",
                 KX_GAUGE,
                 {"cgroup"}},
    [F_DYING] = {"kmem_memory_cgroups_dying",
                 "Memory cgroups removed but still held by the kernel (v2 cgroup.stat "
                 "nr_dying_subsys_memory or nr_dying_descendants of the root; v1 /proc/cgroups "
                 "num_cgroups minus the cgroups walked).",
                 KX_GAUGE,
                 {NULL}},
    [F_DYING_DESC] = {"kmem_cgroup_dying_descendants",
                      "Removed memory cgroups below the cgroup that the kernel still holds (v2 "
                      "cgroup.stat nr_dying_subsys_memory, else nr_dying_descendants).",
                      KX_GAUGE,
                      {"cgroup"}},
    [F_SKIPPED] = {"kmem_cgroups_skipped",
                   "Memory cgroups not in this scrape: removed while it ran (vanished), "
                   "unreadable (error; kmem_collector_success{collector=\"cgroup\"} is then "
                   "0), nested deeper than 64 levels or with a path longer than 1024 bytes "
                   "(unnamed), or beyond the exposition's budget for cgroup series, deepest "
                   "first (over_budget).",
                   KX_GAUGE,
                   {"reason"}},
    [F_CADVISOR] = {"container_memory_kernel_usage",
                    "Size of kernel memory allocated in bytes.",
                    KX_GAUGE,
                    {"container", "id", "image", "name", "namespace", "pod"}},
};

/* A cgroup walk that skipped cgroups on errors is not a success. */
bool kx_cgroup_complete(const struct kx_collection *c)
{
    return !(c->cgroups && c->cgroups->n_errors);
}

/*
 * Which cgroups get series: the shallowest first (the root, then level 1,
 * ...) while the estimated size of their series stays within
 * the budget (--collector.cgroup.series-budget, KX_CGROUP_EXPO_BUDGET by
 * default), so that the exposition (and the exporter's memory)
 * is bounded whatever the tree (issue 24: any user with a delegated subtree
 * makes cgroups). The rest are counted in kmem_cgroups_skipped{reason=
 * "over_budget"}. A malloc'ed array of flags (NULL: all, or out of memory).
 */
#define KX_CGROUP_EXPO_BUDGET ((size_t)6 << 20)

/* A cgroup's estimated series bytes: ~13 series, each with the path once
 * (cAdvisor's: twice) and the Kubernetes names. */
static size_t series_cost(const struct kmem_cgroup *cg)
{
    return 14 * (strlen(nz(cg->path)) + strlen(nz(cg->pod_name)) + strlen(nz(cg->namespace_name)) +
                 strlen(nz(cg->container_name)) + 110);
}

static bool *series_kept(const struct kmem_cgroups *cgs, size_t budget, size_t *dropped)
{
    size_t est = 0, total = 0;
    bool *keep;

    *dropped = 0;
    if (!cgs || !cgs->n)
        return NULL;
    for (size_t i = 0; i < cgs->n; i++)
        total += series_cost(&cgs->v[i]);
    if (total <= budget)
        return NULL;
    keep = calloc(cgs->n, sizeof(*keep));
    if (!keep)
        return NULL;
    for (int depth = 0; depth <= KMEM_CG_MAX_DEPTH; depth++) {
        for (size_t i = 0; i < cgs->n; i++) {
            const struct kmem_cgroup *cg = &cgs->v[i];
            if (cg->depth != depth)
                continue;
            size_t cost = series_cost(cg);
            if (est + cost <= budget) {
                keep[i] = true;
                est += cost;
            }
        }
    }
    for (size_t i = 0; i < cgs->n; i++)
        *dropped += !keep[i];
    return keep;
}

#define KEPT(i) (!keep || keep[i])

int kx_render_cgroup(struct kmem_buf *b, const struct kx_collection *c,
                     const struct kx_render_opts *o, void *state)
{
    const struct kmem_cgroups *cgs = c->cgroups;
    size_t dropped;
    bool *keep = series_kept(cgs, o->cg_budget ? o->cg_budget : KX_CGROUP_EXPO_BUDGET, &dropped);
    (void)state;

    kx_family_head(b, &fam[F_KERNEL]);
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        if (!KEPT(i))
            continue;
        kx_family_u64(b, &fam[F_KERNEL],
                      KX_VALUES(nz(cg->path), nz(cg->pod_name), nz(cg->namespace_name),
                                nz(cg->container_name)),
                      cg->kernel, KX_NO_TIMESTAMP);
    }

    kx_family_head(b, &fam[F_COMPONENT]);
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        if (!KEPT(i))
            continue;
        for (int k = 0; k < KMEM_CG_KIND_COUNT; k++) {
            if (!(cg->comp_present & (UINT32_C(1) << k)))
                continue;
            kx_family_u64(b, &fam[F_COMPONENT], KX_VALUES(nz(cg->path), kmem_cg_kind_name[k]),
                          cg->comp[k], KX_NO_TIMESTAMP);
        }
    }

    kx_family_head(b, &fam[F_SOCK]);
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        if (!KEPT(i))
            continue;
        if (cg->has_sock)
            kx_family_u64(b, &fam[F_SOCK], KX_VALUES(nz(cg->path)), cg->sock, KX_NO_TIMESTAMP);
    }

    kx_family_head(b, &fam[F_EXACT]);
    if (cgs && cgs->n)
        kx_family_u64(b, &fam[F_EXACT], KX_NO_VALUES, cgs->kernel_exact, KX_NO_TIMESTAMP);

    kx_family_head(b, &fam[F_UPPER]);
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        if (!KEPT(i))
            continue;
        if (cg->kernel_approx && cg->has_upper_bound)
            kx_family_u64(b, &fam[F_UPPER], KX_VALUES(nz(cg->path)), cg->kernel_upper_bound,
                          KX_NO_TIMESTAMP);
    }

    kx_family_head(b, &fam[F_DYING]);
    if (cgs && cgs->n && cgs->dying_source != KMEM_CG_DYING_NONE)
        kx_family_u64(b, &fam[F_DYING], KX_NO_VALUES, cgs->dying, KX_NO_TIMESTAMP);

    kx_family_head(b, &fam[F_DYING_DESC]);
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        if (!KEPT(i))
            continue;
        if (cg->has_dying)
            kx_family_u64(b, &fam[F_DYING_DESC], KX_VALUES(nz(cg->path)), cg->dying,
                          KX_NO_TIMESTAMP);
    }

    if (cgs) {
        /* What the walk left out: removed during it (normal churn), or not
         * readable / deeper than the walk goes (then the collector fails). */
        kx_family_head(b, &fam[F_SKIPPED]);
        kx_family_u64(b, &fam[F_SKIPPED], KX_VALUES("vanished"), cgs->n_vanished, KX_NO_TIMESTAMP);
        kx_family_u64(b, &fam[F_SKIPPED], KX_VALUES("error"), cgs->n_errors, KX_NO_TIMESTAMP);
        kx_family_u64(b, &fam[F_SKIPPED], KX_VALUES("unnamed"), cgs->n_unnamed, KX_NO_TIMESTAMP);
        kx_family_u64(b, &fam[F_SKIPPED], KX_VALUES("over_budget"), dropped, KX_NO_TIMESTAMP);
    }

    if (!cadvisor_family(cgs, o)) {
        free(keep);
        return b->err;
    }
    kx_family_head(b, &fam[F_CADVISOR]);
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        if (!KEPT(i))
            continue;
        char name[512];
        kx_cadvisor_name(cg, name, sizeof(name));
        kx_family_u64(b, &fam[F_CADVISOR],
                      KX_VALUES(nz(cg->container_name), nz(cg->path), "", name,
                                nz(cg->namespace_name), nz(cg->pod_name)),
                      cg->kernel, o->timestamps ? c->when_ms : KX_NO_TIMESTAMP);
    }
    free(keep);
    return b->err;
}
